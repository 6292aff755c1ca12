package engine

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/lifecycle"
	"github.com/execd-dev/execd/risk"
	"github.com/execd-dev/execd/venues"
)

var t0 = time.Date(2026, 11, 22, 17, 0, 0, 0, time.UTC)

func testRules() venues.Rules {
	return venues.Rules{Instrument: "BTC-USDT-PERP", Symbol: "BTCUSDT", TickSize: dec("0.1"), LotSize: dec("0.001"),
		MinQty: dec("0.001"), MinNotional: dec("5")}
}

func testParams() Params {
	return Params{MeanInterval: 20 * time.Second, TimeJitter: 0.8, SizeJitter: 0.5, EndBuffer: 5 * time.Second,
		Catchup: time.Minute, RetryInterval: 2 * time.Second, MaxChildNotional: dec("50000"), DefaultSlippageBps: 50,
		MaxSlippageBps: 500, MaxConsecutiveRejects: 3,
		Venues: map[string]VenueParams{"a": {Weight: dec("1"), Enabled: true}, "b": {Weight: dec("1"), Enabled: true}}}
}

// newTestMachine builds a parent of qty split over venues a and b (40/60), scheduled from t0 over 5 minutes.
func newTestMachine(t testing.TB, qty string, reduceOnly bool) *machine {
	t.Helper()
	req := Request{ID: "rb-1", Instrument: "BTC-USDT-PERP", Side: venues.Buy, Quantity: dec(qty), Duration: 5 * time.Minute,
		ReduceOnly: reduceOnly, MaxSlippageBps: 50}
	prm := testParams()
	pl := &plan{created: t0, deadline: t0.Add(req.Duration), params: prm, slippageBps: 50, arrival: dec("10490"), seed: 7}
	total := testRules().FloorQty(dec(qty))
	pl.residual = dec(qty).Sub(total)
	a := testRules().FloorQty(total.Mul(dec("0.4")))
	b := total.Sub(a)
	for i, x := range []struct {
		name  string
		alloc decimal.Decimal
	}{{"a", a}, {"b", b}} {
		w := &vstate{name: x.name, rules: testRules(), mark: dec("10490"), share: dec("0.5"), weight: dec("1"),
			allocated: x.alloc, health: gateway.Up, rng: rand.New(rand.NewPCG(7, uint64(i)))}
		if err := w.reschedule(pl, req, t0, decimal.Zero); err != nil {
			t.Fatal(err)
		}
		pl.work = append(pl.work, w)
	}
	return newMachine(req, pl, prm, []byte("test-salt-123"))
}

func places(cmds []Command) []Command {
	var out []Command
	for _, c := range cmds {
		if c.Kind == CmdPlace {
			out = append(out, c)
		}
	}
	return out
}

func upd(u gateway.Update) Event { return Event{Kind: EvUpdate, Update: u} }

func TestMachineTransitions(t *testing.T) {
	type step struct {
		name  string
		ev    func(m *machine, id string) Event
		check func(t *testing.T, m *machine, id string, cmds []Command)
	}
	accepted := func(status venues.OrderStatus, filled string) func(m *machine, id string) Event {
		return func(m *machine, id string) Event {
			c := m.byID[id]
			return upd(gateway.Update{Kind: gateway.Accepted, Venue: c.v.name, ClientOrderID: id, Quantity: c.qty,
				Price: dec("10500"), Order: venues.Order{ClientOrderID: id, Status: status, FilledQty: qtyOr(c, filled)}})
		}
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"accepted and filled in full", []step{
			{"accept", accepted(venues.StatusFilled, "0"), func(t *testing.T, m *machine, id string, _ []Command) {
				c := m.byID[id]
				if c.state != lifecycle.Filled || c.awaiting || c.v.awaiting != 0 {
					t.Fatalf("state %s awaiting %v venue awaiting %d", c.state, c.awaiting, c.v.awaiting)
				}
				if m.unsettled != 0 {
					t.Fatalf("unsettled %d with nothing reported filled", m.unsettled)
				}
			}},
		}},
		{"reported fill waits for the booked fill", []step{
			{"accept", accepted(venues.StatusFilled, "q"), func(t *testing.T, m *machine, id string, cmds []Command) {
				if m.unsettled != 1 {
					t.Fatalf("unsettled %d, want 1", m.unsettled)
				}
			}},
			{"fill", func(m *machine, id string) Event {
				c := m.byID[id]
				return upd(gateway.Update{Kind: gateway.Filled, Venue: c.v.name, ClientOrderID: id,
					Fill: venues.Fill{Venue: c.v.name, ClientOrderID: id, TradeID: "t1", Quantity: c.qty, Price: dec("10495"), Fee: dec("1"), FeeAsset: "USDT"}})
			}, func(t *testing.T, m *machine, id string, cmds []Command) {
				if m.unsettled != 0 || !m.filled.Equal(m.byID[id].qty) {
					t.Fatalf("unsettled %d filled %s", m.unsettled, m.filled)
				}
				if !m.fees.Equal(dec("1")) {
					t.Fatalf("fees %s", m.fees)
				}
			}},
			{"same fill again", func(m *machine, id string) Event {
				c := m.byID[id]
				return upd(gateway.Update{Kind: gateway.Filled, Venue: c.v.name, ClientOrderID: id,
					Fill: venues.Fill{Venue: c.v.name, ClientOrderID: id, TradeID: "t1", Quantity: c.qty, Price: dec("10495")}})
			}, func(t *testing.T, m *machine, id string, cmds []Command) {
				if !m.filled.Equal(m.byID[id].qty) {
					t.Fatalf("a duplicate fill was counted: filled %s", m.filled)
				}
			}},
		}},
		{"unknown blocks the venue until resolved", []step{
			{"unknown", func(m *machine, id string) Event {
				return upd(gateway.Update{Kind: gateway.Unknown, Venue: m.byID[id].v.name, ClientOrderID: id, Reason: "timeout"})
			}, func(t *testing.T, m *machine, id string, _ []Command) {
				c := m.byID[id]
				if c.state != lifecycle.Unknown || c.v.unknown != 1 {
					t.Fatalf("state %s unknown %d", c.state, c.v.unknown)
				}
			}},
			{"an hour later nothing new goes there", func(m *machine, id string) Event { return Event{Kind: EvTimer} },
				func(t *testing.T, m *machine, id string, cmds []Command) {
					for _, p := range places(cmds) {
						if p.Venue == m.byID[id].v.name {
							t.Fatalf("placed %s on a venue with an unknown outcome", p.Request.Order.ClientOrderID)
						}
					}
				}},
			{"resolved: not found", func(m *machine, id string) Event {
				return upd(gateway.Update{Kind: gateway.Resolved, Venue: m.byID[id].v.name, ClientOrderID: id, NotFound: true})
			}, func(t *testing.T, m *machine, id string, _ []Command) {
				c := m.byID[id]
				if c.state != lifecycle.NotSent || c.v.unknown != 0 || !c.cContrib.IsZero() {
					t.Fatalf("state %s unknown %d contrib %s", c.state, c.v.unknown, c.cContrib)
				}
			}},
		}},
		{"cancel ends the parent once nothing is live", []step{
			{"cancel", func(m *machine, id string) Event { return Event{Kind: EvCancel} }, func(t *testing.T, m *machine, id string, _ []Command) {
				if m.done {
					t.Fatal("ended with a child still being placed")
				}
			}},
			{"answer", func(m *machine, id string) Event {
				for cid, c := range m.byID { // the other venue's child first
					if cid != id && !c.state.Final() {
						m.Step(upd(gateway.Update{Kind: gateway.Accepted, Venue: c.v.name, ClientOrderID: cid, Quantity: c.qty,
							Order: venues.Order{ClientOrderID: cid, Status: venues.StatusExpired}}), t0.Add(time.Minute))
					}
				}
				return accepted(venues.StatusExpired, "0")(m, id)
			}, func(t *testing.T, m *machine, id string, cmds []Command) {
				if !m.done || m.state != Cancelled {
					t.Fatalf("done %v state %s", m.done, m.state)
				}
			}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestMachine(t, "2.2166", true)
			cmds := m.Step(Event{Kind: EvStart}, t0)
			cmds = append(cmds, m.Step(Event{Kind: EvTimer}, t0.Add(time.Minute))...)
			ps := places(cmds)
			if len(ps) == 0 {
				t.Fatal("no child placed a minute in")
			}
			id := ps[0].Request.Order.ClientOrderID
			now := t0.Add(time.Minute)
			for _, s := range tc.steps {
				ev := s.ev(m, id)
				switch {
				case s.name == "an hour later nothing new goes there":
					now = now.Add(time.Hour)
				case strings.HasPrefix(s.name, "reject"):
					// time passes until the venue gets its next child (the retry interval, then the next slice)
					for i := 0; i < 60; i++ {
						now = now.Add(5 * time.Second)
						if ps := places(m.Step(Event{Kind: EvTimer}, now)); len(ps) > 0 && ps[0].Venue == m.byID[id].v.name {
							break
						}
					}
				}
				out := m.Step(ev, now)
				if s.check != nil {
					s.check(t, m, id, out)
				}
				checkInvariants(t, m)
			}
		})
	}
}

// qtyOr is the child's quantity for "q", else the decimal s.
func qtyOr(c *mchild, s string) decimal.Decimal {
	if s == "q" {
		return c.qty
	}
	return dec(s)
}

func rejectEv(m *machine, id string) Event {
	return upd(gateway.Update{Kind: gateway.Refused, Venue: m.byID[id].v.name, ClientOrderID: id, Refusal: gateway.RefusedVenue, Reason: "-4164"})
}

// rejectAgain rejects the newest child on the same venue (placed after the retry interval).
func rejectAgain(m *machine, id string) Event {
	v := m.byID[id].v
	newest := id
	for cid, c := range m.byID {
		if c.v == v && c.seq > m.byID[newest].seq {
			newest = cid
		}
	}
	if newest == id || m.byID[newest].state.Final() {
		// force one due: the machine retries after RetryInterval
		return Event{Kind: EvTimer}
	}
	return upd(gateway.Update{Kind: gateway.Refused, Venue: v.name, ClientOrderID: newest, Refusal: gateway.RefusedVenue, Reason: "-4164"})
}

// checkInvariants recomputes from the children what the machine keeps as running totals and checks the
// parent's invariants.
func checkInvariants(t testing.TB, m *machine) {
	t.Helper()
	filled, open, unsettled, live := decimal.Zero, decimal.Zero, 0, 0
	for _, v := range m.venues {
		committed, vfilled, unknown, awaiting := decimal.Zero, decimal.Zero, 0, 0
		for _, c := range m.byID {
			if c.v != v {
				continue
			}
			committed = committed.Add(c.contribution())
			vfilled = vfilled.Add(c.booked)
			if c.state == lifecycle.Unknown {
				unknown++
			}
			if c.awaiting {
				awaiting++
			}
			if c.state.Final() {
				open = open.Add(decimal.Max(c.reported, c.booked).Sub(c.booked))
				if !c.settled && c.booked.LessThan(c.reported) {
					unsettled++
				}
			} else {
				open = open.Add(decimal.Max(c.qty.Sub(c.booked), decimal.Zero))
			}
			if c.state.Live() || (c.state == lifecycle.Intent && c.awaiting) {
				live++
			}
		}
		if !committed.Equal(v.committed) {
			t.Fatalf("%s: running committed %s, recomputed %s", v.name, v.committed, committed)
		}
		if !vfilled.Equal(v.filled) {
			t.Fatalf("%s: running filled %s, recomputed %s", v.name, v.filled, vfilled)
		}
		if unknown != v.unknown || awaiting != v.awaiting {
			t.Fatalf("%s: unknown %d/%d awaiting %d/%d", v.name, v.unknown, unknown, v.awaiting, awaiting)
		}
		if v.committed.GreaterThan(v.allocated) {
			t.Fatalf("%s: committed %s above allocated %s", v.name, v.committed, v.allocated)
		}
		filled = filled.Add(vfilled)
	}
	if unsettled != m.unsettled || live != m.live {
		t.Fatalf("unsettled %d/%d live %d/%d", m.unsettled, unsettled, m.live, live)
	}
	if !filled.Equal(m.filled) {
		t.Fatalf("filled %s, recomputed %s", m.filled, filled)
	}
	if filled.Add(open).GreaterThan(m.req.Quantity) {
		t.Fatalf("filled %s + open %s exceeds the parent's %s", filled, open, m.req.Quantity)
	}
	// Every unit is filled, open, unfilled (not yet sent, or stranded) or residual.
	unsent := decimal.Zero
	allocated := decimal.Zero
	for _, v := range m.venues {
		unsent = unsent.Add(v.remaining())
		allocated = allocated.Add(v.allocated)
	}
	if !allocated.Add(m.stranded).Add(m.pl.residual).Equal(m.req.Quantity) {
		t.Fatalf("allocated %s + stranded %s + residual %s ≠ %s", allocated, m.stranded, m.pl.residual, m.req.Quantity)
	}
	if !filled.Add(open).Add(unsent).Add(m.stranded).Add(m.pl.residual).Equal(m.req.Quantity) {
		t.Fatalf("filled %s + open %s + unsent %s + stranded %s + residual %s ≠ %s", filled, open, unsent, m.stranded,
			m.pl.residual, m.req.Quantity)
	}
}

// simVenue answers a machine's commands the way a venue could, at random: accept and fill (all, part, none),
// reject, refuse before sending, unknown then resolved either way, fills late or twice, health changes.
type simChild struct {
	venue, id string
	qty       decimal.Decimal
	filled    decimal.Decimal
	state     string // "placing", "unknown", "final"
	trades    int
}

// TestMachineRandomSequences drives long random event sequences and checks the invariants after every step.
func TestMachineRandomSequences(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			m := newTestMachine(t, "2.2166", rng.IntN(2) == 0)
			if seed%2 == 0 { // maker-first: children rest, are pulled at their deadline, cross when behind
				m.req.Execution, m.prm.MakerTolerance = ExecMakerFirst, 0.1
				if seed%4 == 0 {
					m.prm.MakerAhead = 0.05 // maker children offer beyond what is due
				}
			}
			now := t0
			used := map[string]bool{}
			kids := map[string]*simChild{}
			var order []string
			unknownVenue := map[string]int{}
			apply := func(ev Event) {
				unknownBefore := map[string]int{}
				for k, v := range unknownVenue {
					unknownBefore[k] = v
				}
				for _, c := range m.Step(ev, now) {
					if c.Kind != CmdPlace {
						continue
					}
					o := c.Request.Order
					if used[o.ClientOrderID] {
						t.Fatalf("client order id %s used twice", o.ClientOrderID)
					}
					used[o.ClientOrderID] = true
					if o.ReduceOnly != m.req.ReduceOnly {
						t.Fatalf("child %s reduce-only %v, parent %v", o.ClientOrderID, o.ReduceOnly, m.req.ReduceOnly)
					}
					if unknownBefore[c.Venue] > 0 {
						t.Fatalf("child sent to %s while an outcome there is unknown", c.Venue)
					}
					if len(o.ClientOrderID) > 32 {
						t.Fatalf("client id %q too long", o.ClientOrderID)
					}
					kids[o.ClientOrderID] = &simChild{venue: c.Venue, id: o.ClientOrderID, qty: o.Quantity, filled: decimal.Zero, state: "placing"}
					order = append(order, o.ClientOrderID)
				}
				checkInvariants(t, m)
			}
			apply(Event{Kind: EvStart})
			for step := 0; step < 400 && !m.done; step++ {
				// pick something to happen
				var open []*simChild
				for _, id := range order {
					if k := kids[id]; k.state != "final" || k.trades > 0 {
						open = append(open, k)
					}
				}
				r := rng.IntN(100)
				switch {
				case r < 30 || len(open) == 0:
					now = now.Add(time.Duration(rng.IntN(30)+1) * time.Second)
					apply(Event{Kind: EvTimer})
				case r < 95:
					k := open[rng.IntN(len(open))]
					apply(randomAnswer(rng, m, k, unknownVenue))
				case r < 97:
					v := m.venues[rng.IntN(len(m.venues))]
					h := []gateway.Health{gateway.Up, gateway.Degraded, gateway.Down}[rng.IntN(3)]
					apply(Event{Kind: EvUpdate, Update: gateway.Update{Kind: gateway.HealthChanged, Venue: v.name, Health: h},
						Caps: map[string]decimal.Decimal{"a": dec("5"), "b": dec("5")}})
				case r < 98:
					apply(Event{Kind: EvCancel})
				case rng.IntN(2) == 0:
					prm := testParams()
					prm.Venues["a"] = VenueParams{Weight: decimal.NewFromInt(int64(rng.IntN(4))).Div(dec("2")), Enabled: rng.IntN(4) != 0}
					prm.Venues["b"] = VenueParams{Weight: decimal.NewFromInt(int64(rng.IntN(3))), Enabled: rng.IntN(5) != 0}
					apply(Event{Kind: EvParams, Params: prm, Caps: map[string]decimal.Decimal{"a": dec("5"), "b": dec("5")}})
				default:
					apply(Event{Kind: EvTrading, Trading: []risk.State{risk.Active, risk.Reducing, risk.Halted}[rng.IntN(3)]})
				}
			}
			// Let everything answer and time run out: the parent must end.
			for i := 0; i < 2000 && !m.done; i++ {
				progressed := false
				for _, id := range order {
					k := kids[id]
					switch {
					case k.state != "final":
						apply(finalAnswer(m, k, unknownVenue))
						progressed = true
					case k.trades > 0:
						k.trades = 0
						apply(upd(gateway.Update{Kind: gateway.Settled, Venue: k.venue, ClientOrderID: k.id}))
						progressed = true
					}
				}
				if !progressed {
					now = now.Add(10 * time.Second)
					apply(Event{Kind: EvTimer})
				}
			}
			if !m.done {
				t.Fatalf("parent never ended: state %s placing %d live %d unsettled %d", m.state, m.placing, m.live, m.unsettled)
			}
		})
	}
}

func randomAnswer(rng *rand.Rand, m *machine, k *simChild, unknownVenue map[string]int) Event {
	u := gateway.Update{Venue: k.venue, ClientOrderID: k.id, Quantity: k.qty, Price: dec("10500")}
	if k.state == "final" {
		// a late fill of what the venue reported, or a duplicate of one
		k.trades--
		return upd(gateway.Update{Kind: gateway.Filled, Venue: k.venue, ClientOrderID: k.id,
			Fill: venues.Fill{Venue: k.venue, ClientOrderID: k.id, TradeID: k.id + "-late", Quantity: dec("0.001"), Price: dec("10500")}})
	}
	switch rng.IntN(8) {
	case 0:
		if k.state == "placing" {
			k.state = "unknown"
			unknownVenue[k.venue]++
			u.Kind, u.Reason = gateway.Unknown, "timeout"
			return upd(u)
		}
		fallthrough
	case 1:
		return finalAnswer(m, k, unknownVenue)
	case 2:
		k.markFinal(unknownVenue)
		u.Kind, u.Refusal, u.Reason = gateway.Refused, []gateway.Refusal{gateway.RefusedRisk, gateway.RefusedVenue,
			gateway.RefusedNotSent, gateway.RefusedCapacity, gateway.RefusedBreaker}[rng.IntN(5)], "no"
		return upd(u)
	case 3:
		// a partial fill booked before the answer
		if k.filled.LessThan(k.qty) {
			k.filled = k.filled.Add(dec("0.001"))
			return upd(gateway.Update{Kind: gateway.Filled, Venue: k.venue, ClientOrderID: k.id,
				Fill: venues.Fill{Venue: k.venue, ClientOrderID: k.id, TradeID: fmt.Sprintf("%s-%s", k.id, k.filled), Quantity: dec("0.001"), Price: dec("10500")}})
		}
		return finalAnswer(m, k, unknownVenue)
	default:
		return finalAnswer(m, k, unknownVenue)
	}
}

func (k *simChild) markFinal(unknownVenue map[string]int) {
	if k.state == "unknown" {
		unknownVenue[k.venue]--
	}
	k.state = "final"
}

// finalAnswer ends a child: accepted (IOC: expired with what it filled, reporting one more lot than booked
// sometimes), or resolved not found after an unknown outcome.
func finalAnswer(m *machine, k *simChild, unknownVenue map[string]int) Event {
	wasUnknown := k.state == "unknown"
	k.markFinal(unknownVenue)
	if wasUnknown && k.filled.IsZero() && len(k.id)%2 == 0 {
		return upd(gateway.Update{Kind: gateway.Resolved, Venue: k.venue, ClientOrderID: k.id, NotFound: true})
	}
	reported := k.filled
	if len(k.id)%3 == 0 && reported.LessThan(k.qty) {
		reported = reported.Add(dec("0.001")) // a fill the stream will deliver late (or never)
		k.trades = 1
	}
	kind := gateway.Accepted
	if wasUnknown {
		kind = gateway.Resolved
	}
	status := venues.StatusExpired
	if reported.Equal(k.qty) {
		status = venues.StatusFilled
	}
	return upd(gateway.Update{Kind: kind, Venue: k.venue, ClientOrderID: k.id, Quantity: k.qty, Price: dec("10500"),
		Order: venues.Order{ClientOrderID: k.id, Status: status, FilledQty: reported}})
}

// Rejections in a row (business rejections, which the breaker does not count) take the venue out of the parent
// and move its unsent remainder to the other venue; every unit stays accounted for.
func TestMachineRejectionsTakeVenueOut(t *testing.T) {
	m := newTestMachine(t, "2.2166", true)
	m.Step(Event{Kind: EvStart}, t0)
	now := t0
	rejected := 0
	for i := 0; i < 80 && m.venue("a").out == ""; i++ {
		now = now.Add(5 * time.Second)
		for _, c := range places(m.Step(Event{Kind: EvTimer}, now)) {
			if c.Venue != "a" {
				continue
			}
			m.Step(upd(gateway.Update{Kind: gateway.Refused, Venue: "a", ClientOrderID: c.Request.Order.ClientOrderID,
				Refusal: gateway.RefusedVenue, Reason: "-2022"}), now)
			rejected++
			checkInvariants(t, m)
		}
	}
	a, b := m.venue("a"), m.venue("b")
	if a.out == "" || rejected != 3 || a.rejected != 3 {
		t.Fatalf("out %q after %d rejections (venue counts %d)", a.out, rejected, a.rejected)
	}
	if !a.allocated.IsZero() || !b.allocated.Add(m.stranded).Add(m.pl.residual).Equal(m.req.Quantity) {
		t.Fatalf("a keeps %s; b %s + stranded %s + residual %s ≠ %s", a.allocated, b.allocated, m.stranded, m.pl.residual, m.req.Quantity)
	}
	for i := 0; i < 10; i++ {
		now = now.Add(5 * time.Second)
		for _, c := range places(m.Step(Event{Kind: EvTimer}, now)) {
			if c.Venue == "a" {
				t.Fatal("a child went to a venue taken out")
			}
		}
	}
}
