package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/positions"
	"github.com/execd-dev/execd/router"
	"github.com/execd-dev/execd/twap"
	"github.com/execd-dev/execd/venues"
)

// plan is what a parent starts from: the allocation per venue and each venue's schedule.
type plan struct {
	created, deadline time.Time
	params            Params
	slippageBps       int
	arrival           decimal.Decimal
	residual          decimal.Decimal
	unallocated       decimal.Decimal
	excluded          []router.Excluded
	work              []*vstate
	seed              uint64
}

type venueRead struct {
	name  string
	rules venues.Rules
	stats venues.Stats
	err   error
}

// plan reads the candidate venues, allocates the quantity and schedules each venue's share.
func (e *Engine) plan(ctx context.Context, req Request) (*plan, error) {
	prm := e.Params()
	bps := req.MaxSlippageBps
	if bps == 0 {
		bps = prm.DefaultSlippageBps
	}
	if bps < 1 || bps > prm.MaxSlippageBps {
		return nil, errorf(KindInvalid, "max_slippage_bps %d: want 1..%d", req.MaxSlippageBps, prm.MaxSlippageBps)
	}
	names := req.Venues
	if len(names) == 0 {
		names = e.order
	}
	var excluded []router.Excluded
	var candidates []string
	for _, n := range names {
		if _, ok := e.venues[n]; !ok {
			return nil, errorf(KindInvalid, "venue %s does not exist", n)
		}
		if e.gateway(n, req.Instrument) == nil {
			return nil, errorf(KindInvalid, "instrument %s is not configured for trading on %s", req.Instrument, n)
		}
		vp, ok := prm.Venues[n]
		if ok && !vp.Enabled {
			excluded = append(excluded, router.Excluded{Venue: n, Reason: "disabled"})
			continue
		}
		candidates = append(candidates, n)
	}
	if len(candidates) == 0 {
		return nil, errorf(KindInvalid, "no enabled venue among %s", strings.Join(names, ", "))
	}
	reads := make([]venueRead, len(candidates))
	var wg sync.WaitGroup
	for i, n := range candidates {
		wg.Add(1)
		go func(i int, n string) {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, e.timeout)
			defer cancel()
			r := venueRead{name: n}
			gw := e.gateway(n, req.Instrument)
			if r.rules, r.err = gw.Rules(cctx); r.err == nil {
				r.err = r.rules.Validate()
			}
			if r.err == nil {
				r.stats, r.err = gw.Stats(cctx)
			}
			if r.err == nil && !r.stats.MarkPrice.IsPositive() {
				r.err = fmt.Errorf("mark price %s is not positive", r.stats.MarkPrice)
			}
			reads[i] = r
		}(i, n)
	}
	wg.Wait()
	var ok []venueRead
	var firstErr error
	totalVol := decimal.Zero
	for _, r := range reads {
		if r.err != nil {
			if venues.ClassOf(r.err) == venues.Rejected {
				return nil, &Error{Kind: KindInvalid, Msg: fmt.Sprintf("venue %s cannot trade %s", r.name, req.Instrument), Err: r.err}
			}
			excluded = append(excluded, router.Excluded{Venue: r.name, Reason: "unavailable: " + r.err.Error()})
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		ok = append(ok, r)
		totalVol = totalVol.Add(r.stats.Volume24h)
	}
	if len(ok) == 0 {
		return nil, &Error{Kind: KindUnavailable, Msg: "no venue could be read", Err: firstErr}
	}
	if !totalVol.IsPositive() {
		return nil, errorf(KindUnavailable, "the venues report no 24h volume for %s", req.Instrument)
	}
	inputs := make([]router.VenueInput, 0, len(ok))
	for _, r := range ok {
		w := decimal.NewFromInt(1)
		if vp, has := prm.Venues[r.name]; has {
			w = vp.Weight
		}
		in := router.VenueInput{
			Venue: r.name, Rules: r.rules, VolumeShare: r.stats.Volume24h.Div(totalVol), Weight: w,
			Healthy: e.gateway(r.name, req.Instrument).Health() != gateway.Down, Price: r.stats.MarkPrice,
		}
		if room, has := e.room(prm, r.name, req); has {
			in.HasCap, in.Cap = true, room
		}
		if c := prm.Caps[CapKey{r.name, req.Instrument}]; c.MaxParticipation.IsPositive() {
			part := participationCap(c, r.stats.Volume24h, req.Duration)
			if !in.HasCap || part.LessThan(in.Cap) {
				in.HasCap, in.Cap = true, part
			}
		}
		inputs = append(inputs, in)
	}
	res, err := router.Allocate(router.Request{Quantity: req.Quantity, Venues: inputs})
	if errors.Is(err, router.ErrNoEligibleVenue) {
		return nil, errorf(KindInvalid, "no venue can take any of %s %s: %s (nothing can be placed)", req.Quantity,
			req.Instrument, describeExcluded(append(excluded, withCaps(res.Excluded, inputs)...)))
	}
	if err != nil {
		return nil, &Error{Kind: KindInvalid, Msg: "cannot allocate the order", Err: err}
	}
	if res.Unallocated.IsPositive() {
		return nil, errorf(KindInvalid, "only %s of %s %s can be placed (%s)", req.Quantity.Sub(res.Unallocated).Sub(res.Residual),
			req.Quantity, req.Instrument, describeExcluded(append(excluded, withCaps(res.Excluded, inputs)...)))
	}
	if len(res.Allocations) == 0 {
		return nil, errorf(KindInvalid, "no venue can take any of %s %s: %s", req.Quantity, req.Instrument, describeExcluded(append(excluded, res.Excluded...)))
	}
	now := e.clk.Now()
	deadline := now.Add(req.Duration)
	if !req.EndAt.IsZero() {
		deadline = req.EndAt
		prm.Catchup = 0 // end_at is a hard end: nothing is sent after it
	}
	pl := &plan{
		created: now, deadline: deadline, params: prm, slippageBps: bps,
		residual: res.Residual, unallocated: res.Unallocated, excluded: append(excluded, res.Excluded...),
		seed: scheduleSeed(e.salt, req.ID),
	}
	byName := map[string]venueRead{}
	for _, r := range ok {
		byName[r.name] = r
	}
	shareOf := map[string]decimal.Decimal{}
	for _, in := range inputs {
		shareOf[in.Venue] = in.VolumeShare
	}
	notional, allocated := decimal.Zero, decimal.Zero
	for _, a := range res.Allocations {
		r := byName[a.Venue]
		notional = notional.Add(a.Quantity.Mul(r.stats.MarkPrice))
		allocated = allocated.Add(a.Quantity)
		w := decimal.NewFromInt(1)
		if vp, has := prm.Venues[a.Venue]; has {
			w = vp.Weight
		}
		vw := &vstate{
			name: a.Venue, rules: r.rules, mark: r.stats.MarkPrice, share: shareOf[a.Venue], weight: w,
			allocated: a.Quantity, health: e.gateway(a.Venue, req.Instrument).Health(),
			fundRate: r.stats.FundingRate, nextFunding: r.stats.NextFunding,
			rng: rand.New(rand.NewPCG(pl.seed, venueStream(a.Venue))),
		}
		if c := prm.Caps[CapKey{a.Venue, req.Instrument}]; c.MaxParticipation.IsPositive() {
			vw.partCap, vw.hasPartCap = participationCap(c, r.stats.Volume24h, req.Duration), true
		}
		pl.work = append(pl.work, vw)
	}
	pl.arrival = notional.Div(allocated).Round(8)
	if prm.MaxOrderNotional.IsPositive() && notional.GreaterThan(prm.MaxOrderNotional) {
		return nil, errorf(KindInvalid, "order notional %s exceeds the limit %s", notional.Round(2), prm.MaxOrderNotional)
	}
	for _, w := range pl.work {
		if err := w.reschedule(pl, req, now, decimal.Zero); err != nil {
			return nil, &Error{Kind: KindInvalid, Msg: fmt.Sprintf("cannot schedule %s on %s", w.allocated, w.name), Err: err}
		}
	}
	return pl, nil
}

// room is the most a parent may trade at a venue by its position: what reduce-only leaves, and what the
// venue's position cap leaves; has is false when neither applies.
func (e *Engine) room(prm Params, venue string, req Request) (decimal.Decimal, bool) {
	c, capped := prm.Caps[CapKey{venue, req.Instrument}]
	capped = capped && c.MaxPosition.IsPositive()
	if !req.ReduceOnly && !capped {
		return decimal.Zero, false
	}
	pos := e.ledger.Position(positions.Key{Venue: venue, Instrument: req.Instrument})
	var room decimal.Decimal
	switch {
	case req.ReduceOnly && capped:
		room = decimal.Min(reducible(pos, req.Side), positionRoom(pos, req.Side, c.MaxPosition))
	case req.ReduceOnly:
		room = reducible(pos, req.Side)
	default:
		room = positionRoom(pos, req.Side, c.MaxPosition)
	}
	return room, true
}

// participationCap is the most a parent over horizon may trade at a venue trading vol24h a day.
func participationCap(c Caps, vol24h decimal.Decimal, horizon time.Duration) decimal.Decimal {
	day := decimal.NewFromInt(int64(24 * time.Hour))
	return c.MaxParticipation.Mul(vol24h).Mul(decimal.NewFromInt(int64(horizon))).Div(day)
}

// reducible is how much of a position an order on side may reduce (gateway.Reducible).
func reducible(pos decimal.Decimal, side venues.Side) decimal.Decimal {
	return gateway.Reducible(pos, side)
}

// withCaps adds each capped venue's room to the reasons, so a refusal says what the caps left.
func withCaps(ex []router.Excluded, inputs []router.VenueInput) []router.Excluded {
	out := append([]router.Excluded(nil), ex...)
	for _, in := range inputs {
		if !in.HasCap {
			continue
		}
		listed := false
		for i := range out {
			if out[i].Venue == in.Venue {
				out[i].Reason += " (room " + in.Cap.String() + ")"
				listed = true
			}
		}
		if !listed {
			out = append(out, router.Excluded{Venue: in.Venue, Reason: "capped at " + in.Cap.String()})
		}
	}
	return out
}

func describeExcluded(ex []router.Excluded) string {
	if len(ex) == 0 {
		return "no reason given"
	}
	parts := make([]string, len(ex))
	for i, x := range ex {
		parts[i] = x.Venue + ": " + x.Reason
	}
	return strings.Join(parts, "; ")
}

// maxChildQty is the largest child quantity the notional limit allows at the band's worst price, on the lot grid.
func maxChildQty(prm Params, rules venues.Rules, mark decimal.Decimal, bps int) decimal.Decimal {
	if !prm.MaxChildNotional.IsPositive() {
		return decimal.Zero
	}
	worst := mark.Mul(decimal.NewFromInt(int64(10000 + bps))).Div(decimal.NewFromInt(10000))
	return rules.FloorQty(prm.MaxChildNotional.Div(worst))
}

// reschedule lays a new schedule for what is left of the venue's allocation, from now to the deadline.
func (w *vstate) reschedule(pl *plan, req Request, now time.Time, committed decimal.Decimal) error {
	left := w.allocated.Sub(committed)
	w.base = committed
	w.next = 0
	w.slices, w.cum = nil, nil
	if !left.IsPositive() {
		return nil
	}
	horizon := pl.deadline.Sub(now)
	if horizon < 2*time.Second && pl.params.Catchup > 0 {
		// Past the horizon (a venue back, a resume or a restart late in the parent): spread over what is left of
		// the catch-up allowance rather than at once.
		horizon = pl.deadline.Add(pl.params.Catchup).Sub(now)
	}
	buf := pl.params.EndBuffer
	if buf > horizon/4 {
		buf = horizon / 4
	}
	if horizon < 2*time.Second {
		w.slices = []twap.Slice{{Seq: 0, At: now, Quantity: left}}
		w.cum = twap.Cumulative(w.slices)
		return nil
	}
	s, err := twap.Schedule(twap.Params{
		Start: now, Horizon: horizon, Quantity: left, Rules: w.rules, RefPrice: w.mark,
		MeanInterval: pl.params.MeanInterval, TimeJitter: pl.params.TimeJitter, SizeJitter: pl.params.SizeJitter,
		IntervalCV:  pl.params.IntervalCV,
		MaxChildQty: maxChildQty(pl.params, w.rules, w.mark, pl.slippageBps), EndBuffer: buf,
	}, w.rng)
	if err != nil {
		return err
	}
	w.slices = s
	w.cum = fundingTilt(twap.Cumulative(s), s, w.nextFunding, w.fundRate, req.Side, pl.params.FundingShift, w.rules)
	return nil
}
