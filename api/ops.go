package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/engine"
)

// VenueUpdate is the body of PUT /v1/venues/{venue}: a new weight, enabled flag or both; or reset, which returns
// the venue to the config file's values (and cannot be combined with them).
type VenueUpdate struct {
	Weight  *string `json:"weight"`
	Enabled *bool   `json:"enabled"`
	Reset   bool    `json:"reset"`
}

// VenueChange is an ops change to a venue, validated: Reset, or Weight and/or Enabled.
type VenueChange struct {
	Weight  *decimal.Decimal
	Enabled *bool
	Reset   bool
}

// AuditEntry is one ops change or config reload, as journaled before it applied.
type AuditEntry struct {
	Seq   uint64    `json:"seq"`
	Time  time.Time `json:"time"`
	Actor string    `json:"actor"` // the API token's name, or "signal" for a SIGHUP
	Kind  string    `json:"kind"`  // venue | trading_state | config_reload
	// venue: the venue and what changed (Reset: back to the config file's values).
	Venue   string           `json:"venue,omitempty"`
	Weight  *decimal.Decimal `json:"weight,omitempty"`
	Enabled *bool            `json:"enabled,omitempty"`
	Reset   bool             `json:"reset,omitempty"`
	// trading_state: the state set.
	State string `json:"state,omitempty"`
	// config_reload: the SHA-256 of the file read, and why it was refused ("" when it applied).
	ConfigHash string `json:"config_hash,omitempty"`
	Refused    string `json:"refused,omitempty"`
}

// AuditList is the body of GET /v1/audit.
type AuditList struct {
	Entries []AuditEntry `json:"entries"`
}

// ReloadResult is the body of a successful POST /v1/config/reload.
type ReloadResult struct {
	ConfigHash string    `json:"config_hash"`
	Time       time.Time `json:"time"`
}

const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

func (s *Server) putVenue(w http.ResponseWriter, r *http.Request) {
	var in VenueUpdate
	if !decode(w, r, &in) {
		return
	}
	var ch VenueChange
	switch {
	case in.Reset && (in.Weight != nil || in.Enabled != nil):
		writeError(w, http.StatusBadRequest, "invalid_request", "reset returns the venue to the config file's values: give it alone")
		return
	case !in.Reset && in.Weight == nil && in.Enabled == nil:
		writeError(w, http.StatusBadRequest, "invalid_request", "set weight, enabled or both, or reset")
		return
	}
	ch.Reset, ch.Enabled = in.Reset, in.Enabled
	if in.Weight != nil {
		d, err := decimal.NewFromString(*in.Weight)
		if err != nil || d.IsNegative() || d.GreaterThan(decimal.NewFromInt(100)) || strings.ContainsAny(*in.Weight, "eE") {
			writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("weight %q: want a decimal string from 0 to 100", *in.Weight))
			return
		}
		ch.Weight = &d
	}
	st, err := s.o.Ops.SetVenue(actor(r), r.PathValue("venue"), ch)
	if err != nil {
		s.engineError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) getState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"state": s.o.Ops.TradingState()})
}

func (s *Server) putState(w http.ResponseWriter, r *http.Request) {
	var in struct {
		State string `json:"state"`
	}
	if !decode(w, r, &in) {
		return
	}
	if err := s.o.Ops.SetTradingState(actor(r), in.State); err != nil {
		if engine.KindOf(err) == engine.KindUnavailable {
			s.engineError(w, err)
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"state": s.o.Ops.TradingState()})
}

// audit answers GET /v1/audit?since=N&limit=M: the ops log after seq N (default 0), at most M entries (default
// 100, at most 1000), oldest first.
func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var since uint64
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("since %q: want a sequence number", v))
			return
		}
		since = n
	}
	limit := defaultAuditLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAuditLimit {
			writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("limit %q: want 1 to %d", v, maxAuditLimit))
			return
		}
		limit = n
	}
	es, err := s.o.Ops.Audit(since, limit)
	if err != nil {
		s.engineError(w, err)
		return
	}
	if es == nil {
		es = []AuditEntry{}
	}
	writeJSON(w, http.StatusOK, AuditList{Entries: es})
}

// reload answers POST /v1/config/reload: what a SIGHUP does, with the reason when the reload was refused (409).
func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", "a reload takes no body: it reads the config file")
		return
	}
	res, err := s.o.Ops.ReloadConfig(actor(r))
	if err != nil {
		if engine.KindOf(err) == engine.KindUnavailable {
			s.engineError(w, err)
			return
		}
		writeError(w, http.StatusConflict, "reload_refused", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}
