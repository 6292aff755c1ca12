package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/engine"
)

// fakeOrders records what reaches the engine.
type fakeOrders struct {
	mu    sync.Mutex
	calls []engine.Request
}

func (f *fakeOrders) Submit(ctx context.Context, req engine.Request) (engine.Report, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls {
		if c.ID == req.ID {
			if !c.Same(req) {
				return engine.Report{}, false, &engine.Error{Kind: engine.KindConflict, Msg: "conflict"}
			}
			return engine.Report{ID: req.ID, State: engine.Working}, false, nil
		}
	}
	f.calls = append(f.calls, req)
	return engine.Report{ID: req.ID, State: engine.Working}, true, nil
}
func (f *fakeOrders) Get(id string) (engine.Report, error) {
	return engine.Report{}, &engine.Error{Kind: engine.KindNotFound, Msg: "no"}
}
func (f *fakeOrders) List() []engine.Report { return nil }
func (f *fakeOrders) Cancel(id string) (engine.Report, error) {
	return engine.Report{}, &engine.Error{Kind: engine.KindNotFound, Msg: "no"}
}

type fakeOps struct{}

func (fakeOps) Venues(context.Context) []VenueStatus { return nil }
func (fakeOps) SetVenue(string, string, VenueChange) (VenueStatus, error) {
	return VenueStatus{}, nil
}
func (fakeOps) Audit(uint64, int) ([]AuditEntry, error)   { return nil, nil }
func (fakeOps) ReloadConfig(string) (ReloadResult, error) { return ReloadResult{}, nil }
func (fakeOps) Positions() PositionsView                  { return PositionsView{} }
func (fakeOps) Ready() error                              { return nil }
func (fakeOps) TradingState() string                      { return "active" }
func (fakeOps) SetTradingState(a, s string) error         { return nil }
func (fakeOps) Reconcile() []ReconcileStatus {
	return []ReconcileStatus{{Venue: "a", Instrument: "BTC-USDT-PERP", Passes: 3, LostFills: 1, Flagged: true}}
}

func newTestServer(t testing.TB) (*Server, *fakeOrders) {
	fo := &fakeOrders{}
	s, err := New(Options{Orders: fo, Ops: fakeOps{}, Tokens: map[string]Token{"h-reb": {"reb", "rebalancer"}, "h-view": {"view", "viewer"}},
		Instruments: []string{"BTC-USDT-PERP"}, Hash: func(s string) string { return "h-" + s }})
	if err != nil {
		t.Fatal(err)
	}
	return s, fo
}

func do(s http.Handler, token, method, path, body string) (*httptest.ResponseRecorder, ErrorBody) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var eb ErrorBody
	_ = json.Unmarshal(rec.Body.Bytes(), &eb)
	return rec, eb
}

const good = `{"id":"rb-2026-11-22-btc3s","instrument":"BTC-USDT-PERP","side":"buy","quantity":"2.2166","duration":"10m","reduce_only":true,"max_slippage_bps":50,"venues":["a","b"]}`

func TestCreateIdempotency(t *testing.T) {
	s, fo := newTestServer(t)
	if rec, _ := do(s, "reb", "POST", "/v1/orders", good); rec.Code != 201 {
		t.Fatalf("create %d %s", rec.Code, rec.Body)
	}
	if rec, _ := do(s, "reb", "POST", "/v1/orders", good); rec.Code != 200 {
		t.Fatalf("retry %d", rec.Code)
	}
	changed := strings.Replace(good, `"10m"`, `"11m"`, 1)
	if rec, eb := do(s, "reb", "POST", "/v1/orders", changed); rec.Code != 409 || eb.Error.Code != "conflict" {
		t.Fatalf("changed %d %+v", rec.Code, eb)
	}
	if len(fo.calls) != 1 || !fo.calls[0].Quantity.Equal(decimal.RequireFromString("2.2166")) || fo.calls[0].MaxSlippageBps != 50 {
		t.Fatalf("engine saw %+v", fo.calls)
	}
}

func TestValidationErrorsNameEveryField(t *testing.T) {
	s, fo := newTestServer(t)
	body := `{"id":"","instrument":"X","side":"up","quantity":"0","duration":"1h1x","max_slippage_bps":0,"venues":["a","a"],"limit_price":"-1"}`
	rec, eb := do(s, "reb", "POST", "/v1/orders", body)
	if rec.Code != 400 || eb.Error.Code != "invalid_request" {
		t.Fatalf("%d %+v", rec.Code, eb)
	}
	for _, want := range []string{"id", "instrument", "side", "quantity", "duration", "max_slippage_bps", "venues", "limit_price"} {
		if !strings.Contains(eb.Error.Message, want) {
			t.Errorf("message %q does not mention %s", eb.Error.Message, want)
		}
	}
	if len(fo.calls) != 0 {
		t.Fatal("a bad request reached the engine")
	}
}

func TestBodyLimits(t *testing.T) {
	s, _ := newTestServer(t)
	big := `{"id":"` + strings.Repeat("x", 70<<10) + `"}`
	if rec, eb := do(s, "reb", "POST", "/v1/orders", big); rec.Code != 413 || eb.Error.Code != "too_large" {
		t.Fatalf("big body: %d %+v", rec.Code, eb)
	}
	if rec, _ := do(s, "reb", "POST", "/v1/orders", good+good); rec.Code != 400 {
		t.Fatalf("two objects: %d", rec.Code)
	}
}

// FuzzCreateOrder feeds arbitrary bodies: the API answers 201 or a 4xx with a JSON error body, never a 5xx or a
// panic, and a request reaches the engine only if it was valid.
func FuzzCreateOrder(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"id":"x","quantity":"1e9999999"}`))
	f.Add([]byte(`{"id":"x","instrument":"BTC-USDT-PERP","side":"sell","quantity":"0.000000000001","duration":"10s"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, fo := newTestServer(t)
		req := httptest.NewRequest("POST", "/v1/orders", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer reb")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		switch {
		case rec.Code == 201:
			if len(fo.calls) != 1 || !fo.calls[0].Quantity.IsPositive() || fo.calls[0].Duration < minDuration {
				t.Fatalf("accepted %+v", fo.calls)
			}
		case rec.Code >= 400 && rec.Code < 500:
			var eb ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
				t.Fatalf("%d without a JSON error body: %s", rec.Code, rec.Body)
			}
			if len(fo.calls) != 0 {
				t.Fatal("a rejected request reached the engine")
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

func TestUnknownRouteAndWrongMethod(t *testing.T) {
	s, _ := newTestServer(t)
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/v1/nope", 404, "not_found", ""},
		{"GET", "/", 404, "not_found", ""},
		{"POST", "/v2/orders", 404, "not_found", ""},
		{"PATCH", "/v1/orders", 405, "method_not_allowed", "GET, HEAD, POST"},
		{"PUT", "/v1/orders/x", 405, "method_not_allowed", "DELETE, GET, HEAD"},
		{"POST", "/v1/events", 405, "method_not_allowed", "GET, HEAD"},
		{"DELETE", "/v1/venues", 405, "method_not_allowed", "GET, HEAD"},
	} {
		rec, eb := do(s, "view", tc.method, tc.path, "")
		if rec.Code != tc.status || eb.Error.Code != tc.code || eb.Error.Message == "" || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %q %s", tc.method, tc.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		if got := rec.Header().Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
}

// TestOrderBodies: the order bodies are the API's own type, with every field name clients read today.
func TestOrderBodies(t *testing.T) {
	avg, sh, lp := "10490.1", "1.5", "10600"
	ended := time.Date(2026, 11, 22, 10, 5, 0, 0, time.UTC)
	rep := engine.Report{ID: "p", State: engine.Done, Instrument: "BTC-USDT-PERP", Side: "buy", Quantity: decimal.RequireFromString("2.2166"),
		ReduceOnly: true, Duration: "5m0s", MaxSlippageBps: 50, LimitPrice: &lp, Filled: decimal.RequireFromString("2.216"),
		Residual: decimal.RequireFromString("0.0006"), AvgPrice: &avg, ShortfallBps: &sh, EndedAt: &ended, Reason: "why",
		Venues: []engine.VenueReport{{Venue: "a", Out: "down", AvgPrice: &avg}}}
	o := orderFromReport(rep)
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "state", "instrument", "side", "quantity", "reduce_only", "duration", "max_slippage_bps",
		"limit_price", "filled", "residual", "unfilled", "avg_price", "arrival_price", "shortfall_bps", "fees", "child_orders",
		"created_at", "deadline", "updated_at", "ended_at", "reason", "venues"} {
		if _, ok := m[k]; !ok {
			t.Errorf("order body lacks %q", k)
		}
	}
	if string(m["quantity"]) != `"2.2166"` || string(m["state"]) != `"done"` || string(m["side"]) != `"buy"` {
		t.Errorf("body %s", b)
	}
	var vs []map[string]json.RawMessage
	if err := json.Unmarshal(m["venues"], &vs); err != nil || len(vs) != 1 {
		t.Fatalf("venues %s: %v", m["venues"], err)
	}
	for _, k := range []string{"venue", "volume_share", "weight", "allocated", "filled", "avg_price", "child_orders", "rejected", "out"} {
		if _, ok := vs[0][k]; !ok {
			t.Errorf("venue body lacks %q", k)
		}
	}
	// No venues: an empty list, not null.
	if b, _ := json.Marshal(orderFromReport(engine.Report{ID: "q"})); !strings.Contains(string(b), `"venues":[]`) {
		t.Errorf("empty venues: %s", b)
	}
	// Through the handlers.
	s, _ := newTestServer(t)
	rec, _ := do(s, "reb", "POST", "/v1/orders", good)
	var got Order
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.ID != "rb-2026-11-22-btc3s" || got.State != StateWorking {
		t.Fatalf("POST body %s: %v", rec.Body, err)
	}
	rec, _ = do(s, "view", "GET", "/v1/orders", "")
	if strings.TrimSpace(rec.Body.String()) != "{\n  \"orders\": []\n}" {
		t.Fatalf("GET /v1/orders with none: %s", rec.Body)
	}
}

func TestMetricsReconcileCounters(t *testing.T) {
	s, _ := newTestServer(t)
	rec, _ := do(s, "view", "GET", "/metrics", "")
	if rec.Code != 200 {
		t.Fatalf("metrics %d", rec.Code)
	}
	for _, want := range []string{
		`execd_reconcile_passes_total{venue="a",instrument="BTC-USDT-PERP"} 3`,
		`execd_reconcile_lost_fills_total{venue="a",instrument="BTC-USDT-PERP"} 1`,
		`execd_reconcile_external_fills_total{venue="a",instrument="BTC-USDT-PERP"} 0`,
		`execd_reconcile_flagged{venue="a",instrument="BTC-USDT-PERP"} 1`,
		"# TYPE execd_reconcile_flagged gauge",
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Fatalf("metrics lack %q:\n%s", want, rec.Body)
		}
	}
}

// PUT /v1/targets validates the whole body and names every bad field; nothing reaches the keeper.
func TestTargetValidation(t *testing.T) {
	s, _ := newTestServer(t)
	body := `{"id":"","position":"1e3","duration":"5m","end_at":"2026-12-06T10:00:00Z","max_slippage_bps":0,"venues":["a","a"],"execution":"fast"}`
	rec, eb := do(s, "reb", "PUT", "/v1/targets/BTC-USDT-PERP", body)
	if rec.Code != 400 || eb.Error.Code != "invalid_request" {
		t.Fatalf("%d %+v", rec.Code, eb)
	}
	for _, want := range []string{"id", "position", "not both", "max_slippage_bps", "venues", "execution"} {
		if !strings.Contains(eb.Error.Message, want) {
			t.Fatalf("message %q lacks %q", eb.Error.Message, want)
		}
	}
	if rec, _ := do(s, "reb", "PUT", "/v1/targets/XRP-USDT-PERP", `{"id":"t","position":"1","duration":"5m"}`); rec.Code != 400 {
		t.Fatalf("unknown instrument: %d", rec.Code)
	}
	if rec, _ := do(s, "view", "PUT", "/v1/targets/BTC-USDT-PERP", `{"id":"t","position":"1","duration":"5m"}`); rec.Code != 403 {
		t.Fatalf("viewer setting a target: %d", rec.Code)
	}
	// No keeper wired: a valid body is 503, never a silent success.
	if rec, _ := do(s, "reb", "PUT", "/v1/targets/BTC-USDT-PERP", `{"id":"t","position":"-9.7734","duration":"5m"}`); rec.Code != 503 {
		t.Fatalf("without a keeper: %d", rec.Code)
	}
}

// An order's window: duration or end_at, not both, not neither; end_at after start_at; the times reach the
// engine as given.
func TestOrderWindowValidation(t *testing.T) {
	base := `"id":"w","instrument":"BTC-USDT-PERP","side":"buy","quantity":"1"`
	for _, c := range []struct {
		body, want string
	}{
		{`{` + base + `,"duration":"10m","end_at":"2026-12-07T10:00:00Z"}`, "not both"},
		{`{` + base + `}`, "duration or end_at is required"},
		{`{` + base + `,"start_at":"2026-12-07T10:00:00+01:00","end_at":"2026-12-07T09:00:00Z"}`, "must be after start_at"},
		{`{` + base + `,"start_at":"tomorrow","duration":"10m"}`, "start_at"},
	} {
		s, fo := newTestServer(t)
		rec, eb := do(s, "reb", "POST", "/v1/orders", c.body)
		if rec.Code != 400 || !strings.Contains(eb.Error.Message, c.want) {
			t.Errorf("%s: %d %q, want 400 naming %q", c.body, rec.Code, eb.Error.Message, c.want)
		}
		if len(fo.calls) != 0 {
			t.Errorf("%s reached the engine", c.body)
		}
	}
	s, fo := newTestServer(t)
	body := `{` + base + `,"start_at":"2026-12-07T17:00:00+01:00","end_at":"2026-12-07T16:30:00Z"}`
	if rec, eb := do(s, "reb", "POST", "/v1/orders", body); rec.Code != 201 {
		t.Fatalf("%d %+v", rec.Code, eb)
	}
	got := fo.calls[0]
	if !got.StartAt.Equal(time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)) || !got.EndAt.Equal(time.Date(2026, 12, 7, 16, 30, 0, 0, time.UTC)) ||
		got.Duration != 0 {
		t.Fatalf("engine got start %s end %s duration %s", got.StartAt, got.EndAt, got.Duration)
	}
}
