package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/router"
	"github.com/execd-dev/execd/twap"
	"github.com/execd-dev/execd/venues"
)

// venueWork is one venue's part of a parent. Owned by the parent's goroutine.
type venueWork struct {
	name      string
	rules     venues.Rules
	mark      decimal.Decimal // reference price for sizing
	share     decimal.Decimal
	weight    decimal.Decimal
	allocated decimal.Decimal
	rng       *rand.Rand

	slices []twap.Slice
	next   int             // index of the next slice not yet worked
	base   decimal.Decimal // committed quantity when the schedule was laid

	seq       int
	inflight  int       // child calls in flight (a place, or a restart's resolution)
	blocked   bool      // a child's outcome is unknown: nothing more is sent here (invariant 4)
	retryAt   time.Time // no new child before this (simulated clock)
	catchupAt time.Time // next catch-up attempt once the schedule is spent
	dust      bool      // what is left is below what the venue accepts
	rejects   int       // consecutive rejections
	rejected  int
	out       string // why this venue was taken out of the parent
	// lastRefusal is the last pre-trade refusal (halted, band...), for the report's reason.
	lastRefusal string

	children []*child
	filled   decimal.Decimal
	notional decimal.Decimal
}

// child is one child order. Owned by the parent's goroutine.
type child struct {
	venue    string
	seq      int
	id       string
	qty      decimal.Decimal
	price    decimal.Decimal
	sent     bool // it may exist at the venue
	final    bool
	status   venues.OrderStatus
	reported decimal.Decimal // filled quantity as the venue reports it on the order
	booked   decimal.Decimal // filled quantity from booked fills
	trades   map[string]bool
	sentAt   time.Time // wall clock
	fillDue  time.Time // wall clock: read fills by REST after this if still short
	fetching bool
	fetches  int
	pending  bool // restored with no journaled outcome: resolved with the venue before anything else
}

func (c *child) committed() decimal.Decimal {
	if !c.final {
		return c.qty
	}
	return decimal.Max(c.reported, c.booked)
}

func (c *child) settled() bool { return !c.final || c.booked.GreaterThanOrEqual(c.reported) }

func (w *venueWork) committed() decimal.Decimal {
	s := decimal.Zero
	for _, c := range w.children {
		if c.sent || !c.final {
			s = s.Add(c.committed())
		}
	}
	return s
}

func (w *venueWork) remaining() decimal.Decimal { return w.allocated.Sub(w.committed()) }

type resultKind int

const (
	resPlace resultKind = iota + 1
	resFetch
	resResolve
)

type result struct {
	kind     resultKind
	child    *child
	order    venues.Order
	price    decimal.Decimal
	sent     bool   // the request may have reached the venue
	notFound bool   // resolution: the venue does not know the order
	phase    string // where a failure happened: "prepare", "risk", "breaker", "place", "resolve"
	err      error
}

type parent struct {
	e   *Engine
	req Request
	pl  *plan
	log *zap.Logger

	fills    chan venues.Fill
	orders   chan venues.Order
	results  chan result
	cancelCh chan struct{}
	stopCh   chan struct{}
	done     chan struct{}
	exited   chan struct{} // closed when the run loop has returned, before its workers are waited for
	once     struct{ cancel, stop sync.Once }
	workers  sync.WaitGroup

	snap atomic.Pointer[Report]
	fees decimal.Decimal // owned by the run goroutine

	// owned by the run goroutine
	work      []*venueWork
	byID      map[string]*child
	state     State
	cancelled bool
	stopping  bool
	stranded  decimal.Decimal // reallocated away from a failed venue with nowhere to go
	reason    string
	ended     *time.Time
}

func newParent(e *Engine, req Request, pl *plan) *parent {
	p := &parent{
		e: e, req: req, pl: pl, log: e.log.With(zap.String("parent", req.ID)),
		fills: make(chan venues.Fill, 64), orders: make(chan venues.Order, 64), results: make(chan result, 16),
		cancelCh: make(chan struct{}), stopCh: make(chan struct{}), done: make(chan struct{}), exited: make(chan struct{}),
		work: pl.work, byID: map[string]*child{}, state: Working,
	}
	p.publish()
	return p
}

func (p *parent) Report() Report { return *p.snap.Load() }

func (p *parent) cancel() { p.once.cancel.Do(func() { close(p.cancelCh) }) }
func (p *parent) stop()   { p.once.stop.Do(func() { close(p.stopCh) }) }

func (p *parent) sendFill(f venues.Fill) {
	select {
	case p.fills <- f:
	case <-p.exited:
	}
}

func (p *parent) sendOrder(venue string, o venues.Order) {
	select {
	case p.orders <- o:
	case <-p.exited:
	}
}

// run is the owner loop.
func (p *parent) run(ctx context.Context) {
	defer close(p.done)
	defer p.workers.Wait()
	defer close(p.exited)
	p.log.Info("parent working", zap.String("side", string(p.req.Side)), zap.String("quantity", p.req.Quantity.String()),
		zap.Duration("duration", p.req.Duration))
	for _, w := range p.work {
		for _, c := range w.children {
			if c.pending {
				p.startResolve(w, c)
			}
		}
	}
	var simTimer = p.e.clk.NewTimer(time.Hour)
	wallTimer := time.NewTimer(time.Hour)
	defer func() { simTimer.Stop(); wallTimer.Stop() }()
	for {
		p.step()
		p.publish()
		if p.finished() {
			return
		}
		simTimer.Stop()
		simTimer = p.e.clk.NewTimer(p.nextWake().Sub(p.e.clk.Now()))
		if !wallTimer.Stop() {
			select {
			case <-wallTimer.C:
			default:
			}
		}
		wallTimer.Reset(p.nextWallWake())
		select {
		case <-simTimer.C():
		case <-wallTimer.C:
		case r := <-p.results:
			p.onResult(r)
		case f := <-p.fills:
			p.onFill(f)
		case o := <-p.orders:
			p.onOrder(o)
		case <-p.cancelCh:
			if !p.cancelled {
				p.cancelled = true
				p.log.Info("cancel requested")
				if err := p.persist(); err != nil {
					p.log.Error("cancel not journaled", zap.Error(err))
				}
			}
		case <-p.stopCh:
			p.stopping = true
		case <-ctx.Done():
			p.stopping = true
		}
	}
}

// step starts what is due now: children for due slices, catch-up attempts, REST reads of late fills.
func (p *parent) step() {
	now := p.e.clk.Now()
	wall := time.Now()
	for _, w := range p.work {
		for _, c := range w.children {
			if c.final && !c.settled() && !c.fetching && !wall.Before(c.fillDue) && c.fetches < 5 && !p.stopping {
				p.startFetch(w, c)
			}
		}
	}
	if p.cancelled || p.stopping || p.state != Working {
		return
	}
	for _, w := range p.work {
		if w.out != "" || w.inflight > 0 || w.blocked || w.dust || now.Before(w.retryAt) {
			continue
		}
		left := w.remaining()
		if !left.IsPositive() {
			continue
		}
		if !p.e.breakers.Healthy(w.name) {
			p.takeOut(w, "circuit breaker open", now)
			continue
		}
		qty, due := p.dueQuantity(w, now)
		if !due {
			continue
		}
		if qty.LessThan(w.rules.MinQty) || (!p.req.ReduceOnly && qty.Mul(w.mark).LessThan(w.rules.MinNotional)) {
			if w.next >= len(w.slices) && left.Equal(qty) {
				w.dust = true // nothing later can make it larger
			}
			continue
		}
		p.startChild(w, qty)
	}
}

// dueQuantity says whether the venue has a slice (or a catch-up attempt) due now and how much to send.
func (p *parent) dueQuantity(w *venueWork, now time.Time) (decimal.Decimal, bool) {
	maxChild := maxChildQty(p.pl.params, w.rules, w.mark, p.pl.slippageBps)
	if w.next < len(w.slices) {
		if w.slices[w.next].At.After(now) {
			return decimal.Zero, false
		}
		idx := w.next
		for idx+1 < len(w.slices) && !w.slices[idx+1].At.After(now) {
			idx++
		}
		w.next = idx + 1
		if w.next == len(w.slices) {
			w.catchupAt = now.Add(p.catchupInterval())
		}
		done := w.committed().Sub(w.base)
		return twap.ChildQuantity(w.slices, idx, done, decimal.Zero, maxChild, w.rules), true
	}
	// The schedule is spent and something is left (an IOC missed the band): catch up within the band until the
	// horizon plus the catch-up allowance.
	if now.Before(w.catchupAt) || !now.Before(p.pl.deadline.Add(p.pl.params.Catchup)) {
		return decimal.Zero, false
	}
	w.catchupAt = now.Add(p.catchupInterval())
	q := w.rules.FloorQty(w.remaining())
	if maxChild.IsPositive() && q.GreaterThan(maxChild) {
		q = maxChild
	}
	return q, true
}

func (p *parent) catchupInterval() time.Duration {
	d := p.pl.params.MeanInterval / 4
	if d < time.Second {
		d = time.Second
	}
	return d
}

// startChild creates the child (its client order id is derived, registered for fills) and starts its venue call.
func (p *parent) startChild(w *venueWork, qty decimal.Decimal) {
	var decidedAt time.Time
	if p.e.decided != nil {
		decidedAt = time.Now()
	}
	w.seq++
	c := &child{
		venue: w.name, seq: w.seq, id: ClientOrderID(p.e.salt, p.req.ID, w.name, w.seq), qty: qty,
		trades: map[string]bool{},
	}
	if p.e.decided != nil {
		p.e.decided(c.id, decidedAt)
	}
	w.children = append(w.children, c)
	p.byID[c.id] = c
	p.e.register(c.id, p)
	// Write-ahead: the intent is durable before anything is sent (invariant 3).
	if err := p.e.journal.PutChild(c.record(p.req.ID, childIntent)); err != nil {
		c.final, c.status = true, venues.StatusRejected
		w.retryAt = p.e.clk.Now().Add(p.pl.params.RetryInterval)
		p.log.Error("child intent not journaled; not sent", zap.String("child", c.id), zap.Error(err))
		return
	}
	p.e.failpoint(FailAfterIntent)
	w.inflight++
	sentRec := c.record(p.req.ID, childSent)
	spec := childSpec{
		venue: p.e.venues[w.name], rules: w.rules, id: c.id, qty: qty, req: p.req,
		slippageBps: p.pl.slippageBps, params: p.pl.params,
		beforeSend: func(price decimal.Decimal) error {
			rec := sentRec // a copy made by the owner: the worker reads none of the child's fields
			rec.Price = price
			return p.e.journal.PutChild(rec)
		},
	}
	p.workers.Add(1)
	go func() {
		defer p.workers.Done()
		r := p.e.placeChild(p.e.runCtx, spec)
		r.kind, r.child = resPlace, c
		p.deliver(r)
	}()
}

// startResolve asks the venue what became of a child whose outcome the journal does not hold.
func (p *parent) startResolve(w *venueWork, c *child) {
	t := p.e.venues[w.name]
	p.workers.Add(1)
	go func() {
		defer p.workers.Done()
		r := p.e.resolvePending(p.e.runCtx, t, p.req.Instrument, c.id)
		r.kind, r.child = resResolve, c
		p.deliver(r)
	}()
}

func (p *parent) startFetch(w *venueWork, c *child) {
	c.fetching = true
	c.fetches++
	since := c.sentAt.Add(-time.Minute).UnixMilli()
	t := p.e.venues[w.name]
	p.workers.Add(1)
	go func() {
		defer p.workers.Done()
		ctx, cancel := context.WithTimeout(p.e.runCtx, p.e.timeout)
		fills, err := t.Fills(ctx, p.req.Instrument, since)
		cancel()
		for _, f := range fills {
			if f.ClientOrderID == c.id {
				p.e.bookFill(f)
			}
		}
		p.deliver(result{kind: resFetch, child: c, err: err})
	}()
}

// deliver hands a worker's result to the owner loop, or drops it if the loop has already returned (it returns
// only when no place call is in flight, so only a late REST read of fills can be dropped; its fills were booked).
func (p *parent) deliver(r result) {
	select {
	case p.results <- r:
	case <-p.exited:
	}
}

func (p *parent) onResult(r result) {
	c := r.child
	w := p.venue(c.venue)
	now := p.e.clk.Now()
	if r.kind == resFetch {
		c.fetching = false
		c.fillDue = time.Now().Add(p.e.fillWait)
		if r.err != nil {
			p.log.Warn("reading fills failed", zap.String("venue", w.name), zap.String("child", c.id), zap.Error(r.err))
		}
		return
	}
	w.inflight--
	defer p.journalChild(c)
	if r.kind == resResolve {
		c.pending = false
		switch {
		case r.err == nil:
			c.final, c.sent, c.status = true, true, r.order.Status
			if r.order.FilledQty.GreaterThan(c.reported) {
				c.reported = r.order.FilledQty
			}
			c.fillDue = time.Now()
		case r.notFound:
			c.final, c.sent, c.status = true, false, venues.StatusRejected
		default:
			w.blocked = true
			p.log.Warn("restored child still unresolved", zap.String("venue", w.name), zap.String("child", c.id), zap.Error(r.err))
		}
		return
	}
	if !r.price.IsZero() {
		c.price = r.price
	}
	c.sent = r.sent
	if r.sent {
		c.sentAt = time.Now()
	}
	if r.err == nil {
		c.final = true
		c.status = r.order.Status
		if r.order.FilledQty.GreaterThan(c.reported) {
			c.reported = r.order.FilledQty
		}
		c.fillDue = time.Now().Add(p.e.fillWait)
		w.rejects = 0
		return
	}
	class := venues.ClassOf(r.err)
	log := p.log.With(zap.String("venue", w.name), zap.String("child", c.id), zap.String("phase", r.phase), zap.Error(r.err))
	switch {
	case r.phase == "prepare":
		// Nothing was sent (the mark could not be read, or the send could not be journaled): whatever the class
		// of the failure, the child did not reach the venue.
		c.final, c.status, c.sent = true, venues.StatusRejected, false
		w.retryAt = now.Add(p.pl.params.RetryInterval)
		log.Warn("child not sent; will retry")
	case r.phase == "risk":
		c.final, c.status = true, venues.StatusRejected
		w.retryAt = now.Add(p.pl.params.RetryInterval)
		w.lastRefusal = r.err.Error()
		log.Warn("child refused by risk")
	case r.phase == "breaker":
		c.final, c.status, c.sent = true, venues.StatusRejected, false
		p.takeOut(w, "circuit breaker open", now)
	case class == venues.Unknown:
		// Only when the engine is stopping does a worker give up resolving an unknown outcome; the venue is
		// blocked for this parent until a restart resolves it.
		w.blocked = true
		log.Warn("child outcome unknown")
	case class == venues.Rejected && r.sent:
		c.final, c.status = true, venues.StatusRejected
		w.rejects++
		w.rejected++
		w.retryAt = now.Add(p.pl.params.RetryInterval)
		log.Warn("child rejected")
		if w.rejects >= p.pl.params.MaxConsecutiveRejects {
			p.takeOut(w, fmt.Sprintf("rejected %d times in a row: %v", w.rejects, r.err), now)
		}
	default: // not sent, or retryable: nothing reached the venue
		c.final, c.status = true, venues.StatusRejected
		c.sent = r.sent && class != venues.Retryable
		w.retryAt = now.Add(p.pl.params.RetryInterval)
		log.Warn("child not placed; will retry")
	}
}

// journalChild records a child's outcome as the owner now knows it.
func (p *parent) journalChild(c *child) {
	state := childUnknown
	switch {
	case c.final && c.sent:
		state = childFinal
	case c.final:
		state = childNotSent
	}
	if err := p.e.journal.PutChild(c.record(p.req.ID, state)); err != nil {
		p.log.Error("child outcome not journaled", zap.String("child", c.id), zap.Error(err))
	}
}

func (p *parent) onFill(f venues.Fill) {
	c, ok := p.byID[f.ClientOrderID]
	if !ok || c.trades[f.TradeID] {
		return
	}
	c.trades[f.TradeID] = true
	c.booked = c.booked.Add(f.Quantity)
	w := p.venue(c.venue)
	w.filled = w.filled.Add(f.Quantity)
	w.notional = w.notional.Add(f.Quantity.Mul(f.Price))
	p.feesAdd(f)
}

func (p *parent) onOrder(o venues.Order) {
	c, ok := p.byID[o.ClientOrderID]
	if !ok {
		return
	}
	if o.FilledQty.GreaterThan(c.reported) {
		c.reported = o.FilledQty
		if c.final {
			c.fillDue = time.Now().Add(p.e.fillWait)
		}
	}
}

// takeOut removes a venue from the parent and hands its remainder to the healthy venues.
func (p *parent) takeOut(w *venueWork, why string, now time.Time) {
	if w.out != "" {
		return
	}
	w.out = why
	rem := w.remaining()
	w.allocated = w.committed()
	w.slices, w.next = nil, 0
	p.log.Warn("venue taken out of parent", zap.String("venue", w.name), zap.String("why", why), zap.String("remainder", rem.String()))
	if !rem.IsPositive() {
		return
	}
	prm := p.e.Params()
	var inputs []router.VenueInput
	for _, o := range p.work {
		if o.out != "" || o.blocked || !p.e.breakers.Healthy(o.name) {
			continue
		}
		vp, has := prm.Venues[o.name]
		if has && !vp.Enabled {
			continue
		}
		weight := o.weight
		if has {
			weight = vp.Weight
		}
		in := router.VenueInput{Venue: o.name, Rules: o.rules, VolumeShare: o.share, Weight: weight, Healthy: true, Price: o.mark}
		if p.req.ReduceOnly {
			pos := p.e.ledger.Position(positionKey(o.name, p.req.Instrument))
			capacity := reducible(pos, p.req.Side).Sub(o.remaining())
			in.HasCap, in.Cap = true, decimal.Max(capacity, decimal.Zero)
		}
		inputs = append(inputs, in)
	}
	var res router.Result
	var err error
	if len(inputs) > 0 {
		res, err = router.Allocate(router.Request{Quantity: rem, Venues: inputs})
	}
	if len(inputs) == 0 || err != nil {
		p.stranded = p.stranded.Add(rem)
		p.reason = fmt.Sprintf("%s remainder %s has no healthy venue", w.name, rem)
		if err := p.persist(); err != nil {
			p.log.Error("venue removal not journaled", zap.Error(err))
		}
		return
	}
	moved := decimal.Zero
	for _, a := range res.Allocations {
		o := p.venue(a.Venue)
		o.allocated = o.allocated.Add(a.Quantity)
		moved = moved.Add(a.Quantity)
		o.dust = false
		if err := o.reschedule(p.pl, p.req, now, o.committed()); err != nil {
			p.log.Error("reschedule failed", zap.String("venue", o.name), zap.Error(err))
		}
	}
	p.stranded = p.stranded.Add(rem.Sub(moved))
	if err := p.persist(); err != nil {
		p.log.Error("reallocation not journaled", zap.Error(err))
	}
}

func (p *parent) venue(name string) *venueWork {
	for _, w := range p.work {
		if w.name == name {
			return w
		}
	}
	panic("engine: unknown venue " + name) // unreachable: children only exist on the parent's venues
}

// finished decides whether the parent has ended, and sets its final state.
func (p *parent) finished() bool {
	busy, settled := false, true
	for _, w := range p.work {
		busy = busy || w.inflight > 0
		for _, c := range w.children {
			if !c.settled() && c.fetches < 5 {
				settled = false
			}
		}
	}
	if busy {
		return false
	}
	if p.stopping {
		return true
	}
	if !settled {
		return false
	}
	now := p.e.clk.Now()
	switch {
	case p.cancelled:
		p.end(Cancelled, "cancelled by request", now)
		return true
	case p.allWorked(now):
		st := Done
		filled := p.filled()
		if filled.IsZero() && !p.unfilled().IsZero() {
			st = Failed
		}
		p.end(st, p.reason, now)
		return true
	}
	return false
}

func (p *parent) allWorked(now time.Time) bool {
	pastCatchup := !now.Before(p.pl.deadline.Add(p.pl.params.Catchup))
	for _, w := range p.work {
		if w.out != "" || w.dust || !w.remaining().IsPositive() {
			continue
		}
		if w.blocked || !pastCatchup {
			return false
		}
	}
	if pastCatchup && p.reason == "" && p.unfilled().IsPositive() {
		p.reason = "horizon and catch-up ended with a remainder unfilled"
		for _, w := range p.work {
			if w.lastRefusal != "" {
				p.reason += "; last refusal on " + w.name + ": " + w.lastRefusal
			}
		}
	}
	return true
}

func (p *parent) end(st State, reason string, now time.Time) {
	p.state = st
	if reason != "" {
		p.reason = reason
	}
	p.ended = &now
	p.publish()
	if err := p.persist(); err != nil {
		p.log.Error("parent end not journaled", zap.Error(err))
	}
	p.log.Info("parent ended", zap.String("state", string(st)), zap.String("filled", p.filled().String()))
}

// nextWake is the next simulated time something may be due.
func (p *parent) nextWake() time.Time {
	now := p.e.clk.Now()
	next := p.pl.deadline.Add(p.pl.params.Catchup)
	if !next.After(now) {
		next = now.Add(p.catchupInterval())
	}
	for _, w := range p.work {
		if w.out != "" || w.inflight > 0 || w.dust {
			continue
		}
		if w.retryAt.After(now) && w.retryAt.Before(next) {
			next = w.retryAt
		}
		if w.next < len(w.slices) {
			if at := w.slices[w.next].At; at.Before(next) {
				next = at
			}
		} else if w.remaining().IsPositive() && w.catchupAt.Before(next) {
			next = w.catchupAt
		}
	}
	if next.Before(now) {
		next = now
	}
	return next
}

// nextWallWake is how long until a child's fills should be read by REST.
func (p *parent) nextWallWake() time.Duration {
	d := time.Hour
	now := time.Now()
	for _, w := range p.work {
		for _, c := range w.children {
			if c.final && !c.settled() && !c.fetching && c.fetches < 5 {
				if left := c.fillDue.Sub(now); left < d {
					d = left
				}
			}
		}
	}
	if d < 0 {
		d = 0
	}
	return d
}
