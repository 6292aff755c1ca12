package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/lifecycle"
	"github.com/execd-dev/execd/risk"
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
	// EvStop: the engine is stopping: nothing new is sent, resting children are cancelled; the parent stays
	// working in the journal.
	EvStop
	// EvParams: ops changed weights or enabled venues (Params).
	EvParams
	// EvTrading: the trading state changed (Trading).
	EvTrading
)

// Event is one input of a parent's state machine.
type Event struct {
	Kind   EventKind
	Update gateway.Update
	Params Params
	// Trading is the trading state, on EvStart and EvTrading: halted pauses every parent, reducing pauses the
	// parents that are not reduce-only; what fell behind is re-spread when they resume.
	Trading risk.State
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
	CmdRealloc                        // publish a re-allocation (Realloc)
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
	Realloc Reallocation
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

	state  State
	reason string
	// strandNote is the reason stranding set (m.reason), cleared when the stranded quantity finds a venue again.
	strandNote string
	trading    risk.State
	restored   bool // rebuilt from the journal: EvStart re-spreads what fell behind while it was down
	// replaying: restore is feeding the journal's fills to children while others are still to be restored, so the
	// venues' totals are partial: nothing may move work between venues until EvStart.
	replaying bool
	reallocs  []Reallocation // the latest maxReallocs, copied on write (reports share it)
	reallocN  int            // how many there were in all
	leveled   bool           // level has run once (the venues' receiving flags are known)
	ended     *time.Time
	cancelled bool
	stopping  bool
	stranded  decimal.Decimal
	fees      decimal.Decimal
	filled    decimal.Decimal
	maker     decimal.Decimal // filled as maker
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

	seq       int
	awaiting  int // children with a place or resolve call outstanding
	unknown   int // children whose outcome is unknown (invariant 4: nothing new is sent here)
	retryAt   time.Time
	catchupAt time.Time
	dust      bool
	rejects   int
	rejected  int
	out       string // why the venue left this parent for good (rejections in a row); "" while it may return
	// parked is why the venue takes no new work from this parent now ("" when it does): out, disabled by ops,
	// breaker open. Its change is what moves work (level).
	parked      string
	receiving   bool // may take work now (parked == "" and no unknown outcome), as level last saw it
	lastRefusal string
	health      gateway.Health

	// partCap bounds what the venue may be allocated in all (its participation cap), when hasPartCap.
	partCap    decimal.Decimal
	hasPartCap bool

	// resting is the venue's maker child while it may rest (nothing else starts there meanwhile); again is set
	// when one ended before its deadline without filling (a post-only refusal: the price came to it): what it
	// left is posted again at once, at the new touch, and crossed with an IOC once refusals (in a row) reaches
	// maxRefusals (a price running through every peg).
	resting  *mchild
	again    bool
	refusals int

	// Funding: the venue's rate for the current period and when it is paid (nextFunding zero: unknown), from the
	// plan's statistics. Once that time has passed while the parent works, funded is set with the parent's part of
	// the venue's position then (fundQty: side × filled) and what that part paid (funding = fundQty × rate × mark,
	// USDT; negative: received).
	fundRate    decimal.Decimal
	nextFunding time.Time
	funded      bool
	fundQty     decimal.Decimal
	funding     decimal.Decimal

	committed   decimal.Decimal // Σ contribution of its children
	makerFilled decimal.Decimal // of filled, as maker
	filled      decimal.Decimal
	notional    decimal.Decimal
	sent        int // children that may have reached the venue
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
	awaiting bool      // a place or resolve call is outstanding
	settled  bool      // the gateway gave up on fills it never saw
	maker    bool      // a pegged post-only child (maker-first)
	deadline time.Time // maker: pulled (cancelled) then
	pulled   bool      // maker: the cancel at its deadline was sent
	restOn   bool      // maker: resting past its slice because what it would leave is below the venue's minimum

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
	changed := m.markFunding(now)
	if changed {
		out = append(out, Command{Kind: CmdJournal})
	}
	switch ev.Kind {
	case EvStart:
		m.trading = ev.Trading
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
		if m.restored && !m.cancelled && !m.paused() {
			// What fell behind while execd was down is spread over the time left, not sent at once.
			m.reallocate("restarted: the remainder re-spread over the time left", now, ev.Caps, &out)
		}
		m.level(now, ev.Caps, &out)
		changed = true
	case EvTimer:
		m.armed = time.Time{} // the timer fired: whatever is next must be armed again, even at the same time
	case EvUpdate:
		changed = m.onUpdate(ev, now, &out)
	case EvCancel:
		if !m.cancelled {
			m.cancelled = true
			out = append(out, Command{Kind: CmdJournal})
			for _, v := range m.venues {
				m.cancelResting(v, &out)
			}
			changed = true
		}
	case EvStop:
		// Nothing is left resting unwatched: the venues' resting children are pulled, and the runner's work ends
		// when their cancels are answered (or the engine's stop deadline passes: recovery then finds them open).
		m.stopping = true
		for _, v := range m.venues {
			m.cancelResting(v, &out)
		}
	case EvParams:
		m.prm = ev.Params.clone()
		if m.level(now, ev.Caps, &out) {
			changed = true
		}
	case EvTrading:
		if m.setTrading(ev.Trading, now, ev.Caps, &out) {
			changed = true
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
		m.level(now, ev.Caps, out)
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
		if c.maker && u.Order.TimeInForce != "" && u.Order.TimeInForce != venues.PostOnly {
			c.maker = false // the gateway sent it as a taker (no touch to peg to, or maker children off there)
			if v.resting == c {
				v.resting = nil
			}
		}
		m.applyOrder(c, u.Order)
		if !c.state.Final() && (!c.state.Live() || c.state == lifecycle.Unknown) {
			c.state = lifecycle.Open // the venue has it: an earlier unknown outcome is answered
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
			// The gateway says what the breaker is now (its health events follow every later change).
			v.health = gateway.Down
			if u.Health != "" {
				v.health = u.Health
			}
			v.retryAt = now.Add(m.pl.params.RetryInterval)
		case gateway.RefusedVenue:
			if c.maker {
				break // a post-only refusal (it would have crossed): posted again at once (again), not a fault
			}
			v.rejects++
			v.rejected++
			v.retryAt = now.Add(m.pl.params.RetryInterval)
			if v.rejects >= m.pl.params.MaxConsecutiveRejects && v.out == "" {
				v.out = fmt.Sprintf("rejected %d times in a row: %s", v.rejects, u.Reason)
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
		if c.maker {
			v.refusals = 0 // a maker child that trades: the pegs are not being run through
		}
		if f.Maker {
			v.makerFilled = v.makerFilled.Add(f.Quantity)
			m.maker = m.maker.Add(f.Quantity)
		}
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
	if v.resting == c && (c.state.Final() || c.state == lifecycle.NotSent) {
		v.resting = nil
		if !c.pulled && !m.cancelled && decimal.Max(c.reported, c.booked).LessThan(c.qty) {
			v.again = true // refused or ended by the venue before its time (post-only would have crossed)
			if c.state != lifecycle.NotSent {
				v.refusals++ // the venue's refusal (a post-only order acknowledged and then cancelled counts too)
			}
		}
	}
	if (m.stopping || m.cancelled) && c.state == lifecycle.Open && !c.pulled {
		m.cancelResting(v, out) // accepted (or resolved open) after a cancel or a stop came: pulled too
	}
	if !m.replaying {
		m.level(now, ev.Caps, out) // a venue taken out, or a child of a parked venue that ended short: work moves
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

// startDue decides the children due now: a slice's quantity (with what earlier slices left), or a catch-up; for a
// maker-first parent, a resting maker child is pulled at its deadline and nothing else starts on its venue until
// it has ended.
func (m *machine) startDue(now time.Time, out *[]Command) {
	if m.cancelled || m.stopping || m.state != Working || m.paused() {
		return
	}
	for _, v := range m.venues {
		if c := v.resting; c != nil {
			dust := m.belowMin(v, c.qty.Sub(decimal.Max(c.reported, c.booked)).Add(v.remaining()))
			if c.restOn && !dust {
				c.deadline, c.restOn = now, false // the venue has more to send now (work moved to it): pulled
			}
			if !c.pulled && c.state == lifecycle.Open && !now.Before(c.deadline) {
				if end := m.restEnd(v, now); end.After(c.deadline) && dust {
					// What it would leave, with all the venue has still to send, is below the venue's smallest
					// order: nothing could send it again, so it rests on (until the parent's end at the latest,
					// or until work moved to the venue makes it worth sending).
					c.deadline, c.restOn = end, true
					continue
				}
				c.pulled, v.refusals = true, 0 // it rested until its deadline
				*out = append(*out, Command{Kind: CmdCancel, Venue: v.name, Request: gateway.Request{
					Kind: gateway.Cancel, Parent: m.req.ID, Order: venues.OrderRequest{ClientOrderID: c.id}}})
			}
			continue
		}
		if v.parked != "" || v.awaiting >= maxPlacing || v.unknown > 0 || v.dust || now.Before(v.retryAt) || v.health == gateway.Down {
			continue
		}
		left := v.remaining()
		if !left.IsPositive() {
			continue
		}
		if m.req.Execution == ExecMakerFirst && m.fundingHold(v, now) {
			continue // what falls due now starts once the funding time has passed
		}
		d := m.dueQuantity(v, now)
		cross := v.again && v.refusals >= maxRefusals
		if !d.due && v.again && v.next > 0 {
			// What a refused maker child left: posted again (or crossed) now rather than at the next slice.
			maxChild := maxChildQty(m.pl.params, v.rules, v.mark, m.pl.slippageBps)
			done := v.committed.Sub(v.base)
			d = due{qty: twap.ChildQuantityCum(v.cum, v.next-1, done, maxChild, v.rules), due: true, taker: cross, idx: v.next - 1}
			if v.next > 1 {
				d.behind = decimal.Max(v.cum[v.next-2].Sub(done), decimal.Zero)
			}
		}
		if !d.due {
			continue
		}
		v.again = false
		deadline, maker := m.makerDeadline(v, now)
		tol := v.allocated.Mul(decimal.NewFromFloat(m.prm.MakerTolerance))
		behindTol := d.behind.GreaterThan(tol)
		qty := d.qty
		if maker && !d.taker && !cross && behindTol && d.idx >= 0 {
			// Behind by more than the tolerance: cross what brings it back to half of it, and post the rest again
			// at once (again), so that a venue falling behind in a move away pays the taker fee on the excess only.
			// (Not when either part would be below the venue's smallest order.)
			if part := v.rules.FloorQty(d.behind.Sub(tol.Div(decimal.NewFromInt(2)))); part.IsPositive() && part.LessThan(qty) &&
				!m.belowMin(v, part) && !m.belowMin(v, qty.Sub(part)) {
				qty = part
				v.again = true
			}
		}
		maker = maker && !d.taker && !cross && !behindTol
		if maker && m.prm.MakerAhead > 0 && d.idx >= 0 {
			// A maker child also offers what the schedule owes a little later (MakerAhead of the allocation): its
			// fills come when the price comes to it, and a venue held to its schedule fills less when the price
			// moves its way than it falls behind when the price moves away — capped, a maker's timing costs.
			ahead := v.rules.FloorQty(v.allocated.Mul(decimal.NewFromFloat(m.prm.MakerAhead)))
			done := v.committed.Sub(v.base)
			maxChild := maxChildQty(m.pl.params, v.rules, v.mark, m.pl.slippageBps)
			qa := twap.ChildQuantityCum(v.cum, d.idx, done.Sub(ahead), maxChild, v.rules)
			qty = decimal.Max(qty, decimal.Min(qa, v.rules.FloorQty(left)))
		}
		if !qty.IsPositive() || m.belowMin(v, qty) {
			if v.next >= len(v.slices) && left.Equal(qty) {
				v.dust = true // nothing later can make it larger
			}
			continue
		}
		urgency := 0.0
		if maker && tol.IsPositive() {
			urgency = d.behind.Div(tol).InexactFloat64() // ≤ 1: beyond the tolerance it crosses
		}
		m.startChild(v, qty, now, out, maker, deadline, urgency)
	}
}

// belowMin reports whether q is positive but less than the venue's smallest order (its minimum quantity, and
// unless the parent is reduce-only, its minimum notional at the mark).
func (m *machine) belowMin(v *vstate, q decimal.Decimal) bool {
	return q.IsPositive() && (q.LessThan(v.rules.MinQty) || (!m.req.ReduceOnly && q.Mul(v.mark).LessThan(v.rules.MinNotional)))
}

// restEnd is the latest a maker child on v may rest: the parent's end, or the funding guard before the venue's
// funding time when that comes first.
func (m *machine) restEnd(v *vstate, now time.Time) time.Time {
	end := m.pl.deadline
	if f, ok := fundingCut(v, now); ok && f.Before(end) {
		end = f // within the guard already: no later than now, so nothing is extended across the funding time
	}
	return end
}

// fundingCut is the latest a maker child on v may rest before the venue's next funding time (fundingGuard before
// it); ok is false when no funding time the parent has not yet been attributed lies ahead.
func fundingCut(v *vstate, now time.Time) (time.Time, bool) {
	if v.funded || v.nextFunding.IsZero() || !v.nextFunding.After(now) {
		return time.Time{}, false
	}
	return v.nextFunding.Add(-fundingGuard), true
}

// due is what dueQuantity decided: a child of qty is due; behind is what the schedule owed the venue before this
// slice and it has not filled; taker says it must cross (the catch-up).
type due struct {
	qty    decimal.Decimal
	due    bool
	behind decimal.Decimal
	taker  bool
	idx    int // the schedule's slice it is due for (-1: the catch-up)
}

// makerDeadline is when a maker child placed now on v is pulled: when v's next slice falls due, and at the latest
// the end buffer before the parent's end, so that what it leaves can still be crossed in time. ok is false when
// the parent is not maker-first or no such time is left (the child crosses instead).
func (m *machine) makerDeadline(v *vstate, now time.Time) (time.Time, bool) {
	if m.req.Execution != ExecMakerFirst {
		return time.Time{}, false
	}
	end := m.pl.deadline.Add(-m.pl.params.EndBuffer)
	at := end
	if v.next < len(v.slices) && v.slices[v.next].At.Before(at) {
		at = v.slices[v.next].At
	}
	if f, ok := fundingCut(v, now); ok && f.Before(at) {
		at = f // no child rests across a funding time
	}
	return at, at.After(now)
}

func (m *machine) dueQuantity(v *vstate, now time.Time) due {
	maxChild := maxChildQty(m.pl.params, v.rules, v.mark, m.pl.slippageBps)
	done := v.committed.Sub(v.base)
	if v.next < len(v.slices) {
		if v.slices[v.next].At.After(now) {
			return due{}
		}
		behind := decimal.Zero
		if v.next > 0 {
			behind = decimal.Max(v.cum[v.next-1].Sub(done), decimal.Zero)
		}
		idx := v.next
		for idx+1 < len(v.slices) && !v.slices[idx+1].At.After(now) {
			idx++
		}
		v.next = idx + 1
		if v.next == len(v.slices) {
			v.catchupAt = now.Add(m.catchupInterval())
		}
		return due{qty: twap.ChildQuantityCum(v.cum, idx, done, maxChild, v.rules), due: true, behind: behind, idx: idx}
	}
	// The schedule is spent and something is left (an IOC missed the band): catch up within the band until the
	// horizon plus the catch-up allowance.
	if now.Before(v.catchupAt) || !now.Before(m.pl.deadline.Add(m.pl.params.Catchup)) {
		return due{}
	}
	v.catchupAt = now.Add(m.catchupInterval())
	q := v.rules.FloorQty(v.remaining())
	if maxChild.IsPositive() && q.GreaterThan(maxChild) {
		q = maxChild
	}
	return due{qty: q, due: true, taker: true, idx: -1}
}

func (m *machine) catchupInterval() time.Duration {
	return max(m.pl.params.MeanInterval/4, time.Second)
}

func (m *machine) startChild(v *vstate, qty decimal.Decimal, now time.Time, out *[]Command, maker bool, deadline time.Time, urgency float64) {
	v.seq++
	c := &mchild{v: v, seq: v.seq, id: ClientOrderID(m.salt, m.req.ID, v.name, v.seq), qty: qty,
		state: lifecycle.Intent, trades: map[string]struct{}{}, maker: maker}
	tif := venues.IOC
	if maker {
		c.deadline, tif = deadline, venues.PostOnly
		v.resting = c
	}
	m.byID[c.id] = c
	m.setAwaiting(c, true)
	m.touch(c)
	*out = append(*out, Command{Kind: CmdPlace, Venue: v.name, Request: gateway.Request{
		Kind: gateway.Place, Parent: m.req.ID, Seq: c.seq, Peg: maker, Urgency: urgency,
		Order: venues.OrderRequest{ClientOrderID: c.id, Instrument: m.req.Instrument, Side: m.req.Side,
			Type: venues.Limit, TimeInForce: tif, Quantity: qty, ReduceOnly: m.req.ReduceOnly},
		SlippageBps: m.pl.slippageBps, LimitPrice: m.req.LimitPrice, MaxChildNotional: m.pl.params.MaxChildNotional,
	}})
	*out = append(*out, Command{Kind: CmdChild, Child: m.childEvent(c, "", now)})
}

// maxRefusals is how many maker children in a row a venue may end before their time (post-only refusals) before
// what they leave is crossed with an IOC.
const maxRefusals = 3

// maxReallocs is how many re-allocations a parent's report keeps (the latest; Reallocations counts them all).
const maxReallocs = 50

// unavailable says why v may not take new work from this parent now; "" if it may.
func (m *machine) unavailable(v *vstate) string {
	if v.out != "" {
		return v.out
	}
	if vp, ok := m.prm.Venues[v.name]; ok && !vp.Enabled {
		return "disabled by ops"
	}
	if v.health == gateway.Down {
		return "circuit breaker open"
	}
	return ""
}

// level compares which venues may take work, and at what weight, with what the allocation was last made for,
// and re-allocates the unsent remainder when they differ: a venue parked (breaker open, disabled, taken out) or
// back, a weight changed, or a parked venue holding a remainder (a child of it ended short). Level-triggered:
// whatever the event, only the difference counts, so a venue that comes and goes moves work both ways, every
// time. It reports whether anything moved.
func (m *machine) level(now time.Time, caps map[string]decimal.Decimal, out *[]Command) bool {
	if m.stopping || m.done || m.state != Working {
		return false
	}
	var why []string
	for _, v := range m.venues {
		r, was := m.unavailable(v), v.parked
		switch {
		case r != v.parked && r == "":
			why = append(why, v.name+" available again (was: "+v.parked+")")
		case r != v.parked:
			why = append(why, v.name+" "+r)
			m.cancelResting(v, out)
		case r != "" && v.remaining().IsPositive():
			why = append(why, v.name+" ("+r+") holds an unsent remainder")
		}
		if v.remaining().IsNegative() {
			why = append(why, fmt.Sprintf("%s committed %s beyond its allocation", v.name, v.remaining().Neg()))
		}
		if v.remaining().IsPositive() && m.stranded.IsNegative() {
			why = append(why, fmt.Sprintf("%s has a remainder while the venues are %s over the parent", v.name, m.stranded.Neg()))
		}
		v.parked = r
		// An order whose outcome is unknown stops new work there (invariant 4) until it is resolved, which can
		// take long (a venue that answers nothing): its unsent remainder moves meanwhile, and comes back after.
		rcv := r == "" && v.unknown == 0
		switch {
		case !m.leveled || r != "" || was != "" || rcv == v.receiving:
		case rcv:
			why = append(why, v.name+" outcomes known again")
		default:
			why = append(why, v.name+" has an order whose outcome is unknown")
		}
		v.receiving = rcv
		if vp, ok := m.prm.Venues[v.name]; ok && r == "" && !vp.Weight.Equal(v.weight) {
			why = append(why, fmt.Sprintf("%s weight %s → %s", v.name, v.weight, vp.Weight))
			v.weight = vp.Weight
		}
	}
	m.leveled = true
	if len(why) == 0 || m.cancelled {
		return false
	}
	m.reallocate(strings.Join(why, "; "), now, caps, out)
	return true
}

// paused: halted stops every parent, reducing the ones that are not reduce-only (a reduce-only child can only
// shrink a position; the gateway's risk check holds each child to that in any state).
func (m *machine) paused() bool {
	return m.trading == risk.Halted || (m.trading == risk.Reducing && !m.req.ReduceOnly)
}

// setTrading takes a new trading state; when the parent resumes, what fell behind is re-spread over the time
// left. It reports whether anything changed.
func (m *machine) setTrading(st risk.State, now time.Time, caps map[string]decimal.Decimal, out *[]Command) bool {
	was := m.paused()
	m.trading = st
	switch is := m.paused(); {
	case is == was || m.stopping || m.done || m.state != Working:
		return false
	case is:
		for _, v := range m.venues {
			m.cancelResting(v, out)
		}
		m.addRealloc(m.reallocRecord("trading "+string(st)+": paused, nothing is sent until trading resumes", now, nil), out)
	case !m.cancelled:
		m.reallocate("trading "+string(st)+": resumed, the remainder re-spread over the time left", now, caps, out)
	}
	return true
}

// fundingGuard is how long before a venue's funding time no maker child rests there: one placed before is pulled
// by then, and none is placed until the funding time has passed.
const fundingGuard = 2 * time.Second

// markFunding attributes, on every venue whose funding time has passed since the parent was planned while it
// works, the funding the parent's fills there paid (or received) at that time. It reports whether an attribution
// at a rate that is not zero was made (it must be journaled).
func (m *machine) markFunding(now time.Time) bool {
	if m.state != Working || m.done {
		return false
	}
	changed := false
	for _, v := range m.venues {
		if v.funded || v.nextFunding.IsZero() || now.Before(v.nextFunding) || !v.nextFunding.After(m.pl.created) {
			continue
		}
		v.funded = true
		v.fundQty = v.filled
		if m.req.Side == venues.Sell {
			v.fundQty = v.filled.Neg()
		}
		v.funding = v.fundQty.Mul(v.fundRate).Mul(v.mark).Round(8)
		// Journaled unless the rate is zero: then the attribution is zero whenever it is made, after a restart too.
		// (A zero amount at a nonzero rate is journaled: made again after a restart, it would count later fills.)
		changed = changed || !v.fundRate.IsZero()
	}
	return changed
}

// fundingHold reports whether v is within fundingGuard before its funding time: no maker child starts there.
func (m *machine) fundingHold(v *vstate, now time.Time) bool {
	f, ok := fundingCut(v, now)
	return ok && !now.Before(f)
}

// cancelResting asks v's gateway to cancel the parent's children resting there. A maker child so pulled is not
// crossed when it ends: the work it leaves is re-spread or waits with the parent.
func (m *machine) cancelResting(v *vstate, out *[]Command) {
	for _, c := range m.byID {
		if c.v == v && c.state == lifecycle.Open {
			c.pulled = true
			*out = append(*out, Command{Kind: CmdCancel, Venue: v.name, Request: gateway.Request{
				Kind: gateway.Cancel, Parent: m.req.ID, Order: venues.OrderRequest{ClientOrderID: c.id}}})
		}
	}
}

// reallocate pools the unsent remainder of every venue with what was stranded, splits it over the venues that
// may take work (not parked, no outcome unknown there) in proportion to
// volume share × weight, within caps and lots (router.Allocate), and lays each of them a new randomized schedule
// from now to the deadline (or over the catch-up allowance once the deadline has passed). What no venue can take
// is stranded until the venues change again. The re-allocation is journaled, published and kept for the report.
func (m *machine) reallocate(why string, now time.Time, caps map[string]decimal.Decimal, out *[]Command) {
	before := make([]decimal.Decimal, len(m.venues))
	pool := m.stranded
	var inputs []router.VenueInput
	var receivers []*vstate
	for i, v := range m.venues {
		before[i] = v.remaining()
		// Every venue's allocation becomes what it has committed. A venue that committed beyond its allocation
		// (a journal restored on partial totals) nets against the pool: what it over-committed is taken from what
		// the others get, so the parent's total never grows.
		pool = pool.Add(v.remaining())
		v.allocated = v.committed
		v.slices, v.cum, v.next, v.base = nil, nil, 0, v.committed
		if v.parked != "" || v.unknown > 0 {
			continue // nothing new goes there until the outcome is known (invariant 4)
		}
		in := router.VenueInput{Venue: v.name, Rules: v.rules, VolumeShare: v.share, Weight: v.weight, Healthy: true, Price: v.mark}
		if room, ok := caps[v.name]; ok {
			inflight := decimal.Max(v.committed.Sub(v.filled), decimal.Zero)
			in.HasCap, in.Cap = true, decimal.Max(room.Sub(inflight), decimal.Zero)
		}
		if v.hasPartCap {
			part := decimal.Max(v.partCap.Sub(v.committed), decimal.Zero)
			if !in.HasCap || part.LessThan(in.Cap) {
				in.HasCap, in.Cap = true, part
			}
		}
		inputs = append(inputs, in)
		receivers = append(receivers, v)
	}
	if pool.IsNegative() {
		// Committed beyond the parent: nothing more is allocated anywhere, and the excess is kept as a negative
		// stranded quantity, so that what the over-committed children leave unfilled nets against it at the next
		// move (level moves work while stranded is negative) instead of being sent.
		m.reason = fmt.Sprintf("the venues have committed %s beyond the parent's quantity", pool.Neg())
	}
	moved := decimal.Zero
	if pool.IsPositive() && len(inputs) > 0 {
		if res, err := router.Allocate(router.Request{Quantity: pool, Venues: inputs}); err == nil {
			for _, a := range res.Allocations {
				v := m.venue(a.Venue)
				v.allocated = v.allocated.Add(a.Quantity)
				moved = moved.Add(a.Quantity)
			}
		}
	}
	m.stranded = pool.Sub(moved)
	for _, v := range receivers {
		v.dust = false
		if err := v.reschedule(m.pl, m.req, now, v.committed); err != nil {
			// The venue keeps the quantity and works it by catch-up; the schedule is only the pace.
			m.reason = fmt.Sprintf("reschedule on %s failed: %v", v.name, err)
		}
	}
	switch {
	case m.stranded.IsPositive():
		m.reason = fmt.Sprintf("%s of the remainder has no venue that can take it (%s)", m.stranded, why)
		m.strandNote = m.reason
	case m.strandNote != "" && m.reason == m.strandNote:
		m.reason, m.strandNote = "", ""
	}
	m.addRealloc(m.reallocRecord(why, now, before), out)
}

// reallocRecord describes the venues' unsent remainders before (nil: unchanged) and after a change.
func (m *machine) reallocRecord(why string, now time.Time, before []decimal.Decimal) Reallocation {
	r := Reallocation{At: now, Reason: why, Stranded: m.stranded, Venues: make([]VenueMove, len(m.venues))}
	for i, v := range m.venues {
		mv := VenueMove{Venue: v.name, After: v.remaining(), Available: v.parked == "" && v.unknown == 0, Why: v.parked}
		if v.parked == "" && v.unknown > 0 {
			mv.Why = "an order's outcome is unknown"
		}
		mv.Before = mv.After
		if before != nil {
			mv.Before = before[i]
		}
		r.Venues[i] = mv
	}
	return r
}

// addRealloc keeps r for the report (copy on write: reports share the slice) and has it journaled and published.
func (m *machine) addRealloc(r Reallocation, out *[]Command) {
	keep := m.reallocs
	if len(keep) >= maxReallocs {
		keep = keep[len(keep)-maxReallocs+1:]
	}
	next := make([]Reallocation, 0, len(keep)+1)
	m.reallocs = append(append(next, keep...), r)
	m.reallocN++
	*out = append(*out, Command{Kind: CmdJournal}, Command{Kind: CmdRealloc, Realloc: r})
}

// finish decides whether the parent's work is over, and its final state. It reports whether anything changed.
func (m *machine) finish(now time.Time, out *[]Command) bool {
	if m.placing > 0 {
		return false
	}
	if m.stopping {
		for _, v := range m.venues {
			if c := v.resting; c != nil && (c.state == lifecycle.Open || c.state == lifecycle.CancelPending) {
				return false // its cancel is not answered yet
			}
		}
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
	if !pastCatchup && m.stranded.IsPositive() {
		for _, v := range m.venues {
			if v.out == "" {
				return false // parked for now (breaker, ops): it may come back and take what is stranded
			}
		}
	}
	for _, v := range m.venues {
		if v.parked != "" || v.dust || !v.remaining().IsPositive() {
			continue
		}
		if v.unknown > 0 || !pastCatchup {
			return false
		}
	}
	if pastCatchup && m.reason == "" && m.unfilled().IsPositive() {
		m.reason = "horizon and catch-up ended with a remainder unfilled"
		if m.paused() {
			m.reason += "; trading " + string(m.trading)
		}
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
	for _, v := range m.venues {
		if !v.funded && !v.nextFunding.IsZero() && v.nextFunding.After(now) && v.nextFunding.Before(next) {
			next = v.nextFunding // its funding is attributed then
		}
	}
	if m.cancelled || m.stopping || m.paused() {
		return next
	}
	for _, v := range m.venues {
		if m.req.Execution == ExecMakerFirst && m.fundingHold(v, now) && v.resting == nil {
			if v.nextFunding.Before(next) {
				next = v.nextFunding
			}
			continue
		}
		if c := v.resting; c != nil {
			if !c.pulled && c.deadline.After(now) && c.deadline.Before(next) {
				next = c.deadline
			}
			continue // nothing else starts there before it has ended, which an update reports
		}
		// Venues startDue skips whatever the time are not a reason to wake: an update wakes the parent for them.
		if v.parked != "" || v.awaiting >= maxPlacing || v.unknown > 0 || v.dust || v.health == gateway.Down ||
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
