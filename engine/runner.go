package engine

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/internal/mailbox"
	"github.com/execd-dev/execd/journal"
)

// parent is one parent order's runner: the one goroutine that owns its machine (invariant 7), feeds it events
// from its inbox and its timer, and carries out its commands. Readers get snapshots.
type parent struct {
	e     *Engine
	req   Request
	m     *machine // owned by the run goroutine (or by the caller before it starts)
	log   *zap.Logger
	inbox *mailbox.Box[Event]
	snap  atomic.Pointer[Report]
	done  chan struct{}
	once  struct{ cancel, stop sync.Once }
	dirty bool // owned by the run goroutine: the snapshot is behind the machine
	// created and startAt, for a parent set ahead: when it was accepted and when it starts (m is nil until then).
	created, startAt time.Time
	mo               markouts
}

// markouts accumulates the parent's fill markouts by horizon. They arrive from the gateways on their goroutines,
// also after the run loop has ended.
type markouts struct {
	mu sync.Mutex
	by []markoutSum // ascending horizon
	n  int          // samples taken
}

type markoutSum struct {
	horizon time.Duration
	sum     float64 // Σ bps × qty
	qty     decimal.Decimal
}

func (m *markouts) add(s gateway.MarkoutSample) {
	if !s.Qty.IsPositive() || math.IsNaN(s.Bps) || math.IsInf(s.Bps, 0) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i, found := slices.BinarySearchFunc(m.by, s.Horizon, func(x markoutSum, h time.Duration) int { return cmp.Compare(x.horizon, h) })
	if !found {
		m.by = slices.Insert(m.by, i, markoutSum{horizon: s.Horizon})
	}
	m.by[i].sum += s.Bps * s.Qty.InexactFloat64()
	m.by[i].qty = m.by[i].qty.Add(s.Qty)
	m.n++
}

// record is the journal's copy of the markouts so far.
func (m *markouts) record(parent string) journal.Markouts {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := journal.Markouts{Parent: parent, Samples: m.n, By: make([]journal.MarkoutSum, 0, len(m.by))}
	for _, x := range m.by {
		r.By = append(r.By, journal.MarkoutSum{Horizon: x.horizon, Sum: x.sum, Qty: x.qty})
	}
	return r
}

// load takes the journaled markouts of a restored parent (before any sample arrives).
func (m *markouts) load(r journal.Markouts) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n, m.by = r.Samples, nil
	for _, x := range r.By {
		m.by = append(m.by, markoutSum{horizon: x.Horizon, sum: x.Sum, qty: x.Qty})
	}
}

func (m *markouts) view() []Markout {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Markout, 0, len(m.by))
	for _, x := range m.by {
		out = append(out, Markout{Horizon: x.horizon, Bps: x.sum / x.qty.InexactFloat64(), Qty: x.qty})
	}
	return out
}

var _ gateway.Sink = (*parent)(nil)

func newParent(e *Engine, req Request, m *machine) *parent {
	p := &parent{e: e, req: req, m: m, log: e.log.With(zap.String("parent", req.ID)), inbox: mailbox.New[Event](),
		done: make(chan struct{})}
	r := m.report(e.clk.Now())
	p.snap.Store(&r)
	return p
}

// Deliver takes a gateway's update; it never blocks. A markout is kept apart from the run loop (it may come after
// the parent has ended).
func (p *parent) Deliver(u gateway.Update) {
	if u.Kind == gateway.Markout {
		p.mo.add(u.Markout)
		if p.e != nil && p.e.markouts != nil {
			p.e.markouts.Put(p) // journaled by the engine's writer, coalesced
		}
		return
	}
	p.inbox.Put(Event{Kind: EvUpdate, Update: u})
}

// Report is the latest snapshot, with the markouts as they stand.
func (p *parent) Report() Report {
	r := *p.snap.Load()
	r.Markouts = p.mo.view()
	return r
}

// cancel and stop ask the runner; a parent restored as ended has no runner and nothing to do.
func (p *parent) cancel() {
	if p.inbox != nil {
		p.once.cancel.Do(func() { p.inbox.Put(Event{Kind: EvCancel}) })
	}
}

func (p *parent) stop() {
	if p.inbox != nil {
		p.once.stop.Do(func() { p.inbox.Put(Event{Kind: EvStop}) })
	}
}

// run is the owner loop. It returns when the machine says its work is over (the parent ended, or the engine is
// stopping and no placement is outstanding).
func (p *parent) run(ctx context.Context) {
	defer close(p.done)
	if p.m == nil && !p.awaitStart(ctx) {
		return
	}
	for _, v := range p.m.venues {
		p.e.gateway(v.name, p.req.Instrument).Submit(gateway.Request{Kind: gateway.Attach, Parent: p.req.ID, Sink: p})
	}
	p.log.Info("parent working", zap.String("side", string(p.req.Side)), zap.String("quantity", p.req.Quantity.String()),
		zap.Duration("duration", p.req.Duration))
	var timer clock.Timer
	var timerC <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	arm := func(at time.Time) {
		if timer != nil {
			timer.Stop()
		}
		timer = p.e.clk.NewTimer(at.Sub(p.e.clk.Now()))
		timerC = timer.C()
	}
	start := Event{Kind: EvStart, Trading: p.e.state.Get()}
	p.observe(&start)
	p.exec(p.m.Step(start, p.e.clk.Now()), arm)
	p.flush()
	ctxDone := ctx.Done()
	var evs []Event
	for !p.m.done {
		select {
		case <-p.inbox.Ready():
			evs = p.inbox.Drain(evs)
			for _, ev := range evs {
				p.observe(&ev)
				p.exec(p.m.Step(ev, p.e.clk.Now()), arm)
				if p.m.done {
					break
				}
			}
			p.flush()
		case <-timerC:
			timerC = nil
			p.exec(p.m.Step(Event{Kind: EvTimer}, p.e.clk.Now()), arm)
			p.flush()
		case <-ctxDone:
			ctxDone = nil
			p.exec(p.m.Step(Event{Kind: EvStop}, p.e.clk.Now()), arm)
			p.flush()
		}
	}
}

// observe attaches to an event what the machine may need to move work between venues: the room per venue by
// its position (reduce-only, position caps), read from the ledger now.
func (p *parent) observe(ev *Event) {
	switch ev.Kind {
	case EvParams, EvUpdate, EvTrading, EvStart:
	default:
		return
	}
	prm := p.e.params.Load() // read only: no copy per event
	for _, v := range p.m.venues {
		if room, has := p.e.room(*prm, v.name, p.req); has {
			if ev.Caps == nil {
				ev.Caps = make(map[string]decimal.Decimal, len(p.m.venues))
			}
			ev.Caps[v.name] = room
		}
	}
}

// exec carries out the machine's commands, in order.
func (p *parent) exec(cmds []Command, arm func(time.Time)) {
	for _, c := range cmds {
		switch c.Kind {
		case CmdPlace:
			r := c.Request
			r.Sink = p
			if p.e.decided != nil {
				r.Decided = time.Now()
				p.e.decided(r.Order.ClientOrderID, r.Decided)
			}
			p.e.gateway(c.Venue, p.req.Instrument).Submit(r)
		case CmdCancel, CmdResolve:
			r := c.Request
			r.Sink = p
			p.e.gateway(c.Venue, p.req.Instrument).Submit(r)
		case CmdTimer:
			arm(c.At)
		case CmdJournal:
			if err := p.persist(); err != nil {
				p.log.Error("parent not journaled; the next change retries", zap.Error(err))
			}
		case CmdPublish:
			p.dirty = true // published once the events at hand are all taken (flush)
		case CmdChild:
			p.e.publishEvent(EventChild, p.req.ID, c.Child)
		case CmdFill:
			p.e.publishEvent(EventFill, p.req.ID, c.Fill)
		case CmdRealloc:
			p.log.Info("remainder re-allocated", zap.String("reason", c.Realloc.Reason),
				zap.String("stranded", c.Realloc.Stranded.String()))
			p.e.publishEvent(EventRealloc, p.req.ID, ReallocEvent{Parent: p.req.ID, Instrument: p.req.Instrument,
				Reallocation: c.Realloc})
		case CmdDone:
			if p.m.state != Working {
				p.log.Info("parent ended", zap.String("state", string(p.m.state)), zap.String("filled", p.m.filled.String()),
					zap.String("reason", p.m.reason))
			}
		}
	}
}

// flush publishes the snapshot if the machine changed since the last one: once per batch of events, not once per
// event.
func (p *parent) flush() {
	if p.dirty {
		p.dirty = false
		p.publish()
	}
}

// publish stores a fresh snapshot and, if the parent's progress changed, publishes it.
func (p *parent) publish() {
	r := p.m.report(p.e.clk.Now())
	prev := p.snap.Load()
	p.snap.Store(&r)
	if prev == nil || !sameProgress(*prev, r) {
		p.e.publishEvent(EventOrder, r.ID, r)
		if r.State != Working {
			p.e.publishEvent(EventReport, r.ID, r)
		}
	}
}

// sameProgress reports whether two snapshots of a parent differ only in their update time.
func sameProgress(a, b Report) bool {
	if a.State != b.State || !a.Filled.Equal(b.Filled) || a.ChildOrders != b.ChildOrders || !a.Fees.Equal(b.Fees) ||
		a.Reason != b.Reason || len(a.Venues) != len(b.Venues) || a.ReallocationCount != b.ReallocationCount {
		return false
	}
	for i := range a.Venues {
		x, y := a.Venues[i], b.Venues[i]
		if !x.Allocated.Equal(y.Allocated) || !x.Filled.Equal(y.Filled) || x.ChildOrders != y.ChildOrders ||
			x.Rejected != y.Rejected || x.Out != y.Out {
			return false
		}
	}
	return true
}

func vwap(notional, qty decimal.Decimal) *string {
	if !qty.IsPositive() {
		return nil
	}
	s := notional.Div(qty).Round(4).String()
	return &s
}

// report is the parent's snapshot: work linear in the venues, not in the children.
func (m *machine) report(now time.Time) Report {
	r := Report{
		ID: m.req.ID, State: m.state, Instrument: m.req.Instrument, Side: m.req.Side, Quantity: m.req.Quantity,
		ReduceOnly: m.req.ReduceOnly, Duration: m.req.Duration.String(), MaxSlippageBps: m.pl.slippageBps,
		Residual: m.pl.residual, ArrivalPrice: m.pl.arrival, Fees: m.fees.Round(8),
		CreatedAt: m.pl.created, Deadline: m.pl.deadline, UpdatedAt: now, EndedAt: m.ended, Reason: m.reason,
		Filled: m.filled, Unfilled: m.unfilled(), AvgPrice: vwap(m.notional, m.filled),
		Reallocations: m.reallocs, ReallocationCount: m.reallocN, Execution: m.req.Execution, MakerFilled: m.maker,
	}
	if m.req.LimitPrice.IsPositive() {
		s := m.req.LimitPrice.String()
		r.LimitPrice = &s
	}
	if !m.req.StartAt.IsZero() {
		s := m.req.StartAt
		r.StartAt = &s
	}
	for _, v := range m.venues {
		vr := VenueReport{
			Venue: v.name, VolumeShare: v.share.Round(4), Weight: v.weight, Allocated: v.allocated, Filled: v.filled,
			AvgPrice: vwap(v.notional, v.filled), ChildOrders: v.sent, Rejected: v.rejected, Out: v.parked,
			MakerFilled: v.makerFilled,
		}
		if !v.nextFunding.IsZero() {
			at := v.nextFunding
			vr.NextFunding = &at
			if v.funded {
				vr.Funding, vr.FundingAt = v.funding, &at
				r.Funding = r.Funding.Add(v.funding)
			}
		}
		r.Venues = append(r.Venues, vr)
		r.ChildOrders += v.sent
	}
	if m.filled.IsPositive() && m.pl.arrival.IsPositive() {
		avg := m.notional.Div(m.filled)
		bps := avg.Sub(m.pl.arrival).Div(m.pl.arrival).Mul(decimal.NewFromInt(10000)).Mul(m.req.Side.Sign()).Round(2)
		s := bps.String()
		r.ShortfallBps = &s
	}
	return r
}

func sortChildren(cs []*mchild) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].v.name != cs[j].v.name {
			return cs[i].v.name < cs[j].v.name
		}
		return cs[i].seq < cs[j].seq
	})
}
