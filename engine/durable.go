package engine

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/execd-dev/execd/journal"
	"github.com/execd-dev/execd/twap"
	"github.com/execd-dev/execd/venues"
)

// Child states as the journal records them.
const (
	childIntent  = "intent"   // journaled before the request is sent (invariant 3)
	childSent    = "sent"     // the request is going out; its outcome is not known yet
	childUnknown = "unknown"  // the outcome could not be resolved before a stop
	childFinal   = "final"    // the venue's final state is known
	childNotSent = "not_sent" // nothing reached the venue (retryable failure, refused before sending)
)

// Failpoints are the named places where a crash test may kill the process (Options.Failpoint).
const (
	FailAfterIntent = "after-intent" // the intent is journaled, the request not sent
	FailAfterSend   = "after-send"   // the venue answered, the outcome is not journaled
	FailBeforeFill  = "before-fill"  // a fill arrived, it is not journaled
	FailAfterCreate = "after-create" // the parent is journaled, no child started
)

func (e *Engine) failpoint(name string) {
	if e.fail != nil {
		e.fail(name)
	}
}

func paramsRecord(p Params) journal.Params {
	return journal.Params{
		MeanInterval: p.MeanInterval, EndBuffer: p.EndBuffer, Catchup: p.Catchup, RetryInterval: p.RetryInterval,
		TimeJitter: p.TimeJitter, SizeJitter: p.SizeJitter, MaxChildNotional: p.MaxChildNotional,
		MaxOrderNotional: p.MaxOrderNotional, DefaultSlippageBps: p.DefaultSlippageBps, MaxSlippageBps: p.MaxSlippageBps,
		MaxConsecutiveRejects: p.MaxConsecutiveRejects,
	}
}

func paramsFromRecord(r journal.Params) Params {
	return Params{
		MeanInterval: r.MeanInterval, EndBuffer: r.EndBuffer, Catchup: r.Catchup, RetryInterval: r.RetryInterval,
		TimeJitter: r.TimeJitter, SizeJitter: r.SizeJitter, MaxChildNotional: r.MaxChildNotional,
		MaxOrderNotional: r.MaxOrderNotional, DefaultSlippageBps: r.DefaultSlippageBps, MaxSlippageBps: r.MaxSlippageBps,
		MaxConsecutiveRejects: r.MaxConsecutiveRejects, Venues: map[string]VenueParams{},
	}
}

// record is the parent's durable state. Called by the owner goroutine (or before it starts).
func (p *parent) record() journal.Parent {
	r := journal.Parent{
		ID: p.req.ID, State: string(p.state), Reason: p.reason, Created: p.pl.created, Deadline: p.pl.deadline,
		Arrival: p.pl.arrival, Residual: p.pl.residual, SlippageBps: p.pl.slippageBps, Seed: p.pl.seed,
		Params: paramsRecord(p.pl.params), Stranded: p.stranded, Fees: p.fees, Ended: p.ended, Updated: p.e.clk.Now(),
		Cancelled: p.cancelled,
		Request: journal.Request{
			Instrument: p.req.Instrument, Side: string(p.req.Side), Quantity: p.req.Quantity, Duration: p.req.Duration,
			ReduceOnly: p.req.ReduceOnly, MaxSlippageBps: p.req.MaxSlippageBps, Venues: p.req.Venues,
			LimitPrice: p.req.LimitPrice,
		},
	}
	for _, w := range p.work {
		v := journal.Venue{
			Name: w.name, Symbol: w.rules.Symbol, TickSize: w.rules.TickSize, LotSize: w.rules.LotSize,
			MinQty: w.rules.MinQty, MaxQty: w.rules.MaxQty, MinNotional: w.rules.MinNotional, Mark: w.mark,
			Share: w.share, Weight: w.weight, Allocated: w.allocated, Base: w.base, Next: w.next, Seq: w.seq,
			Out: w.out, Rejected: w.rejected, Dust: w.dust,
		}
		for _, s := range w.slices {
			v.Slices = append(v.Slices, journal.Slice{Seq: s.Seq, At: s.At, Quantity: s.Quantity})
		}
		r.Venues = append(r.Venues, v)
	}
	if p.state != Working {
		if b, err := json.Marshal(p.Report()); err == nil {
			r.Report = b
		}
	}
	return r
}

// persist journals the parent's state; a failure is logged and retried at the next change (the children and
// fills, which carry the money, are journaled on their own).
func (p *parent) persist() error {
	if err := p.e.journal.PutParent(p.record()); err != nil {
		return fmt.Errorf("journal parent %s: %w", p.req.ID, err)
	}
	return nil
}

func (c *child) record(parentID string, state string) journal.Child {
	return journal.Child{
		Parent: parentID, Venue: c.venue, Seq: c.seq, ClientID: c.id, Quantity: c.qty, Price: c.price,
		State: state, Status: string(c.status), Reported: c.reported, Updated: time.Now(),
	}
}

// requestFromRecord rebuilds the rebalancer's request.
func requestFromRecord(id string, r journal.Request) (Request, error) {
	side, err := venues.ParseSide(r.Side)
	if err != nil {
		return Request{}, err
	}
	return Request{ID: id, Instrument: r.Instrument, Side: side, Quantity: r.Quantity, Duration: r.Duration,
		ReduceOnly: r.ReduceOnly, MaxSlippageBps: r.MaxSlippageBps, Venues: r.Venues, LimitPrice: r.LimitPrice}, nil
}

// restore rebuilds a working parent from the journal: plan, venues, children and their booked fills. Children
// whose outcome was not journaled are left pending; the owner resolves them with the venue when it starts.
func (e *Engine) restore(rec journal.Parent, children []journal.Child, fillsOf func(string) ([]venues.Fill, error)) (*parent, error) {
	req, err := requestFromRecord(rec.ID, rec.Request)
	if err != nil {
		return nil, err
	}
	pl := &plan{
		created: rec.Created, deadline: rec.Deadline, params: paramsFromRecord(rec.Params), slippageBps: rec.SlippageBps,
		arrival: rec.Arrival, residual: rec.Residual, seed: rec.Seed,
	}
	byVenue := map[string]*venueWork{}
	for _, v := range rec.Venues {
		w := &venueWork{
			name: v.Name, mark: v.Mark, share: v.Share, weight: v.Weight, allocated: v.Allocated, base: v.Base,
			next: v.Next, seq: v.Seq, out: v.Out, rejected: v.Rejected, dust: v.Dust,
			rules: venues.Rules{Instrument: req.Instrument, Symbol: v.Symbol, TickSize: v.TickSize, LotSize: v.LotSize,
				MinQty: v.MinQty, MaxQty: v.MaxQty, MinNotional: v.MinNotional},
			rng: rand.New(rand.NewPCG(rec.Seed^uint64(v.Seq+1), venueStream(v.Name))),
		}
		if err := w.rules.Validate(); err != nil {
			return nil, err
		}
		if _, ok := e.venues[v.Name]; !ok {
			return nil, fmt.Errorf("venue %s is no longer configured", v.Name)
		}
		for _, s := range v.Slices {
			w.slices = append(w.slices, twap.Slice{Seq: s.Seq, At: s.At, Quantity: s.Quantity})
		}
		pl.work = append(pl.work, w)
		byVenue[v.Name] = w
	}
	p := newParent(e, req, pl)
	p.reason, p.stranded, p.cancelled = rec.Reason, rec.Stranded, rec.Cancelled
	for _, cr := range children {
		w, ok := byVenue[cr.Venue]
		if !ok {
			return nil, fmt.Errorf("child %s on venue %s outside the parent", cr.ClientID, cr.Venue)
		}
		// sentAt bounds the REST read of the child's fills: the parent's creation is a safe lower bound.
		c := &child{venue: cr.Venue, seq: cr.Seq, id: cr.ClientID, qty: cr.Quantity, price: cr.Price,
			status: venues.OrderStatus(cr.Status), reported: cr.Reported, trades: map[string]bool{}, sentAt: rec.Created}
		switch cr.State {
		case childFinal:
			c.final, c.sent = true, true
		case childNotSent:
			c.final = true
		default: // intent, sent, unknown: ask the venue
			c.pending = true
			w.inflight++
		}
		if cr.Seq > w.seq {
			w.seq = cr.Seq
		}
		w.children = append(w.children, c)
		p.byID[c.id] = c
		fills, err := fillsOf(c.id)
		if err != nil {
			return nil, err
		}
		for _, f := range fills {
			p.onFill(f)
		}
		if c.final {
			c.fillDue = time.Now()
		}
	}
	// Slices already passed are coalesced by dueQuantity: the next child carries everything the schedule owes.
	for _, w := range pl.work {
		w.next = 0
	}
	p.publish()
	return p, nil
}

// restoreEnded rebuilds an ended parent from its final report, so GET and idempotent retries still answer.
func (e *Engine) restoreEnded(rec journal.Parent) (*parent, error) {
	req, err := requestFromRecord(rec.ID, rec.Request)
	if err != nil {
		return nil, err
	}
	var rep Report
	if err := json.Unmarshal(rec.Report, &rep); err != nil {
		return nil, fmt.Errorf("final report of %s: %w", rec.ID, err)
	}
	p := &parent{e: e, req: req, done: make(chan struct{}), exited: make(chan struct{}),
		cancelCh: make(chan struct{}), stopCh: make(chan struct{}), state: State(rec.State)}
	p.snap.Store(&rep)
	close(p.exited)
	close(p.done)
	return p, nil
}
