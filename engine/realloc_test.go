package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/risk"
	"github.com/execd-dev/execd/venues"
)

// reallocHarness drives a machine as a venue that fills every child in full at once, and records what it sent
// where.
type reallocHarness struct {
	t        *testing.T
	m        *machine
	now      time.Time
	sent     map[string]decimal.Decimal // venue → quantity sent
	placed   []Command
	reallocs []Reallocation
}

func newReallocHarness(t *testing.T, reduceOnly bool) *reallocHarness {
	h := &reallocHarness{t: t, m: newTestMachine(t, "2.2166", reduceOnly), now: t0, sent: map[string]decimal.Decimal{}}
	h.step(Event{Kind: EvStart})
	return h
}

// step applies ev, answers every placement it makes (accepted, filled in full, the fill booked) and checks the
// invariants after each step.
func (h *reallocHarness) step(ev Event) []Command {
	h.t.Helper()
	cmds := h.m.Step(ev, h.now)
	checkInvariants(h.t, h.m)
	for _, c := range cmds {
		if c.Kind == CmdRealloc {
			h.reallocs = append(h.reallocs, c.Realloc)
		}
	}
	for _, c := range places(cmds) {
		h.placed = append(h.placed, c)
		o := c.Request.Order
		h.sent[c.Venue] = h.sent[c.Venue].Add(o.Quantity)
		h.step(upd(gateway.Update{Kind: gateway.Accepted, Venue: c.Venue, ClientOrderID: o.ClientOrderID,
			Quantity: o.Quantity, Price: dec("10500"), Order: venues.Order{ClientOrderID: o.ClientOrderID,
				Status: venues.StatusFilled, FilledQty: o.Quantity}}))
		h.step(upd(gateway.Update{Kind: gateway.Filled, Venue: c.Venue, ClientOrderID: o.ClientOrderID,
			Fill: venues.Fill{Venue: c.Venue, ClientOrderID: o.ClientOrderID, TradeID: o.ClientOrderID + "-t",
				Quantity: o.Quantity, Price: dec("10500")}}))
	}
	return cmds
}

// until advances the clock in steps of d to at, firing the timer each time, and returns the placements made.
func (h *reallocHarness) until(at time.Time, d time.Duration) []Command {
	h.t.Helper()
	n := len(h.placed)
	for h.now.Before(at) && !h.m.done {
		h.now = h.now.Add(d)
		h.step(Event{Kind: EvTimer})
	}
	return h.placed[n:]
}

func (h *reallocHarness) health(venue string, hl gateway.Health) {
	h.t.Helper()
	h.step(Event{Kind: EvUpdate, Update: gateway.Update{Kind: gateway.HealthChanged, Venue: venue, Health: hl}})
}

func (h *reallocHarness) lastRealloc(t *testing.T, contains string) Reallocation {
	t.Helper()
	if len(h.reallocs) == 0 || !strings.Contains(h.reallocs[len(h.reallocs)-1].Reason, contains) {
		t.Fatalf("last re-allocation %+v, want a reason with %q", h.reallocs, contains)
	}
	return h.reallocs[len(h.reallocs)-1]
}

func onVenue(cmds []Command, venue string) int {
	n := 0
	for _, c := range cmds {
		if c.Venue == venue {
			n++
		}
	}
	return n
}

// A venue whose breaker opens gives its unsent remainder to the other at once; when it is back, later slices use
// it again; and again when it goes down a second time: work moves both ways, every time, and every unit stays
// accounted for (checkInvariants after every step). The parent ends filled.
func TestMachineWorkMovesBothWays(t *testing.T) {
	h := newReallocHarness(t, false)
	m := h.m
	a, b := m.venue("a"), m.venue("b")
	h.until(t0.Add(time.Minute), time.Second)
	if h.sent["a"].IsZero() || h.sent["b"].IsZero() {
		t.Fatalf("both venues should have traded in the first minute: %v", h.sent)
	}
	aLeft, bLeft := a.remaining(), b.remaining()

	h.health("a", gateway.Down)
	r := h.lastRealloc(t, "a circuit breaker open")
	if !a.remaining().IsZero() || !b.remaining().Equal(aLeft.Add(bLeft)) || !r.Venues[0].Before.Equal(aLeft) ||
		!r.Venues[0].After.IsZero() || r.Venues[0].Available || !r.Venues[1].After.Equal(aLeft.Add(bLeft)) {
		t.Fatalf("after a went down: a %s b %s (before %s, %s); record %+v", a.remaining(), b.remaining(), aLeft, bLeft, r)
	}
	if got := onVenue(h.until(t0.Add(2*time.Minute), time.Second), "a"); got != 0 {
		t.Fatalf("%d children sent to a while its breaker was open", got)
	}

	h.health("a", gateway.Degraded) // half-open: probes go out
	h.lastRealloc(t, "a available again (was: circuit breaker open)")
	if !a.remaining().IsPositive() {
		t.Fatal("a got nothing back")
	}
	if got := onVenue(h.until(t0.Add(3*time.Minute), time.Second), "a"); got == 0 {
		t.Fatal("no child went to a after it came back")
	}

	h.health("a", gateway.Down)
	h.lastRealloc(t, "a circuit breaker open")
	if !a.remaining().IsZero() {
		t.Fatalf("a keeps %s after going down again", a.remaining())
	}
	h.health("a", gateway.Up)
	h.until(t0.Add(10*time.Minute), time.Second)
	if !m.done || m.state != Done || !m.filled.Add(m.pl.residual).Equal(m.req.Quantity) {
		t.Fatalf("state %s done %v filled %s residual %s of %s", m.state, m.done, m.filled, m.pl.residual, m.req.Quantity)
	}
	if m.reallocN != 4 || len(m.report(h.now).Reallocations) != 4 {
		t.Fatalf("%d re-allocations recorded, want 4", m.reallocN)
	}
}

// Disabling a venue by ops moves its remainder and sends nothing there; enabling it brings work back; a weight
// change moves the unsent remainder in proportion to volume share × weight.
func TestMachineOpsMoveWork(t *testing.T) {
	h := newReallocHarness(t, false)
	m := h.m
	a, b := m.venue("a"), m.venue("b")
	h.until(t0.Add(time.Minute), time.Second)

	prm := testParams()
	prm.Venues["a"] = VenueParams{Weight: dec("1"), Enabled: false}
	h.step(Event{Kind: EvParams, Params: prm})
	h.lastRealloc(t, "a disabled by ops")
	if !a.remaining().IsZero() {
		t.Fatalf("a keeps %s once disabled", a.remaining())
	}
	if got := onVenue(h.until(t0.Add(90*time.Second), time.Second), "a"); got != 0 {
		t.Fatalf("%d children sent to a disabled venue", got)
	}

	prm.Venues["a"] = VenueParams{Weight: dec("3"), Enabled: true}
	h.step(Event{Kind: EvParams, Params: prm})
	r := h.lastRealloc(t, "a available again (was: disabled by ops); a weight 1 → 3")
	pool := r.Venues[0].After.Add(r.Venues[1].After)
	// Equal volume shares, weights 3 and 1: a gets three quarters, to the lot.
	if want := pool.Mul(dec("0.75")); a.remaining().Sub(want).Abs().GreaterThan(dec("0.002")) {
		t.Fatalf("a got %s of %s, want about %s", a.remaining(), pool, want)
	}

	prm.Venues["a"] = VenueParams{Weight: dec("0"), Enabled: true}
	before := b.remaining()
	h.step(Event{Kind: EvParams, Params: prm})
	h.lastRealloc(t, "a weight 3 → 0")
	if !a.remaining().IsZero() || !b.remaining().GreaterThan(before) {
		t.Fatalf("weight 0: a keeps %s, b %s (was %s)", a.remaining(), b.remaining(), before)
	}
	h.until(t0.Add(10*time.Minute), time.Second)
	if m.state != Done || !m.filled.Add(m.pl.residual).Equal(m.req.Quantity) {
		t.Fatalf("state %s filled %s", m.state, m.filled)
	}
}

// Halted: nothing is sent until trading resumes; then what fell behind is re-spread over the time left, never
// sent as one large child. Reducing pauses a parent that is not reduce-only and lets a reduce-only one go on.
func TestMachineHaltPausesAndRespreads(t *testing.T) {
	h := newReallocHarness(t, false)
	m := h.m
	h.until(t0.Add(time.Minute), time.Second)
	h.step(Event{Kind: EvTrading, Trading: risk.Halted})
	h.lastRealloc(t, "trading halted: paused")
	if got := h.until(t0.Add(3*time.Minute), time.Second); len(got) != 0 {
		t.Fatalf("%d children sent while halted", len(got))
	}
	behind := m.venue("a").remaining().Add(m.venue("b").remaining())
	h.step(Event{Kind: EvTrading, Trading: risk.Active})
	h.lastRealloc(t, "trading active: resumed")
	// Two minutes left of five: what is due at once is one slice's worth per venue, not the two minutes missed.
	burst := h.until(h.now.Add(time.Second), time.Second)
	sum := decimal.Zero
	for _, c := range burst {
		sum = sum.Add(c.Request.Order.Quantity)
	}
	if sum.GreaterThan(behind.Div(dec("3"))) {
		t.Fatalf("%s sent in the first second after resuming, of %s left: dumped, not re-spread", sum, behind)
	}
	h.until(t0.Add(10*time.Minute), time.Second)
	if m.state != Done || !m.filled.Add(m.pl.residual).Equal(m.req.Quantity) {
		t.Fatalf("state %s filled %s", m.state, m.filled)
	}

	h = newReallocHarness(t, false)
	h.step(Event{Kind: EvTrading, Trading: risk.Reducing})
	if got := h.until(t0.Add(time.Minute), time.Second); len(got) != 0 {
		t.Fatalf("%d children of a parent that is not reduce-only sent while reducing", len(got))
	}
	h = newReallocHarness(t, true)
	h.step(Event{Kind: EvTrading, Trading: risk.Reducing})
	if got := h.until(t0.Add(time.Minute), time.Second); len(got) == 0 {
		t.Fatal("a reduce-only parent was paused by reducing")
	}
}

// With every venue down, the remainder is stranded and the reason says so; a venue that comes back (even one
// whose outcome was unknown when it did) takes it, and the reason is cleared once nothing is stranded.
func TestMachineStrandedFindsVenueAgain(t *testing.T) {
	h := newReallocHarness(t, false)
	m := h.m
	h.until(t0.Add(30*time.Second), time.Second)
	h.health("a", gateway.Down)
	h.health("b", gateway.Down)
	left := m.req.Quantity.Sub(m.pl.residual).Sub(m.filled)
	if !m.stranded.Equal(left) || !strings.Contains(m.reason, "has no venue that can take it") {
		t.Fatalf("stranded %s of %s left; reason %q", m.stranded, left, m.reason)
	}
	h.health("b", gateway.Up)
	if !m.stranded.IsZero() || !m.venue("b").remaining().Equal(left) || m.reason != "" {
		t.Fatalf("b back: stranded %s, b %s of %s; reason %q", m.stranded, m.venue("b").remaining(), left, m.reason)
	}
	h.until(t0.Add(10*time.Minute), time.Second)
	if m.state != Done || !m.filled.Add(m.pl.residual).Equal(m.req.Quantity) {
		t.Fatalf("state %s filled %s", m.state, m.filled)
	}
}

// A breaker refusal parks the venue with the health the gateway reports with it: if the breaker already let go,
// the venue is not parked for ever waiting for a health change that will not come.
func TestMachineBreakerRefusalTakesGatewayHealth(t *testing.T) {
	for _, c := range []struct {
		health gateway.Health
		parked bool
	}{{gateway.Down, true}, {gateway.Degraded, false}, {"", true}} {
		m := newTestMachine(t, "2.2166", false)
		id, now := firstChildOn(t, m, "a")
		m.Step(upd(gateway.Update{Kind: gateway.Refused, Venue: "a", ClientOrderID: id, Refusal: gateway.RefusedBreaker,
			Reason: "breaker open", Health: c.health}), now)
		checkInvariants(t, m)
		if parked := m.venue("a").parked != ""; parked != c.parked {
			t.Errorf("health %q: parked %v, want %v", c.health, parked, c.parked)
		}
	}
}

// An order whose outcome is unknown stops new work on its venue: its unsent remainder moves to the others at once
// (a venue that answers nothing may take long to resolve it) and work comes back once the outcome is known.
func TestMachineUnknownOutcomeMovesWork(t *testing.T) {
	m := newTestMachine(t, "2.2166", false)
	id, now := firstChildOn(t, m, "a")
	a, b := m.venue("a"), m.venue("b")
	cmds := m.Step(upd(gateway.Update{Kind: gateway.Unknown, Venue: "a", ClientOrderID: id, Reason: "timeout"}), now)
	checkInvariants(t, m)
	if !a.remaining().IsZero() || !strings.Contains(lastRealloc(cmds), "a has an order whose outcome is unknown") {
		t.Fatalf("a keeps %s unsent with an unknown outcome (%q)", a.remaining(), lastRealloc(cmds))
	}
	bLeft := b.remaining()
	qty := m.byID[id].qty
	cmds = m.Step(upd(gateway.Update{Kind: gateway.Resolved, Venue: "a", ClientOrderID: id, Quantity: qty,
		Order: venues.Order{ClientOrderID: id, Status: venues.StatusExpired}}), now)
	checkInvariants(t, m)
	if !a.remaining().IsPositive() || !b.remaining().LessThan(bLeft.Add(qty)) ||
		!strings.Contains(lastRealloc(cmds), "a outcomes known again") {
		t.Fatalf("after resolution a has %s, b %s (was %s): %q", a.remaining(), b.remaining(), bLeft, lastRealloc(cmds))
	}
}

func lastRealloc(cmds []Command) string {
	r := ""
	for _, c := range cmds {
		if c.Kind == CmdRealloc {
			r = c.Realloc.Reason
		}
	}
	return r
}

// firstChildOn starts m and steps its timer a second at a time until it places a child on venue, left unanswered;
// it returns the child's id and the time it was placed.
func firstChildOn(t *testing.T, m *machine, venue string) (string, time.Time) {
	t.Helper()
	ev := Event{Kind: EvStart}
	for now := t0; now.Before(t0.Add(time.Minute)); now = now.Add(time.Second) {
		cmds := m.Step(ev, now)
		ev = Event{Kind: EvTimer}
		for _, c := range places(cmds) {
			if c.Venue == venue {
				return c.Request.Order.ClientOrderID, now
			}
		}
	}
	t.Fatalf("no child on %s in the first minute", venue)
	return "", time.Time{}
}

// TestMachineReallocateNetsOverCommitment: a venue that committed beyond its allocation (a journal restored on
// partial totals) nets against what the others get when work moves: the parent's total never grows, and no venue
// is left committed beyond its allocation.
func TestMachineReallocateNetsOverCommitment(t *testing.T) {
	h := newReallocHarness(t, true)
	h.until(t0.Add(2*time.Minute), time.Second)
	a, b := h.m.pl.work[0], h.m.pl.work[1]
	if !a.committed.IsPositive() {
		t.Fatal("nothing committed on a after two minutes")
	}
	over := dec("0.05")
	shift := a.allocated.Sub(a.committed.Sub(over)) // the parent's total stays what it was
	a.allocated = a.allocated.Sub(shift)
	b.allocated = b.allocated.Add(shift)
	total := a.allocated.Add(b.allocated).Add(h.m.stranded)
	h.health("a", gateway.Down) // a takes nothing of the pool: its over-commitment must come out of b's part
	if got := a.allocated.Add(b.allocated).Add(h.m.stranded); !got.Equal(total) {
		t.Fatalf("allocated + stranded %s after the move, %s before", got, total)
	}
	for _, v := range h.m.pl.work {
		if v.remaining().IsNegative() {
			t.Fatalf("%s: committed %s above allocated %s", v.name, v.committed, v.allocated)
		}
	}
	checkInvariants(t, h.m)
	h.health("a", gateway.Up)
	h.until(h.m.pl.deadline.Add(time.Minute), time.Second)
	if sent := h.sent["a"].Add(h.sent["b"]); sent.GreaterThan(total.Sub(h.m.stranded)) {
		t.Fatalf("sent %s (a %s, b %s) for a parent of %s", sent, h.sent["a"], h.sent["b"], total)
	}
}

// TestMachineOverCommittedBeyondTheParent: venues committed beyond the parent's quantity (a journal restored on
// partial totals) keep the excess as a negative stranded quantity, and what the over-committed child leaves
// unfilled nets against it: nothing is sent beyond the parent.
func TestMachineOverCommittedBeyondTheParent(t *testing.T) {
	m := newTestMachine(t, "2.2166", true)
	now := t0
	first := restUntilPlaced(t, m, &now, m.Step(Event{Kind: EvStart}, now), "a")
	a, b := m.pl.work[0], m.pl.work[1]
	c := m.byID[first.Request.Order.ClientOrderID]
	c.qty = a.allocated.Add(b.remaining()).Add(dec("0.1")) // 0.1 beyond everything the venues may still send
	m.touch(c)
	var out []Command
	m.level(now, nil, &out)
	if !m.stranded.Equal(dec("-0.1")) {
		t.Fatalf("stranded %s, want -0.1", m.stranded)
	}
	// The child ends with a third filled; everything after is filled in full at once.
	third := a.rules.FloorQty(c.qty.Div(dec("3")))
	filled := third
	cmds := m.Step(upd(gateway.Update{Kind: gateway.Accepted, Venue: "a", ClientOrderID: c.id, Quantity: c.qty,
		Order: venues.Order{ClientOrderID: c.id, Status: venues.StatusExpired, FilledQty: third, TimeInForce: venues.IOC}}), now)
	cmds = append(cmds, m.Step(upd(gateway.Update{Kind: gateway.Filled, Venue: "a", ClientOrderID: c.id,
		Fill: venues.Fill{Venue: "a", ClientOrderID: c.id, TradeID: c.id + "-t", Quantity: third, Price: dec("10500")}}), now)...)
	for guard := 0; guard < 10000 && !m.done; guard++ {
		ps := places(cmds)
		cmds = nil
		for _, p := range ps {
			o := p.Request.Order
			filled = filled.Add(o.Quantity)
			cmds = append(cmds, m.Step(upd(gateway.Update{Kind: gateway.Accepted, Venue: p.Venue, ClientOrderID: o.ClientOrderID,
				Quantity: o.Quantity, Order: venues.Order{ClientOrderID: o.ClientOrderID, Status: venues.StatusFilled,
					FilledQty: o.Quantity, TimeInForce: venues.IOC}}), now)...)
			cmds = append(cmds, m.Step(upd(gateway.Update{Kind: gateway.Filled, Venue: p.Venue, ClientOrderID: o.ClientOrderID,
				Fill: venues.Fill{Venue: p.Venue, ClientOrderID: o.ClientOrderID, TradeID: o.ClientOrderID + "-t",
					Quantity: o.Quantity, Price: dec("10500")}}), now)...)
		}
		if len(ps) == 0 {
			if !m.armed.After(now) {
				break
			}
			now = m.armed
			cmds = m.Step(Event{Kind: EvTimer}, now)
		}
	}
	if limit := m.req.Quantity.Sub(m.pl.residual); filled.GreaterThan(limit) {
		t.Fatalf("filled %s for a parent of %s", filled, limit)
	}
}
