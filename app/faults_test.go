package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/events"
)

// checkAgainstVenues judges a finished seed order by the venues' own records: what they executed equals what
// the report says was filled (no fill lost, none doubled), no client order id was accepted twice, no order is
// left open, and the venues' positions equal the daemon's ledger.
func checkAgainstVenues(t *testing.T, a *app.App, rep engine.Report) {
	t.Helper()
	executed := decimal.Zero
	for _, mv := range a.Mocks().Venues {
		name := mv.Name
		ids := map[string]int{}
		for _, o := range mv.Control.Orders() {
			ids[o.ClientOrderID]++
			executed = executed.Add(o.Executed)
			if o.Open {
				t.Errorf("%s: order %s left open", name, o.ClientOrderID)
			}
		}
		for id, n := range ids {
			if n > 1 {
				t.Errorf("%s: client order id %s accepted %d times", name, id, n)
			}
		}
	}
	if !executed.Equal(rep.Filled) {
		t.Errorf("venues executed %s, report filled %s", executed, rep.Filled)
	}
	var pos api.PositionsView
	call(t, a, viewerToken, "GET", "/v1/positions", nil, &pos)
	for _, p := range pos.Venues {
		if got := a.Mocks().Venue(p.Venue).Control.Position(p.Instrument); !got.Equal(p.Position) {
			t.Errorf("%s: ledger %s, venue %s", p.Venue, p.Position, got)
		}
	}
}

func startWithTimeout(t *testing.T, timeout time.Duration) *app.App {
	t.Helper()
	return startDaemonOpts(t, 40, nil, app.Options{VenueTimeout: timeout})
}

// TestInjectedFaults runs the seed order through each fault the mock venue can inject, on venue b (the larger
// share), and judges the result by the venues' records.
func TestInjectedFaults(t *testing.T) {
	faults := []struct {
		name   string
		inject func(a *app.App)
	}{
		{"accept then drop the response", func(a *app.App) { a.Mocks().Venue("b").Control.Faults().DropResponseAfterAccept(3) }},
		{"delay the response past the client timeout", func(a *app.App) {
			a.Mocks().Venue("b").Control.Faults().DelayResponse(1500*time.Millisecond, 2)
		}},
		{"5xx after accepting", func(a *app.App) { a.Mocks().Venue("b").Control.Faults().Fail5xxAfterAccept(3) }},
		{"5xx before accepting", func(a *app.App) { a.Mocks().Venue("b").Control.Faults().Fail5xxBeforeAccept(2) }},
		{"rate limited", func(a *app.App) { a.Mocks().Venue("b").Control.Faults().RateLimitNext(2) }},
		{"user-data stream dropped", func(a *app.App) {
			for _, n := range []string{"a", "b"} {
				a.Mocks().Venue(n).Control.Faults().DropUserStreams()
			}
		}},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			a := startWithTimeout(t, 700*time.Millisecond)
			f.inject(a)
			o := seedOrder("rb-fault")
			var body map[string]any
			if code := call(t, a, rebalancerToken, "POST", "/v1/orders", o, &body); code != http.StatusCreated {
				t.Fatalf("create: %d %v", code, body)
			}
			rep := waitDone(t, a, "rb-fault", 60*time.Second)
			if rep.State != engine.Done || !rep.Filled.Equal(d("2.216")) {
				t.Fatalf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
			}
			checkAgainstVenues(t, a, rep)
		})
	}
}

// A venue that bans the daemon's address (418) mid-rebalance: the daemon sends it nothing more until the ban
// ends (one request meets the ban, by the venue's own count), its breaker opens, and its remainder is filled on
// the other venue.
func TestBannedVenueGetsNothingAndWorkMoves(t *testing.T) {
	a := startDaemon(t, 40, nil)
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-ban"), nil); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	fills, err := a.Events().Subscribe(events.SubscribeOptions{FromStart: true, Filter: events.Filter{Kinds: []string{api.KindFill}}})
	if err != nil {
		t.Fatal(err)
	}
	defer fills.Close()
	select {
	case <-fills.C():
	case <-time.After(30 * time.Second):
		t.Fatal("no fill")
	}
	b := a.Mocks().Venue("b").Control.Faults()
	b.Ban(10 * time.Minute)
	rep := waitDone(t, a, "rb-ban", 60*time.Second)
	if rep.State != engine.Done || !rep.Filled.Equal(d("2.216")) {
		t.Fatalf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
	}
	if n := b.Bans(); n != 1 {
		t.Fatalf("venue b answered %d requests with its ban; the daemon should have stopped after the first", n)
	}
	moved := false
	for _, r := range rep.Reallocations {
		moved = moved || strings.HasPrefix(r.Reason, "b circuit breaker open")
	}
	if !moved {
		t.Fatalf("venue b's work was not moved: %+v", rep.Reallocations)
	}
	checkAgainstVenues(t, a, rep)
}
