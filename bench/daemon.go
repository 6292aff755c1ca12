package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/config"
)

// DaemonRun is how strategy (d) runs: the whole daemon (API, engine, router, randomized TWAP, risk, journal,
// adapters) on the default config, against the mock venues over loopback on a simulated clock Speed times faster
// than the wall clock. The arrival is read from the market just before the order is posted.
type DaemonRun struct {
	Execution string        // the order's execution ("" for the config's default, twap.execution)
	Speed     float64       // simulated clock acceleration
	WallLimit time.Duration // per run
	Logger    *zap.Logger
}

// RunDaemon works one parent of qty (side +1 buy, −1 sell) on the market of seed through a fresh daemon and
// judges it by the market's take records.
func (s *Setup) RunDaemon(ctx context.Context, o DaemonRun, seed int64, side int, qty decimal.Decimal) (Execution, error) {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.WallLimit <= 0 {
		o.WallLimit = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.WallLimit)
	defer cancel()
	cfg := *s.Config
	mk := *cfg.Market
	mk.Seed = seed
	cfg.Market = &mk
	// No pacing under the venues' published limits: they count wall time, and on a clock Speed times faster a
	// limit is Speed times tighter against the market than in real trading. Paced at ×60, a venue allowing 10
	// orders a second (Bybit, per symbol; one order of burst) spaces two children at least 6.7 s of market time
	// apart, which shows on the tape as a floor under the intervals (R² of the next interval 0.29 instead of
	// 0.004, measured with -quick). At ×1 that spacing is 0.11 s against 20 s between children.
	// The mocks count their limits in wall time too, so they are off as well: at ×60 the gateways' reads (a mark
	// every 500 ms of market time, the pegs' and the markouts' reads) are 60 times as many per wall second as in
	// real trading, and OKX's ticker limit (20 per 2 s) answered 429s that opened its breaker within the first
	// seconds of every run, so that OKX's share went to the other venues (measured with -dump: OKX filled 0–2% of
	// every parent, its volume share being 22%).
	cfg.Venues = append([]config.VenueConfig(nil), cfg.Venues...)
	for i := range cfg.Venues {
		off := false
		cfg.Venues[i].Pace = &off
		if m := cfg.Venues[i].Mock; m != nil {
			mc := *m
			mc.RateLimits = &off
			cfg.Venues[i].Mock = &mc
		}
	}
	token := randomHex(24)
	cfg.Auth.Tokens = []config.TokenConfig{{Name: "bench", Role: config.RoleRebalancer, SHA256: config.HashToken(token)}}
	cfg.ClientIDSalt = randomHex(16)
	if err := cfg.Validate(); err != nil {
		return Execution{}, fmt.Errorf("bench: config: %w", err)
	}
	clk := clock.NewScaled(s.Epoch, o.Speed)
	noenv := func(string) string { return "" }
	mocks, err := app.StartMocks(&cfg, clk, o.Logger, noenv, false)
	if err != nil {
		return Execution{}, err
	}
	defer mocks.Close()
	dir, err := os.MkdirTemp("", "execbench-journal-")
	if err != nil {
		return Execution{}, err
	}
	defer os.RemoveAll(dir)
	d, err := app.New(&cfg, app.Options{Logger: o.Logger, Clock: clk, Listen: "127.0.0.1:0", JournalDir: dir,
		Mocks: mocks, Getenv: noenv})
	if err != nil {
		return Execution{}, err
	}
	if err := d.Start(ctx); err != nil {
		return Execution{}, err
	}
	defer func() {
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = d.Stop(sctx)
	}()
	cl := &api.Client{Base: "http://" + d.Addr(), Token: token, HTTP: &http.Client{Timeout: 10 * time.Second}}
	a, err := s.observeArrival(mocks.Market)
	if err != nil {
		return Execution{}, err
	}
	mocks.Market.RecordTakes()
	band := s.BandBps
	sideName := "buy"
	if side < 0 {
		sideName = "sell"
	}
	req := api.OrderRequest{ID: fmt.Sprintf("bench-%d-%s-%s", seed, sideName, qty), Instrument: cfg.Instruments[0],
		Side: sideName, Quantity: qty.String(), Duration: s.Horizon.String(), MaxSlippageBps: &band, Execution: o.Execution}
	var rep api.Order
	if err := cl.Do(ctx, http.MethodPost, "/v1/orders", req, &rep); err != nil {
		return Execution{}, err
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for rep.State == api.StateWorking {
		select {
		case <-ctx.Done():
			return Execution{}, fmt.Errorf("bench: seed %d %s %s still working after %v (filled %s)", seed, sideName, qty,
				o.WallLimit, rep.Filled)
		case <-tick.C:
		}
		if err := cl.Do(ctx, http.MethodGet, "/v1/orders/"+req.ID, nil, &rep); err != nil {
			return Execution{}, err
		}
	}
	if rep.State != api.StateDone {
		return Execution{}, fmt.Errorf("bench: seed %d %s %s ended %s: %s", seed, sideName, qty, rep.State, rep.Reason)
	}
	// The markouts need the price a minute after the last fill, the path term the price until the horizon: the
	// market runs on until then (a second of wall time at ×60).
	end := a.At.Add(s.Horizon)
	for _, r := range mocks.Market.Takes() {
		end = latest(end, r.Time)
	}
	for _, r := range mocks.Market.Makes() {
		end = latest(end, r.Time)
	}
	end = end.Add(MarkoutHorizons[len(MarkoutHorizons)-1] + time.Second)
	for clk.Now().Before(end) {
		select {
		case <-ctx.Done():
			return Execution{}, ctx.Err()
		case <-tick.C:
		}
	}
	mocks.Market.FairPrice() // advances the market to the clock
	e, err := s.measure(mocks.Market, mocks.Market.Takes(), mocks.Market.Makes(), a, side, qty.InexactFloat64())
	if err != nil {
		return Execution{}, err
	}
	// The children are the venues' own records of the orders they took (a resting child is one order however many
	// times it was re-pegged), at the times they took them.
	e.Children = e.Children[:0]
	for _, v := range mocks.Venues {
		for _, mo := range v.Control.Orders() {
			e.Children = append(e.Children, Child{Venue: v.Name, At: mo.Time.Sub(a.At), Qty: mo.Quantity.InexactFloat64(),
				Filled: mo.Executed.InexactFloat64(), IOC: mo.IOC})
		}
	}
	sort.SliceStable(e.Children, func(i, j int) bool { return e.Children[i].At < e.Children[j].At })
	return e, nil
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
