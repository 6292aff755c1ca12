package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/lifecycle"
	"github.com/execd-dev/execd/risk"
	"github.com/execd-dev/execd/venues"
)

func (r *rig) reconcile() gateway.Observation {
	r.t.Helper()
	obs, err := r.g.Reconcile(context.Background())
	if err != nil {
		r.t.Fatalf("reconcile: %v", err)
	}
	return obs
}

func (r *rig) adjustments() int {
	r.t.Helper()
	as, err := r.j.Adjustments()
	if err != nil {
		r.t.Fatal(err)
	}
	return len(as)
}

// An external trade on the account (delivered on the stream or not) is not booked as a fill of execd's; the
// next quiet pass books the position difference once, explained by that trade, and the pass after finds nothing.
func TestReconcileExternalTrade(t *testing.T) {
	for _, streamed := range []bool{true, false} {
		t.Run(map[bool]string{true: "streamed", false: "not streamed"}[streamed], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := newFake()
				r := newRig(t, v, rigConfig{stream: true, pos: "2"})
				s := &sink{}
				r.place("p1", "c1", "1", s)
				settle(time.Second)
				if obs := r.reconcile(); !obs.Quiet || !obs.Drift().IsZero() || !obs.Adjusted.IsZero() {
					t.Fatalf("before: %+v", obs)
				}
				ext := v.externalTrade("web_1", venues.Sell, "0.5", streamed)
				settle(10 * time.Millisecond)
				wantQty(t, "ledger after the external trade, before a pass", r.position(), "3")
				obs := r.reconcile()
				if !obs.Quiet || len(obs.ExternalFills) != 1 || obs.ExternalFills[0].TradeID != ext.TradeID {
					t.Fatalf("pass: %+v", obs)
				}
				wantQty(t, "observed", obs.Observed, "2.5")
				wantQty(t, "ledger compared", obs.Ledger, "3")
				wantQty(t, "adjusted", obs.Adjusted, "-0.5")
				if !obs.Explained || len(obs.LostFills) != 0 {
					t.Fatalf("explained %v, lost %v", obs.Explained, obs.LostFills)
				}
				wantQty(t, "ledger after", r.position(), "2.5")
				if n := r.adjustments(); n != 1 {
					t.Fatalf("adjustments journaled: %d", n)
				}
				if obs := r.reconcile(); !obs.Quiet || !obs.Adjusted.IsZero() || len(obs.ExternalFills) != 0 {
					t.Fatalf("second pass: %+v", obs)
				}
				wantQty(t, "ledger after the second pass", r.position(), "2.5")
				if n := r.adjustments(); n != 1 {
					t.Fatalf("adjustments journaled after the second pass: %d", n)
				}
				if len(s.of("", gateway.Filled)) != 1 {
					t.Fatalf("the parent heard of fills that are not its own: %s", s.dump(""))
				}
			})
		})
	}
}

// A liquidation that the venue shows only in the position is an unexplained adjustment.
func TestReconcileLiquidation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newFake()
		r := newRig(t, v, rigConfig{stream: true, pos: "-3"})
		v.cut("1.2")
		obs := r.reconcile()
		wantQty(t, "adjusted", obs.Adjusted, "1.2")
		if obs.Explained {
			t.Fatal("a cut with no trade on record was explained")
		}
		wantQty(t, "ledger", r.position(), "-1.8")
	})
}

// A fill of execd's order whose stream event was lost is booked from the venue's record, once: by the pass that
// finds it, not again by the missing-fill reads or a later pass; the pass that booked it compares nothing.
func TestReconcileLostFill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newFake()
		r := newRig(t, v, rigConfig{stream: true, capable: true, retry: func(rt *gateway.Retry) { rt.FillWait = time.Hour }})
		v.streamFilter = func(f venues.Fill) bool { return f.ClientOrderID != "c1" }
		s := &sink{}
		r.place("p1", "c1", "1", s)
		settle(time.Second)
		wantQty(t, "ledger before the pass", r.position(), "0")
		obs := r.reconcile()
		if len(obs.LostFills) != 1 || obs.Quiet || !obs.Adjusted.IsZero() {
			t.Fatalf("pass: %+v", obs)
		}
		settle(time.Second)
		wantQty(t, "ledger", r.position(), "1")
		if len(s.of("c1", gateway.Filled)) != 1 {
			t.Fatalf("fills delivered: %s", s.dump("c1"))
		}
		obs = r.reconcile()
		if !obs.Quiet || !obs.Adjusted.IsZero() || len(obs.LostFills) != 0 {
			t.Fatalf("second pass: %+v", obs)
		}
		for id, n := range r.cj.addFills() {
			if n != 1 {
				t.Fatalf("fill %s journaled %d times", id, n)
			}
		}
		if r.adjustments() != 0 {
			t.Fatal("a lost fill was booked as an external change")
		}
	})
}

// While an order of execd's is in flight the pass compares nothing, whatever the venue shows.
func TestReconcileBusyComparesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newFake()
		r := newRig(t, v, rigConfig{stream: true})
		v.placeDelay = 5 * time.Second
		s := &sink{}
		r.place("p1", "c1", "1", s)
		settle(time.Second) // the place is in flight
		v.cut("-0.3")
		obs := r.reconcile()
		if obs.Quiet || obs.Busy == "" || !obs.Adjusted.IsZero() {
			t.Fatalf("busy pass: %+v", obs)
		}
		settle(10 * time.Second)
		obs = r.reconcile()
		wantQty(t, "adjusted once quiet", obs.Adjusted, "-0.3")
		wantQty(t, "ledger", r.position(), "0.7")
	})
}

// A failed read fails the pass and changes nothing; the next pass reads the fills the failed one missed.
func TestReconcileReadFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newFake()
		r := newRig(t, v, rigConfig{stream: true, pos: "1"})
		v.externalTrade("web_1", venues.Buy, "0.25", false)
		v.script("fills", "unknown")
		if _, err := r.g.Reconcile(context.Background()); err == nil {
			t.Fatal("a pass whose fills read failed succeeded")
		}
		wantQty(t, "ledger after the failed pass", r.position(), "1")
		obs := r.reconcile()
		if len(obs.ExternalFills) != 1 || !obs.Explained {
			t.Fatalf("after the failure: %+v", obs)
		}
		wantQty(t, "ledger", r.position(), "1.25")
	})
}

// Concurrent callers share passes; passes never overlap; every caller is answered.
func TestReconcileSerialized(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newFake()
		r := newRig(t, v, rigConfig{stream: true})
		var mu sync.Mutex
		inside, most := 0, 0
		v.onPositions = func(enter bool) {
			mu.Lock()
			defer mu.Unlock()
			if enter {
				inside++
				most = max(most, inside)
			} else {
				inside--
			}
		}
		v.positionsDelay = 100 * time.Millisecond
		var wg sync.WaitGroup
		errs := make(chan error, 5)
		for i := 0; i < 5; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := r.g.Reconcile(context.Background())
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if most != 1 {
			t.Fatalf("%d passes read positions at once", most)
		}
	})
}

// An order kept open across a restart (its parent resolves it) can trade while Prepare reads the venue: the
// position Prepare seeds and the fills it marks seen must agree, so that the trade is booked once — not in the
// position read and again when a pass (or the stream) brings its fill.
func TestPrepareOrderTradesDuringReads(t *testing.T) {
	for _, trades := range []int{1, 3} { // a trade during the first read; during three reads in a row
		t.Run(fmt.Sprintf("trades=%d", trades), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := newFake()
				v.setPosition("-2")
				v.seed(venues.Order{ClientOrderID: "c7", Side: venues.Buy, Type: venues.Limit, TimeInForce: venues.PostOnly,
					Quantity: dec("0.5"), Price: dec("10000"), Status: venues.StatusPartiallyFilled, FilledQty: dec("0.1")})
				left := trades
				v.onPositions = func(enter bool) {
					if !enter || left == 0 {
						return
					}
					left--
					v.mu.Lock()
					o := v.orders["c7"]
					v.execute(o, dec("0.1"))
					o.FilledQty = o.FilledQty.Add(dec("0.1"))
					v.mu.Unlock()
				}
				r := newRig(t, v, rigConfig{stream: true, since: time.Now().Add(-time.Hour), keep: func(id string) bool { return id == "c7" }})
				want := v.position().String()
				wantQty(t, "venue position", v.position(), fmt.Sprintf("%.1f", -1.9+0.1*float64(trades)))
				wantQty(t, "ledger after Prepare", r.position(), want)
				if n := len(v.callsOf("positions")); n != trades+1 {
					t.Errorf("Prepare read the position %d times, want %d", n, trades+1)
				}
				obs := r.reconcile()
				if len(obs.LostFills) != 0 {
					t.Errorf("the pass found fills Prepare had not marked: %+v", obs.LostFills)
				}
				var quiet gateway.Observation
				for i := 0; i < 20 && !quiet.Quiet; i++ { // passes until one compares: what the first booked has landed
					if err := r.j.Flush(); err != nil {
						t.Fatal(err)
					}
					quiet = r.reconcile()
				}
				if !quiet.Quiet || !quiet.Adjusted.IsZero() {
					t.Errorf("the pass that compared booked an external change of %s (the trade was booked twice): %+v", quiet.Adjusted, quiet)
				}
				wantQty(t, "ledger after the passes", r.position(), want)
			})
		})
	}
}

// Prepare gives up (the pair stays unprepared, with the reason) when every read of the position races a trade.
func TestPrepareGivesUpOnATradingPosition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newFake()
		v.seed(venues.Order{ClientOrderID: "c7", Side: venues.Buy, Type: venues.Limit, TimeInForce: venues.PostOnly,
			Quantity: dec("5"), Price: dec("10000"), Status: venues.StatusNew})
		v.onPositions = func(enter bool) {
			if enter {
				v.mu.Lock()
				o := v.orders["c7"]
				v.execute(o, dec("0.01"))
				o.FilledQty = o.FilledQty.Add(dec("0.01"))
				v.mu.Unlock()
			}
		}
		r := newRig(t, v, rigConfig{stream: true, prepareMayFail: true, since: time.Now().Add(-time.Hour),
			keep: func(id string) bool { return id == "c7" }})
		if err := r.g.Unprepared(); err == nil || !strings.Contains(err.Error(), "traded during each of 5 reads") {
			t.Fatalf("unprepared: %v", err)
		}
	})
}

// A stopped gateway answers at once.
func TestReconcileStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newFake()
		r := newRig(t, v, rigConfig{})
		r.stop()
		<-r.g.Done()
		if _, err := r.g.Reconcile(context.Background()); !errors.Is(err, gateway.ErrStopped) {
			t.Fatalf("after stop: %v", err)
		}
	})
}

// A start-up read that is throttled is tried again by the table; one that keeps failing leaves the pair
// unprepared (not traded) until a reconcile pass reads it, which seeds the ledger with the venue's position.
func TestPrepareRetriesAndPassSeeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newFake()
		v.script("positions", "retryable", "retryable")
		r := newRig(t, v, rigConfig{pos: "-2"})
		if n := len(v.callsOf("positions")); n != 3 {
			t.Fatalf("positions read %d times, want 3 (two throttled)", n)
		}
		if err := r.g.Unprepared(); err != nil {
			t.Fatalf("prepared after retries: %v", err)
		}
		wantQty(t, "ledger", r.position(), "-2")

		v2 := newFake()
		v2.setDefault("positions", "retryable")
		v2.setPosition("3")
		r2 := newRig(t, v2, rigConfig{prepareMayFail: true, breakers: risk.BreakerSettings{ConsecutiveFailures: 100, OpenTimeout: time.Second, HalfOpenProbes: 1}})
		if r2.g.Unprepared() == nil {
			t.Fatal("prepared although every positions read failed")
		}
		if _, err := r2.g.Reconcile(context.Background()); err == nil {
			t.Fatal("a pass succeeded while positions fail")
		}
		v2.setDefault("positions", "ok")
		obs := r2.reconcile()
		if !obs.Seeded || !obs.Adjusted.IsZero() || r2.g.Unprepared() != nil {
			t.Fatalf("seeding pass: %+v (unprepared %v)", obs, r2.g.Unprepared())
		}
		wantQty(t, "seeded ledger", r2.position(), "3")
		if r2.adjustments() != 0 {
			t.Fatal("seeding booked an external change")
		}
	})
}

// A place call that gives up (unknown) after the stream has said the order is filled leaves it filled: a final
// state is never left, and the parent never hears "unknown" for it.
func TestUnknownAfterFinalKeepsFinal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newFake()
		r := newRig(t, v, rigConfig{stream: true, retry: func(rt *gateway.Retry) { rt.CallTimeout = 200 * time.Millisecond }})
		v.streamOrders = true
		v.script("place", "unknown-after") // executes (the stream says filled), the answer is lost
		s := &sink{}
		r.place("p1", "c1", "1", s)
		settle(5 * time.Second)
		if len(s.of("c1", gateway.Filled)) != 1 {
			t.Fatalf("fill not delivered: %s", s.dump("c1"))
		}
		for _, u := range s.updates("c1") {
			if u.Kind == gateway.Unknown {
				t.Fatalf("the parent heard unknown after filled: %s", s.dump("c1"))
			}
		}
		c := r.wantChildState("p1", "c1", lifecycle.Filled)
		wantQty(t, "journaled filled", c.Filled, "1")
	})
}
