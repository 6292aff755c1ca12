package engine

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/lifecycle"
	"github.com/execd-dev/execd/router"
	"github.com/execd-dev/execd/twap"
	"github.com/execd-dev/execd/venues"
)

// EventKind says what happened to a parent.
type EventKind int

const (
	// EvStart: the runner starts (or resumes after a restart) the parent.
	EvStart EventKind = iota + 1
	// EvTimer: the timer the machine armed is due (or any wake-up: the machine decides from now).
	EvTimer
	// EvUpdate: a gateway reported on a child or on a venue's health (Update).
	EvUpdate
	// EvCancel: the rebalancer asked to cancel what is left.
	EvCancel
	// EvStop: the engine is stopping: nothing new is sent; the parent stays working in the journal.
	EvStop
	// EvParams: ops changed weights or enabled venues (Params).
	EvParams
)

// Event is one input of a parent's state machine.
type Event struct {
	Kind   EventKind
	Update gateway.Update
	Params Params
	// Caps is the room per venue by its position (reduce-only, position caps) as observed when the event was
	// made (the ledger's position; the
	// gateway's reservations cut any child beyond what other parents hold), used if the event moves work between
	// venues; nil when not reduce-only.
	Caps map[string]decimal.Decimal
}

// CommandKind says what the runner must do.
type CommandKind int

const (
	CmdPlace   CommandKind = iota + 1 // Request to the venue's gateway
	CmdCancel                         // Request to the venue's gateway
	CmdResolve                        // Request to the venue's gateway
	CmdTimer                          // arm the parent's timer for At (simulated clock)
	CmdJournal                        // journal the parent's record
	CmdPublish                        // take a snapshot for readers and publish it
	CmdChild                          // publish a child's change (Child)
	CmdFill                           // publish a booked fill (Fill)
	CmdDone                           // the runner's work is over: the parent ended, or stopped
)

// Command is one output of a parent's state machine.
type Command struct {
	Kind    CommandKind
	Venue   string
	Request gateway.Request
	At      time.Time
	Child   ChildEvent
	Fill    FillEvent
}

// maxPlacing is how many children of one parent may be awaiting their venue's answer on one venue at once: a
// slice that falls due while an earlier child is in flight goes out without waiting for it (what is in flight
// counts as committed, so nothing is sized twice).
const maxPlacing = 2

// machine is a parent order's decisions: Step is a pure function of (state, event, now) → (state, commands). It
// starts no goroutine, reads no clock, logs nothing and does no I/O; the runner feeds it and carries out its
// commands. Work per event is constant in the number of children and slices (running totals), linear only in
// the number of venues.
type machine struct {
	req  Request
	pl   *plan
	prm  Params // latest ops parameters (weights, enabled venues)
	salt []byte

	venues []*vstate
	byID   map[string]*mchild

	state     State
	reason    string
	ended     *time.Time
	cancelled bool
	stopping  bool
	stranded  decimal.Decimal
	fees      decimal.Decimal
	filled    decimal.Decimal
	notional  decimal.Decimal
	unsettled int // final children whose reported fills are not all booked, not given up on
	live      int // children that may still trade or whose outcome is not known
	placing   int // children whose placement (or resolution) call is outstanding and not unknown
	armed     time.Time
	done      bool
}

// vstate is one venue's part of a parent.
type vstate struct {
	name      string
	rules     venues.Rules
	mark      decimal.Decimal
	share     decimal.Decimal
	weight    decimal.Decimal
	allocated decimal.Decimal
	rng       *rand.Rand

	slices []twap.Slice
	cum    []decimal.Decimal
	next   int
	base   decimal.Decimal

	seq         int
	awaiting    int // children with a place or resolve call outstanding
	unknown     int // children whose outcome is unknown (invariant 4: nothing new is sent here)
	retryAt     time.Time
	catchupAt   time.Time
	dust        bool
	rejects     int
	rejected    int
	out         string
	lastRefusal string
	health      gateway.Health

	// partCap bounds what the venue may be allocated in all (its participation cap), when hasPartCap.
	partCap    decimal.Decimal
	hasPartCap bool

	committed decimal.Decimal // Σ contribution of its children
	filled    decimal.Decimal
	notional  decimal.Decimal
	sent      int // children that may have reached the venue
}

// mchild is one child order, with the derived values it last contributed to the running totals.
type mchild struct {
	v        *vstate
	seq      int
	id       string
	qty      decimal.Decimal
	price    decimal.Decimal
	state    lifecycle.State
	reported decimal.Decimal
	booked   decimal.Decimal
	trades   map[string]struct{}
	awaiting bool // a place or resolve call is outstanding
	settled  bool // the gateway gave up on fills it never saw

	// last contributions to the totals (see touch)
	cContrib   decimal.Decimal
	cUnknown   bool
	cUnsettled bool
	cLive      bool
	cSent      bool
	cPlacing   bool
}

func newMachine(req Request, pl *plan, prm Params, salt []byte) *machine {
	return &machine{req: req, pl: pl, prm: prm, salt: salt, venues: pl.work, byID: map[string]*mchild{}, state: Working}
}

// contribution is what a child commits of its venue's allocation: all of it while it may trade, what traded
// once it is final.
func (c *mchild) contribution() decimal.Decimal {
	if !c.state.Final() {
		if c.state == lifecycle.Intent && !c.awaiting {
			return decimal.Zero
		}
		return c.qty
	}
	return decimal.Max(c.reported, c.booked)
}

// touch brings the running totals up to date with one child's current state: constant work per change.
func (m *machine) touch(c *mchild) {
	v := c.v
	contrib := c.contribution()
	v.committed = v.committed.Add(contrib.Sub(c.cContrib))
	c.cContrib = contrib
	unknown := c.state == lifecycle.Unknown
	unsettled := c.state.Final() && !c.settled && c.booked.LessThan(c.reported)
	live := c.state.Live() || (c.state == lifecycle.Intent && c.awaiting)
	sent := c.state.MayHaveReached()
	placing := c.awaiting && !unknown
	v.unknown += delta(unknown, c.cUnknown)
	m.unsettled += delta(unsettled, c.cUnsettled)
	m.live += delta(live, c.cLive)
	v.sent += delta(sent, c.cSent)
	m.placing += delta(placing, c.cPlacing)
	c.cUnknown, c.cUnsettled, c.cLive, c.cSent, c.cPlacing = unknown, unsettled, live, sent, placing
}

func delta(now, before bool) int {
	switch {
	case now && !before:
		return 1
	case before && !now:
		return -1
	}
	return 0
}

func (m *machine) setAwaiting(c *mchild, on bool) {
	if c.awaiting == on {
		return
	}
	c.awaiting = on
	if on {
		c.v.awaiting++
	} else {
		c.v.awaiting--
	}
}

func (w *vstate) remaining() decimal.Decimal { return w.allocated.Sub(w.committed) }

// Step applies one event at simulated time now and returns what the runner must do.
func (m *machine) Step(ev Event, now time.Time) []Command {
	var out []Command
	if m.done {
		return nil
	}
	changed := false
	switch ev.Kind {
	case EvStart:
		for _, v := range m.venues {
			if v.health == "" {
				v.health = gateway.Up
			}
		}
		for _, c := range m.childrenToResolve() {
			out = append(out, Command{Kind: CmdResolve, Venue: c.v.name, Request: gateway.Request{
				Kind: gateway.Resolve, Parent: m.req.ID, Seq: c.seq, Booked: c.booked,
				Order: venues.OrderRequest{ClientOrderID: c.id, Instrument: m.req.Instrument, Side: m.req.Side,
					Quantity: c.qty, Price: c.price, ReduceOnly: m.req.ReduceOnly, Type: venues.Limit, TimeInForce: venues.IOC},
			}})
		}
		changed = true
	case EvTimer:
		m.armed = time.Time{} // the timer fired: whatever is next must be armed again, even at the same time
	case EvUpdate:
		changed = m.onUpdate(ev, now, &out)
	case EvCancel:
		if !m.cancelled {
			m.cancelled = true
			out = append(out, Command{Kind: CmdJournal})
			for _, c := range m.byID {
				if c.state == lifecycle.Open {
					out = append(out, Command{Kind: CmdCancel, Venue: c.v.name, Request: gateway.Request{
						Kind: gateway.Cancel, Parent: m.req.ID, Order: venues.OrderRequest{ClientOrderID: c.id}}})
				}
			}
			changed = true
		}
	case EvStop:
		m.stopping = true
	case EvParams:
		m.prm = ev.Params.clone()
		for _, v := range m.venues {
			if vp, ok := m.prm.Venues[v.name]; ok {
				if !vp.Enabled && v.out == "" {
					m.takeOut(v, "disabled by ops", now, ev.Caps, &out)
					changed = true
				} else if vp.Enabled {
					v.weight = vp.Weight
				}
			}
		}
	}
	m.startDue(now, &out)
	if len(out) > 0 {
		changed = true
	}
	if m.finish(now, &out) {
		changed = true
	}
	if changed {
		out = append(out, Command{Kind: CmdPublish})
	}
	if !m.done {
		if at := m.nextWake(now); !at.Equal(m.armed) {
			m.armed = at
			out = append(out, Command{Kind: CmdTimer, At: at})
		}
	}
	return out
}

// childrenToResolve are the restored children whose outcome the journal does not hold.
func (m *machine) childrenToResolve() []*mchild {
	var cs []*mchild
	for _, c := range m.byID {
		if c.awaiting && !c.state.Final() {
			cs = append(cs, c)
		}
	}
	sortChildren(cs)
	return cs
}

func (m *machine) onUpdate(ev Event, now time.Time, out *[]Command) bool {
	u := ev.Update
	if u.Kind == gateway.HealthChanged {
		v := m.venue(u.Venue)
		if v == nil || v.health == u.Health {
			return false
		}
		v.health = u.Health
		if u.Health == gateway.Down && v.out == "" && !m.stopping {
			m.takeOut(v, "circuit breaker open", now, ev.Caps, out)
		}
		return true
	}
	c, ok := m.byID[u.ClientOrderID]
	if !ok {
		return false
	}
	v := c.v
	before := c.state
	switch u.Kind {
	case gateway.Accepted:
		m.setAwaiting(c, false)
		if u.Quantity.IsPositive() && u.Quantity.LessThan(c.qty) {
			c.qty = u.Quantity // a reduce-only order cut to the room left; the rest stays to schedule
		}
		if u.Price.IsPositive() {
			c.price = u.Price
		}
		m.applyOrder(c, u.Order)
		if !c.state.Final() && !c.state.Live() {
			c.state = lifecycle.Open
		}
		v.rejects = 0
	case gateway.Refused:
		m.setAwaiting(c, false)
		if u.Price.IsPositive() {
			c.price = u.Price
		}
		if !c.state.Final() {
			if u.Refusal == gateway.RefusedVenue {
				c.state = lifecycle.Rejected
			} else {
				c.state = lifecycle.NotSent
			}
		}
		m.touch(c) // before any move of work: the refused quantity is no longer committed
		switch u.Refusal {
		case gateway.RefusedBreaker:
			m.takeOut(v, "circuit breaker open", now, ev.Caps, out)
		case gateway.RefusedVenue:
			v.rejects++
			v.rejected++
			v.retryAt = now.Add(m.pl.params.RetryInterval)
			if v.rejects >= m.pl.params.MaxConsecutiveRejects {
				m.takeOut(v, fmt.Sprintf("rejected %d times in a row: %s", v.rejects, u.Reason), now, ev.Caps, out)
			}
		case gateway.RefusedRisk, gateway.RefusedCapacity:
			v.retryAt = now.Add(m.pl.params.RetryInterval)
			v.lastRefusal = u.Reason
		default:
			v.retryAt = now.Add(m.pl.params.RetryInterval)
		}
	case gateway.Unknown:
		if !c.state.Final() {
			c.state = lifecycle.Unknown
		}
	case gateway.Resolved:
		m.setAwaiting(c, false)
		if u.NotFound {
			if !c.state.Final() {
				c.state = lifecycle.NotSent
			}
		} else {
			m.applyOrder(c, u.Order)
			if !c.state.Final() {
				c.state = lifecycle.Open
			}
		}
	case gateway.OrderUpdate:
		m.applyOrder(c, u.Order)
	case gateway.Filled:
		f := u.Fill
		if _, dup := c.trades[f.TradeID]; dup || !f.Quantity.IsPositive() {
			return false
		}
		c.trades[f.TradeID] = struct{}{}
		c.booked = c.booked.Add(f.Quantity)
		v.filled = v.filled.Add(f.Quantity)
		n := f.Quantity.Mul(f.Price)
		v.notional = v.notional.Add(n)
		m.filled = m.filled.Add(f.Quantity)
		m.notional = m.notional.Add(n)
		// Fees are charged in the margin asset (USDT) by the venues execd trades; a fee in another asset is not
		// converted and not summed.
		if f.FeeAsset == "" || f.FeeAsset == "USDT" {
			m.fees = m.fees.Add(f.Fee)
		}
		*out = append(*out, Command{Kind: CmdFill, Fill: FillEvent{Parent: m.req.ID, Venue: f.Venue,
			Instrument: f.Instrument, ClientOrderID: f.ClientOrderID, TradeID: f.TradeID, Side: string(f.Side),
			Quantity: f.Quantity, Price: f.Price, Fee: f.Fee, FeeAsset: f.FeeAsset, Time: f.Time}})
	case gateway.Settled:
		c.settled = true
	case gateway.Amended:
		if u.Order.Quantity.IsPositive() {
			c.qty = u.Order.Quantity
		}
		if u.Order.Price.IsPositive() {
			c.price = u.Order.Price
		}
		m.applyOrder(c, u.Order)
	case gateway.AmendRefused:
	}
	m.touch(c)
	if v.out != "" && !m.stopping {
		m.moveRemainder(v, now, ev.Caps, out) // a child of a venue taken out ended short: its rest moves on
	}
	if c.state != before {
		*out = append(*out, Command{Kind: CmdChild, Child: m.childEvent(c, u.Reason, now)})
	}
	return true
}

// applyOrder takes the venue's report of an order: filled quantity and, if final, its final state.
func (m *machine) applyOrder(c *mchild, o venues.Order) {
	if o.FilledQty.GreaterThan(c.reported) {
		c.reported = o.FilledQty
	}
	if c.state.Final() {
		return
	}
	if st, ended := lifecycle.Ended(string(o.Status)); ended {
		c.state = st
	}
}

func (m *machine) childEvent(c *mchild, reason string, now time.Time) ChildEvent {
	return ChildEvent{Parent: m.req.ID, Venue: c.v.name, Instrument: m.req.Instrument, ClientOrderID: c.id, Seq: c.seq,
		State: c.state, Side: string(m.req.Side), Quantity: c.qty, Price: c.price,
		Filled: decimal.Max(c.reported, c.booked), Reason: reason, Time: now}
}

func (m *machine) venue(name string) *vstate {
	for _, v := range m.venues {
		if v.name == name {
			return v
		}
	}
	return nil
}

// startDue decides the children due now: a slice's quantity (with what earlier slices left), or a catch-up.
func (m *machine) startDue(now time.Time, out *[]Command) {
	if m.cancelled || m.stopping || m.state != Working {
		return
	}
	for _, v := range m.venues {
		if v.out != "" || v.awaiting >= maxPlacing || v.unknown > 0 || v.dust || now.Before(v.retryAt) || v.health == gateway.Down {
			continue
		}
		left := v.remaining()
		if !left.IsPositive() {
			continue
		}
		qty, due := m.dueQuantity(v, now)
		if !due {
			continue
		}
		if qty.LessThan(v.rules.MinQty) || !qty.IsPositive() ||
			(!m.req.ReduceOnly && qty.Mul(v.mark).LessThan(v.rules.MinNotional)) {
			if v.next >= len(v.slices) && left.Equal(qty) {
				v.dust = true // nothing later can make it larger
			}
			continue
		}
		m.startChild(v, qty, now, out)
	}
}

func (m *machine) dueQuantity(v *vstate, now time.Time) (decimal.Decimal, bool) {
	maxChild := maxChildQty(m.pl.params, v.rules, v.mark, m.pl.slippageBps)
	if v.next < len(v.slices) {
		if v.slices[v.next].At.After(now) {
			return decimal.Zero, false
		}
		idx := v.next
		for idx+1 < len(v.slices) && !v.slices[idx+1].At.After(now) {
			idx++
		}
		v.next = idx + 1
		if v.next == len(v.slices) {
			v.catchupAt = now.Add(m.catchupInterval())
		}
		return twap.ChildQuantityCum(v.cum, idx, v.committed.Sub(v.base), maxChild, v.rules), true
	}
	// The schedule is spent and something is left (an IOC missed the band): catch up within the band until the
	// horizon plus the catch-up allowance.
	if now.Before(v.catchupAt) || !now.Before(m.pl.deadline.Add(m.pl.params.Catchup)) {
		return decimal.Zero, false
	}
	v.catchupAt = now.Add(m.catchupInterval())
	q := v.rules.FloorQty(v.remaining())
	if maxChild.IsPositive() && q.GreaterThan(maxChild) {
		q = maxChild
	}
	return q, true
}

func (m *machine) catchupInterval() time.Duration {
	return max(m.pl.params.MeanInterval/4, time.Second)
}

func (m *machine) startChild(v *vstate, qty decimal.Decimal, now time.Time, out *[]Command) {
	v.seq++
	c := &mchild{v: v, seq: v.seq, id: ClientOrderID(m.salt, m.req.ID, v.name, v.seq), qty: qty,
		state: lifecycle.Intent, trades: map[string]struct{}{}}
	m.byID[c.id] = c
	m.setAwaiting(c, true)
	m.touch(c)
	*out = append(*out, Command{Kind: CmdPlace, Venue: v.name, Request: gateway.Request{
		Kind: gateway.Place, Parent: m.req.ID, Seq: c.seq,
		Order: venues.OrderRequest{ClientOrderID: c.id, Instrument: m.req.Instrument, Side: m.req.Side,
			Type: venues.Limit, TimeInForce: venues.IOC, Quantity: qty, ReduceOnly: m.req.ReduceOnly},
		SlippageBps: m.pl.slippageBps, LimitPrice: m.req.LimitPrice, MaxChildNotional: m.pl.params.MaxChildNotional,
	}})
	*out = append(*out, Command{Kind: CmdChild, Child: m.childEvent(c, "", now)})
}

// takeOut removes a venue from the parent and hands its unsent remainder to the healthy venues. What its children
// still in flight do not fill is moved the same way when they end (moveRemainder).
func (m *machine) takeOut(v *vstate, why string, now time.Time, caps map[string]decimal.Decimal, out *[]Command) {
	if v.out != "" {
		return
	}
	v.out = why
	v.slices, v.cum, v.next = nil, nil, 0
	*out = append(*out, Command{Kind: CmdJournal})
	m.moveRemainder(v, now, caps, out)
}

// moveRemainder moves what an out venue holds beyond its committed children to the healthy venues; what no venue
// can take is stranded.
func (m *machine) moveRemainder(v *vstate, now time.Time, caps map[string]decimal.Decimal, out *[]Command) {
	rem := v.remaining()
	if !rem.IsPositive() {
		return
	}
	v.allocated = v.committed
	var inputs []router.VenueInput
	for _, o := range m.venues {
		if o.out != "" || o.unknown > 0 || o.health == gateway.Down {
			continue
		}
		weight := o.weight
		if vp, has := m.prm.Venues[o.name]; has {
			if !vp.Enabled {
				continue
			}
			weight = vp.Weight
		}
		in := router.VenueInput{Venue: o.name, Rules: o.rules, VolumeShare: o.share, Weight: weight, Healthy: true, Price: o.mark}
		if room, ok := caps[o.name]; ok {
			in.HasCap, in.Cap = true, decimal.Max(room.Sub(o.remaining()), decimal.Zero)
		}
		if o.hasPartCap {
			part := decimal.Max(o.partCap.Sub(o.allocated), decimal.Zero)
			if !in.HasCap || part.LessThan(in.Cap) {
				in.HasCap, in.Cap = true, part
			}
		}
		inputs = append(inputs, in)
	}
	var res router.Result
	var err error
	if len(inputs) > 0 {
		res, err = router.Allocate(router.Request{Quantity: rem, Venues: inputs})
	}
	if len(inputs) == 0 || err != nil {
		m.stranded = m.stranded.Add(rem)
		m.reason = fmt.Sprintf("%s remainder %s has no healthy venue", v.name, rem)
		*out = append(*out, Command{Kind: CmdJournal})
		return
	}
	moved := decimal.Zero
	for _, a := range res.Allocations {
		o := m.venue(a.Venue)
		o.allocated = o.allocated.Add(a.Quantity)
		moved = moved.Add(a.Quantity)
		o.dust = false
		if err := o.reschedule(m.pl, m.req, now, o.committed); err != nil {
			// The venue keeps the quantity and works it by catch-up; the schedule is only the pace.
			m.reason = fmt.Sprintf("reschedule on %s failed: %v", o.name, err)
		}
	}
	m.stranded = m.stranded.Add(rem.Sub(moved))
	*out = append(*out, Command{Kind: CmdJournal})
}

// finish decides whether the parent's work is over, and its final state. It reports whether anything changed.
func (m *machine) finish(now time.Time, out *[]Command) bool {
	if m.placing > 0 {
		return false
	}
	if m.stopping {
		m.done = true
		*out = append(*out, Command{Kind: CmdDone})
		return true
	}
	if m.unsettled > 0 {
		return false
	}
	switch {
	case m.cancelled:
		if m.live > 0 {
			return false
		}
		m.end(Cancelled, "cancelled by request", now, out)
		return true
	case m.allWorked(now):
		st := Done
		if m.filled.IsZero() && m.unfilled().IsPositive() {
			st = Failed
		}
		m.end(st, m.reason, now, out)
		return true
	}
	return false
}

func (m *machine) allWorked(now time.Time) bool {
	if m.live > 0 {
		return false
	}
	pastCatchup := !now.Before(m.pl.deadline.Add(m.pl.params.Catchup))
	for _, v := range m.venues {
		if v.out != "" || v.dust || !v.remaining().IsPositive() {
			continue
		}
		if v.unknown > 0 || !pastCatchup {
			return false
		}
	}
	if pastCatchup && m.reason == "" && m.unfilled().IsPositive() {
		m.reason = "horizon and catch-up ended with a remainder unfilled"
		for _, v := range m.venues {
			if v.lastRefusal != "" {
				m.reason += "; last refusal on " + v.name + ": " + v.lastRefusal
			}
		}
	}
	return true
}

func (m *machine) end(st State, reason string, now time.Time, out *[]Command) {
	m.state = st
	if reason != "" {
		m.reason = reason
	}
	m.ended = &now
	m.done = true
	*out = append(*out, Command{Kind: CmdJournal}, Command{Kind: CmdDone})
}

// unfilled is what is neither filled nor the residual below one lot.
func (m *machine) unfilled() decimal.Decimal {
	return decimal.Max(m.req.Quantity.Sub(m.pl.residual).Sub(m.filled), decimal.Zero)
}

// nextWake is the next simulated time something may be due: per venue that can act, the later of its next slice
// (or catch-up attempt) and its retry time. It runs after startDue, so nothing is due now; a wake-up is never
// set at or before now (a timer re-armed at the same instant would spin).
func (m *machine) nextWake(now time.Time) time.Time {
	next := m.pl.deadline.Add(m.pl.params.Catchup)
	if !next.After(now) {
		next = now.Add(m.catchupInterval())
	}
	if m.cancelled || m.stopping {
		return next
	}
	for _, v := range m.venues {
		// Venues startDue skips whatever the time are not a reason to wake: an update wakes the parent for them.
		if v.out != "" || v.awaiting >= maxPlacing || v.unknown > 0 || v.dust || v.health == gateway.Down ||
			!v.remaining().IsPositive() {
			continue
		}
		var at time.Time
		if v.next < len(v.slices) {
			at = v.slices[v.next].At
		} else {
			at = v.catchupAt
		}
		if v.retryAt.After(at) {
			at = v.retryAt
		}
		if at.Before(next) {
			next = at
		}
	}
	if !next.After(now) {
		next = now.Add(time.Millisecond)
	}
	return next
}
