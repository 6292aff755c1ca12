package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/configs"
	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/events"
	"github.com/execd-dev/execd/mocks/mockutil"
)

// matrixFault is one fault the mock venues inject, as a cell of the fault matrix runs it on one venue, in the
// middle of the rebalance (after that venue's first child).
type matrixFault struct {
	name   string
	inject func(f *mockutil.Faults)
	// trips: the fault keeps the venue failing long enough that its breaker must open and its work move.
	trips bool
	// out: the fault is a business rejection the breaker does not count; the venue leaves the parent after
	// rejections in a row and its work moves.
	out bool
	// heal, if set, ends the fault once the venue's breaker has opened: while a venue answers nothing, an order
	// whose outcome is unknown there stays unknown (it is never guessed), and the parent cannot end.
	heal func(f *mockutil.Faults)
}

var matrixFaults = []matrixFault{
	{name: "5xx", inject: func(f *mockutil.Faults) { f.Fail5xxBeforeAccept(2); f.Fail5xxAfterAccept(2) }},
	{name: "429 Retry-After", inject: func(f *mockutil.Faults) { f.RateLimitNext(3) }},
	{name: "ban", inject: func(f *mockutil.Faults) { f.Ban(time.Hour) }, trips: true},
	{name: "latency", inject: func(f *mockutil.Faults) { f.Latency(1200 * time.Millisecond) }, trips: true,
		heal: func(f *mockutil.Faults) { f.Latency(0) }},
	{name: "accept then drop", inject: func(f *mockutil.Faults) { f.DropResponseAfterAccept(2) }},
	{name: "stream drop", inject: func(f *mockutil.Faults) { f.DropUserStreams() }},
	{name: "clock skew", inject: func(f *mockutil.Faults) { f.ClockSkew(-45 * time.Second) }},
	{name: "maintenance", inject: func(f *mockutil.Faults) { f.Maintenance(time.Hour) }, trips: true,
		heal: func(f *mockutil.Faults) { f.Maintenance(0) }},
	{name: "insufficient margin", inject: func(f *mockutil.Faults) { f.InsufficientMargin(1000) }, out: true},
}

// openGuard records requests that reached a venue while its breaker was open, judged at the last transport
// step before the wire (under the daemon's breaker gate).
type openGuard struct {
	app   atomic.Pointer[app.App]
	hosts sync.Map // host → venue
	mu    sync.Mutex
	seen  []string
}

func (g *openGuard) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if a := g.app.Load(); a != nil {
			if v, ok := g.hosts.Load(req.URL.Host); ok && a.Breakers().State(v.(string)) == "open" {
				g.mu.Lock()
				g.seen = append(g.seen, v.(string)+" "+req.Method+" "+req.URL.Path)
				g.mu.Unlock()
			}
		}
		return rt.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestFaultMatrix runs the seed rebalance on the three-protocol config (Binance USDⓈ-M, Bybit v5, OKX v5 mocks)
// once per (venue, fault) and judges each run by the venues' own records: the rebalance completes with no fill
// lost or doubled, no client order id used twice, nothing left open, positions as the ledger says; no request
// reaches a venue while its breaker is open; a fault that keeps a venue failing opens its breaker (a "breaker"
// event) and moves its remainder (a re-allocation in the report, with its reason). It prints the table of cells.
func TestFaultMatrix(t *testing.T) {
	type row struct{ venue, fault, outcome string }
	var mu sync.Mutex
	var rows []row
	t.Cleanup(func() {
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].venue != rows[j].venue {
				return rows[i].venue < rows[j].venue
			}
			return rows[i].fault < rows[j].fault
		})
		var b strings.Builder
		fmt.Fprintf(&b, "\n%-8s | %-20s | %s\n", "venue", "fault", "outcome")
		for _, r := range rows {
			fmt.Fprintf(&b, "%-8s | %-20s | %s\n", r.venue, r.fault, r.outcome)
		}
		t.Log(b.String())
	})
	for _, venue := range []string{"binance", "bybit", "okx"} {
		for _, f := range matrixFaults {
			t.Run(venue+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				outcome := runMatrixCell(t, venue, f)
				mu.Lock()
				rows = append(rows, row{venue, f.name, outcome})
				mu.Unlock()
			})
		}
	}
}

func runMatrixCell(t *testing.T, venue string, f matrixFault) string {
	guard := &openGuard{}
	a := startDaemonConfig(t, configs.Default, 40, func(c *config.Config) { c.Risk.BreakerOpenTimeout = 2 * time.Second },
		app.Options{VenueTimeout: 800 * time.Millisecond, WrapTransport: guard.wrap})
	for _, mv := range a.Mocks().Venues {
		if u, err := url.Parse(mv.RESTURL); err == nil {
			guard.hosts.Store(u.Host, mv.Name)
		}
	}
	guard.app.Store(a)
	evs, err := a.Events().Subscribe(events.SubscribeOptions{FromStart: true, Filter: events.Filter{
		Kinds: []string{api.KindBreaker, api.KindRealloc}}})
	if err != nil {
		t.Fatal(err)
	}
	defer evs.Close()

	id := "rb-matrix"
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder(id), nil); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	waitOrders(t, a, venue, 0, 30*time.Second)
	faults := a.Mocks().Venue(venue).Control.Faults()
	f.inject(faults)

	var opened, moved bool
	var trail []string
	take := func(ev events.Event) {
		switch d := ev.Data.(type) {
		case api.BreakerEvent:
			trail = append(trail, d.Venue+" "+d.From+"→"+d.To)
			opened = opened || (d.Venue == venue && d.To == "open")
		case engine.ReallocEvent:
			moved = moved || strings.Contains(d.Reason, venue+" ")
		}
	}
	if f.heal != nil {
		limit := time.NewTimer(30 * time.Second)
		for !opened {
			select {
			case ev := <-evs.C():
				take(ev)
			case <-limit.C:
				t.Fatalf("%s's breaker did not open under %s", venue, f.name)
			}
		}
		limit.Stop()
		f.heal(faults)
	}
	rep := waitDone(t, a, id, 90*time.Second)
	for drained := false; !drained; {
		select {
		case ev := <-evs.C():
			take(ev)
		default:
			drained = true
		}
	}
	if rep.State != engine.Done || !rep.Filled.Equal(d("2.216")) {
		t.Errorf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
	}
	checkAgainstVenues(t, a, rep)
	guard.mu.Lock()
	if len(guard.seen) > 0 {
		t.Errorf("requests sent while the breaker was open: %v", guard.seen)
	}
	guard.mu.Unlock()
	if f.trips && !opened {
		t.Errorf("%s's breaker never opened (transitions %v)", venue, trail)
	}
	if (f.trips || f.out) && !moved {
		t.Errorf("%s's remainder never moved: reallocations %d", venue, rep.ReallocationCount)
	}
	var inReport []string
	for _, r := range rep.Reallocations {
		inReport = append(inReport, r.Reason)
	}
	if (f.trips || f.out) && !strings.Contains(strings.Join(inReport, "|"), venue+" ") {
		t.Errorf("the report's re-allocations %q do not name %s", inReport, venue)
	}
	var share string
	for _, v := range rep.Venues {
		if v.Venue == venue {
			share = fmt.Sprintf("%s filled %s of %s allocated, %d children", venue, v.Filled, v.Allocated, v.ChildOrders)
		}
	}
	return fmt.Sprintf("%s %s; %s; breaker %v; moves %d; %s", rep.State, rep.Filled, share, trail, rep.ReallocationCount,
		strings.Join(inReport, " / "))
}
