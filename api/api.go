package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/engine"
)

// Orders is what the API needs of the engine. Safe for concurrent use.
type Orders interface {
	Submit(ctx context.Context, req engine.Request) (engine.Report, bool, error)
	Get(id string) (engine.Report, error)
	List() []engine.Report
	Cancel(id string) (engine.Report, error)
}

// VenueStatus is one row of GET /v1/venues.
type VenueStatus struct {
	Venue       string           `json:"venue"`
	Protocol    string           `json:"protocol"`
	Enabled     bool             `json:"enabled"`
	Weight      decimal.Decimal  `json:"weight"`
	VolumeShare *decimal.Decimal `json:"volume_share"`
	Volume24h   *decimal.Decimal `json:"volume_24h"`
	MarkPrice   *decimal.Decimal `json:"mark_price"`
	Breaker     string           `json:"breaker"` // closed | half-open | open
	Healthy     bool             `json:"healthy"`
	Error       string           `json:"error,omitempty"`
	// BreakerDetail is the breaker's counts, the settings it runs with and its latest transitions.
	BreakerDetail BreakerDetail `json:"breaker_detail"`
}

// BreakerDetail is a venue's circuit breaker in GET /v1/venues.
type BreakerDetail struct {
	// Requests, Failures and ConsecutiveFailures are counted over the current window (closed) or state.
	Requests            uint32 `json:"requests"`
	Failures            uint32 `json:"failures"`
	ConsecutiveFailures uint32 `json:"consecutive_failures"`
	// The settings: trip on TripFailures in a row, or on TripRatio of at least MinRequests calls in Window;
	// half-open after OpenTimeout, letting Probes calls through.
	TripFailures uint32  `json:"trip_failures"`
	TripRatio    float64 `json:"trip_ratio"` // 0: off
	MinRequests  uint32  `json:"min_requests"`
	Window       string  `json:"window"`
	OpenTimeout  string  `json:"open_timeout"`
	Probes       uint32  `json:"half_open_probes"`
	// Transitions are the latest state changes (at most 20), oldest first.
	Transitions []BreakerEvent `json:"transitions"`
}

// PositionsView is the body of GET /v1/positions.
type PositionsView struct {
	Venues    []VenuePosition     `json:"venues"`
	Aggregate []AggregatePosition `json:"aggregate"`
}

// VenuePosition is one venue's position in one instrument: the ledger's (Position: execd's fills and booked
// external changes), and the venue's own figure as the reconcile loop last read it.
type VenuePosition struct {
	Venue      string          `json:"venue"`
	Instrument string          `json:"instrument"`
	Position   decimal.Decimal `json:"position"`
	Notional   decimal.Decimal `json:"notional"`
	// VenuePosition is the venue's position as last read (null before the first pass); Difference is venue −
	// ledger at that read; ReadAt when it was read. Flagged: the last pass could not read the venue (Error says
	// why), so the figure is old.
	VenuePosition *decimal.Decimal `json:"venue_position"`
	Difference    *decimal.Decimal `json:"difference"`
	ReadAt        *time.Time       `json:"read_at"`
	Flagged       bool             `json:"flagged"`
	Error         string           `json:"error,omitempty"`
}

// AggregatePosition is an instrument's position over all venues, with its target if one is set.
type AggregatePosition struct {
	Instrument string           `json:"instrument"`
	Position   decimal.Decimal  `json:"position"`
	Notional   decimal.Decimal  `json:"notional"`
	Target     *decimal.Decimal `json:"target"`
	Drift      *decimal.Decimal `json:"drift"`
}

// Ops is what the API needs of the daemon for venues, positions and readiness. Safe for concurrent use.
type Ops interface {
	Venues(ctx context.Context) []VenueStatus
	// SetVenue changes a venue's settings for actor (a token's name): journaled before it applies, so an error
	// means nothing changed.
	SetVenue(actor, name string, ch VenueChange) (VenueStatus, error)
	Positions() PositionsView
	Ready() error
	TradingState() string
	// SetTradingState halts, restricts or resumes trading for actor, journaled before it applies.
	SetTradingState(actor, s string) error
	// Reconcile is each (venue, instrument) pair's reconciliation counters, for /metrics.
	Reconcile() []ReconcileStatus
	// Audit is the ops log (changes and reloads) after sequence number since, oldest first, at most limit entries.
	Audit(since uint64, limit int) ([]AuditEntry, error)
	// ReloadConfig reads the config again and applies it as a SIGHUP does; the error says why it was refused
	// (then nothing changed).
	ReloadConfig(actor string) (ReloadResult, error)
}

// ReconcileStatus is one pair's reconciliation, counted since start.
type ReconcileStatus struct {
	Venue, Instrument                                    string
	Passes, Failures, LostFills, ExternalFills, Adjusted int
	Flagged                                              bool
}

// Options configure the API.
type Options struct {
	Orders      Orders
	Ops         Ops
	Tokens      map[string]Token // SHA-256 hex of the token → its name and role
	Instruments []string
	Logger      *zap.Logger
	// Hash hashes a presented token the way Tokens is keyed.
	Hash func(string) string
	// Events is the event bus GET /v1/events streams from; nil: that route answers 503.
	Events EventSource
	// Targets keeps target positions; nil: PUT /v1/targets answers 503.
	Targets Targets
	// StreamBuffer is each event stream's buffer of live events; 0: the bus's default. A stream whose client reads
	// too slowly to keep it from filling is closed (1013) with the seq to resume from.
	StreamBuffer int
	// StreamPing is how often an event stream pings its client (default 20s; a client silent for three periods
	// is gone); StreamWriteTimeout bounds one write to it (default 10s).
	StreamPing, StreamWriteTimeout time.Duration
}

// Server is the HTTP handler.
type Server struct {
	o        Options
	mux      *http.ServeMux
	upgrader websocket.Upgrader

	tokens atomic.Pointer[map[string]Token]

	mu      sync.Mutex // guards closed and streams.Add
	closed  bool
	done    chan struct{} // closed by Close: event streams end
	streams sync.WaitGroup
	// streamEnded, set only by tests before any stream starts, is called when an event stream's handler has
	// released everything it held (its subscription included).
	streamEnded func()
}

// New builds the handler.
func New(o Options) (*Server, error) {
	if o.Orders == nil || o.Ops == nil || o.Hash == nil {
		return nil, errors.New("api: orders, ops and hash are required")
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.StreamPing <= 0 {
		o.StreamPing = defaultPing
	}
	if o.StreamWriteTimeout <= 0 {
		o.StreamWriteTimeout = defaultWrite
	}
	s := &Server{o: o, mux: http.NewServeMux(), done: make(chan struct{})}
	if err := s.SetTokens(o.Tokens); err != nil {
		return nil, err
	}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: o.StreamWriteTimeout,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			writeError(w, status, "bad_handshake", reason.Error())
		},
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := o.Ops.Ready(); err != nil {
			writeError(w, http.StatusServiceUnavailable, "not_ready", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	s.mux.HandleFunc("GET /metrics", s.auth(roleAny, s.metrics))
	s.mux.HandleFunc("POST /v1/orders", s.auth(roleRebalancer, s.createOrder))
	s.mux.HandleFunc("GET /v1/orders", s.auth(roleAny, s.listOrders))
	s.mux.HandleFunc("GET /v1/orders/{id}", s.auth(roleAny, s.getOrder))
	s.mux.HandleFunc("DELETE /v1/orders/{id}", s.auth(roleRebalancer, s.cancelOrder))
	s.mux.HandleFunc("GET /v1/positions", s.auth(roleAny, s.positions))
	s.mux.HandleFunc("PUT /v1/targets/{instrument}", s.auth(roleRebalancer, s.putTarget))
	s.mux.HandleFunc("GET /v1/targets", s.auth(roleAny, s.listTargets))
	s.mux.HandleFunc("GET /v1/targets/{instrument}", s.auth(roleAny, s.getTarget))
	s.mux.HandleFunc("GET /v1/venues", s.auth(roleAny, s.venues))
	s.mux.HandleFunc("PUT /v1/venues/{venue}", s.auth(roleOps, s.putVenue))
	s.mux.HandleFunc("GET /v1/trading-state", s.auth(roleAny, s.getState))
	s.mux.HandleFunc("PUT /v1/trading-state", s.auth(roleOps, s.putState))
	s.mux.HandleFunc("GET /v1/events", s.auth(roleAny, s.stream))
	s.mux.HandleFunc("GET /v1/audit", s.auth(roleAny, s.audit))
	s.mux.HandleFunc("POST /v1/config/reload", s.auth(roleOps, s.reload))
	return s, nil
}

// Token is an API token's identity: Name is the actor the audit records, Role what it may do (rebalancer, ops or
// viewer).
type Token struct {
	Name, Role string
}

// SetTokens replaces the accepted tokens (a config reload): requests from then on are checked against them.
func (s *Server) SetTokens(t map[string]Token) error {
	if len(t) == 0 {
		return errors.New("api: at least one token is required")
	}
	c := make(map[string]Token, len(t))
	for h, tk := range t {
		if tk.Name == "" || tk.Role == "" {
			return fmt.Errorf("api: token %.8s…: name and role are required", h)
		}
		c[h] = tk
	}
	s.tokens.Store(&c)
	return nil
}

type actorKey struct{}

// actor is the name of the token that authenticated r.
func actor(r *http.Request) string {
	a, _ := r.Context().Value(actorKey{}).(string)
	return a
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		// No route: the mux answers itself (404, 405 with its Allow header, or a redirect to the clean path). Its
		// 404 and 405 are plain text; muxError turns them into the JSON error body.
		s.mux.ServeHTTP(&muxError{w: w, r: r}, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// muxError rewrites the mux's own 404 and 405 answers as JSON errors and passes anything else through.
type muxError struct {
	w        http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (m *muxError) Header() http.Header { return m.w.Header() }

func (m *muxError) WriteHeader(code int) {
	switch code {
	case http.StatusNotFound:
		m.replaced = true
		writeError(m.w, code, "not_found", fmt.Sprintf("no such route: %s %s", m.r.Method, m.r.URL.Path))
	case http.StatusMethodNotAllowed:
		m.replaced = true
		writeError(m.w, code, "method_not_allowed", fmt.Sprintf("%s %s: method not allowed (allowed: %s)",
			m.r.Method, m.r.URL.Path, m.w.Header().Get("Allow")))
	default:
		m.w.WriteHeader(code)
	}
}

func (m *muxError) Write(b []byte) (int, error) {
	if m.replaced {
		return len(b), nil // the mux's plain-text body; the JSON one is written
	}
	return m.w.Write(b)
}

type role int

const (
	roleAny role = iota
	roleRebalancer
	roleOps
)

func (s *Server) auth(need role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing bearer token")
			return
		}
		got := s.o.Hash(tok)
		var who Token
		for h, tk := range *s.tokens.Load() {
			if subtle.ConstantTimeCompare([]byte(h), []byte(got)) == 1 {
				who = tk
			}
		}
		have := who.Role
		if have == "" {
			writeError(w, http.StatusUnauthorized, "unauthorized", "unknown token")
			return
		}
		switch {
		case need == roleRebalancer && have != "rebalancer", need == roleOps && have != "ops":
			writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("role %s may not do this", have))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, who.Name)))
	}
}

// OrderRequest is the body of POST /v1/orders.
type OrderRequest struct {
	ID             string   `json:"id"`
	Instrument     string   `json:"instrument"`
	Side           string   `json:"side"`
	Quantity       string   `json:"quantity"`
	Duration       string   `json:"duration"`
	ReduceOnly     bool     `json:"reduce_only"`
	MaxSlippageBps *int     `json:"max_slippage_bps"`
	Venues         []string `json:"venues"`
	LimitPrice     *string  `json:"limit_price"`
	// StartAt (RFC 3339, any zone) sets the order ahead: accepted now (state "scheduled"), started within
	// twap.start_jitter after it, nothing sent before. EndAt replaces duration with a hard end: nothing is sent
	// after it.
	StartAt *string `json:"start_at"`
	EndAt   *string `json:"end_at"`
	// Execution is "maker_first" (each slice posted post-only at the touch, re-pegged, crossed with an IOC when the
	// venue falls behind its schedule and at the end) or "taker" (IOC children); absent: twap.execution.
	Execution string `json:"execution"`
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

const (
	minDuration = 10 * time.Second
	maxDuration = 24 * time.Hour
)

// toEngine validates a request whole and converts it.
func (s *Server) toEngine(in OrderRequest) (engine.Request, error) {
	var errs []string
	bad := func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }
	out := engine.Request{ID: in.ID, Instrument: in.Instrument, ReduceOnly: in.ReduceOnly}
	if !idRe.MatchString(in.ID) {
		bad("id %q: 1–64 characters of [A-Za-z0-9._:-], starting with a letter or digit", in.ID)
	}
	known := false
	for _, i := range s.o.Instruments {
		known = known || i == in.Instrument
	}
	if !known {
		bad("instrument %q: not traded here (have %s)", in.Instrument, strings.Join(s.o.Instruments, ", "))
	}
	switch in.Side {
	case "buy":
		out.Side = "buy"
	case "sell":
		out.Side = "sell"
	default:
		bad("side %q: want buy or sell", in.Side)
	}
	q, err := parsePositive("quantity", in.Quantity)
	if err != nil {
		bad("%v", err)
	}
	out.Quantity = q
	when := func(field string, v *string) (time.Time, bool) {
		if v == nil {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339, *v)
		if err != nil {
			bad("%s %q: want an RFC 3339 time such as \"2026-12-07T16:00:00Z\"", field, *v)
			return time.Time{}, false
		}
		return t.UTC(), true
	}
	start, hasStart := when("start_at", in.StartAt)
	end, hasEnd := when("end_at", in.EndAt)
	out.StartAt = start
	switch {
	case in.Duration != "" && in.EndAt != nil:
		bad("give duration or end_at, not both")
	case in.Duration == "" && in.EndAt == nil:
		bad("duration or end_at is required")
	case in.EndAt != nil:
		out.EndAt = end
		if hasStart && hasEnd && !end.After(start) {
			bad("end_at %s must be after start_at %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
		} else if hasStart && hasEnd && end.Sub(start) > maxDuration {
			bad("end_at is more than %s after start_at", maxDuration)
		}
	default:
		out.Duration = parseDuration(in.Duration, bad)
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
	out.Venues = in.Venues
	if in.LimitPrice != nil {
		lp, err := parsePositive("limit_price", *in.LimitPrice)
		if err != nil {
			bad("%v", err)
		}
		out.LimitPrice = lp
	}
	if ex, err := engine.ParseExecution(in.Execution); err != nil {
		bad("%v", err)
	} else {
		out.Execution = ex
	}
	if len(errs) > 0 {
		return engine.Request{}, errors.New(strings.Join(errs, "; "))
	}
	return out, nil
}

// parseDuration reads a horizon ("10m") within the API's bounds, telling bad what is wrong with it.
func parseDuration(s string, bad func(string, ...any)) time.Duration {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		bad("duration %q: want a duration such as \"10m\"", s)
	case d < minDuration || d > maxDuration:
		bad("duration %s: want %s to %s", d, minDuration, maxDuration)
	}
	return d
}

func parsePositive(field, s string) (decimal.Decimal, error) {
	d, err := parseSigned(field, s)
	if err != nil {
		return decimal.Zero, err
	}
	if !d.IsPositive() {
		return decimal.Zero, fmt.Errorf("%s %s: must be positive", field, s)
	}
	return d, nil
}

// decode reads a JSON body strictly: declared as application/json (415 otherwise), one object, no unknown fields,
// at most 64 KiB (413 beyond).
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength != 0 {
		ct := r.Header.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type",
				fmt.Sprintf("Content-Type %q: the body must be sent as application/json", ct))
			return false
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", "body larger than 64 KiB")
			return false
		}
		writeError(w, http.StatusBadRequest, "invalid_json", "body: "+err.Error())
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "invalid_json", "body: one JSON object expected")
		return false
	}
	return true
}

func (s *Server) createOrder(w http.ResponseWriter, r *http.Request) {
	var in OrderRequest
	if !decode(w, r, &in) {
		return
	}
	req, err := s.toEngine(in)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	rep, created, err := s.o.Orders.Submit(r.Context(), req)
	if err != nil {
		s.engineError(w, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	writeJSON(w, code, orderFromReport(rep))
}

// OrderList is the body of GET /v1/orders.
type OrderList struct {
	Orders []Order `json:"orders"`
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, OrderList{Orders: ordersFromReports(s.o.Orders.List())})
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	rep, err := s.o.Orders.Get(r.PathValue("id"))
	if err != nil {
		s.engineError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, orderFromReport(rep))
}

func (s *Server) cancelOrder(w http.ResponseWriter, r *http.Request) {
	rep, err := s.o.Orders.Cancel(r.PathValue("id"))
	if err != nil {
		s.engineError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, orderFromReport(rep))
}

func (s *Server) positions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.o.Ops.Positions())
}

func (s *Server) venues(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"venues": s.o.Ops.Venues(r.Context())})
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	counts := map[engine.State]int{}
	for _, rep := range s.o.Orders.List() {
		counts[rep.State]++
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintln(w, "# HELP execd_parent_orders Parent orders by state.")
	fmt.Fprintln(w, "# TYPE execd_parent_orders gauge")
	for _, st := range []engine.State{engine.Working, engine.Done, engine.Cancelled, engine.Failed} {
		fmt.Fprintf(w, "execd_parent_orders{state=%q} %d\n", st, counts[st])
	}
	fmt.Fprintln(w, "# HELP execd_venue_healthy 1 if the venue's circuit breaker is not open.")
	fmt.Fprintln(w, "# TYPE execd_venue_healthy gauge")
	for _, v := range s.o.Ops.Venues(r.Context()) {
		h := 0
		if v.Healthy {
			h = 1
		}
		fmt.Fprintf(w, "execd_venue_healthy{venue=%q} %d\n", v.Venue, h)
	}
	rs := s.o.Ops.Reconcile()
	for _, m := range []struct {
		name, help string
		val        func(ReconcileStatus) int
	}{
		{"execd_reconcile_passes_total", "Reconcile passes per venue and instrument.", func(r ReconcileStatus) int { return r.Passes }},
		{"execd_reconcile_failures_total", "Reconcile passes that could not read the venue.", func(r ReconcileStatus) int { return r.Failures }},
		{"execd_reconcile_lost_fills_total", "Fills of execd's orders the stream lost, booked from the venue's records.", func(r ReconcileStatus) int { return r.LostFills }},
		{"execd_reconcile_external_fills_total", "Trades of other programs' orders seen on the account.", func(r ReconcileStatus) int { return r.ExternalFills }},
		{"execd_reconcile_adjustments_total", "External position changes booked.", func(r ReconcileStatus) int { return r.Adjusted }},
		{"execd_reconcile_flagged", "1 if the last pass could not read the venue.", func(r ReconcileStatus) int {
			if r.Flagged {
				return 1
			}
			return 0
		}},
	} {
		typ := "counter"
		if m.name == "execd_reconcile_flagged" {
			typ = "gauge"
		}
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, typ)
		for _, r := range rs {
			fmt.Fprintf(w, "%s{venue=%q,instrument=%q} %d\n", m.name, r.Venue, r.Instrument, m.val(r))
		}
	}
}

func (s *Server) engineError(w http.ResponseWriter, err error) {
	switch engine.KindOf(err) {
	case engine.KindInvalid:
		writeError(w, http.StatusUnprocessableEntity, "unprocessable", err.Error())
	case engine.KindConflict:
		writeError(w, http.StatusConflict, "conflict", err.Error())
	case engine.KindNotFound:
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case engine.KindHalted:
		writeError(w, http.StatusConflict, "trading_halted", err.Error())
	case engine.KindUnavailable:
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
	default:
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			writeError(w, http.StatusServiceUnavailable, "unavailable", "request ended before the order was planned")
			return
		}
		s.o.Logger.Error("api: unexpected error", zap.Error(err))
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

// ErrorBody is the JSON error body of every 4xx and 5xx.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b ErrorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
