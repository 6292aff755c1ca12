package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/events"
	"github.com/execd-dev/execd/lifecycle"
)

// setTrading puts the trading state through the API.
func setTrading(t *testing.T, a *app.App, state string) {
	t.Helper()
	if code := call(t, a, opsToken, "PUT", "/v1/trading-state", map[string]string{"state": state}, nil); code != http.StatusOK {
		t.Fatalf("trading state %s: %d", state, code)
	}
}

// quietFor fails if a new child is decided within d of wall time (an absence can only be observed over an
// interval: at ×40 one second is two mean slice intervals); children already sent may still be answered.
func quietFor(t *testing.T, a *app.App, d time.Duration, why string) {
	t.Helper()
	sub, err := a.Events().Subscribe(events.SubscribeOptions{Filter: events.Filter{Kinds: []string{api.KindChild}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev := <-sub.C():
			if c := ev.Data.(engine.ChildEvent); c.State == lifecycle.Intent {
				t.Fatalf("%s: a new child was decided: %+v", why, c)
			}
		case <-timer.C:
			return
		}
	}
}

// Halted mid-rebalance: new orders are refused (409), the running parent sends nothing, by the venues' records,
// until trading resumes; then what fell behind is re-spread and the parent ends filled. Reducing pauses a parent
// that is not reduce-only, so no venue's position grows, and lets a reduce-only one go on.
func TestHaltAndReducingMidRebalance(t *testing.T) {
	a := startDaemon(t, 40, nil)
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-halt"), nil); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	waitOrders(t, a, "a", 0, 30*time.Second)
	setTrading(t, a, "halted")
	// A child already decided may still be answered; nothing new is sent once the parent took the halt.
	waitReallocation(t, a, "rb-halt", "trading halted: paused")
	before := len(a.Mocks().Venue("a").Control.Orders()) + len(a.Mocks().Venue("b").Control.Orders())
	quietFor(t, a, time.Second, "halted")
	if n := len(a.Mocks().Venue("a").Control.Orders()) + len(a.Mocks().Venue("b").Control.Orders()); n != before {
		t.Fatalf("%d orders reached the venues while halted", n-before)
	}
	var body map[string]any
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-halt-2"), &body); code != http.StatusConflict {
		t.Fatalf("a new order while halted: %d %v", code, body)
	}
	setTrading(t, a, "active")
	rep := waitDone(t, a, "rb-halt", 60*time.Second)
	if rep.State != engine.Done || !rep.Filled.Equal(d("2.216")) {
		t.Fatalf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
	}
	checkAgainstVenues(t, a, rep)

	// Reducing: a sell that would grow the short is paused; the seed's reduce-only buy goes on.
	grow := seedOrder("rb-grow")
	grow.Side, grow.ReduceOnly, grow.Quantity = "sell", false, "0.5"
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", grow, nil); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	setTrading(t, a, "reducing")
	waitReallocation(t, a, "rb-grow", "trading reducing: paused")
	posBefore := map[string]string{}
	for _, v := range []string{"a", "b"} {
		posBefore[v] = a.Mocks().Venue(v).Control.Position("BTC-USDT-PERP").String()
	}
	shrink := seedOrder("rb-shrink")
	shrink.Quantity = "0.3"
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", shrink, nil); code != http.StatusCreated {
		t.Fatalf("a reduce-only order while reducing: %d", code)
	}
	if rep := waitDone(t, a, "rb-shrink", 60*time.Second); rep.State != engine.Done || !rep.Filled.Equal(d("0.3")) {
		t.Fatalf("reduce-only while reducing: state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
	}
	for _, v := range []string{"a", "b"} {
		before, _ := posBefore[v]
		now := a.Mocks().Venue(v).Control.Position("BTC-USDT-PERP")
		if now.Abs().GreaterThan(d(before).Abs()) {
			t.Errorf("%s: |position| grew while reducing: %s → %s", v, before, now)
		}
	}
	for _, o := range append(a.Mocks().Venue("a").Control.Orders(), a.Mocks().Venue("b").Control.Orders()...) {
		if strings.Contains(o.ClientOrderID, "grow") {
			t.Fatalf("order %s of the paused parent reached a venue", o.ClientOrderID)
		}
	}
	setTrading(t, a, "active")
	if rep := waitDone(t, a, "rb-grow", 60*time.Second); rep.State != engine.Done || !rep.Filled.Equal(d("0.5")) {
		t.Fatalf("after resuming: state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
	}
}

// waitReallocation waits for the parent's re-allocation whose reason contains want.
func waitReallocation(t *testing.T, a *app.App, parent, want string) {
	t.Helper()
	sub, err := a.Events().Subscribe(events.SubscribeOptions{FromStart: true, Filter: events.Filter{Kinds: []string{api.KindRealloc}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	for {
		select {
		case ev := <-sub.C():
			if r := ev.Data.(engine.ReallocEvent); r.Parent == parent && strings.Contains(r.Reason, want) {
				return
			}
		case <-timer.C:
			t.Fatalf("%s: no re-allocation %q", parent, want)
		}
	}
}
