package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/engine"
)

// TargetRequest is the body of PUT /v1/targets/{instrument}: the aggregate position to reach across venues.
type TargetRequest struct {
	ID             string     `json:"id"`
	Position       string     `json:"position"`
	Duration       string     `json:"duration"` // or end_at
	StartAt        *time.Time `json:"start_at"`
	EndAt          *time.Time `json:"end_at"`
	MaxSlippageBps *int       `json:"max_slippage_bps"`
	Venues         []string   `json:"venues"`
	// Execution is how the target's parents work their children: "maker_first" or "taker"; absent:
	// twap.execution (as for an order).
	Execution string `json:"execution"`
}

// TargetSpec is a validated TargetRequest.
type TargetSpec struct {
	ID             string
	Instrument     string
	Position       decimal.Decimal
	Duration       time.Duration // zero when EndAt is set
	StartAt        *time.Time
	EndAt          *time.Time
	MaxSlippageBps int
	Venues         []string
	Execution      engine.Execution // "" for the default
}

// Target is a target and where it stands.
type Target struct {
	ID             string          `json:"id"`
	Instrument     string          `json:"instrument"`
	Position       decimal.Decimal `json:"position"`
	Duration       string          `json:"duration,omitempty"`
	StartAt        *time.Time      `json:"start_at,omitempty"`
	EndAt          *time.Time      `json:"end_at,omitempty"`
	MaxSlippageBps int             `json:"max_slippage_bps,omitempty"`
	Venues         []string        `json:"venues"`
	Execution      string          `json:"execution,omitempty"` // as set; absent: the default
	// State: working, reached, superseded or failed.
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	// Aggregate is the instrument's reconciled position now; Drift is aggregate − position; Reached the
	// aggregate when the state last changed.
	Aggregate    decimal.Decimal `json:"aggregate"`
	Drift        decimal.Decimal `json:"drift"`
	Reached      decimal.Decimal `json:"reached"`
	Working      string          `json:"working,omitempty"` // the parent order working it now
	Parents      []string        `json:"parents"`           // every parent that worked it, oldest first
	SupersededBy string          `json:"superseded_by,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// TargetDetail is the body of GET /v1/targets/{instrument}: the current target (null if none) and every target
// the instrument had, newest first.
type TargetDetail struct {
	Instrument string   `json:"instrument"`
	Target     *Target  `json:"target"`
	History    []Target `json:"history"`
}

// TargetEvent is the data of a "target" event.
type TargetEvent struct {
	Kind       string          `json:"kind"` // set, superseded, parent, reached, alert, failed
	TargetID   string          `json:"target_id"`
	Instrument string          `json:"instrument"`
	Position   decimal.Decimal `json:"position"`
	Aggregate  decimal.Decimal `json:"aggregate"`
	Drift      decimal.Decimal `json:"drift"`
	Parent     string          `json:"parent,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Time       time.Time       `json:"time"`
}

// ReconcileEvent is the data of a "reconcile" event: a pass of one (venue, instrument) that found something, or
// failed.
type ReconcileEvent struct {
	Venue       string          `json:"venue"`
	Instrument  string          `json:"instrument"`
	Observed    decimal.Decimal `json:"observed"` // the venue's position
	Ledger      decimal.Decimal `json:"ledger"`   // the ledger's, when compared
	Quiet       bool            `json:"quiet"`    // compared: nothing of execd's in flight
	Busy        string          `json:"busy,omitempty"`
	Adjusted    decimal.Decimal `json:"adjusted"` // external change booked
	Explained   bool            `json:"explained"`
	Seeded      bool            `json:"seeded,omitempty"` // the pair\'s start-up read had failed; this pass seeded its position
	LostFills   []ForeignTrade  `json:"lost_fills,omitempty"`
	External    []ForeignTrade  `json:"external_fills,omitempty"`
	StrayOpen   []string        `json:"stray_open,omitempty"`   // execd's client ids open at the venue, unknown here
	ForeignOpen []string        `json:"foreign_open,omitempty"` // other programs' open orders (venue ids)
	Error       string          `json:"error,omitempty"`
	Time        time.Time       `json:"time"`
}

// ForeignTrade is a venue trade reconciliation found, with the venue's ids.
type ForeignTrade struct {
	TradeID       string          `json:"trade_id"`
	VenueOrderID  string          `json:"venue_order_id"`
	ClientOrderID string          `json:"client_order_id"`
	Side          string          `json:"side"`
	Quantity      decimal.Decimal `json:"quantity"`
	Price         decimal.Decimal `json:"price"`
	Time          time.Time       `json:"time"`
}

// Targets is what the API needs of the target keeper. Safe for concurrent use. SetTarget returns created false
// for a repeated request; errors are ErrTargetConflict, ErrTargetInvalid (wrapped) or another failure (503).
type Targets interface {
	SetTarget(ctx context.Context, spec TargetSpec) (Target, bool, error)
	Targets() []Target
	TargetDetail(instrument string) (TargetDetail, bool)
}

// Errors a Targets implementation wraps.
var (
	ErrTargetConflict = errors.New("target exists with a different request")
	ErrTargetInvalid  = errors.New("invalid target")
)

// toTarget validates a target request whole.
func (s *Server) toTarget(instrument string, in TargetRequest) (TargetSpec, error) {
	var errs []string
	bad := func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }
	out := TargetSpec{ID: in.ID, Instrument: instrument, StartAt: in.StartAt, EndAt: in.EndAt, Venues: in.Venues}
	if !idRe.MatchString(in.ID) {
		bad("id %q: 1–64 characters of [A-Za-z0-9._:-], starting with a letter or digit", in.ID)
	}
	known := false
	for _, i := range s.o.Instruments {
		known = known || i == instrument
	}
	if !known {
		bad("instrument %q: not traded here (have %s)", instrument, strings.Join(s.o.Instruments, ", "))
	}
	p, err := parseSigned("position", in.Position)
	if err != nil {
		bad("%v", err)
	}
	out.Position = p
	switch {
	case in.Duration != "" && in.EndAt != nil:
		bad("give duration or end_at, not both")
	case in.Duration == "" && in.EndAt == nil:
		bad("duration or end_at is required")
	case in.Duration != "":
		out.Duration = parseDuration(in.Duration, bad)
	}
	if in.EndAt != nil && in.StartAt != nil && !in.EndAt.After(*in.StartAt) {
		bad("end_at must be after start_at")
	}
	if in.MaxSlippageBps != nil {
		if *in.MaxSlippageBps < 1 {
			bad("max_slippage_bps %d: want at least 1", *in.MaxSlippageBps)
		}
		out.MaxSlippageBps = *in.MaxSlippageBps
	}
	seen := map[string]bool{}
	for _, v := range in.Venues {
		if seen[v] {
			bad("venues: %q listed twice", v)
		}
		seen[v] = true
	}
	if ex, err := engine.ParseExecution(in.Execution); err != nil {
		bad("%v", err)
	} else {
		out.Execution = ex
	}
	if len(errs) > 0 {
		return TargetSpec{}, errors.New(strings.Join(errs, "; "))
	}
	return out, nil
}

// parseSigned parses a plain decimal string that may be negative or zero.
func parseSigned(field, s string) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Zero, fmt.Errorf("%s is required, as a decimal string", field)
	}
	if strings.ContainsAny(s, "eE") || strings.TrimSpace(s) != s {
		return decimal.Zero, fmt.Errorf("%s %q: want a plain decimal string", field, s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, fmt.Errorf("%s %q: not a decimal", field, s)
	}
	if d.Exponent() < -12 || d.Abs().GreaterThan(decimal.NewFromInt(1_000_000_000)) {
		return decimal.Zero, fmt.Errorf("%s %s: out of range", field, s)
	}
	return d, nil
}

func (s *Server) putTarget(w http.ResponseWriter, r *http.Request) {
	var in TargetRequest
	if !decode(w, r, &in) {
		return
	}
	spec, err := s.toTarget(r.PathValue("instrument"), in)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if s.o.Targets == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "targets are not kept by this daemon")
		return
	}
	t, created, err := s.o.Targets.SetTarget(r.Context(), spec)
	switch {
	case errors.Is(err, ErrTargetConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error())
		return
	case errors.Is(err, ErrTargetInvalid):
		writeError(w, http.StatusUnprocessableEntity, "invalid_target", err.Error())
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	writeJSON(w, code, t)
}

func (s *Server) listTargets(w http.ResponseWriter, r *http.Request) {
	if s.o.Targets == nil {
		writeJSON(w, http.StatusOK, map[string]any{"targets": []Target{}})
		return
	}
	ts := s.o.Targets.Targets()
	if ts == nil {
		ts = []Target{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"targets": ts})
}

func (s *Server) getTarget(w http.ResponseWriter, r *http.Request) {
	inst := r.PathValue("instrument")
	if s.o.Targets == nil {
		writeError(w, http.StatusNotFound, "not_found", "no target for "+inst)
		return
	}
	d, ok := s.o.Targets.TargetDetail(inst)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "instrument "+inst+" is not traded here")
		return
	}
	writeJSON(w, http.StatusOK, d)
}
