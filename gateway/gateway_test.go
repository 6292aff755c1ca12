package gateway_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/journal"
	"github.com/execd-dev/execd/lifecycle"
	"github.com/execd-dev/execd/positions"
	"github.com/execd-dev/execd/risk"
	"github.com/execd-dev/execd/venues"
)

// Every test runs inside a synctest bubble: the gateway's timers, back-offs and call timeouts are the bubble's,
// which advances only when every goroutine in it is blocked. settle lets the bubble's time run d and waits until
// everything is idle again, so tests never sleep on the wall clock.
func settle(d time.Duration) {
	if d > 0 {
		time.Sleep(d)
	}
	synctest.Wait()
}

// testRetry is the table the tests run with: short waits, counted in the bubble's time.
func testRetry() gateway.Retry {
	return gateway.Retry{PlaceAttempts: 3, PlaceBackoff: 100 * time.Millisecond, ResolveBackoff: 100 * time.Millisecond,
		ResolveMax: 400 * time.Millisecond, NotFoundConfirms: 3, FinishWait: 300 * time.Millisecond,
		FillWait: 200 * time.Millisecond, FillReads: 3, QuoteMaxAge: 500 * time.Millisecond, HealthPoll: time.Second,
		CallTimeout: 5 * time.Second}
}

// sink records the updates a gateway delivers to one parent; markouts apart (markouts).
type sink struct {
	mu    sync.Mutex
	ups   []gateway.Update
	marks []gateway.Update
}

func (s *sink) Deliver(u gateway.Update) {
	s.mu.Lock()
	if u.Kind == gateway.Markout {
		s.marks = append(s.marks, u)
	} else {
		s.ups = append(s.ups, u)
	}
	s.mu.Unlock()
}

// markouts returns the markout updates delivered, oldest first.
func (s *sink) markouts() []gateway.Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]gateway.Update(nil), s.marks...)
}

// updates returns the updates about one client id ("" for all), oldest first.
func (s *sink) updates(id string) []gateway.Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []gateway.Update
	for _, u := range s.ups {
		if id == "" || u.ClientOrderID == id {
			out = append(out, u)
		}
	}
	return out
}

func (s *sink) of(id string, k gateway.UpdateKind) []gateway.Update {
	var out []gateway.Update
	for _, u := range s.updates(id) {
		if u.Kind == k {
			out = append(out, u)
		}
	}
	return out
}

// one returns the one update of kind k about id, failing the test if there is not exactly one.
func (s *sink) one(t *testing.T, id string, k gateway.UpdateKind) gateway.Update {
	t.Helper()
	got := s.of(id, k)
	if len(got) != 1 {
		t.Fatalf("%s: %d updates of kind %s, want 1; all: %s", id, len(got), kindName(k), s.dump(id))
	}
	return got[0]
}

func (s *sink) dump(id string) string {
	var b strings.Builder
	for _, u := range s.updates(id) {
		b.WriteString(kindName(u.Kind))
		switch u.Kind {
		case gateway.Refused:
			b.WriteString("(" + u.Refusal.String() + ")")
		case gateway.Filled:
			b.WriteString("(" + u.Fill.TradeID + " " + u.Fill.Quantity.String() + ")")
		case gateway.Accepted, gateway.Resolved, gateway.OrderUpdate:
			b.WriteString("(" + string(u.Order.Status) + ")")
		case gateway.HealthChanged:
			b.WriteString("(" + string(u.Health) + ")")
		}
		b.WriteString(" ")
	}
	return b.String()
}

// filledTrades lists the trade ids delivered as Filled for id, with their count.
func (s *sink) filledTrades(id string) map[string]int {
	out := map[string]int{}
	for _, u := range s.of(id, gateway.Filled) {
		out[u.Fill.TradeID]++
	}
	return out
}

func kindName(k gateway.UpdateKind) string {
	return map[gateway.UpdateKind]string{gateway.Accepted: "Accepted", gateway.Refused: "Refused", gateway.Unknown: "Unknown",
		gateway.Resolved: "Resolved", gateway.OrderUpdate: "OrderUpdate", gateway.Filled: "Filled",
		gateway.Settled: "Settled", gateway.HealthChanged: "HealthChanged", gateway.Amended: "Amended",
		gateway.AmendRefused: "AmendRefused"}[k]
}

// countingJournal is the real journal, counting AddFill and AddFillAsync calls per trade id (the gateway writes a
// fill once).
type countingJournal struct {
	*journal.Bolt
	mu   sync.Mutex
	adds map[string]int
}

func (c *countingJournal) AddFill(f venues.Fill) (bool, error) {
	c.mu.Lock()
	c.adds[f.TradeID]++
	c.mu.Unlock()
	return c.Bolt.AddFill(f)
}

func (c *countingJournal) AddFillAsync(f venues.Fill, done func(bool, error)) {
	c.mu.Lock()
	c.adds[f.TradeID]++
	c.mu.Unlock()
	c.Bolt.AddFillAsync(f, done)
}

func (c *countingJournal) addFills() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.adds {
		out[k] = v
	}
	return out
}

// rig is one gateway over a fake venue, with a real journal, ledger, breakers and trading switch.
type rig struct {
	t      *testing.T
	v      *fakeVenue
	g      *gateway.Gateway
	j      *journal.Bolt
	cj     *countingJournal
	ledger *positions.Ledger
	brk    *risk.Breakers
	state  *risk.Switch
	key    positions.Key
	ctx    context.Context
	stop   context.CancelFunc

	hmu    sync.Mutex
	health []gateway.Health // OnHealth calls
}

type rigConfig struct {
	capable  bool // wrap the fake in capableVenue (Quoter, OrderFiller, Amender)
	stream   bool // the fake's fills go to the gateway's OnEvent
	pos      string
	retry    func(*gateway.Retry)
	breakers risk.BreakerSettings
	limiter  gateway.Limiter
	// prepareMayFail: a failed Prepare does not fail the test (the pair stays unprepared).
	prepareMayFail bool
	// since and keep are Prepare's (a restart with parents working): zero and nil for a fresh start.
	since time.Time
	keep  func(id string) bool
}

// newRig builds and starts a gateway: Prepare (rules and the venue's position into the ledger), then Run. Call it
// inside a bubble; the cleanup stops the gateway, closes the journal and checks that the venue never took one
// client id twice.
func newRig(t *testing.T, v *fakeVenue, c rigConfig) *rig {
	t.Helper()
	if c.pos != "" {
		v.setPosition(c.pos)
	}
	j, err := journal.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := j.Close(); err != nil {
			t.Errorf("journal close: %v", err)
		}
	})
	if c.breakers.ConsecutiveFailures == 0 {
		c.breakers = risk.BreakerSettings{ConsecutiveFailures: 5, OpenTimeout: 10 * time.Second, HalfOpenProbes: 1}
	}
	r := &rig{t: t, v: v, j: j, cj: &countingJournal{Bolt: j, adds: map[string]int{}}, ledger: positions.NewLedger(), state: &risk.Switch{},
		brk: risk.NewBreakers(c.breakers, []string{v.name}, nil), key: positions.Key{Venue: v.name, Instrument: inst}}
	retry := testRetry()
	if c.retry != nil {
		c.retry(&retry)
	}
	var venue gateway.Venue = v
	if c.capable {
		venue = capableVenue{v}
	}
	// Every client order id in these tests ("c1", "c9", ...) is one of the engine's own: prefix "c".
	r.g, err = gateway.New(gateway.Options{Venue: venue, Instrument: inst, Journal: r.cj, Ledger: r.ledger, Breakers: r.brk,
		State: r.state, Retry: retry, ClientIDPrefix: "c", Limiter: c.limiter,
		OnHealth: func(h gateway.Health, reason string) {
			r.hmu.Lock()
			r.health = append(r.health, h)
			r.hmu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	if c.stream {
		v.mu.Lock()
		v.stream = r.g.OnEvent
		v.mu.Unlock()
	}
	if _, err := r.g.Prepare(context.Background(), c.since, c.keep); err != nil && !c.prepareMayFail {
		t.Fatal(err)
	}
	r.ctx, r.stop = context.WithCancel(context.Background())
	go r.g.Run(r.ctx)
	t.Cleanup(func() {
		r.stop()
		<-r.g.Done()
		if err := gateway.CheckLive(r.g); err != nil {
			t.Error(err)
		}
		for id, n := range v.acceptedCounts() {
			if n > 1 {
				t.Errorf("the venue accepted client id %s %d times", id, n)
			}
		}
	})
	return r
}

func (r *rig) healthCalls() []gateway.Health {
	r.hmu.Lock()
	defer r.hmu.Unlock()
	return append([]gateway.Health(nil), r.health...)
}

// child returns the journaled child (parent, id) after every queued journal write is durable.
func (r *rig) child(parent, id string) (journal.Child, bool) {
	r.t.Helper()
	if err := r.j.Flush(); err != nil {
		r.t.Fatalf("flush: %v", err)
	}
	cs, err := r.j.Children(parent)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, c := range cs {
		if c.ClientID == id {
			return c, true
		}
	}
	return journal.Child{}, false
}

func (r *rig) wantChildState(parent, id string, want lifecycle.State) journal.Child {
	r.t.Helper()
	c, ok := r.child(parent, id)
	if !ok {
		r.t.Fatalf("child %s of %s not journaled", id, parent)
	}
	if c.State != want {
		r.t.Fatalf("child %s journaled as %s, want %s", id, c.State, want)
	}
	return c
}

func (r *rig) journaledFills(id string) []venues.Fill {
	r.t.Helper()
	fs, err := r.j.FillsFor(id)
	if err != nil {
		r.t.Fatal(err)
	}
	return fs
}

func (r *rig) position() decimal.Decimal { return r.ledger.Position(r.key) }

// trip opens the venue's breaker by reporting n retryable failures to it, as n failed calls would.
func (r *rig) trip(n int) {
	for i := 0; i < n; i++ {
		done, err := r.brk.Allow(r.v.name)
		if err != nil {
			return
		}
		done(&venues.Error{Venue: r.v.name, Op: "test", Class: venues.Retryable})
	}
}

type placeOpt func(*gateway.Request)

func gtc(r *gateway.Request)        { r.Order.TimeInForce = venues.GTC }
func reduceOnly(r *gateway.Request) { r.Order.ReduceOnly = true }
func sell(r *gateway.Request)       { r.Order.Side = venues.Sell }

func placeReq(parent, id, qty string, s gateway.Sink, opts ...placeOpt) gateway.Request {
	r := gateway.Request{Kind: gateway.Place, Parent: parent, Sink: s, Seq: 1, SlippageBps: 50,
		Order: venues.OrderRequest{ClientOrderID: id, Instrument: inst, Side: venues.Buy, Type: venues.Limit,
			TimeInForce: venues.IOC, Quantity: dec(qty)}}
	for _, o := range opts {
		o(&r)
	}
	return r
}

func (r *rig) place(parent, id, qty string, s gateway.Sink, opts ...placeOpt) {
	r.g.Submit(placeReq(parent, id, qty, s, opts...))
}

func wantQty(t *testing.T, what string, got decimal.Decimal, want string) {
	t.Helper()
	if !got.Equal(dec(want)) {
		t.Fatalf("%s = %s, want %s", what, got, want)
	}
}

// 1. The happy path: the intent is durable before the venue sees the order, the outcome and the fill are
// journaled, the fill is booked once and delivered once, whichever way (stream, REST, both) it arrives.
func TestPlaceHappyPath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newFake()
		v.split = 2 // two trades of 0.25
		// The stream delivers only the first trade at once; the second comes by REST after FillWait, and the
		// REST read brings the first again.
		v.streamFilter = func(f venues.Fill) bool { return f.TradeID == "t1" }
		r := newRig(t, v, rigConfig{capable: true, stream: true, pos: "0"})
		var imu sync.Mutex
		var intentSeen []journal.Child
		var intentErr error
		v.onPlace = func(req venues.OrderRequest) {
			cs, err := r.j.Children("p1")
			imu.Lock()
			defer imu.Unlock()
			intentSeen, intentErr = cs, err
		}
		s := &sink{}
		r.place("p1", "c1", "0.5", s)
		settle(journal.AsyncWindow) // a fill is booked once durable: its commit may wait that long for company
		imu.Lock()
		defer imu.Unlock()
		if intentErr != nil {
			t.Fatal(intentErr)
		}
		if len(intentSeen) != 1 || intentSeen[0].ClientID != "c1" || intentSeen[0].State != lifecycle.Intent ||
			!intentSeen[0].Quantity.Equal(dec("0.5")) || !intentSeen[0].Price.IsPositive() {
			t.Fatalf("when the venue got the order the journal held %+v, want the intent of c1", intentSeen)
		}
		acc := s.one(t, "c1", gateway.Accepted)
		if acc.Order.Status != venues.StatusFilled || !acc.Order.FilledQty.Equal(dec("0.5")) {
			t.Fatalf("accepted %+v", acc.Order)
		}
		// Priced from the mark within 50 bps: 10000 × 1.005, on the tick.
		wantQty(t, "accepted price", acc.Price, "10050")
		wantQty(t, "sent price", acc.Order.Price, "10050")
		if got := s.filledTrades("c1"); len(got) != 1 || got["t1"] != 1 {
			t.Fatalf("fills delivered before FillWait: %v", got)
		}
		wantQty(t, "ledger before the REST read", r.position(), "0.25")

		settle(time.Second) // past FillWait: the REST read brings t1 (again) and t2
		if got := v.callsOf("orderfills"); len(got) != 1 {
			t.Fatalf("%d REST reads of the order's fills, want 1", len(got))
		}
		// The stream now delivers both again, late.
		for _, f := range v.fillsOf("c1") {
			r.g.OnEvent(venues.Event{Venue: v.name, Fill: &f})
		}
		settle(time.Second)
		if got := s.filledTrades("c1"); len(got) != 2 || got["t1"] != 1 || got["t2"] != 1 {
			t.Fatalf("fills delivered %v, want t1 and t2 once each; updates %s", got, s.dump("c1"))
		}
		wantQty(t, "ledger", r.position(), "0.5")
		if !r.position().Equal(v.position()) {
			t.Fatalf("ledger %s, venue %s", r.position(), v.position())
		}
		if fs := r.journaledFills("c1"); len(fs) != 2 {
			t.Fatalf("%d fills journaled, want 2", len(fs))
		}
		if got := r.cj.addFills(); len(got) != 2 || got["t1"] != 1 || got["t2"] != 1 {
			t.Fatalf("journal writes of fills by trade id: %v, want one each", got)
		}
		c := r.wantChildState("p1", "c1", lifecycle.Filled)
		wantQty(t, "journaled filled", c.Filled, "0.5")
		if c.VenueOrderID == "" || c.TimeInForce != string(venues.IOC) {
			t.Fatalf("journaled child %+v", c)
		}
		if len(s.of("c1", gateway.Settled)) != 0 || len(s.of("c1", gateway.Refused)) != 0 {
			t.Fatalf("updates %s", s.dump("c1"))
		}
		if n := len(v.callsOf("place")); n != 1 {
			t.Fatalf("%d place calls, want 1", n)
		}
	})
}

// 2. The retry table: retryable failures are retried with the same id, then refused as not sent; a business
// rejection is final at once; an open breaker refuses without calling the venue.
func TestPlaceRetryTable(t *testing.T) {
	cases := []struct {
		name      string
		fates     []string
		trip      int    // breaker failures reported before the place
		warm      bool   // place one order first, so the mark is fresh and the place goes straight out
		failures  uint32 // the breaker's ConsecutiveFailures (0: the rig's 5)
		want      gateway.UpdateKind
		refusal   gateway.Refusal
		places    int
		journaled lifecycle.State // "" when nothing is journaled
	}{
		{name: "retryable then accepted", fates: []string{"retryable", "retryable", "ok"}, want: gateway.Accepted,
			places: 3, journaled: lifecycle.Filled},
		{name: "retryable until PlaceAttempts", fates: []string{"retryable", "retryable", "retryable", "ok"},
			want: gateway.Refused, refusal: gateway.RefusedNotSent, places: 3, journaled: lifecycle.NotSent},
		{name: "business rejection is not retried", fates: []string{"rejected", "ok"}, want: gateway.Refused,
			refusal: gateway.RefusedVenue, places: 1, journaled: lifecycle.Rejected},
		{name: "breaker open: not even the mark is read", trip: 5, want: gateway.Refused,
			refusal: gateway.RefusedBreaker, places: 0},
		{name: "breaker open with a fresh mark", warm: true, trip: 5, want: gateway.Refused,
			refusal: gateway.RefusedBreaker, places: 0, journaled: lifecycle.NotSent},
		{name: "breaker opens between retries", failures: 2, fates: []string{"retryable", "retryable", "ok"},
			want: gateway.Refused, refusal: gateway.RefusedBreaker, places: 2, journaled: lifecycle.NotSent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := newFake()
				cfg := rigConfig{stream: true, pos: "0"}
				if tc.failures > 0 {
					cfg.breakers = risk.BreakerSettings{ConsecutiveFailures: tc.failures, OpenTimeout: time.Minute}
				}
				r := newRig(t, v, cfg)
				s := &sink{}
				if tc.warm {
					r.place("p0", "c0", "0.1", s)
					settle(0)
					s.one(t, "c0", gateway.Accepted)
				}
				r.trip(tc.trip)
				v.script("place", tc.fates...)
				before := len(v.callsOf("stats"))
				r.place("p1", "c1", "0.5", s)
				settle(5 * time.Second)
				u := s.one(t, "c1", tc.want)
				if tc.want == gateway.Refused && u.Refusal != tc.refusal {
					t.Fatalf("refusal %s (%s), want %s", u.Refusal, u.Reason, tc.refusal)
				}
				if len(s.updates("c1")) != 1+len(s.of("c1", gateway.Filled)) {
					t.Fatalf("updates %s", s.dump("c1"))
				}
				places := v.callsOf("place")
				var mine []call
				for _, c := range places {
					if c.id == "c1" {
						mine = append(mine, c)
					}
				}
				if len(mine) != tc.places {
					t.Fatalf("%d place calls for c1, want %d", len(mine), tc.places)
				}
				// Retries are paced by the table: 100 ms, then 200 ms.
				for i := 1; i < len(mine); i++ {
					if gap, min := mine[i].at.Sub(mine[i-1].at), (100*time.Millisecond)<<(i-1); gap < min {
						t.Fatalf("attempt %d came %s after the one before, want at least %s", i+1, gap, min)
					}
				}
				if tc.trip > 0 && !tc.warm {
					if n := len(v.callsOf("stats")) - before; n != 0 {
						t.Fatalf("%d mark reads with the breaker open", n)
					}
				}
				c, ok := r.child("p1", "c1")
				switch {
				case tc.journaled == "" && ok:
					t.Fatalf("journaled %+v, want nothing", c)
				case tc.journaled != "" && !ok:
					t.Fatalf("not journaled, want %s", tc.journaled)
				case ok && c.State != tc.journaled:
					t.Fatalf("journaled as %s, want %s", c.State, tc.journaled)
				}
			})
		})
	}
}

// 3. An unknown outcome is reported at once and resolved by query: an executed order is found, never resent; one
// the venue never took is resent with the same id only after NotFoundConfirms "does not exist" answers; a
// duplicate refusal of that resend means it exists, and the query finds it.
func TestUnknownOutcome(t *testing.T) {
	cases := []struct {
		name     string
		places   []string
		queries  []string
		wantOps  []string // the venue's calls for c1, in order
		accepted bool     // the venue has (one) order c1 at the end
		refusal  gateway.Refusal
	}{
		{name: "executed: found by query", places: []string{"unknown-after"}, wantOps: []string{"place", "query"},
			accepted: true},
		{name: "executed, reads lag fewer times than the confirms", places: []string{"unknown-after"},
			queries: []string{"notfound", "notfound"}, wantOps: []string{"place", "query", "query", "query"}, accepted: true},
		{name: "executed, reads lag past the confirms: the resend is refused as a duplicate, then found",
			places: []string{"unknown-after"}, queries: []string{"notfound", "notfound", "notfound"},
			wantOps: []string{"place", "query", "query", "query", "place", "query"}, accepted: true},
		{name: "executed, reads lag past the confirms and once more after the duplicate refusal: still found",
			places: []string{"unknown-after"}, queries: []string{"notfound", "notfound", "notfound", "notfound"},
			wantOps: []string{"place", "query", "query", "query", "place", "query", "query"}, accepted: true},
		{name: "never executed: resent with the same id after three not-found answers", places: []string{"unknown-before"},
			wantOps: []string{"place", "query", "query", "query", "place"}, accepted: true},
		{name: "never executed, a query that times out answers nothing: it neither counts nor resets",
			places: []string{"unknown-before"}, queries: []string{"notfound", "unknown", "notfound"},
			wantOps: []string{"place", "query", "query", "query", "query", "place"}, accepted: true},
		{name: "never executed, the resend is rejected for good and the venue still has none",
			places:  []string{"unknown-before", "rejected"},
			wantOps: []string{"place", "query", "query", "query", "place", "query", "query", "query", "query"},
			refusal: gateway.RefusedVenue},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := newFake()
				r := newRig(t, v, rigConfig{stream: true, pos: "0"})
				v.script("place", tc.places...)
				v.script("query", tc.queries...)
				s := &sink{}
				r.place("p1", "c1", "0.5", s)
				settle(10 * time.Second)
				ups := s.updates("c1")
				var kinds []gateway.UpdateKind
				for _, u := range ups {
					if u.Kind != gateway.Filled {
						kinds = append(kinds, u.Kind)
					}
				}
				if len(kinds) == 0 || kinds[0] != gateway.Unknown {
					t.Fatalf("updates %s: want Unknown first", s.dump("c1"))
				}
				if got := v.opsFor("c1"); strings.Join(got, ",") != strings.Join(tc.wantOps, ",") {
					t.Fatalf("venue calls for c1: %v, want %v", got, tc.wantOps)
				}
				if tc.refusal != 0 {
					if len(kinds) != 2 || kinds[1] != gateway.Refused || ups[len(ups)-1].Refusal != tc.refusal {
						t.Fatalf("updates %s: want Unknown then Refused(%s)", s.dump("c1"), tc.refusal)
					}
					if _, ok := v.order("c1"); ok {
						t.Fatal("the venue has c1")
					}
					r.wantChildState("p1", "c1", lifecycle.Rejected)
					wantQty(t, "ledger", r.position(), "0")
					return
				}
				if len(kinds) != 2 || kinds[1] != gateway.Accepted {
					t.Fatalf("updates %s: want Unknown then Accepted", s.dump("c1"))
				}
				acc := s.one(t, "c1", gateway.Accepted)
				if acc.Order.Status != venues.StatusFilled || !acc.Order.FilledQty.Equal(dec("0.5")) {
					t.Fatalf("accepted %+v", acc.Order)
				}
				if got := s.filledTrades("c1"); len(got) != 1 || got["t1"] != 1 {
					t.Fatalf("fills delivered %v", got)
				}
				if n := v.acceptedCounts()["c1"]; n != 1 {
					t.Fatalf("the venue took c1 %d times", n)
				}
				wantQty(t, "ledger", r.position(), "0.5")
				r.wantChildState("p1", "c1", lifecycle.Filled)
			})
		})
	}
}

// 4. Reduce-only capacity is reserved across parents: what one parent's open order holds, another cannot size
// against; a fill takes its quantity out of the room for good, an unfilled end gives the reservation back.
func TestReduceOnlyReservations(t *testing.T) {
	type step struct {
		parent, id, qty string
		fate            string // the venue's fate for this place
		opts            []placeOpt
		cancel          bool          // cancel id instead of placing
		wait            bool          // settle a second before the next step
		pause           time.Duration // or settle this long
		sent            string        // the quantity the venue got ("" if refused)
		refusal         gateway.Refusal
	}
	cases := []struct {
		name   string
		stream bool
		steps  []step
		ledger string
	}{
		{name: "two parents in flight together: the second is cut to the room left, a third is refused",
			stream: true, steps: []step{
				{parent: "p1", id: "c1", qty: "0.7", fate: "resting", opts: []placeOpt{gtc}, sent: "0.7"},
				{parent: "p2", id: "c2", qty: "0.6", fate: "resting", opts: []placeOpt{gtc}, sent: "0.3"},
				{parent: "p3", id: "c3", qty: "0.1", refusal: gateway.RefusedCapacity, wait: true},
			}, ledger: "-1"},
		{name: "a fill shrinks the room by the filled quantity", stream: true, steps: []step{
			{parent: "p1", id: "c1", qty: "0.4", fate: "ok", sent: "0.4", wait: true},
			{parent: "p2", id: "c2", qty: "1", fate: "resting", opts: []placeOpt{gtc}, sent: "0.6", wait: true},
			{parent: "p3", id: "c3", qty: "0.001", refusal: gateway.RefusedCapacity, wait: true},
		}, ledger: "-0.6"},
		{name: "a fill reported but not yet booked still holds its room", stream: false, steps: []step{
			{parent: "p1", id: "c1", qty: "0.4", fate: "ok", sent: "0.4", pause: 100 * time.Millisecond}, // < FillWait
			{parent: "p2", id: "c2", qty: "1", fate: "resting", opts: []placeOpt{gtc}, sent: "0.6"},
		}, ledger: "-0.6"}, // the fill is read by REST later
		{name: "an IOC that expires unfilled gives its reservation back", stream: true, steps: []step{
			{parent: "p1", id: "c1", qty: "0.4", fate: "expire", sent: "0.4", wait: true},
			{parent: "p2", id: "c2", qty: "1", fate: "resting", opts: []placeOpt{gtc}, sent: "1", wait: true},
		}, ledger: "-1"},
		{name: "a partial IOC keeps only what filled out of the room", stream: true, steps: []step{
			{parent: "p1", id: "c1", qty: "0.4", fate: "partial", sent: "0.4", wait: true},
			{parent: "p2", id: "c2", qty: "1", fate: "resting", opts: []placeOpt{gtc}, sent: "0.8", wait: true},
		}, ledger: "-0.8"},
		{name: "a cancelled order gives its reservation back", stream: true, steps: []step{
			{parent: "p1", id: "c1", qty: "0.7", fate: "resting", opts: []placeOpt{gtc}, sent: "0.7", wait: true},
			{parent: "p2", id: "c2", qty: "0.5", fate: "resting", opts: []placeOpt{gtc}, sent: "0.3", wait: true},
			{parent: "p1", id: "c1", cancel: true, wait: true},
			{parent: "p3", id: "c3", qty: "1", fate: "resting", opts: []placeOpt{gtc}, sent: "0.7", wait: true},
		}, ledger: "-1"},
		{name: "a rejected order gives its reservation back", stream: true, steps: []step{
			{parent: "p1", id: "c1", qty: "0.7", fate: "rejected", sent: "0.7", refusal: gateway.RefusedVenue, wait: true},
			{parent: "p2", id: "c2", qty: "1", fate: "resting", opts: []placeOpt{gtc}, sent: "1", wait: true},
		}, ledger: "-1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := newFake()
				r := newRig(t, v, rigConfig{stream: tc.stream, pos: "-1"})
				v.mu.Lock()
				v.placeDelay = 50 * time.Millisecond // every order is in flight when the next is decided
				v.mu.Unlock()
				sinks := map[string]*sink{}
				for _, st := range tc.steps {
					if sinks[st.parent] == nil {
						sinks[st.parent] = &sink{}
					}
					s := sinks[st.parent]
					if st.cancel {
						r.g.Submit(gateway.Request{Kind: gateway.Cancel, Parent: st.parent, Sink: s,
							Order: venues.OrderRequest{ClientOrderID: st.id, Instrument: inst}})
					} else {
						if st.fate != "" {
							v.script("place", st.fate)
						}
						r.place(st.parent, st.id, st.qty, s, append([]placeOpt{reduceOnly}, st.opts...)...)
					}
					if st.wait {
						settle(time.Second)
					} else if st.pause > 0 {
						settle(st.pause)
					}
				}
				settle(time.Second)
				for _, st := range tc.steps {
					if st.cancel {
						continue
					}
					s := sinks[st.parent]
					var asked []call
					for _, c := range v.callsOf("place") {
						if c.id == st.id {
							asked = append(asked, c)
						}
					}
					if st.refusal != 0 {
						u := s.one(t, st.id, gateway.Refused)
						if u.Refusal != st.refusal {
							t.Fatalf("%s refused for %s (%s), want %s", st.id, u.Refusal, u.Reason, st.refusal)
						}
					}
					if st.sent == "" {
						if len(asked) != 0 {
							t.Fatalf("%s reached the venue", st.id)
						}
						continue
					}
					if len(asked) != 1 {
						t.Fatalf("%s: %d place calls", st.id, len(asked))
					}
					wantQty(t, st.id+" quantity sent", asked[0].qty, st.sent)
					if st.refusal == 0 {
						acc := s.one(t, st.id, gateway.Accepted)
						wantQty(t, st.id+" accepted quantity", acc.Quantity, st.sent)
					}
				}
				wantQty(t, "ledger", r.position(), tc.ledger)
			})
		})
	}
}

// 5. Resolving a restored order: one the venue does not know is over and never resent; one still working is
// cancelled; fills that came on the stream before the parent asked are delivered to it.
func TestResolveRestored(t *testing.T) {
	cases := []struct {
		name     string
		seed     *venues.Order
		early    bool // the seeded order's fill arrives on the stream before the Resolve request
		notFound bool
		status   venues.OrderStatus
		cancels  int
		fills    int
		ledger   string
		booked   string // the parent already holds this much of the order's fills (from the journal)
	}{
		{name: "not found: resolved as such, never resent", notFound: true, ledger: "0"},
		{name: "fills the parent already holds are not looked for again", seed: &venues.Order{ClientOrderID: "c9",
			Side: venues.Buy, Type: venues.Limit, TimeInForce: venues.IOC, Quantity: dec("0.5"), Price: dec("10000"),
			FilledQty: dec("0.5"), Status: venues.StatusFilled}, status: venues.StatusFilled, booked: "0.5", ledger: "0"},
		{name: "found working: cancelled, then resolved", seed: &venues.Order{ClientOrderID: "c9", Side: venues.Buy,
			Type: venues.Limit, TimeInForce: venues.GTC, Quantity: dec("0.5"), Price: dec("9990"), Status: venues.StatusNew},
			status: venues.StatusCanceled, cancels: 1, ledger: "0"},
		{name: "found filled: its fills are read from the venue", seed: &venues.Order{ClientOrderID: "c9",
			Side: venues.Buy, Type: venues.Limit, TimeInForce: venues.IOC, Quantity: dec("0.5"), Price: dec("10000"),
			FilledQty: dec("0.5"), Status: venues.StatusFilled}, status: venues.StatusFilled, fills: 1, ledger: "0.5"},
		{name: "fills that came before the request are delivered (orphans)", seed: &venues.Order{ClientOrderID: "c9",
			Side: venues.Buy, Type: venues.Limit, TimeInForce: venues.IOC, Quantity: dec("0.5"), Price: dec("10000"),
			FilledQty: dec("0.5"), Status: venues.StatusFilled}, early: true, status: venues.StatusFilled, fills: 1,
			ledger: "0.5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := newFake()
				r := newRig(t, v, rigConfig{capable: true, stream: true, pos: "0"})
				var seeded []venues.Fill
				if tc.seed != nil {
					seeded = v.seed(*tc.seed)
				}
				if tc.early {
					for _, f := range seeded {
						r.g.OnEvent(venues.Event{Venue: v.name, Fill: &f})
					}
					settle(time.Second)
					wantQty(t, "ledger after the early fill", r.position(), "0.5")
				}
				s := &sink{}
				booked := decimal.Zero
				if tc.booked != "" {
					booked = dec(tc.booked)
				}
				r.g.Submit(gateway.Request{Kind: gateway.Resolve, Parent: "p1", Sink: s, Seq: 3, Booked: booked,
					Order: venues.OrderRequest{ClientOrderID: "c9", Instrument: inst, Side: venues.Buy, Quantity: dec("0.5")}})
				settle(5 * time.Second)
				res := s.one(t, "c9", gateway.Resolved)
				if res.NotFound != tc.notFound {
					t.Fatalf("resolved NotFound %v, want %v", res.NotFound, tc.notFound)
				}
				if !tc.notFound && res.Order.Status != tc.status {
					t.Fatalf("resolved as %s, want %s", res.Order.Status, tc.status)
				}
				if n := len(v.callsOf("place")); n != 0 {
					t.Fatalf("%d place calls: a restored order is never resent", n)
				}
				if n := len(v.callsOf("cancel")); n != tc.cancels {
					t.Fatalf("%d cancels, want %d", n, tc.cancels)
				}
				if got := s.filledTrades("c9"); len(got) != tc.fills {
					t.Fatalf("fills delivered %v, want %d; updates %s", got, tc.fills, s.dump("c9"))
				}
				for tr, n := range s.filledTrades("c9") {
					if n != 1 {
						t.Fatalf("trade %s delivered %d times", tr, n)
					}
				}
				if tc.early || tc.booked != "" {
					if n := len(v.callsOf("orderfills")); n != 0 {
						t.Fatalf("%d REST fill reads: the fills were already booked", n)
					}
				}
				wantQty(t, "ledger", r.position(), tc.ledger)
				if len(s.of("c9", gateway.Settled)) != 0 {
					t.Fatalf("updates %s", s.dump("c9"))
				}
				want := lifecycle.NotSent
				switch {
				case tc.notFound:
				case tc.status == venues.StatusCanceled:
					want = lifecycle.Cancelled
				case tc.status == venues.StatusFilled:
					want = lifecycle.Filled
				}
				c := r.wantChildState("p1", "c9", want)
				if c.Seq != 3 {
					t.Fatalf("journaled seq %d", c.Seq)
				}
			})
		})
	}
}

// 6. Fills the venue reports on an order but the stream never delivers are read by REST after FillWait (the
// order's own, through OrderFiller where the venue can); if they never come, the order is Settled after FillReads
// reads.
func TestMissingFills(t *testing.T) {
	cases := []struct {
		name    string
		capable bool
		hide    bool
		read    string // the fake's operation the gateway reads fills with
	}{
		{name: "order fills read by OrderFiller", capable: true, read: "orderfills"},
		{name: "instrument fills read without OrderFiller, the order's own kept", read: "fills"},
		{name: "never delivered: settled after FillReads reads (OrderFiller)", capable: true, hide: true, read: "orderfills"},
		{name: "never delivered: settled after FillReads reads (Fills)", hide: true, read: "fills"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := newFake()
				r := newRig(t, v, rigConfig{capable: tc.capable, stream: false, pos: "0"})
				// Another order's fill at the venue (an external order): never booked for c1.
				v.seed(venues.Order{ClientOrderID: "other", Side: venues.Sell, Type: venues.Limit, TimeInForce: venues.IOC,
					Quantity: dec("0.2"), Price: dec("10000"), FilledQty: dec("0.2"), Status: venues.StatusFilled})
				ledger0 := r.position()
				if tc.hide {
					v.setDefault(tc.read, "hide")
				}
				s := &sink{}
				r.place("p1", "c1", "0.5", s)
				settle(0)
				acc := s.one(t, "c1", gateway.Accepted)
				wantQty(t, "reported filled", acc.Order.FilledQty, "0.5")
				settle(150 * time.Millisecond) // before FillWait (200 ms)
				if n := len(v.callsOf(tc.read)); n != 0 {
					t.Fatalf("fills read %d times before FillWait", n)
				}
				if len(s.of("c1", gateway.Filled)) != 0 {
					t.Fatal("a fill delivered that nobody sent")
				}
				settle(5 * time.Second)
				reads := len(v.callsOf(tc.read))
				if tc.hide {
					if reads != 3 {
						t.Fatalf("%d reads, want FillReads (3)", reads)
					}
					s.one(t, "c1", gateway.Settled)
					if len(s.of("c1", gateway.Filled)) != 0 {
						t.Fatalf("updates %s", s.dump("c1"))
					}
					if !r.position().Equal(ledger0) {
						t.Fatalf("ledger %s, want %s", r.position(), ledger0)
					}
					settle(5 * time.Second)
					if n := len(v.callsOf(tc.read)); n != reads {
						t.Fatalf("fills read again after Settled (%d reads)", n)
					}
					return
				}
				if reads != 1 {
					t.Fatalf("%d reads, want 1", reads)
				}
				if tc.capable {
					if c := v.callsOf("orderfills")[0]; c.id != "c1" {
						t.Fatalf("read the fills of %q", c.id)
					}
				}
				if got := s.filledTrades("c1"); len(got) != 1 {
					t.Fatalf("fills delivered %v, want one", got)
				}
				if len(s.of("c1", gateway.Settled)) != 0 {
					t.Fatalf("updates %s", s.dump("c1"))
				}
				wantQty(t, "ledger change", r.position().Sub(ledger0), "0.5")
				if fs := r.journaledFills("c1"); len(fs) != 1 {
					t.Fatalf("%d fills journaled", len(fs))
				}
				if fs := r.journaledFills("other"); len(fs) != 0 {
					t.Fatalf("another order's fill journaled: %+v", fs)
				}
			})
		})
	}
}

// 7. Amend: a resting order changes price and quantity in place; an amend the venue cannot do, of an order not
// open, or that would grow a reduce-only order past the room left, is refused and changes nothing.
func TestAmend(t *testing.T) {
	cases := []struct {
		name      string
		capable   bool
		fate      string // the place fate of c1
		reduce    bool
		other     string // a second reduce-only resting order's quantity (parent p2), "" for none
		id        string // the id amended (default c1)
		price     string
		qty       string
		amendFate string
		want      gateway.UpdateKind
		reason    string // a word of the refusal's reason
		amends    int    // the venue's amend calls
	}{
		{name: "resting order: new price and quantity", capable: true, fate: "resting", price: "9990", qty: "0.8",
			want: gateway.Amended, amends: 1},
		{name: "price only", capable: true, fate: "resting", price: "9980.5", want: gateway.Amended, amends: 1},
		{name: "venue without Amender", fate: "resting", price: "9990", want: gateway.AmendRefused, reason: "cannot amend"},
		{name: "order not open (filled)", capable: true, fate: "ok", price: "9990", want: gateway.AmendRefused,
			reason: "not open"},
		{name: "unknown order", capable: true, fate: "resting", id: "nope", price: "9990", want: gateway.AmendRefused,
			reason: "not open"},
		{name: "off the tick", capable: true, fate: "resting", price: "9990.05", want: gateway.AmendRefused, reason: "tick"},
		{name: "nothing to amend", capable: true, fate: "resting", want: gateway.AmendRefused, reason: "nothing"},
		{name: "the venue refuses it", capable: true, fate: "resting", price: "9990", amendFate: "rejected",
			want: gateway.AmendRefused, amends: 1},
		{name: "answer lost: the order as the venue has it says it was applied", capable: true, fate: "resting",
			price: "9990", qty: "0.7", amendFate: "unknown-after", want: gateway.Amended, amends: 1},
		{name: "reduce-only grows into the room left", capable: true, fate: "resting", reduce: true, other: "0.3",
			qty: "0.7", want: gateway.Amended, amends: 1},
		{name: "reduce-only grows beyond the room left", capable: true, fate: "resting", reduce: true, other: "0.3",
			qty: "0.701", want: gateway.AmendRefused, reason: "reduce-only"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := newFake()
				pos := "0"
				opts := []placeOpt{gtc}
				if tc.reduce {
					pos = "-1"
					opts = append(opts, reduceOnly)
				}
				r := newRig(t, v, rigConfig{capable: tc.capable, stream: true, pos: pos})
				s := &sink{}
				v.script("place", tc.fate)
				r.place("p1", "c1", "0.5", s, opts...)
				settle(time.Second)
				before := s.one(t, "c1", gateway.Accepted)
				if tc.other != "" {
					v.script("place", "resting")
					r.place("p2", "c2", tc.other, &sink{}, opts...)
					settle(time.Second)
				}
				id := tc.id
				if id == "" {
					id = "c1"
				}
				if tc.amendFate != "" {
					v.script("amend", tc.amendFate)
				}
				req := gateway.Request{Kind: gateway.Amend, Parent: "p1", Sink: s,
					Order: venues.OrderRequest{ClientOrderID: id, Instrument: inst}}
				if tc.price != "" {
					req.Order.Price = dec(tc.price)
				}
				if tc.qty != "" {
					req.Order.Quantity = dec(tc.qty)
				}
				r.g.Submit(req)
				settle(2 * time.Second)
				got := s.one(t, id, tc.want)
				if n := len(v.callsOf("amend")); n != tc.amends {
					t.Fatalf("%d amend calls, want %d", n, tc.amends)
				}
				if tc.want == gateway.AmendRefused {
					if tc.reason != "" && !strings.Contains(got.Reason, tc.reason) {
						t.Fatalf("refused for %q, want %q", got.Reason, tc.reason)
					}
					if vo, ok := v.order("c1"); ok && (!vo.Price.Equal(before.Order.Price) || !vo.Quantity.Equal(dec("0.5"))) {
						t.Fatalf("the venue's order changed: %+v", vo)
					}
					if tc.fate == "resting" && tc.id == "" && tc.capable {
						// The order is open again: a later amend goes through.
						r.g.Submit(gateway.Request{Kind: gateway.Amend, Parent: "p1", Sink: s,
							Order: venues.OrderRequest{ClientOrderID: "c1", Instrument: inst, Price: dec("9000")}})
						settle(time.Second)
						s.one(t, "c1", gateway.Amended)
					}
					return
				}
				wantPrice, wantQ := before.Order.Price, dec("0.5")
				if tc.price != "" {
					wantPrice = dec(tc.price)
				}
				if tc.qty != "" {
					wantQ = dec(tc.qty)
				}
				vo, _ := v.order("c1")
				if !vo.Price.Equal(wantPrice) || !vo.Quantity.Equal(wantQ) {
					t.Fatalf("the venue has %s @ %s, want %s @ %s", vo.Quantity, vo.Price, wantQ, wantPrice)
				}
				if !got.Price.Equal(wantPrice) || !got.Quantity.Equal(wantQ) || !got.Order.Price.Equal(wantPrice) ||
					!got.Order.Quantity.Equal(wantQ) {
					t.Fatalf("amended update %s @ %s (order %s @ %s), want %s @ %s", got.Quantity, got.Price,
						got.Order.Quantity, got.Order.Price, wantQ, wantPrice)
				}
				c := r.wantChildState("p1", "c1", lifecycle.Open)
				if !c.Price.Equal(wantPrice) || !c.Quantity.Equal(wantQ) {
					t.Fatalf("journaled %s @ %s", c.Quantity, c.Price)
				}
				if tc.reduce {
					// The amended order holds its new quantity: nothing is left for anyone else.
					s3 := &sink{}
					r.place("p3", "c3", "0.001", s3, reduceOnly)
					settle(time.Second)
					if u := s3.one(t, "c3", gateway.Refused); u.Refusal != gateway.RefusedCapacity {
						t.Fatalf("c3 refused for %s", u.Refusal)
					}
				}
			})
		})
	}
}

// 8. Health: when the breaker opens, every attached parent hears Down and OnHealth is told; half-open is
// Degraded; a success closes it again (Up). A detached parent hears no more.
func TestHealth(t *testing.T) {
	cases := []struct {
		name     string
		external bool // the breaker is opened by someone else's failures: the gateway sees it on its poll
	}{
		{name: "the gateway's own failures open the breaker"},
		{name: "seen on the health poll", external: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := newFake()
				r := newRig(t, v, rigConfig{stream: true, pos: "0",
					breakers: risk.BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: 10 * time.Second, HalfOpenProbes: 1}})
				a, b := &sink{}, &sink{}
				r.g.Submit(gateway.Request{Kind: gateway.Attach, Parent: "pa", Sink: a})
				r.g.Submit(gateway.Request{Kind: gateway.Attach, Parent: "pb", Sink: b})
				settle(0)
				for _, s := range []*sink{a, b} {
					if u := s.updates(""); len(u) != 1 || u[0].Kind != gateway.HealthChanged || u[0].Health != gateway.Up {
						t.Fatalf("on attach: %s", s.dump(""))
					}
				}
				if tc.external {
					r.trip(3)
					settle(0)
					if len(a.updates("")) != 1 {
						t.Fatalf("health changed before the poll: %s", a.dump(""))
					}
					settle(1100 * time.Millisecond) // HealthPoll
				} else {
					v.script("place", "retryable", "retryable", "retryable")
					r.place("pa", "c1", "0.1", a)
					settle(time.Second)
					if u := a.one(t, "c1", gateway.Refused); u.Refusal != gateway.RefusedNotSent {
						t.Fatalf("refused for %s", u.Refusal)
					}
				}
				for name, s := range map[string]*sink{"pa": a, "pb": b} {
					hs := s.of("", gateway.HealthChanged)
					if len(hs) != 2 || hs[1].Health != gateway.Down || !strings.Contains(hs[1].Reason, "open") {
						t.Fatalf("%s: %s", name, s.dump(""))
					}
				}
				if got := r.healthCalls(); len(got) != 1 || got[0] != gateway.Down {
					t.Fatalf("OnHealth %v", got)
				}
				if r.g.Health() != gateway.Down {
					t.Fatalf("Health() %s", r.g.Health())
				}
				r.g.Submit(gateway.Request{Kind: gateway.Detach, Parent: "pb"})
				settle(11 * time.Second) // OpenTimeout, then a poll: half-open
				if got := r.healthCalls(); len(got) != 2 || got[1] != gateway.Degraded {
					t.Fatalf("OnHealth %v", got)
				}
				// A successful call closes the breaker.
				r.place("pa", "c2", "0.1", a)
				settle(time.Second)
				a.one(t, "c2", gateway.Accepted)
				if got := r.healthCalls(); len(got) != 3 || got[2] != gateway.Up {
					t.Fatalf("OnHealth %v", got)
				}
				hs := a.of("", gateway.HealthChanged)
				if len(hs) != 4 || hs[2].Health != gateway.Degraded || hs[3].Health != gateway.Up {
					t.Fatalf("pa: %s", a.dump(""))
				}
				if n := len(b.of("", gateway.HealthChanged)); n != 2 {
					t.Fatalf("detached pb heard %d health changes: %s", n, b.dump(""))
				}
			})
		})
	}
}

// limiter records the classes it is asked for in the shared call log, and can refuse a class.
type limiter struct {
	log    *callLog
	refuse gateway.CallClass
}

func (l *limiter) Wait(ctx context.Context, c gateway.CallClass) error {
	l.log.add("token " + c.String())
	if c == l.refuse {
		return errors.New("no token")
	}
	return nil
}

// classOf is the class each of the fake's operations must be paced as.
var classOf = map[string]gateway.CallClass{
	"rules": gateway.MarketData, "stats": gateway.MarketData, "quote": gateway.MarketData,
	"place": gateway.OrderEntry, "cancel": gateway.OrderEntry, "amend": gateway.OrderEntry,
	"query": gateway.Account, "openorders": gateway.Account, "fills": gateway.Account, "orderfills": gateway.Account,
	"positions": gateway.Account,
}

// 9. Every venue call is preceded by a token of its class from the Limiter; a refused token is a retryable
// failure: the call is not made.
func TestLimiter(t *testing.T) {
	t.Run("a token of the right class before every call", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			v := newFake()
			v.log = &callLog{}
			r := newRig(t, v, rigConfig{capable: true, stream: false, pos: "0", limiter: &limiter{log: v.log}})
			s := &sink{}
			// An IOC the venue leaves working: quote, place, queries, then a cancel after FinishWait.
			v.script("place", "resting")
			r.place("p1", "c1", "0.1", s)
			settle(2 * time.Second)
			// A fill reported but not streamed: read by REST. An unknown outcome resolved by query.
			v.script("place", "unknown-after")
			r.place("p1", "c2", "0.1", s)
			settle(2 * time.Second)
			// A resting GTC order amended, then cancelled.
			v.script("place", "resting")
			r.place("p1", "c3", "0.1", s, gtc)
			settle(time.Second)
			r.g.Submit(gateway.Request{Kind: gateway.Amend, Parent: "p1", Sink: s,
				Order: venues.OrderRequest{ClientOrderID: "c3", Instrument: inst, Price: dec("9000")}})
			settle(time.Second)
			r.g.Submit(gateway.Request{Kind: gateway.Cancel, Parent: "p1", Sink: s,
				Order: venues.OrderRequest{ClientOrderID: "c3", Instrument: inst}})
			settle(2 * time.Second)
			s.one(t, "c1", gateway.Accepted)
			s.one(t, "c2", gateway.Accepted)
			s.one(t, "c3", gateway.Amended)
			s.one(t, "c3", gateway.Resolved)

			lines := v.log.all()
			seen := map[string]bool{}
			for i, l := range lines {
				op, ok := strings.CutPrefix(l, "call ")
				if !ok {
					continue
				}
				seen[op] = true
				want := "token " + classOf[op].String()
				if i == 0 || lines[i-1] != want {
					prev := ""
					if i > 0 {
						prev = lines[i-1]
					}
					t.Fatalf("call %s (line %d) preceded by %q, want %q; log %v", op, i, prev, want, lines)
				}
			}
			for _, op := range []string{"rules", "positions", "quote", "place", "query", "cancel", "amend", "orderfills"} {
				if !seen[op] {
					t.Errorf("the scenario never called %s", op)
				}
			}
			tokens := 0
			for _, l := range lines {
				if strings.HasPrefix(l, "token ") {
					tokens++
				}
			}
			if calls := len(lines) - tokens; tokens != calls {
				t.Fatalf("%d tokens for %d calls", tokens, calls)
			}
		})
	})
	t.Run("no order-entry token: the order is not sent", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			v := newFake()
			log := &callLog{}
			r := newRig(t, v, rigConfig{stream: true, pos: "0", limiter: &limiter{log: log, refuse: gateway.OrderEntry}})
			s := &sink{}
			r.place("p1", "c1", "0.1", s)
			settle(2 * time.Second)
			if u := s.one(t, "c1", gateway.Refused); u.Refusal != gateway.RefusedNotSent {
				t.Fatalf("refused for %s (%s)", u.Refusal, u.Reason)
			}
			if n := len(v.callsOf("place")); n != 0 {
				t.Fatalf("%d place calls without a token", n)
			}
			asked := 0
			for _, l := range log.all() {
				if l == "token "+gateway.OrderEntry.String() {
					asked++
				}
			}
			if asked != 3 {
				t.Fatalf("asked for %d order-entry tokens, want PlaceAttempts (3)", asked)
			}
		})
	})
}

// 10. Stop: Run returns only once the calls in flight have returned, and their outcome is delivered; a place
// submitted while or after the gateway stops is refused as such.
func TestStop(t *testing.T) {
	cases := []struct {
		name     string
		honorCtx bool // the venue call ends with ctx (the outcome is then unknown)
		want     gateway.UpdateKind
		state    lifecycle.State
	}{
		{name: "the call in flight completes: accepted", want: gateway.Accepted, state: lifecycle.Filled},
		{name: "the call in flight is abandoned: unknown, for a restart to resolve", honorCtx: true,
			want: gateway.Unknown, state: lifecycle.Unknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := newFake()
				r := newRig(t, v, rigConfig{stream: true, pos: "0"})
				v.mu.Lock()
				v.placeDelay, v.honorCtx = time.Second, tc.honorCtx
				v.mu.Unlock()
				s := &sink{}
				r.place("p1", "c1", "0.1", s)
				settle(100 * time.Millisecond)
				if n := len(s.updates("c1")); n != 0 {
					t.Fatalf("updates before the venue answered: %s", s.dump("c1"))
				}
				r.stop()
				r.place("p2", "c2", "0.1", s) // while stopping
				settle(0)
				if !tc.honorCtx {
					select {
					case <-r.g.Done():
						t.Fatal("Run returned with a call in flight")
					default:
					}
					settle(2 * time.Second)
				}
				select {
				case <-r.g.Done():
				default:
					t.Fatal("Run did not return once the call in flight did")
				}
				ups := s.of("c1", tc.want)
				if len(ups) == 0 {
					t.Fatalf("updates %s: want %s", s.dump("c1"), kindName(tc.want))
				}
				if last := s.updates("c1"); last[len(last)-1].Kind != tc.want {
					t.Fatalf("updates %s: want %s last", s.dump("c1"), kindName(tc.want))
				}
				r.wantChildState("p1", "c1", tc.state)
				if u := s.one(t, "c2", gateway.Refused); u.Refusal != gateway.RefusedStopping {
					t.Fatalf("c2 refused for %s", u.Refusal)
				}
				r.place("p3", "c3", "0.1", s) // after Run returned: refused at once
				if u := s.one(t, "c3", gateway.Refused); u.Refusal != gateway.RefusedStopping {
					t.Fatalf("c3 refused for %s", u.Refusal)
				}
				for _, id := range []string{"c2", "c3"} {
					for _, c := range v.callsOf("place") {
						if c.id == id {
							t.Fatalf("%s reached the venue", id)
						}
					}
				}
			})
		})
	}
}

// Parents planned at once share one statistics read per venue and instrument, and a read younger than the quote's
// age limit answers the next planner; an older one is read again.
func TestStatsReadsAreShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newFake()
		v.statsHold = make(chan struct{})
		r := newRig(t, v, rigConfig{})
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if s, err := r.g.Stats(context.Background()); err != nil || !s.MarkPrice.Equal(dec("10000")) {
					t.Errorf("stats %+v %v", s, err)
				}
			})
		}
		synctest.Wait() // all ten are waiting on the one read
		close(v.statsHold)
		wg.Wait()
		if n := len(v.callsOf("stats")); n != 1 {
			t.Fatalf("%d stats reads for 10 concurrent planners, want 1", n)
		}
		if _, err := r.g.Stats(context.Background()); err != nil || len(v.callsOf("stats")) != 1 {
			t.Fatalf("a fresh read was not reused: %d reads (%v)", len(v.callsOf("stats")), err)
		}
		time.Sleep(testRetry().QuoteMaxAge + time.Millisecond)
		if _, err := r.g.Stats(context.Background()); err != nil || len(v.callsOf("stats")) != 2 {
			t.Fatalf("an old read was reused: %d reads (%v)", len(v.callsOf("stats")), err)
		}
	})
}

// TestCancelPullsAtOnce: a parent's cancel of a resting order goes to the venue at once. (It used to wait
// FinishWait, polling, as for an IOC still working after its placement: a maker child pulled at its deadline
// rested that much longer, 60 s of market time at the benchmark's ×60.)
func TestCancelPullsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newFake()
		r := newRig(t, v, rigConfig{stream: true, pos: "0"})
		s := &sink{}
		v.script("place", "resting")
		r.place("p1", "c1", "0.5", s, gtc)
		settle(time.Second)
		s.one(t, "c1", gateway.Accepted)
		asked := time.Now()
		r.g.Submit(gateway.Request{Kind: gateway.Cancel, Parent: "p1", Sink: s,
			Order: venues.OrderRequest{ClientOrderID: "c1", Instrument: inst}})
		settle(time.Millisecond)
		cs := v.callsOf("cancel")
		if len(cs) != 1 || cs[0].at.Sub(asked) > time.Millisecond {
			t.Fatalf("cancel calls %+v, %v after the request; want one, at once", cs, time.Since(asked))
		}
		if n := len(v.callsOf("query")); n > 0 {
			t.Fatalf("%d queries before the cancel", n)
		}
		settle(time.Second)
		if u := s.one(t, "c1", gateway.Resolved); u.Order.Status != venues.StatusCanceled {
			t.Fatalf("resolved %+v", u.Order)
		}
	})
}
