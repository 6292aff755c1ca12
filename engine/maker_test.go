package engine

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/lifecycle"
	"github.com/execd-dev/execd/venues"
)

// TestMachineMakerFirst: a maker-first parent posts each slice post-only (Peg), pulls a resting child at its
// deadline (the venue's next slice), sends the next child once the pulled one has ended, and crosses at once with
// an IOC, without counting a rejection, what a post-only refusal left.
func TestMachineMakerFirst(t *testing.T) {
	m := newTestMachine(t, "2.2166", true)
	m.req.Execution, m.prm.MakerTolerance = ExecMakerFirst, 0.1
	now := t0
	var cmds []Command
	step := func(ev Event) { cmds = m.Step(ev, now) }
	step(Event{Kind: EvStart})
	var first Command
	for first.Kind == 0 {
		for _, c := range places(cmds) {
			if c.Venue == "a" {
				first = c
			}
		}
		if first.Kind != 0 {
			break
		}
		if !m.armed.After(now) || m.armed.After(m.pl.deadline) {
			t.Fatalf("no child on a by %v (next wake %v)", now, m.armed)
		}
		now = m.armed
		step(Event{Kind: EvTimer})
	}
	o := first.Request.Order
	if !first.Request.Peg || o.TimeInForce != venues.PostOnly || !o.ReduceOnly {
		t.Fatalf("first child on a: peg %v tif %s reduce-only %v; want a pegged post-only reduce-only child",
			first.Request.Peg, o.TimeInForce, o.ReduceOnly)
	}
	c := m.byID[o.ClientOrderID]
	if c.deadline.IsZero() || !c.deadline.After(now) || c.deadline.After(m.pl.deadline) {
		t.Fatalf("deadline %v (now %v, parent end %v)", c.deadline, now, m.pl.deadline)
	}
	step(upd(gateway.Update{Kind: gateway.Accepted, Venue: "a", ClientOrderID: c.id, Quantity: c.qty, Price: dec("10489.9"),
		Order: venues.Order{ClientOrderID: c.id, Status: venues.StatusNew, TimeInForce: venues.PostOnly}}))
	// Nothing else starts on a while it rests; at its deadline it is pulled.
	for now.Before(c.deadline) {
		if !m.armed.After(now) || m.armed.After(c.deadline) {
			t.Fatalf("next wake %v at %v, the resting child's deadline %v", m.armed, now, c.deadline)
		}
		now = m.armed
		step(Event{Kind: EvTimer})
		for _, p := range places(cmds) {
			if p.Venue == "a" {
				t.Fatalf("a child on a while %s rests: %+v", c.id, p.Request.Order)
			}
		}
	}
	pulled := false
	for _, x := range cmds {
		pulled = pulled || (x.Kind == CmdCancel && x.Request.Order.ClientOrderID == c.id)
	}
	if !pulled || !c.pulled {
		t.Fatalf("at its deadline the resting child was not pulled: %+v", cmds)
	}
	// It ended with a third filled: the next child on a carries the rest of the slice.
	third := m.pl.work[0].rules.FloorQty(c.qty.Div(dec("3")))
	step(upd(gateway.Update{Kind: gateway.Resolved, Venue: "a", ClientOrderID: c.id,
		Order: venues.Order{ClientOrderID: c.id, Status: venues.StatusCanceled, FilledQty: third}}))
	var next Command
	for _, p := range places(cmds) {
		if p.Venue == "a" {
			next = p
		}
	}
	if next.Kind == 0 || !next.Request.Order.Quantity.GreaterThan(c.qty.Sub(third)) {
		t.Fatalf("after the pull: %+v; want a child on a carrying more than the %s left", next, c.qty.Sub(third))
	}
	t.Logf("next child: peg %v urgency %.3f", next.Request.Peg, next.Request.Urgency)
	// It is behind its schedule by what the pulled child left: a maker child priced with that urgency.
	if first.Request.Urgency != 0 || (next.Request.Peg && !(next.Request.Urgency > 0 && next.Request.Urgency <= 1)) ||
		(!next.Request.Peg && next.Request.Urgency != 0) {
		t.Fatalf("urgency of the first child %v, of the next %v (peg %v)", first.Request.Urgency, next.Request.Urgency, next.Request.Peg)
	}
	// A post-only refusal (Binance -5022: the price came to the order) is no rejection streak: what it left is
	// posted again at once at the new touch, and crossed with an IOC after maxRefusals in a row.
	if !next.Request.Peg {
		t.Fatalf("the next child is not pegged: %+v", next.Request)
	}
	rejects := m.pl.work[0].rejects
	refused := next
	for i := 1; i <= maxRefusals; i++ {
		n := m.byID[refused.Request.Order.ClientOrderID]
		step(upd(gateway.Update{Kind: gateway.Refused, Venue: "a", ClientOrderID: n.id, Refusal: gateway.RefusedVenue,
			Reason: "-5022 post only order will be rejected"}))
		if m.pl.work[0].rejects != rejects {
			t.Fatalf("a post-only refusal counted as a rejection: %d", m.pl.work[0].rejects)
		}
		var again Command
		for _, p := range places(cmds) {
			if p.Venue == "a" {
				again = p
			}
		}
		switch {
		case again.Kind == 0:
			t.Fatalf("refusal %d: nothing placed on a at once", i)
		case i < maxRefusals && (!again.Request.Peg || again.Request.Order.TimeInForce != venues.PostOnly ||
			!again.Request.Order.Quantity.Equal(n.qty)):
			t.Fatalf("refusal %d: %+v; want the %s posted again, post-only", i, again.Request, n.qty)
		case i == maxRefusals && (again.Request.Peg || again.Request.Order.TimeInForce != venues.IOC):
			t.Fatalf("refusal %d: %+v; want an IOC on a at once", i, again.Request)
		}
		refused = again
	}
	checkInvariants(t, m)
}

// restUntilPlaced steps m's timers until a child is placed on venue, and returns that placement. Children placed
// on other venues meanwhile are answered at once: expired unfilled.
func restUntilPlaced(t *testing.T, m *machine, now *time.Time, cmds []Command, venue string) Command {
	t.Helper()
	for {
		var found *Command
		var more []Command
		for _, c := range places(cmds) {
			if c.Venue == venue {
				found = &c
				continue
			}
			o := c.Request.Order
			more = append(more, m.Step(upd(gateway.Update{Kind: gateway.Accepted, Venue: c.Venue, ClientOrderID: o.ClientOrderID,
				Quantity: o.Quantity, Order: venues.Order{ClientOrderID: o.ClientOrderID, Status: venues.StatusExpired,
					TimeInForce: venues.IOC}}), *now)...)
		}
		if found != nil {
			if len(places(more)) > 0 {
				t.Fatalf("answering other venues placed more: %+v", places(more))
			}
			return *found
		}
		if len(places(more)) > 0 {
			cmds = more
			continue
		}
		if !m.armed.After(*now) || m.armed.After(m.pl.deadline) {
			t.Fatalf("no child on %s by %v (next wake %v)", venue, *now, m.armed)
		}
		*now = m.armed
		cmds = m.Step(Event{Kind: EvTimer}, *now)
	}
}

// resting is the venue's answer to a post-only child: accepted, resting at 10489.9.
func resting(venue string, o venues.OrderRequest) Event {
	return upd(gateway.Update{Kind: gateway.Accepted, Venue: venue, ClientOrderID: o.ClientOrderID, Quantity: o.Quantity,
		Price: dec("10489.9"), Order: venues.Order{ClientOrderID: o.ClientOrderID, Status: venues.StatusNew,
			TimeInForce: venues.PostOnly}})
}

func has(cmds []Command, kind CommandKind, id string) bool {
	for _, c := range cmds {
		if c.Kind == kind && (id == "" || c.Request.Order.ClientOrderID == id) {
			return true
		}
	}
	return false
}

// TestMachineMakerStop: a stopping engine leaves nothing resting unwatched. A resting maker child is pulled when
// the stop comes, one accepted after it is pulled when its acceptance comes, and the runner's work ends only
// when their cancels are answered.
func TestMachineMakerStop(t *testing.T) {
	for _, acceptedAfter := range []bool{false, true} {
		m := newTestMachine(t, "2.2166", true)
		m.req.Execution, m.prm.MakerTolerance = ExecMakerFirst, 0.1
		now := t0
		first := restUntilPlaced(t, m, &now, m.Step(Event{Kind: EvStart}, now), "a")
		id := first.Request.Order.ClientOrderID
		accept := resting("a", first.Request.Order)
		if !acceptedAfter {
			m.Step(accept, now)
		}
		cmds := m.Step(Event{Kind: EvStop}, now)
		if has(cmds, CmdCancel, id) != !acceptedAfter || has(cmds, CmdDone, "") {
			t.Fatalf("accepted after the stop %v: on the stop %+v", acceptedAfter, cmds)
		}
		if acceptedAfter {
			cmds = m.Step(accept, now)
			if !has(cmds, CmdCancel, id) || has(cmds, CmdDone, "") {
				t.Fatalf("accepted after the stop: on its acceptance %+v; want it pulled", cmds)
			}
		}
		if cmds := m.Step(Event{Kind: EvTimer}, now.Add(time.Second)); has(cmds, CmdDone, "") || len(places(cmds)) > 0 {
			t.Fatalf("accepted after the stop %v: while the cancel is pending %+v", acceptedAfter, cmds)
		}
		cmds = m.Step(upd(gateway.Update{Kind: gateway.Resolved, Venue: "a", ClientOrderID: id,
			Order: venues.Order{ClientOrderID: id, Status: venues.StatusCanceled}}), now.Add(time.Second))
		if !has(cmds, CmdDone, "") || len(places(cmds)) > 0 {
			t.Fatalf("accepted after the stop %v: once cancelled %+v; want done, nothing placed", acceptedAfter, cmds)
		}
		if m.state != Working {
			t.Fatalf("a stopped parent is %s; it stays working in the journal", m.state)
		}
		checkInvariants(t, m)
	}
}

// TestMachineUnknownThenAccepted: a maker child whose outcome was unknown and that the venue then reports open is
// open to the machine, so the stop pulls it (left unknown, nothing would ever cancel it).
func TestMachineUnknownThenAccepted(t *testing.T) {
	m := newTestMachine(t, "2.2166", true)
	m.req.Execution, m.prm.MakerTolerance = ExecMakerFirst, 0.1
	now := t0
	first := restUntilPlaced(t, m, &now, m.Step(Event{Kind: EvStart}, now), "a")
	id := first.Request.Order.ClientOrderID
	m.Step(upd(gateway.Update{Kind: gateway.Unknown, Venue: "a", ClientOrderID: id, Reason: "timeout"}), now)
	m.Step(resting("a", first.Request.Order), now)
	if st := m.byID[id].state; st != lifecycle.Open {
		t.Fatalf("state after unknown then accepted: %s; want open", st)
	}
	if cmds := m.Step(Event{Kind: EvStop}, now); !has(cmds, CmdCancel, id) {
		t.Fatalf("on the stop %+v; want %s pulled", cmds, id)
	}
	checkInvariants(t, m)
}

// A parent's markouts are fill-weighted by horizon, in horizon order, whenever they arrive (also after the run
// loop has ended: they do not go through it); a sample that cannot be weighted is dropped.
func TestParentMarkouts(t *testing.T) {
	p := &parent{}
	p.snap.Store(&Report{ID: "p"})
	for _, s := range []gateway.MarkoutSample{
		{Horizon: 10 * time.Second, Bps: -1, Qty: dec("1")},
		{Horizon: time.Second, Bps: 2, Qty: dec("1")},
		{Horizon: 10 * time.Second, Bps: 2, Qty: dec("2")},
		{Horizon: time.Second, Bps: 5, Qty: dec("0")},
		{Horizon: time.Minute, Bps: math.NaN(), Qty: dec("1")},
	} {
		p.Deliver(gateway.Update{Kind: gateway.Markout, Markout: s})
	}
	got := p.Report().Markouts
	if len(got) != 2 || got[0].Horizon != time.Second || got[0].Bps != 2 || !got[0].Qty.Equal(dec("1")) ||
		got[1].Horizon != 10*time.Second || got[1].Bps != 1 || !got[1].Qty.Equal(dec("3")) {
		t.Fatalf("markouts %+v", got)
	}
}

// TestMachineFunding: on a venue whose funding time falls inside the parent, no child rests across it (a maker
// child placed before is pulled fundingGuard before it) and none starts within the guard; at the funding time the
// parent's fills there are attributed the funding they paid: side × filled × rate × mark.
func TestMachineFunding(t *testing.T) {
	m := newTestMachine(t, "2.2166", true)
	m.req.Execution, m.prm.MakerTolerance = ExecMakerFirst, 0.1
	a := m.pl.work[0]
	a.fundRate = dec("0.0001")
	fundAt := a.slices[4].At.Add(fundingGuard / 2) // the fifth slice of a falls due within the guard
	a.nextFunding = fundAt
	now := t0
	var cmds []Command
	filled := decimal.Zero
	trade := 0
	// Every child is answered at once: a maker child fills half and rests, an IOC fills whole.
	answer := func(c Command) {
		o := c.Request.Order
		if c.Venue == "a" && !now.Before(fundAt.Add(-fundingGuard)) && now.Before(fundAt) {
			t.Fatalf("a child on a at %v, within the guard before the funding time %v", now, fundAt)
		}
		if c.Request.Peg {
			if dl := m.byID[o.ClientOrderID].deadline; c.Venue == "a" && now.Before(fundAt) && dl.After(fundAt.Add(-fundingGuard)) {
				t.Fatalf("a maker child on a placed at %v rests until %v, across the funding time %v", now, dl, fundAt)
			}
		}
		q := o.Quantity
		if c.Request.Peg {
			q = m.pl.work[0].rules.FloorQty(q.Div(dec("2")))
		}
		st := venues.StatusFilled
		if c.Request.Peg {
			st = venues.StatusPartiallyFilled
		}
		cmds = append(cmds, m.Step(upd(gateway.Update{Kind: gateway.Accepted, Venue: c.Venue, ClientOrderID: o.ClientOrderID,
			Quantity: o.Quantity, Price: dec("10490"), Order: venues.Order{ClientOrderID: o.ClientOrderID, Status: st,
				FilledQty: q, TimeInForce: o.TimeInForce}}), now)...)
		if q.IsPositive() {
			trade++
			if c.Venue == "a" && now.Before(fundAt) {
				filled = filled.Add(q)
			}
			cmds = append(cmds, m.Step(upd(gateway.Update{Kind: gateway.Filled, Venue: c.Venue, ClientOrderID: o.ClientOrderID,
				Fill: venues.Fill{Venue: c.Venue, Instrument: m.req.Instrument, ClientOrderID: o.ClientOrderID,
					TradeID: fmt.Sprintf("t%d", trade), Side: venues.Buy, Quantity: q, Price: dec("10490"), Fee: dec("0.01"),
					FeeAsset: "USDT", Time: now}}), now)...)
		}
	}
	cmds = m.Step(Event{Kind: EvStart}, now)
	for now.Before(fundAt.Add(time.Second)) {
		for len(cmds) > 0 {
			c := cmds[0]
			cmds = cmds[1:]
			switch c.Kind {
			case CmdPlace:
				answer(c)
			case CmdCancel:
				id := c.Request.Order.ClientOrderID
				ch := m.byID[id]
				cmds = append(cmds, m.Step(upd(gateway.Update{Kind: gateway.Resolved, Venue: c.Venue, ClientOrderID: id,
					Order: venues.Order{ClientOrderID: id, Status: venues.StatusCanceled, FilledQty: ch.reported}}), now)...)
			}
		}
		if !m.armed.After(now) {
			t.Fatalf("no wake after %v", now)
		}
		now = m.armed
		cmds = m.Step(Event{Kind: EvTimer}, now)
		checkInvariants(t, m)
	}
	r := m.report(now)
	va := r.Venues[0]
	want := filled.Mul(dec("0.0001")).Mul(dec("10490")).Round(8)
	if !filled.IsPositive() || va.FundingAt == nil || !va.FundingAt.Equal(fundAt) || !va.Funding.Equal(want) || !r.Funding.Equal(want) {
		t.Fatalf("funding on a: %s at %v (parent %s); want %s on the %s filled before %v", va.Funding, va.FundingAt, r.Funding, want, filled, fundAt)
	}
	if vb := r.Venues[1]; vb.FundingAt != nil || !vb.Funding.IsZero() {
		t.Fatalf("funding on b, which has no funding time: %+v", vb)
	}
}

// TestMachineReplayMovesNoWork: while restore replays the journal's fills (replaying), an update does not move
// work between venues — the venues' totals are partial until every child is restored. Without the guard, a venue
// whose outcome is unknown makes the machine re-allocate at once, cutting the other venues to what they had
// committed so far (crash trial 76 over-filled so).
func TestMachineReplayMovesNoWork(t *testing.T) {
	for _, replaying := range []bool{true, false} {
		m := newTestMachine(t, "2.2166", true)
		a, b := m.pl.work[0], m.pl.work[1]
		allocA, allocB := a.allocated, b.allocated
		m.replaying = replaying
		var ignore []Command
		fill := func(id, trade, qty string) {
			m.onUpdate(upd(gateway.Update{Kind: gateway.Filled, Venue: "b", ClientOrderID: id, Fill: venues.Fill{Venue: "b",
				Instrument: m.req.Instrument, ClientOrderID: id, TradeID: trade, Side: venues.Buy, Quantity: dec(qty),
				Price: dec("10490"), Fee: dec("0.01"), FeeAsset: "USDT", Time: t0}}), t0, &ignore)
		}
		// b's first child and its fill, then a's child whose outcome is unknown, then b's second child's fill.
		for _, c := range []*mchild{
			{v: b, seq: 1, id: "fb1", qty: dec("0.2"), state: lifecycle.Filled, reported: dec("0.2"), trades: map[string]struct{}{}},
		} {
			m.byID[c.id] = c
			m.touch(c)
		}
		fill("fb1", "t1", "0.2")
		ua := &mchild{v: a, seq: 1, id: "ua", qty: dec("0.1"), state: lifecycle.Unknown, trades: map[string]struct{}{}}
		m.setAwaiting(ua, true)
		m.byID[ua.id] = ua
		m.touch(ua)
		fb2 := &mchild{v: b, seq: 2, id: "fb2", qty: dec("0.3"), state: lifecycle.Filled, reported: dec("0.3"), trades: map[string]struct{}{}}
		m.byID[fb2.id] = fb2
		m.touch(fb2)
		fill("fb2", "t2", "0.3")
		moved := !a.allocated.Equal(allocA) || !b.allocated.Equal(allocB)
		if moved == replaying {
			t.Fatalf("replaying %v: allocations a %s→%s, b %s→%s", replaying, allocA, a.allocated, allocB, b.allocated)
		}
	}
}

// markFunding asks for a journal write whenever the rate is not zero, a zero amount included (made again after a
// restart, the attribution would count the fills made since), and not at a zero rate (zero whenever it is made).
func TestMarkFundingJournals(t *testing.T) {
	for _, rate := range []string{"0.0001", "0"} {
		m := newTestMachine(t, "2.2166", true)
		a := m.pl.work[0]
		a.fundRate, a.nextFunding = dec(rate), t0.Add(time.Minute)
		if m.markFunding(t0.Add(30 * time.Second)) {
			t.Fatalf("rate %s: marked before the funding time", rate)
		}
		journal := m.markFunding(t0.Add(time.Minute))
		if !a.funded || !a.funding.IsZero() || journal != (rate != "0") {
			t.Fatalf("rate %s: funded %v funding %s journal %v", rate, a.funded, a.funding, journal)
		}
	}
}

// TestMachineMakerBehind: a maker-first venue behind its schedule by more than the tolerance crosses only what
// brings it back to half the tolerance, and posts the rest again at once as a maker child.
func TestMachineMakerBehind(t *testing.T) {
	m := newTestMachine(t, "2.2166", true)
	m.req.Execution, m.prm.MakerTolerance = ExecMakerFirst, 0.1
	a := m.pl.work[0]
	tol := a.allocated.Mul(dec("0.1"))
	now := t0
	cmds := m.Step(Event{Kind: EvStart}, now)
	onA := func(cmds []Command) (Command, bool) {
		for _, p := range places(cmds) {
			if p.Venue == "a" {
				return p, true
			}
		}
		return Command{}, false
	}
	// Nothing on a ever fills: every maker child rests until its deadline and is cancelled unfilled there.
	for guard := 0; guard < 1000; guard++ {
		if p, ok := onA(cmds); ok {
			o := p.Request.Order
			if o.TimeInForce == venues.IOC {
				behind := a.cum[a.next-2] // nothing filled: all that was due before this slice
				want := a.rules.FloorQty(behind.Sub(tol.Div(dec("2"))))
				if !o.Quantity.Equal(want) || !behind.GreaterThan(tol) {
					t.Fatalf("crossed %s behind %s (tolerance %s); want %s", o.Quantity, behind, tol, want)
				}
				cmds = m.Step(upd(gateway.Update{Kind: gateway.Accepted, Venue: "a", ClientOrderID: o.ClientOrderID,
					Quantity: want, Order: venues.Order{ClientOrderID: o.ClientOrderID, Status: venues.StatusFilled,
						FilledQty: want, TimeInForce: venues.IOC}}), now)
				cmds = append(cmds, m.Step(upd(gateway.Update{Kind: gateway.Filled, Venue: "a", ClientOrderID: o.ClientOrderID,
					Fill: venues.Fill{Venue: "a", ClientOrderID: o.ClientOrderID, TradeID: o.ClientOrderID + "-t",
						Quantity: want, Price: dec("10500")}}), now)...)
				rest, ok := onA(cmds)
				if !ok || !rest.Request.Peg || rest.Request.Order.TimeInForce != venues.PostOnly {
					t.Fatalf("after the partial cross: %+v; want the rest posted again at once", rest.Request)
				}
				checkInvariants(t, m)
				return
			}
			cmds = m.Step(resting("a", o), now)
			continue
		}
		if c := a.resting; c != nil && c.pulled && c.state == lifecycle.Open {
			cmds = m.Step(upd(gateway.Update{Kind: gateway.Resolved, Venue: "a", ClientOrderID: c.id,
				Order: venues.Order{ClientOrderID: c.id, Status: venues.StatusCanceled}}), now)
			continue
		}
		if !m.armed.After(now) || m.armed.After(m.pl.deadline) {
			break
		}
		now = m.armed
		cmds = m.Step(Event{Kind: EvTimer}, now)
	}
	t.Fatal("a never crossed")
}

// TestMachineMakerAhead: with MakerAhead, a maker child offers what is due plus that share of the allocation.
func TestMachineMakerAhead(t *testing.T) {
	for _, ahead := range []float64{0, 0.05} {
		m := newTestMachine(t, "2.2166", true)
		m.req.Execution, m.prm.MakerTolerance, m.prm.MakerAhead = ExecMakerFirst, 0.1, ahead
		now := t0
		first := restUntilPlaced(t, m, &now, m.Step(Event{Kind: EvStart}, now), "a")
		a := m.pl.work[0]
		want := a.cum[a.next-1].Add(a.rules.FloorQty(a.allocated.Mul(decimal.NewFromFloat(ahead))))
		if got := first.Request.Order.Quantity; !got.Equal(want) {
			t.Fatalf("ahead %v: first child %s, want %s", ahead, got, want)
		}
		checkInvariants(t, m)
	}
}

// TestMachineMakerDustRestsOn: a maker child that has filled all but less than the venue's smallest order, with
// nothing else left to send there, is not pulled at its deadline (nothing could send what it leaves again): it
// rests on until the parent's end, and is pulled then.
func TestMachineMakerDustRestsOn(t *testing.T) {
	m := newTestMachine(t, "2.2166", false)
	m.req.Execution, m.prm.MakerTolerance = ExecMakerFirst, 0.1
	a := m.pl.work[0]
	a.rules.MinNotional = dec("100") // 0.0096 BTC at the mark
	now := t0
	first := restUntilPlaced(t, m, &now, m.Step(Event{Kind: EvStart}, now), "a")
	o := first.Request.Order
	m.Step(resting("a", o), now)
	// This child is all the venue has left to send (the rest is set apart, so every unit stays accounted for).
	m.stranded, a.allocated = m.stranded.Add(a.allocated.Sub(a.committed)), a.committed
	filled := o.Quantity.Sub(dec("0.005"))
	m.Step(upd(gateway.Update{Kind: gateway.Filled, Venue: "a", ClientOrderID: o.ClientOrderID,
		Fill: venues.Fill{Venue: "a", ClientOrderID: o.ClientOrderID, TradeID: "t1", Quantity: filled, Price: dec("10489.9"),
			Maker: true}}), now)
	c := m.byID[o.ClientOrderID]
	cmds := m.Step(Event{Kind: EvTimer}, c.deadline)
	if has(cmds, CmdCancel, c.id) || c.pulled {
		t.Fatalf("pulled at its deadline with 0.005 left (below the minimum order): %+v", cmds)
	}
	if !c.deadline.Equal(m.pl.deadline) {
		t.Fatalf("rests until %v, want the parent's end %v", c.deadline, m.pl.deadline)
	}
	if cmds := m.Step(Event{Kind: EvTimer}, m.pl.deadline); !has(cmds, CmdCancel, c.id) {
		t.Fatalf("at the parent's end: %+v; want it pulled", cmds)
	}
	checkInvariants(t, m)
}

// TestMachineAcknowledgedThenCancelled: a venue that acknowledges a post-only order and then cancels it because it
// would cross (Bybit, OKX) counts as a refusal like one that refuses it at once: the third in a row is crossed.
func TestMachineAcknowledgedThenCancelled(t *testing.T) {
	m := newTestMachine(t, "2.2166", true)
	m.req.Execution, m.prm.MakerTolerance = ExecMakerFirst, 0.1
	now := t0
	p := restUntilPlaced(t, m, &now, m.Step(Event{Kind: EvStart}, now), "a")
	for i := 1; i <= maxRefusals; i++ {
		o := p.Request.Order
		if o.TimeInForce != venues.PostOnly {
			t.Fatalf("child %d: %s, want post-only", i, o.TimeInForce)
		}
		m.Step(resting("a", o), now)
		cmds := m.Step(upd(gateway.Update{Kind: gateway.OrderUpdate, Venue: "a", ClientOrderID: o.ClientOrderID,
			Order: venues.Order{ClientOrderID: o.ClientOrderID, Status: venues.StatusCanceled}}), now)
		next, ok := Command{}, false
		for _, c := range places(cmds) {
			if c.Venue == "a" {
				next, ok = c, true
			}
		}
		if !ok {
			t.Fatalf("refusal %d: nothing placed again at once", i)
		}
		if i == maxRefusals && next.Request.Order.TimeInForce != venues.IOC {
			t.Fatalf("refusal %d: %s, want an IOC", i, next.Request.Order.TimeInForce)
		}
		p = next
	}
	checkInvariants(t, m)
}
