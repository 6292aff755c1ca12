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
)

// waitOrders waits until venue's mock holds more than n order records.
func waitOrders(t *testing.T, a *app.App, venue string, n int, limit time.Duration) {
	t.Helper()
	ev, err := a.Events().Subscribe(events.SubscribeOptions{Filter: events.Filter{Kinds: []string{api.KindChild}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for len(a.Mocks().Venue(venue).Control.Orders()) <= n {
		select {
		case <-ev.C():
		case <-deadline.C:
			t.Fatalf("%s holds %d orders after %s, want more than %d", venue, len(a.Mocks().Venue(venue).Control.Orders()), limit, n)
		}
	}
}

// Ops take a venue out in the middle of a rebalance and bring it back, then set the other's weight to zero:
// by the venues' own records nothing reaches a disabled venue once PUT /v1/venues has answered, it gets work
// again once enabled, the zero weight moves the other's unsent remainder, and every move is in the report with
// its reason. The rebalance ends filled, with no fill lost or doubled.
func TestOpsMoveWorkMidRebalance(t *testing.T) {
	a := startDaemon(t, 40, nil)
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-ops"), nil); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	waitOrders(t, a, "b", 0, 30*time.Second)

	off, on := false, true
	if code := call(t, a, opsToken, "PUT", "/v1/venues/b", api.VenueUpdate{Enabled: &off}, nil); code != http.StatusOK {
		t.Fatalf("disable: %d", code)
	}
	atDisable := len(a.Mocks().Venue("b").Control.Orders())
	waitOrders(t, a, "a", len(a.Mocks().Venue("a").Control.Orders())+2, 30*time.Second) // a works on meanwhile
	if n := len(a.Mocks().Venue("b").Control.Orders()); n != atDisable {
		t.Fatalf("b received %d orders after ops disabled it", n-atDisable)
	}
	if code := call(t, a, opsToken, "PUT", "/v1/venues/b", api.VenueUpdate{Enabled: &on}, nil); code != http.StatusOK {
		t.Fatalf("enable: %d", code)
	}
	waitOrders(t, a, "b", atDisable, 30*time.Second) // later slices use b again

	zero := "0"
	if code := call(t, a, opsToken, "PUT", "/v1/venues/a", api.VenueUpdate{Weight: &zero}, nil); code != http.StatusOK {
		t.Fatalf("weight: %d", code)
	}
	// The parent takes the change from its inbox: its "reallocation" event says so, with the venues' remainders.
	moves, err := a.Events().Subscribe(events.SubscribeOptions{FromStart: true, Filter: events.Filter{Kinds: []string{api.KindRealloc}}})
	if err != nil {
		t.Fatal(err)
	}
	defer moves.Close()
	var reasons []string
	for !strings.Contains(strings.Join(reasons, " | "), "a weight 1 → 0") {
		select {
		case ev := <-moves.C():
			r := ev.Data.(engine.ReallocEvent)
			reasons = append(reasons, r.Reason)
			if strings.Contains(r.Reason, "a weight 1 → 0") {
				for _, v := range r.Venues {
					if v.Venue == "a" && v.After.IsPositive() {
						t.Errorf("a keeps %s unsent at weight 0", v.After)
					}
				}
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no re-allocation for the weight change; got %q", reasons)
		}
	}
	joined := strings.Join(reasons, " | ")
	for _, want := range []string{"b disabled by ops", "b available again (was: disabled by ops)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("reallocations %q: none says %q", joined, want)
		}
	}
	rep := waitDone(t, a, "rb-ops", 60*time.Second)
	if rep.ReallocationCount < 3 || len(rep.Reallocations) != rep.ReallocationCount {
		t.Errorf("report holds %d re-allocations of %d", len(rep.Reallocations), rep.ReallocationCount)
	}
	if rep.State != engine.Done || !rep.Filled.Equal(d("2.216")) {
		t.Fatalf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
	}
	checkAgainstVenues(t, a, rep)
}
