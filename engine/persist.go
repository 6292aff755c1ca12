package engine

import (
	"fmt"
	"math/rand/v2"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/journal"
	"github.com/execd-dev/execd/lifecycle"
	"github.com/execd-dev/execd/twap"
	"github.com/execd-dev/execd/venues"
)

// FailAfterCreate is the failpoint after a parent is journaled and before any child starts; the gateway's
// failpoints (gateway.FailAfterIntent, FailAfterSend, FailBeforeFill) cover the children.
const (
	FailAfterCreate = "after-create"
	FailAfterIntent = gateway.FailAfterIntent
	FailAfterSend   = gateway.FailAfterSend
	FailBeforeFill  = gateway.FailBeforeFill
)

func (e *Engine) failpoint(name string) {
	if e.fail != nil {
		e.fail(name)
	}
}

func paramsRecord(p Params) journal.Params {
	return journal.Params{
		MeanInterval: p.MeanInterval, EndBuffer: p.EndBuffer, Catchup: p.Catchup, RetryInterval: p.RetryInterval,
		TimeJitter: p.TimeJitter, SizeJitter: p.SizeJitter, IntervalCV: p.IntervalCV, MaxChildNotional: p.MaxChildNotional,
		MaxOrderNotional: p.MaxOrderNotional, DefaultSlippageBps: p.DefaultSlippageBps, MaxSlippageBps: p.MaxSlippageBps,
		MaxConsecutiveRejects: p.MaxConsecutiveRejects, FundingShift: p.FundingShift,
	}
}

func paramsFromRecord(r journal.Params) Params {
	return Params{
		MeanInterval: r.MeanInterval, EndBuffer: r.EndBuffer, Catchup: r.Catchup, RetryInterval: r.RetryInterval,
		TimeJitter: r.TimeJitter, SizeJitter: r.SizeJitter, IntervalCV: r.IntervalCV, MaxChildNotional: r.MaxChildNotional,
		MaxOrderNotional: r.MaxOrderNotional, DefaultSlippageBps: r.DefaultSlippageBps, MaxSlippageBps: r.MaxSlippageBps,
		MaxConsecutiveRejects: r.MaxConsecutiveRejects, FundingShift: r.FundingShift, Venues: map[string]VenueParams{},
	}
}

// record is the parent's durable state, from its machine. Called by the owner goroutine (or before it starts).
func (p *parent) record() journal.Parent {
	m := p.m
	r := journal.Parent{
		ID: p.req.ID, State: string(m.state), Reason: m.reason, Created: m.pl.created, Deadline: m.pl.deadline,
		Arrival: m.pl.arrival, Residual: m.pl.residual, SlippageBps: m.pl.slippageBps, Seed: m.pl.seed,
		Params: paramsRecord(m.pl.params), Stranded: m.stranded, Fees: m.fees, Ended: m.ended, Updated: p.e.clk.Now(),
		Cancelled: m.cancelled, ReallocationCount: m.reallocN, Reallocations: reallocRecords(m.reallocs),
		Request: requestRecord(p.req),
	}
	for _, w := range m.venues {
		v := journal.Venue{
			Name: w.name, Symbol: w.rules.Symbol, TickSize: w.rules.TickSize, LotSize: w.rules.LotSize,
			MinQty: w.rules.MinQty, MaxQty: w.rules.MaxQty, MinNotional: w.rules.MinNotional, Mark: w.mark,
			Share: w.share, Weight: w.weight, Allocated: w.allocated, Base: w.base, Next: w.next, Seq: w.seq,
			Out: w.out, Rejected: w.rejected, Dust: w.dust,
			FundingRate: w.fundRate, Funded: w.funded, FundingQty: w.fundQty, Funding: w.funding,
		}
		if !w.nextFunding.IsZero() {
			t := w.nextFunding
			v.NextFunding = &t
		}
		for _, s := range w.slices {
			v.Slices = append(v.Slices, journal.Slice{Seq: s.Seq, At: s.At, Quantity: s.Quantity})
		}
		r.Venues = append(r.Venues, v)
	}
	if m.state != Working {
		s := summaryRecord(m.report(p.e.clk.Now()))
		r.Summary = &s
	}
	return r
}

// requestRecord maps the rebalancer's request onto the journal's type.
func requestRecord(req Request) journal.Request {
	r := journal.Request{Instrument: req.Instrument, Side: string(req.Side), Quantity: req.Quantity, Duration: req.Duration,
		ReduceOnly: req.ReduceOnly, MaxSlippageBps: req.MaxSlippageBps, Venues: req.Venues, LimitPrice: req.LimitPrice,
		Execution: string(req.Execution)}
	if !req.StartAt.IsZero() {
		t := req.StartAt
		r.StartAt = &t
	}
	if !req.EndAt.IsZero() {
		t := req.EndAt
		r.EndAt = &t
	}
	return r
}

// persist journals the parent's state (the children and fills, which carry the money, are journaled by the
// gateways).
func (p *parent) persist() error {
	rec := journal.Parent{}
	if p.m == nil {
		rec = p.scheduledRecord(Scheduled, "", nil)
	} else {
		rec = p.record()
	}
	if err := p.e.journal.PutParent(rec); err != nil {
		return fmt.Errorf("journal parent %s: %w", p.req.ID, err)
	}
	return nil
}

func decPtr(s *string) *decimal.Decimal {
	if s == nil {
		return nil
	}
	d, err := decimal.NewFromString(*s)
	if err != nil {
		return nil
	}
	return &d
}

func strPtr(d *decimal.Decimal) *string {
	if d == nil {
		return nil
	}
	s := d.String()
	return &s
}

// summaryRecord maps an ended parent's report onto the journal's own type.
func summaryRecord(r Report) journal.Summary {
	s := journal.Summary{
		State: string(r.State), Reason: r.Reason, Filled: r.Filled, Residual: r.Residual, Unfilled: r.Unfilled,
		Fees: r.Fees, Arrival: r.ArrivalPrice, AvgPrice: decPtr(r.AvgPrice), ShortfallBps: decPtr(r.ShortfallBps),
		ChildOrders: r.ChildOrders, MakerFilled: r.MakerFilled, Funding: r.Funding, Created: r.CreatedAt, Deadline: r.Deadline, Updated: r.UpdatedAt, Ended: r.EndedAt,
		Reallocations: reallocRecords(r.Reallocations), ReallocationCount: r.ReallocationCount,
	}
	for _, v := range r.Venues {
		s.Venues = append(s.Venues, journal.SummaryVenue{Venue: v.Venue, Share: v.VolumeShare, Weight: v.Weight,
			Allocated: v.Allocated, Filled: v.Filled, AvgPrice: decPtr(v.AvgPrice), ChildOrders: v.ChildOrders,
			MakerFilled: v.MakerFilled, Rejected: v.Rejected, Out: v.Out, Funding: v.Funding, FundingAt: v.FundingAt})
	}
	return s
}

// reportFromSummary rebuilds an ended parent's report from its journal record.
func reportFromSummary(req Request, rec journal.Parent) Report {
	s := rec.Summary
	r := Report{
		ID: rec.ID, State: State(s.State), Instrument: req.Instrument, Side: req.Side, Quantity: req.Quantity,
		ReduceOnly: req.ReduceOnly, Duration: req.Duration.String(), MaxSlippageBps: rec.SlippageBps,
		Filled: s.Filled, Residual: s.Residual, Unfilled: s.Unfilled, AvgPrice: strPtr(s.AvgPrice),
		ArrivalPrice: s.Arrival, ShortfallBps: strPtr(s.ShortfallBps), Fees: s.Fees, ChildOrders: s.ChildOrders,
		MakerFilled: s.MakerFilled, Funding: s.Funding, Execution: req.Execution,
		CreatedAt: s.Created, Deadline: s.Deadline, UpdatedAt: s.Updated, EndedAt: s.Ended, Reason: s.Reason,
		ReallocationCount: s.ReallocationCount,
	}
	for _, x := range s.Reallocations {
		r.Reallocations = append(r.Reallocations, reallocFromRecord(x))
	}
	if req.LimitPrice.IsPositive() {
		l := req.LimitPrice.String()
		r.LimitPrice = &l
	}
	if !req.StartAt.IsZero() {
		s := req.StartAt
		r.StartAt = &s
	}
	for _, v := range s.Venues {
		r.Venues = append(r.Venues, VenueReport{Venue: v.Venue, VolumeShare: v.Share, Weight: v.Weight,
			Allocated: v.Allocated, Filled: v.Filled, AvgPrice: strPtr(v.AvgPrice), ChildOrders: v.ChildOrders,
			MakerFilled: v.MakerFilled, Rejected: v.Rejected, Out: v.Out, Funding: v.Funding, FundingAt: v.FundingAt})
	}
	return r
}

// requestFromRecord rebuilds the rebalancer's request.
func requestFromRecord(id string, r journal.Request) (Request, error) {
	side, err := venues.ParseSide(r.Side)
	if err != nil {
		return Request{}, err
	}
	req := Request{ID: id, Instrument: r.Instrument, Side: side, Quantity: r.Quantity, Duration: r.Duration,
		ReduceOnly: r.ReduceOnly, MaxSlippageBps: r.MaxSlippageBps, Venues: r.Venues, LimitPrice: r.LimitPrice,
		Execution: Execution(r.Execution)}
	if req.Execution == "" {
		req.Execution = ExecTaker // journaled before executions existed: every child was a taker
	}
	if r.StartAt != nil {
		req.StartAt = *r.StartAt
	}
	if r.EndAt != nil {
		req.EndAt = *r.EndAt
	}
	return req, nil
}

// restore rebuilds a working parent's machine from the journal: plan, venues, children and their booked fills.
// Children whose outcome the journal does not hold are left unknown and awaiting: the machine asks their
// gateway to resolve them when it starts, and nothing new goes to their venue before that (invariant 4).
func (e *Engine) restore(rec journal.Parent, children []journal.Child, fillsOf func(string) ([]venues.Fill, error)) (*parent, error) {
	req, err := requestFromRecord(rec.ID, rec.Request)
	if err != nil {
		return nil, err
	}
	pl := &plan{
		created: rec.Created, deadline: rec.Deadline, params: paramsFromRecord(rec.Params), slippageBps: rec.SlippageBps,
		arrival: rec.Arrival, residual: rec.Residual, seed: rec.Seed,
	}
	for _, v := range rec.Venues {
		w := &vstate{
			name: v.Name, mark: v.Mark, share: v.Share, weight: v.Weight, allocated: v.Allocated, base: v.Base,
			next: v.Next, seq: v.Seq, out: v.Out, rejected: v.Rejected, dust: v.Dust, health: gateway.Up,
			fundRate: v.FundingRate, funded: v.Funded, fundQty: v.FundingQty, funding: v.Funding,
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
		if e.gateway(v.Name, req.Instrument) == nil {
			return nil, fmt.Errorf("instrument %s is no longer configured on %s", req.Instrument, v.Name)
		}
		if v.NextFunding != nil {
			w.nextFunding = *v.NextFunding
		}
		for _, s := range v.Slices {
			w.slices = append(w.slices, twap.Slice{Seq: s.Seq, At: s.At, Quantity: s.Quantity})
		}
		w.cum = fundingTilt(twap.Cumulative(w.slices), w.slices, w.nextFunding, w.fundRate, req.Side,
			pl.params.FundingShift, w.rules)
		// Slices already passed are coalesced by dueQuantity: the next child carries everything the schedule owes.
		w.next = 0
		pl.work = append(pl.work, w)
	}
	prm := e.Params()
	prm.MeanInterval, prm.Catchup, prm.RetryInterval = pl.params.MeanInterval, pl.params.Catchup, pl.params.RetryInterval
	m := newMachine(req, pl, prm, e.salt)
	m.reason, m.stranded, m.cancelled, m.fees = rec.Reason, rec.Stranded, rec.Cancelled, decimal.Zero
	m.restored, m.reallocN = true, rec.ReallocationCount
	for _, r := range rec.Reallocations {
		m.reallocs = append(m.reallocs, reallocFromRecord(r))
	}
	m.replaying = true
	for _, cr := range children {
		w := m.venue(cr.Venue)
		if w == nil {
			return nil, fmt.Errorf("child %s on venue %s outside the parent", cr.ClientID, cr.Venue)
		}
		c := &mchild{v: w, seq: cr.Seq, id: cr.ClientID, qty: cr.Quantity, price: cr.Price, state: cr.State,
			reported: cr.Filled, trades: map[string]struct{}{}}
		if !c.state.Final() {
			// intent, sent, open, pending or unknown: ask the venue before anything else goes there.
			c.state = lifecycle.Unknown
			m.setAwaiting(c, true)
		}
		if cr.Seq > w.seq {
			w.seq = cr.Seq
		}
		m.byID[c.id] = c
		m.touch(c)
		fills, err := fillsOf(c.id)
		if err != nil {
			return nil, err
		}
		for _, f := range fills {
			var ignore []Command
			m.onUpdate(Event{Kind: EvUpdate, Update: gateway.Update{Kind: gateway.Filled, Venue: f.Venue,
				ClientOrderID: f.ClientOrderID, Fill: f}}, rec.Created, &ignore)
		}
	}
	m.replaying = false
	p := newParent(e, req, m)
	if err := e.loadMarkouts(p); err != nil {
		return nil, err
	}
	return p, nil
}

// loadMarkouts gives a restored parent the markouts journaled for it. (A horizon still pending at a crash is not
// measured: the restarted gateways follow only the fills they book.)
func (e *Engine) loadMarkouts(p *parent) error {
	r, ok, err := e.journal.MarkoutsOf(p.req.ID)
	if err != nil {
		return fmt.Errorf("reading its markouts: %w", err)
	}
	if ok {
		p.mo.load(r)
	}
	return nil
}

// restoreEnded rebuilds an ended parent from its final summary, so GET and idempotent retries still answer.
func (e *Engine) restoreEnded(rec journal.Parent) (*parent, error) {
	req, err := requestFromRecord(rec.ID, rec.Request)
	if err != nil {
		return nil, err
	}
	if rec.Summary == nil {
		return nil, fmt.Errorf("ended parent %s has no summary", rec.ID)
	}
	rep := reportFromSummary(req, rec)
	p := &parent{e: e, req: req, done: make(chan struct{}), log: e.log.With(zap.String("parent", req.ID))}
	p.snap.Store(&rep)
	close(p.done)
	if err := e.loadMarkouts(p); err != nil {
		return nil, err
	}
	return p, nil
}

func reallocRecords(rs []Reallocation) []journal.Reallocation {
	if len(rs) == 0 {
		return nil
	}
	out := make([]journal.Reallocation, len(rs))
	for i, r := range rs {
		x := journal.Reallocation{At: r.At, Reason: r.Reason, Stranded: r.Stranded}
		for _, v := range r.Venues {
			x.Venues = append(x.Venues, journal.VenueMove{Venue: v.Venue, Before: v.Before, After: v.After,
				Available: v.Available, Why: v.Why})
		}
		out[i] = x
	}
	return out
}

func reallocFromRecord(x journal.Reallocation) Reallocation {
	r := Reallocation{At: x.At, Reason: x.Reason, Stranded: x.Stranded}
	for _, v := range x.Venues {
		r.Venues = append(r.Venues, VenueMove{Venue: v.Venue, Before: v.Before, After: v.After, Available: v.Available, Why: v.Why})
	}
	return r
}
