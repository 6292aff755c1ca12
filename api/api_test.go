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
func (fakeOps) SetVenue(string, *decimal.Decimal, *bool) (VenueStatus, error) {
	return VenueStatus{}, nil
}
func (fakeOps) Positions() PositionsView       { return PositionsView{} }
func (fakeOps) Ready() error                   { return nil }
func (fakeOps) TradingState() string           { return "active" }
func (fakeOps) SetTradingState(s string) error { return nil }

func newTestServer(t testing.TB) (*Server, *fakeOrders) {
	fo := &fakeOrders{}
	s, err := New(Options{Orders: fo, Ops: fakeOps{}, Tokens: map[string]string{"h-reb": "rebalancer", "h-view": "viewer"},
		Instruments: []string{"BTC-USDT-PERP"}, Hash: func(s string) string { return "h-" + s }})
	if err != nil {
		t.Fatal(err)
	}
	return s, fo
}

func do(s http.Handler, token, method, path, body string) (*httptest.ResponseRecorder, ErrorBody) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
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
