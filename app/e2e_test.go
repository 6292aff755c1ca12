package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/configs"
	"github.com/execd-dev/execd/engine"
)

const (
	rebalancerToken = "test-rebalancer-token"
	opsToken        = "test-ops-token"
	viewerToken     = "test-viewer-token"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// startDaemon embeds the whole daemon of the default config on 127.0.0.1:0 with an accelerated clock.
func startDaemon(t *testing.T, speed float64, edit func(*config.Config)) *app.App {
	t.Helper()
	return startDaemonOpts(t, speed, edit, app.Options{})
}

func startDaemonOpts(t *testing.T, speed float64, edit func(*config.Config), o app.Options) *app.App {
	t.Helper()
	return startDaemonConfig(t, configs.Seed, speed, edit, o)
}

// startDaemonConfig embeds the daemon of an embedded config, with the test tokens; the test's cleanup stops it.
func startDaemonConfig(t *testing.T, yaml []byte, speed float64, edit func(*config.Config), o app.Options) *app.App {
	t.Helper()
	a := startUnowned(t, testConfig(t, yaml, edit), speed, o)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return a
}

// testConfig is an embedded config with the test tokens, edited.
func testConfig(t *testing.T, yaml []byte, edit func(*config.Config)) *config.Config {
	t.Helper()
	cfg, err := config.Parse(bytes.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Auth.Tokens = []config.TokenConfig{
		{Name: "r", Role: config.RoleRebalancer, SHA256: config.HashToken(rebalancerToken)},
		{Name: "o", Role: config.RoleOps, SHA256: config.HashToken(opsToken)},
		{Name: "v", Role: config.RoleViewer, SHA256: config.HashToken(viewerToken)},
	}
	if edit != nil {
		edit(cfg)
	}
	return cfg
}

// startUnowned starts a daemon the caller stops (o.JournalDir: a new temporary directory if empty).
func startUnowned(t *testing.T, cfg *config.Config, speed float64, o app.Options) *app.App {
	t.Helper()
	if o.Clock == nil {
		o.Clock = clock.NewScaled(time.Now().UTC(), speed)
	}
	o.Listen = "127.0.0.1:0"
	if o.JournalDir == "" {
		o.JournalDir = t.TempDir()
	}
	if os.Getenv("APP_DEBUG") != "" { // the daemon's log on stderr, for looking into a failure
		o.Logger, _ = zap.NewDevelopment()
	}
	a, err := app.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return a
}

func call(t *testing.T, a *app.App, token, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+a.Addr()+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

func seedOrder(id string) api.OrderRequest {
	slip := 50
	return api.OrderRequest{ID: id, Instrument: "BTC-USDT-PERP", Side: "buy", Quantity: "2.2166", Duration: "5m",
		ReduceOnly: true, MaxSlippageBps: &slip}
}

func waitDone(t *testing.T, a *app.App, id string, limit time.Duration) engine.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	rep, err := a.Engine().Wait(ctx, id)
	if err != nil {
		t.Fatalf("order %s did not end within %s: %v (state %s, filled %s)", id, limit, err, rep.State, rep.Filled)
	}
	return rep
}

// TestSeedRebalanceEndToEnd submits the seed's rebalance over HTTP to the embedded daemon and checks the
// invariants against the API and against the mock venues' own records.
func TestSeedRebalanceEndToEnd(t *testing.T) {
	a := startDaemon(t, 40, nil)
	var before api.PositionsView
	call(t, a, viewerToken, "GET", "/v1/positions", nil, &before)
	if len(before.Aggregate) != 1 || !before.Aggregate[0].Position.Equal(d("-11.988")) {
		t.Fatalf("starting aggregate = %+v, want -11.988", before.Aggregate)
	}
	var created api.Order
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-e2e"), &created); code != http.StatusCreated {
		t.Fatalf("create: status %d", code)
	}
	// Idempotent retry: same id and body → 200; a different body → 409.
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-e2e"), nil); code != http.StatusOK {
		t.Fatalf("retry: status %d, want 200", code)
	}
	changed := seedOrder("rb-e2e")
	changed.Quantity = "2.2167"
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", changed, nil); code != http.StatusConflict {
		t.Fatalf("changed body: status %d, want 409", code)
	}
	waitDone(t, a, "rb-e2e", 45*time.Second)
	var rep api.Order
	call(t, a, viewerToken, "GET", "/v1/orders/rb-e2e", nil, &rep)
	if rep.State != api.StateDone {
		t.Fatalf("state %s (%s)", rep.State, rep.Reason)
	}
	if !rep.Filled.Equal(d("2.216")) || !rep.Residual.Equal(d("0.0006")) {
		t.Fatalf("filled %s residual %s, want 2.216 and 0.0006", rep.Filled, rep.Residual)
	}
	shares := map[string]decimal.Decimal{"a": d("0.4"), "b": d("0.6")}
	for _, v := range rep.Venues {
		got := v.Filled.Div(rep.Filled)
		if got.Sub(shares[v.Venue]).Abs().GreaterThan(d("0.05")) {
			t.Errorf("venue %s filled share %s, volume share %s: more than 5 points apart", v.Venue, got.Round(4), shares[v.Venue])
		}
	}
	if rep.AvgPrice == nil || rep.ShortfallBps == nil || !rep.ArrivalPrice.IsPositive() {
		t.Fatalf("report lacks prices: %+v", rep)
	}
	// The venues' own records are the judge.
	idRe := regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)
	seen := map[string]bool{}
	maxNotional := d("50000")
	total := decimal.Zero
	for _, name := range []string{"a", "b"} {
		mv := a.Mocks().Venue(name)
		for _, o := range mv.Control.Orders() {
			if !o.ReduceOnly {
				t.Errorf("%s order %s is not reduce-only", name, o.ClientOrderID)
			}
			if !idRe.MatchString(o.ClientOrderID) || seen[o.ClientOrderID] {
				t.Errorf("%s client order id %q bad or reused", name, o.ClientOrderID)
			}
			seen[o.ClientOrderID] = true
			if o.Quantity.Mul(o.Price).GreaterThan(maxNotional) {
				t.Errorf("%s child %s notional %s above the max child notional", name, o.ClientOrderID, o.Quantity.Mul(o.Price))
			}
			if !o.Limit || o.IOC == o.PostOnly {
				t.Errorf("%s child %s is neither a limit IOC nor a post-only limit", name, o.ClientOrderID)
			}
			total = total.Add(o.Executed)
		}
	}
	if !total.Equal(rep.Filled) {
		t.Fatalf("venues executed %s, report says %s", total, rep.Filled)
	}
	// Every order the venues hold is one the report counts. The report may count more: a post-only child that
	// would have crossed reached Binance and was refused there (-5022), and Binance keeps no record of it.
	if len(seen) > rep.ChildOrders || len(seen) == 0 {
		t.Errorf("venues hold %d orders, report counts %d", len(seen), rep.ChildOrders)
	}
	var after api.PositionsView
	call(t, a, viewerToken, "GET", "/v1/positions", nil, &after)
	if !after.Aggregate[0].Position.Equal(d("-9.772")) {
		t.Fatalf("aggregate after = %s, want -9.772", after.Aggregate[0].Position)
	}
	venueTotal := a.Mocks().Venue("a").Control.Position("BTC-USDT-PERP").Add(a.Mocks().Venue("b").Control.Position("BTC-USDT-PERP"))
	if !venueTotal.Equal(d("-9.772")) {
		t.Fatalf("venues hold %s, want -9.772", venueTotal)
	}
	t.Logf("filled %s avg %s arrival %s shortfall %s bps children %d", rep.Filled, *rep.AvgPrice, rep.ArrivalPrice, *rep.ShortfallBps, rep.ChildOrders)
	for _, v := range rep.Venues {
		t.Logf("venue %s allocated %s filled %s children %d", v.Venue, v.Allocated, v.Filled, v.ChildOrders)
	}
}

const seedJSON = `{"id":"x","instrument":"BTC-USDT-PERP","side":"buy","quantity":"1","duration":"10m"}`

func TestAPIRejectsBadInputAndChangesNothing(t *testing.T) {
	a := startDaemon(t, 1, nil)
	bad := []struct {
		name   string
		token  string
		method string
		path   string
		body   string
		status int
		code   string
	}{
		{"no token", "", "POST", "/v1/orders", `{}`, 401, "unauthorized"},
		{"wrong token", "nope", "GET", "/v1/orders/x", ``, 401, "unauthorized"},
		{"viewer cannot create", viewerToken, "POST", "/v1/orders", `{}`, 403, "forbidden"},
		{"ops cannot create", opsToken, "POST", "/v1/orders", `{}`, 403, "forbidden"},
		{"rebalancer cannot set venues", rebalancerToken, "PUT", "/v1/venues/a", `{"weight":"1"}`, 403, "forbidden"},
		{"not json", rebalancerToken, "POST", "/v1/orders", `{`, 400, "invalid_json"},
		{"unknown field", rebalancerToken, "POST", "/v1/orders", `{"id":"x","bogus":1}`, 400, "invalid_json"},
		{"number quantity", rebalancerToken, "POST", "/v1/orders", `{"id":"x","instrument":"BTC-USDT-PERP","side":"buy","quantity":2.2,"duration":"10m"}`, 400, "invalid_json"},
		{"bad side", rebalancerToken, "POST", "/v1/orders", `{"id":"x","instrument":"BTC-USDT-PERP","side":"long","quantity":"1","duration":"10m"}`, 400, "invalid_request"},
		{"negative quantity", rebalancerToken, "POST", "/v1/orders", `{"id":"x","instrument":"BTC-USDT-PERP","side":"buy","quantity":"-1","duration":"10m"}`, 400, "invalid_request"},
		{"exponent quantity", rebalancerToken, "POST", "/v1/orders", `{"id":"x","instrument":"BTC-USDT-PERP","side":"buy","quantity":"1e3","duration":"10m"}`, 400, "invalid_request"},
		{"unknown instrument", rebalancerToken, "POST", "/v1/orders", `{"id":"x","instrument":"ETH-USDT-PERP","side":"buy","quantity":"1","duration":"10m"}`, 400, "invalid_request"},
		{"short duration", rebalancerToken, "POST", "/v1/orders", `{"id":"x","instrument":"BTC-USDT-PERP","side":"buy","quantity":"1","duration":"1s"}`, 400, "invalid_request"},
		{"bad id", rebalancerToken, "POST", "/v1/orders", `{"id":"a b","instrument":"BTC-USDT-PERP","side":"buy","quantity":"1","duration":"10m"}`, 400, "invalid_request"},
		{"unknown venue", rebalancerToken, "POST", "/v1/orders", `{"id":"x","instrument":"BTC-USDT-PERP","side":"buy","quantity":"1","duration":"10m","venues":["zz"]}`, 422, "unprocessable"},
		{"slippage too wide", rebalancerToken, "POST", "/v1/orders", `{"id":"x","instrument":"BTC-USDT-PERP","side":"buy","quantity":"1","duration":"10m","max_slippage_bps":9999}`, 422, "unprocessable"},
		{"reduce-only that would increase", rebalancerToken, "POST", "/v1/orders", `{"id":"x","instrument":"BTC-USDT-PERP","side":"sell","quantity":"1","duration":"10m","reduce_only":true}`, 422, "unprocessable"},
		{"reduce-only above positions", rebalancerToken, "POST", "/v1/orders", `{"id":"x","instrument":"BTC-USDT-PERP","side":"buy","quantity":"20","duration":"10m","reduce_only":true}`, 422, "unprocessable"},
		{"missing order", viewerToken, "GET", "/v1/orders/none", ``, 404, "not_found"},
		{"cancel missing", rebalancerToken, "DELETE", "/v1/orders/none", ``, 404, "not_found"},
		{"bad weight", opsToken, "PUT", "/v1/venues/a", `{"weight":"-1"}`, 400, "invalid_request"},
		{"unknown venue put", opsToken, "PUT", "/v1/venues/zz", `{"weight":"1"}`, 404, "not_found"},
		{"bad state", opsToken, "PUT", "/v1/trading-state", `{"state":"paused"}`, 400, "invalid_request"},
		{"no content type", rebalancerToken, "POST", "/v1/orders", "-" + seedJSON, 415, "unsupported_media_type"},
		{"form content type", opsToken, "PUT", "/v1/venues/a", "form" + `{"weight":"1"}`, 415, "unsupported_media_type"},
		{"oversized body", rebalancerToken, "POST", "/v1/orders", `{"id":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "too_large"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			// A body is sent as JSON, unless it starts with "-" (no Content-Type) or "form" (a form's).
			body, ctype := tc.body, "application/json"
			if b, ok := strings.CutPrefix(body, "-"); ok {
				body, ctype = b, ""
			} else if b, ok := strings.CutPrefix(body, "form"); ok {
				body, ctype = b, "application/x-www-form-urlencoded"
			}
			req, _ := http.NewRequest(tc.method, "http://"+a.Addr()+tc.path, bytes.NewBufferString(body))
			if body != "" && ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var eb api.ErrorBody
			if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
				t.Fatalf("error body is not JSON: %v", err)
			}
			if resp.StatusCode != tc.status || eb.Error.Code != tc.code || eb.Error.Message == "" {
				t.Fatalf("got %d %+v, want %d %s", resp.StatusCode, eb, tc.status, tc.code)
			}
		})
	}
	var list api.OrderList
	call(t, a, viewerToken, "GET", "/v1/orders", nil, &list)
	if len(list.Orders) != 0 {
		t.Fatalf("bad requests created orders: %+v", list.Orders)
	}
	var pos api.PositionsView
	call(t, a, viewerToken, "GET", "/v1/positions", nil, &pos)
	if !pos.Aggregate[0].Position.Equal(d("-11.988")) {
		t.Fatalf("positions changed: %s", pos.Aggregate[0].Position)
	}
	for _, name := range []string{"a", "b"} {
		if n := len(a.Mocks().Venue(name).Control.Orders()); n != 0 {
			t.Fatalf("venue %s received %d orders from bad requests", name, n)
		}
	}
}

func TestOpsWeightsHaltAndCancel(t *testing.T) {
	a := startDaemon(t, 40, nil)
	// Ops take venue a out: the order goes to b only.
	var st api.VenueStatus
	if code := call(t, a, opsToken, "PUT", "/v1/venues/a", map[string]any{"weight": "0"}, &st); code != 200 || !st.Weight.IsZero() {
		t.Fatalf("put venue: %d %+v", code, st)
	}
	o := seedOrder("rb-b-only")
	o.Quantity = "0.5"
	var created api.Order
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", o, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if len(created.Venues) != 1 || created.Venues[0].Venue != "b" || !created.Venues[0].Allocated.Equal(d("0.5")) {
		t.Fatalf("allocation with a at weight 0: %+v", created.Venues)
	}
	// Cancel it: it ends cancelled, what filled stays filled, nothing is left open at the venue.
	var cancelled api.Order
	if code := call(t, a, rebalancerToken, "DELETE", "/v1/orders/rb-b-only", nil, &cancelled); code != http.StatusAccepted {
		t.Fatalf("cancel: %d", code)
	}
	rep := waitDone(t, a, "rb-b-only", 20*time.Second)
	if rep.State != engine.Cancelled {
		t.Fatalf("state %s after cancel", rep.State)
	}
	executed := decimal.Zero
	for _, rec := range a.Mocks().Venue("b").Control.Orders() {
		executed = executed.Add(rec.Executed)
		if rec.Open {
			t.Fatalf("order %s left open after cancel", rec.ClientOrderID)
		}
	}
	if !executed.Equal(rep.Filled) {
		t.Fatalf("venue executed %s, report filled %s", executed, rep.Filled)
	}
	// Halted: new orders are refused, nothing is sent.
	if code := call(t, a, opsToken, "PUT", "/v1/trading-state", map[string]string{"state": "halted"}, nil); code != 200 {
		t.Fatalf("halt: %d", code)
	}
	var eb api.ErrorBody
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-halted"), &eb); code != http.StatusConflict || eb.Error.Code != "trading_halted" {
		t.Fatalf("order while halted: %d %+v", code, eb)
	}
	call(t, a, opsToken, "PUT", "/v1/trading-state", map[string]string{"state": "active"}, nil)
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-resumed"), nil); code != http.StatusCreated {
		t.Fatalf("order after resume: %d", code)
	}
}
