package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/configs"
	"github.com/execd-dev/execd/engine"
)

// loadVenue is one venue of the load test: its binding published order limit, how many parents work only it, and
// each parent's quantity (enough lots for a child at every slice).
type loadVenue struct {
	name    string
	limit   float64 // orders per second, the binding one of the venue's published order limits
	parents int
	qty     string
}

// TestLoadAtNinetyPercentOfLimits runs 54 parents at once on the wall clock across the three venues, each parent
// on one venue, with a child due every second on average (twap.mean_interval 1s): 18 parents on Binance (binding
// limit 1,200 orders a minute, 20/s), 9 on Bybit (10 order calls a second), 27 on OKX (60 orders per 2 s per
// instrument, 30/s) — a demand of 90% of each venue's limit while the parents slice. Every parent must end done,
// filled on the lot grid, by its deadline, and no mock may have answered a single request with a rate limit or a
// ban (their own counts). It logs each venue's order rate by its own records.
func TestLoadAtNinetyPercentOfLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("the load test runs 40 s of wall clock")
	}
	// Binance's smallest BTC order is 100 USDT (0.0095 BTC), OKX's one contract (0.01 BTC), Bybit's 0.001 BTC:
	// each parent has a child's worth for each of its ~22 slices.
	vs := []loadVenue{{"binance", 20, 18, "0.25"}, {"bybit", 10, 9, "0.06"}, {"okx", 30, 27, "0.4"}}
	a := startDaemonConfig(t, configs.Default, 1, func(c *config.Config) { c.TWAP.MeanInterval = time.Second },
		app.Options{})
	const horizon = 30 * time.Second
	type sub struct {
		id, venue string
		qty       decimal.Decimal
	}
	var subs []sub
	var reqs []api.OrderRequest
	for _, v := range vs {
		for i := range v.parents {
			side := "buy"
			if i%2 == 1 {
				side = "sell"
			}
			id := fmt.Sprintf("load-%s-%02d", v.name, i)
			slip := 100
			reqs = append(reqs, api.OrderRequest{ID: id, Instrument: "BTC-USDT-PERP", Side: side, Quantity: v.qty,
				Duration: horizon.String(), MaxSlippageBps: &slip, Venues: []string{v.name}})
			subs = append(subs, sub{id, v.name, d(v.qty)})
		}
	}
	// All at once, as a rebalancer with many tokens to rebalance would.
	start := time.Now()
	codes := make([]int, len(reqs))
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Go(func() { codes[i] = post(a, rebalancerToken, "/v1/orders", reqs[i]) })
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusCreated {
			t.Fatalf("create %s: %d", reqs[i].ID, code)
		}
	}
	t.Logf("%d parents submitted at once, all accepted in %s", len(subs), time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), horizon+time.Minute)
	defer cancel()
	filledBy := map[string]decimal.Decimal{}
	for _, s := range subs {
		rep, err := a.Engine().Wait(ctx, s.id)
		if err != nil {
			t.Fatalf("%s did not end: %v (state %s filled %s)", s.id, err, rep.State, rep.Filled)
		}
		if rep.State != engine.Done || !rep.Filled.Add(rep.Residual).Equal(s.qty) || !rep.Unfilled.IsZero() {
			t.Errorf("%s: state %s filled %s residual %s unfilled %s (%s)", s.id, rep.State, rep.Filled, rep.Residual,
				rep.Unfilled, rep.Reason)
		}
		if rep.EndedAt == nil || rep.EndedAt.After(rep.Deadline) {
			t.Errorf("%s ended at %v, after its deadline %v", s.id, rep.EndedAt, rep.Deadline)
		}
		filledBy[s.venue] = filledBy[s.venue].Add(rep.Filled)
	}
	for _, v := range vs {
		mv := a.Mocks().Venue(v.name)
		f := mv.Control.Faults()
		if n, b := f.Throttles(), f.Bans(); n != 0 || b != 0 {
			t.Errorf("%s answered %d requests with a rate limit and %d with a ban", v.name, n, b)
		}
		executed := decimal.Zero
		ids := map[string]bool{}
		var first, last time.Time
		n := 0
		for _, o := range mv.Control.Orders() {
			if ids[o.ClientOrderID] {
				t.Errorf("%s: client order id %s twice", v.name, o.ClientOrderID)
			}
			ids[o.ClientOrderID] = true
			executed = executed.Add(o.Executed)
			if o.Open {
				t.Errorf("%s: order %s left open", v.name, o.ClientOrderID)
			}
			if first.IsZero() || o.Time.Before(first) {
				first = o.Time
			}
			if o.Time.After(last) {
				last = o.Time
			}
			n++
		}
		if !executed.Equal(filledBy[v.name]) {
			t.Errorf("%s executed %s, the parents' reports %s", v.name, executed, filledBy[v.name])
		}
		rate := 0.0
		if span := last.Sub(first).Seconds(); span > 0 {
			rate = float64(n) / span
		}
		t.Logf("%s: %d orders over %s, %.1f/s against a limit of %.0f/s (%.0f%%), 0 throttled", v.name, n,
			last.Sub(first).Round(time.Millisecond), rate, v.limit, 100*rate/v.limit)
	}
}

// post sends body to path and returns the status (0 if the request failed); safe from any goroutine.
func post(a *app.App, token, path string, body any) int {
	b, err := json.Marshal(body)
	if err != nil {
		return 0
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+a.Addr()+path, bytes.NewReader(b))
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
