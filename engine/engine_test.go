package engine

import (
	"context"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/journal"
	"github.com/execd-dev/execd/mocks/market"
	"github.com/execd-dev/execd/positions"
	"github.com/execd-dev/execd/risk"
	"github.com/execd-dev/execd/venues"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

type rig struct {
	e      *Engine
	a, b   *fakeVenue
	ledger *positions.Ledger
	brk    *risk.Breakers
}

// newRig builds an engine over two fake venues on one simulated market. Tests call it inside a synctest bubble:
// every clock, timer and timeout is the bubble's, which advances only when every goroutine is blocked, so the
// tests are deterministic and take no wall time waiting.
func newRig(t *testing.T, seed int64, edit func(*Params)) *rig {
	t.Helper()
	return newRigOpts(t, seed, edit, nil)
}

// newRigOpts is newRig with a last say on the engine's options.
func newRigOpts(t *testing.T, seed int64, edit func(*Params), opts func(*Options)) *rig {
	t.Helper()
	clk := clock.NewScaled(time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC), 200)
	m, err := market.New(testMarket(seed), clk)
	if err != nil {
		t.Fatal(err)
	}
	va, _ := m.Venue("a")
	vb, _ := m.Venue("b")
	r := &rig{a: newFake("a", va, "-4.795"), b: newFake("b", vb, "-7.193"), ledger: positions.NewLedger()}
	r.ledger.Set(positions.Key{Venue: "a", Instrument: "BTC-USDT-PERP"}, dec("-4.795"))
	r.ledger.Set(positions.Key{Venue: "b", Instrument: "BTC-USDT-PERP"}, dec("-7.193"))
	r.brk = risk.NewBreakers(risk.BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: time.Hour, HalfOpenProbes: 1}, []string{"a", "b"}, nil)
	p := Params{
		MeanInterval: 20 * time.Second, TimeJitter: 0.8, SizeJitter: 0.5, EndBuffer: 5 * time.Second,
		Catchup: time.Minute, RetryInterval: 2 * time.Second, MaxChildNotional: dec("50000"),
		DefaultSlippageBps: 50, MaxSlippageBps: 500, MaxConsecutiveRejects: 3,
		Venues: map[string]VenueParams{"a": {Weight: dec("1"), Enabled: true}, "b": {Weight: dec("1"), Enabled: true}},
	}
	if edit != nil {
		edit(&p)
	}
	j, err := journal.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Clock: clk, Venues: []Trader{r.a, r.b}, Ledger: r.ledger, Breakers: r.brk,
		State: &risk.Switch{}, Params: p, Salt: []byte("test-salt-123"), FillWait: 200 * time.Millisecond, Journal: j,
		Retry: gateway.Retry{QuoteMaxAge: time.Millisecond}, Instruments: []string{"BTC-USDT-PERP"}, Logger: testLogger()}
	if opts != nil {
		opts(&o)
	}
	r.e, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.e.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		j.Close()
	})
	return r
}

func testLogger() *zap.Logger {
	if os.Getenv("ENGINE_DEBUG") != "" {
		l, _ := zap.NewDevelopment()
		return l
	}
	return zap.NewNop()
}

func seedRequest(id string) Request {
	return Request{ID: id, Instrument: "BTC-USDT-PERP", Side: venues.Buy, Quantity: dec("2.2166"),
		Duration: 5 * time.Minute, ReduceOnly: true, MaxSlippageBps: 50}
}

func (r *rig) run(t *testing.T, req Request) Report {
	t.Helper()
	if _, created, err := r.e.Submit(context.Background(), req); err != nil || !created {
		t.Fatalf("submit: created %v, %v", created, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := r.e.Wait(ctx, req.ID)
	if err != nil {
		t.Fatalf("wait: %v (state %s filled %s)", err, rep.State, rep.Filled)
	}
	return rep
}

// checkVenueTruth compares the report with the venues' own records: executed = filled, each client id
// accepted at most once, the ledger equal to the venues' positions.
func (r *rig) checkVenueTruth(t *testing.T, rep Report) {
	t.Helper()
	total := decimal.Zero
	for _, v := range []*fakeVenue{r.a, r.b} {
		ex, counts := v.executed()
		total = total.Add(ex)
		for id, n := range counts {
			if n != 1 {
				t.Errorf("venue %s accepted client id %s %d times", v.name, id, n)
			}
		}
		if got := r.ledger.Position(positions.Key{Venue: v.name, Instrument: "BTC-USDT-PERP"}); !got.Equal(v.position()) {
			t.Errorf("ledger %s = %s, venue says %s", v.name, got, v.position())
		}
	}
	if !total.Equal(rep.Filled) {
		t.Errorf("venues executed %s, report filled %s", total, rep.Filled)
	}
}

func TestSeedOrderFillsOnTheLotGrid(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 1, nil)
		rep := r.run(t, seedRequest("p1"))
		if rep.State != Done || !rep.Filled.Equal(dec("2.216")) || !rep.Residual.Equal(dec("0.0006")) {
			t.Fatalf("state %s filled %s residual %s (%s)", rep.State, rep.Filled, rep.Residual, rep.Reason)
		}
		r.checkVenueTruth(t, rep)
		idRe := regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)
		for _, v := range []*fakeVenue{r.a, r.b} {
			_, ids := v.executed()
			for id := range ids {
				if !idRe.MatchString(id) {
					t.Errorf("client id %q", id)
				}
			}
			if len(ids) < 3 {
				t.Errorf("venue %s got %d children: the TWAP did not slice", v.name, len(ids))
			}
		}
	})
}

func TestClientOrderIDs(t *testing.T) {
	salt := []byte("salt-salt")
	a := ClientOrderID(salt, "p", "a", 1)
	if a != ClientOrderID(salt, "p", "a", 1) {
		t.Fatal("not deterministic")
	}
	seen := map[string]bool{}
	for _, p := range []string{"p", "q"} {
		for _, v := range []string{"a", "b"} {
			for i := 0; i < 200; i++ {
				id := ClientOrderID(salt, p, v, i)
				if seen[id] || len(id) > 32 || !regexp.MustCompile(`^[A-Za-z0-9]+$`).MatchString(id) {
					t.Fatalf("id %q bad or repeated", id)
				}
				seen[id] = true
			}
		}
	}
	if ClientOrderID([]byte("other-salt"), "p", "a", 1) == a {
		t.Fatal("the id does not depend on the salt")
	}
}

// An order that was executed but whose response was lost is found by query, not sent again.
func TestUnknownOutcomeExecutedIsNotResent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 2, nil)
		r.a.hook = func(n int, _ venues.OrderRequest) string {
			if n <= 2 {
				return "unknown-after"
			}
			return "ok"
		}
		rep := r.run(t, seedRequest("p-unknown-after"))
		if rep.State != Done || !rep.Filled.Equal(dec("2.216")) {
			t.Fatalf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
		}
		r.checkVenueTruth(t, rep)
	})
}

// An order the venue never took is resent with the same client order id once the venue says it does not exist.
func TestUnknownOutcomeNotExecutedIsResentWithSameID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 3, nil)
		var first string
		r.b.hook = func(n int, req venues.OrderRequest) string {
			if n == 1 {
				first = req.ClientOrderID
				return "unknown-before"
			}
			if n == 2 && req.ClientOrderID != first {
				t.Errorf("resent with id %s, first was %s", req.ClientOrderID, first)
			}
			return "ok"
		}
		rep := r.run(t, seedRequest("p-unknown-before"))
		if rep.State != Done || !rep.Filled.Equal(dec("2.216")) {
			t.Fatalf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
		}
		r.checkVenueTruth(t, rep)
		if _, ids := r.b.executed(); ids[first] != 1 {
			t.Fatalf("first child %s accepted %d times", first, ids[first])
		}
	})
}

// A venue whose breaker opens is taken out and its remainder goes to the healthy venue.
func TestFailingVenueRemainderGoesToHealthyOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 4, nil)
		r.a.hook = func(int, venues.OrderRequest) string { return "retryable" }
		rep := r.run(t, seedRequest("p-breaker"))
		if rep.State != Done || !rep.Filled.Equal(dec("2.216")) {
			t.Fatalf("state %s filled %s (%s) %+v", rep.State, rep.Filled, rep.Reason, rep.Venues)
		}
		for _, v := range rep.Venues {
			if v.Venue == "a" && (v.Out == "" || !v.Filled.IsZero()) {
				t.Fatalf("venue a: out %q filled %s", v.Out, v.Filled)
			}
			if v.Venue == "b" && !v.Filled.Equal(dec("2.216")) {
				t.Fatalf("venue b filled %s, want everything", v.Filled)
			}
		}
		if r.brk.Healthy("a") {
			t.Fatal("breaker a should be open")
		}
		r.checkVenueTruth(t, rep)
	})
}

// Rejections in a row take a venue out of the parent too (the breaker does not count them).
func TestRejectingVenueIsTakenOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 5, nil)
		r.b.hook = func(int, venues.OrderRequest) string { return "reject" }
		rep := r.run(t, seedRequest("p-reject"))
		if rep.State != Done || !rep.Filled.Equal(dec("2.216")) {
			t.Fatalf("state %s filled %s (%s) %+v", rep.State, rep.Filled, rep.Reason, rep.Venues)
		}
		for _, v := range rep.Venues {
			if v.Venue == "b" && (v.Out == "" || v.Rejected != 3) {
				t.Fatalf("venue b: out %q rejected %d", v.Out, v.Rejected)
			}
		}
		if !r.brk.Healthy("b") {
			t.Fatal("rejections must not open the breaker")
		}
		r.checkVenueTruth(t, rep)
	})
}

func TestIdempotentSubmitAndConflict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 6, nil)
		req := seedRequest("p-idem")
		if _, created, err := r.e.Submit(context.Background(), req); err != nil || !created {
			t.Fatal(created, err)
		}
		if _, created, err := r.e.Submit(context.Background(), req); err != nil || created {
			t.Fatalf("retry: created %v err %v", created, err)
		}
		other := req
		other.Duration = time.Minute
		if _, _, err := r.e.Submit(context.Background(), other); KindOf(err) != KindConflict {
			t.Fatalf("different body: %v", err)
		}
		r.e.Cancel(req.ID)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		rep, err := r.e.Wait(ctx, req.ID)
		if err != nil || rep.State != Cancelled {
			t.Fatalf("cancel: %v %s", err, rep.State)
		}
		r.checkVenueTruth(t, rep)
	})
}

func TestHaltedStopsChildren(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 7, nil)
		req := seedRequest("p-halt")
		req.Duration = time.Minute
		r.e.state.Set(risk.Halted)
		if _, _, err := r.e.Submit(context.Background(), req); KindOf(err) != KindHalted {
			t.Fatalf("submit while halted: %v", err)
		}
		r.e.state.Set(risk.Active)
		if _, _, err := r.e.Submit(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		r.e.state.Set(risk.Halted)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rep, err := r.e.Wait(ctx, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Filled.GreaterThan(dec("2.216")) {
			t.Fatalf("filled %s", rep.Filled)
		}
		r.checkVenueTruth(t, rep)
	})
}

// A child that keeps working is cancelled; a cancel whose outcome is unknown is resolved by query, and nothing
// else is sent on that venue until it is.
func TestCancelOutcomeUnknownResolvedByQuery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 8, nil)
		r.a.hook = func(n int, _ venues.OrderRequest) string {
			if n == 1 {
				return "resting"
			}
			return "ok"
		}
		r.a.cancelHook = func() string { return "unknown-after" }
		rep := r.run(t, seedRequest("p-cancel-unknown"))
		if rep.State != Done || !rep.Filled.Equal(dec("2.216")) {
			t.Fatalf("state %s filled %s (%s) %+v", rep.State, rep.Filled, rep.Reason, rep.Venues)
		}
		r.a.mu.Lock()
		cancels := r.a.cancels
		r.a.mu.Unlock()
		if cancels != 1 {
			t.Fatalf("cancels sent: %d, want 1", cancels)
		}
		r.checkVenueTruth(t, rep)
	})
}

// A mark that cannot be read (a GET whose outcome is unknown) sends nothing: the venue is not blocked, the
// slice is retried, and the parent completes.
func TestUnknownFailureBeforeSendingDoesNotBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 9, nil)
		req := seedRequest("p-stats-unknown")
		if _, _, err := r.e.Submit(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		r.a.mu.Lock()
		r.a.statsFail = 3 // the next three mark reads on a, made by its first children, fail with an unknown class
		r.a.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rep, err := r.e.Wait(ctx, req.ID)
		if err != nil || rep.State != Done || !rep.Filled.Equal(dec("2.216")) {
			t.Fatalf("state %s filled %s err %v (%s)", rep.State, rep.Filled, err, rep.Reason)
		}
		r.a.mu.Lock()
		left := r.a.statsFail
		r.a.mu.Unlock()
		if left != 0 {
			t.Fatalf("the failures were not met (%d left): the test did not test", left)
		}
		r.checkVenueTruth(t, rep)
	})
}

// An acknowledged order that the venue's reads do not show yet is waited for, never booked as rejected and
// never sent again under a new id.
func TestAcknowledgedOrderNotYetVisibleIsNotResent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 10, nil)
		r.b.lagCount = 2
		r.b.hook = func(n int, _ venues.OrderRequest) string {
			if n <= 2 {
				return "lagging"
			}
			return "ok"
		}
		rep := r.run(t, seedRequest("p-lagging"))
		if rep.State != Done || !rep.Filled.Equal(dec("2.216")) {
			t.Fatalf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
		}
		for _, v := range rep.Venues {
			if v.Rejected != 0 || v.Out != "" {
				t.Fatalf("venue %s: %d rejected, out %q", v.Venue, v.Rejected, v.Out)
			}
		}
		r.checkVenueTruth(t, rep)
	})
}

// An unknown outcome whose order the venue's reads miss once or twice is found by querying again, not resent.
func TestUnknownOutcomeWithLaggingReadsIsNotResent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 11, nil)
		r.a.lagCount = 2
		r.a.hook = func(n int, _ venues.OrderRequest) string {
			if n == 1 {
				return "unknown-after-lagging"
			}
			return "ok"
		}
		rep := r.run(t, seedRequest("p-unknown-lagging"))
		if rep.State != Done || !rep.Filled.Equal(dec("2.216")) {
			t.Fatalf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
		}
		r.checkVenueTruth(t, rep)
	})
}

// Two reduce-only parents on one venue and instrument that together ask for more than the position: the
// gateway reserves the position across them, so the venue never sees a reduce-only order larger than what is
// left to reduce, and by its own records the position never crosses zero.
func TestReduceOnlyParentsShareThePosition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 12, nil)
		r.a.placeDelay = 300 * time.Millisecond // the two parents' children overlap at the venue
		// venue a holds -4.795: each parent asks 3.5 of it, 7 in all.
		var ids []string
		for _, id := range []string{"p-ro-1", "p-ro-2"} {
			req := Request{ID: id, Instrument: "BTC-USDT-PERP", Side: venues.Buy, Quantity: dec("3.5"),
				Duration: time.Minute, ReduceOnly: true, MaxSlippageBps: 50, Venues: []string{"a"}}
			if _, _, err := r.e.Submit(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		filled := decimal.Zero
		for _, id := range ids {
			rep, err := r.e.Wait(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			filled = filled.Add(rep.Filled)
		}
		r.a.mu.Lock()
		over, crossed, pos := r.a.overAsked, r.a.crossed, r.a.pos
		r.a.mu.Unlock()
		if crossed || pos.IsPositive() {
			t.Fatalf("the venue's position crossed zero: now %s", pos)
		}
		if over != 0 {
			t.Fatalf("the venue got %d reduce-only orders larger than the position left", over)
		}
		if filled.GreaterThan(dec("4.795")) {
			t.Fatalf("filled %s, more than the position", filled)
		}
		if got := r.ledger.Position(positions.Key{Venue: "a", Instrument: "BTC-USDT-PERP"}); !got.Equal(pos) {
			t.Fatalf("ledger %s, venue %s", got, pos)
		}
		if !filled.Equal(dec("4.795")) {
			t.Logf("filled %s of 4.795 (the rest was cut by the reservations or the band)", filled)
		}
	})
}

// Caps: a venue's position cap and participation cap bound what the router gives it, when the parent is planned
// and when work moves; what no venue can take is refused with the reason, and nothing is sent.
func TestCaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 2, func(p *Params) {
			p.Caps = map[CapKey]Caps{{Venue: "a", Instrument: "BTC-USDT-PERP"}: {MaxPosition: dec("5")}}
		})
		// Selling 1 BTC: a holds -4.795 and may go to -5, so it takes 0.205; b takes the rest.
		req := Request{ID: "p-cap", Instrument: "BTC-USDT-PERP", Side: venues.Sell, Quantity: dec("1"),
			Duration: 2 * time.Minute, MaxSlippageBps: 50}
		rep := r.run(t, req)
		if rep.State != Done || !rep.Filled.Equal(dec("1")) {
			t.Fatalf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
		}
		for _, v := range rep.Venues {
			if v.Venue == "a" && v.Allocated.GreaterThan(dec("0.205")) {
				t.Fatalf("venue a allocated %s past its cap room 0.205", v.Allocated)
			}
		}
		if pos := r.a.position(); pos.LessThan(dec("-5")) {
			t.Fatalf("venue a holds %s, past its cap of 5", pos)
		}
		r.checkVenueTruth(t, rep)
		// A sell that neither venue can take in full (b capped by participation: 1e-6 of its day) is refused.
		r.e.SetParams(func() Params {
			p := r.e.Params()
			p.Caps[CapKey{Venue: "b", Instrument: "BTC-USDT-PERP"}] = Caps{MaxParticipation: dec("0.000001")}
			return p
		}())
		_, _, err := r.e.Submit(context.Background(), Request{ID: "p-cap-2", Instrument: "BTC-USDT-PERP", Side: venues.Sell,
			Quantity: dec("1"), Duration: 2 * time.Minute, MaxSlippageBps: 50})
		if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), "room") {
			t.Fatalf("over the caps: %v", err)
		}
		if _, err := r.e.Get("p-cap-2"); KindOf(err) != KindNotFound {
			t.Fatal("a refused parent exists")
		}
	})
}

// A venue's own call timeout bounds its calls: b's first place hangs and is given up after b's 300 ms, not the
// engine's 10 s; its outcome is resolved and the parent completes.
func TestVenueCallTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRigOpts(t, 6, nil, func(o *Options) {
			o.CallTimeout, o.VenueCallTimeouts = 10*time.Second, map[string]time.Duration{"b": 300 * time.Millisecond}
		})
		r.b.hook = func(n int, _ venues.OrderRequest) string {
			if n == 1 {
				return "hang"
			}
			return "ok"
		}
		rep := r.run(t, seedRequest("p-timeout"))
		if rep.State != Done || !rep.Filled.Equal(dec("2.216")) {
			t.Fatalf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
		}
		r.b.mu.Lock()
		hung := append([]time.Duration(nil), r.b.hung...)
		r.b.mu.Unlock()
		if len(hung) != 1 || hung[0] != 300*time.Millisecond {
			t.Fatalf("b's hanging place was given up after %v, want 300ms", hung)
		}
		r.checkVenueTruth(t, rep)
	})
}

// TestMarkoutsSurviveRestart: a parent's markouts are journaled as they arrive (also after it has ended) and a
// restarted engine reports them.
func TestMarkoutsSurviveRestart(t *testing.T) {
	var opts Options
	r := newRigOpts(t, 1, nil, func(o *Options) { opts = *o })
	rep := r.run(t, seedRequest("mo-1"))
	if rep.State != Done {
		t.Fatalf("state %s", rep.State)
	}
	r.e.mu.Lock()
	p := r.e.parents["mo-1"]
	r.e.mu.Unlock()
	base := p.Report().Markouts // what the gateways measured so far (the fake venues' marks)
	for _, s := range []gateway.MarkoutSample{
		{Horizon: time.Second, Bps: -2, Qty: dec("1")},
		{Horizon: time.Minute, Bps: 1, Qty: dec("0.5")},
	} {
		p.Deliver(gateway.Update{Kind: gateway.Markout, Markout: s})
	}
	want := p.Report().Markouts
	if len(want) == 0 || len(want) < len(base) {
		t.Fatalf("markouts before the restart: %+v", want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	e2, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.e = e2 // stopped by the rig's cleanup
	if err := e2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := e2.Get("mo-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Markouts) != len(want) {
		t.Fatalf("after the restart %+v, before %+v", got.Markouts, want)
	}
	for i := range want {
		if got.Markouts[i].Horizon != want[i].Horizon || !got.Markouts[i].Qty.Equal(want[i].Qty) ||
			math.Abs(got.Markouts[i].Bps-want[i].Bps) > 1e-9 {
			t.Fatalf("after the restart %+v, before %+v", got.Markouts, want)
		}
	}
}
