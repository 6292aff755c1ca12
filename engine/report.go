package engine

import (
	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/positions"
	"github.com/execd-dev/execd/venues"
)

func positionKey(venue, instrument string) positions.Key {
	return positions.Key{Venue: venue, Instrument: instrument}
}

func (p *parent) feesAdd(f venues.Fill) {
	// Fees are charged in the margin asset (USDT) by the venues execd trades; a fee in another asset is not
	// converted and not summed.
	if f.FeeAsset == "" || f.FeeAsset == "USDT" {
		p.fees = p.fees.Add(f.Fee)
	}
}

func (p *parent) filled() decimal.Decimal {
	s := decimal.Zero
	for _, w := range p.work {
		s = s.Add(w.filled)
	}
	return s
}

// unfilled is what is neither filled nor the residual below one lot.
func (p *parent) unfilled() decimal.Decimal {
	u := p.req.Quantity.Sub(p.pl.residual).Sub(p.filled())
	return decimal.Max(u, decimal.Zero)
}

func vwap(notional, qty decimal.Decimal) *string {
	if !qty.IsPositive() {
		return nil
	}
	s := notional.Div(qty).Round(4).String()
	return &s
}

// publish stores a fresh snapshot for readers.
func (p *parent) publish() {
	r := Report{
		ID: p.req.ID, State: p.state, Instrument: p.req.Instrument, Side: p.req.Side, Quantity: p.req.Quantity,
		ReduceOnly: p.req.ReduceOnly, Duration: p.req.Duration.String(), MaxSlippageBps: p.pl.slippageBps,
		Residual: p.pl.residual, ArrivalPrice: p.pl.arrival, Fees: p.fees.Round(8),
		CreatedAt: p.pl.created, Deadline: p.pl.deadline, UpdatedAt: p.e.clk.Now(), EndedAt: p.ended, Reason: p.reason,
	}
	if p.req.LimitPrice.IsPositive() {
		s := p.req.LimitPrice.String()
		r.LimitPrice = &s
	}
	notional := decimal.Zero
	for _, w := range p.work {
		n := 0
		for _, c := range w.children {
			if c.sent {
				n++
			}
		}
		r.Venues = append(r.Venues, VenueReport{
			Venue: w.name, VolumeShare: w.share.Round(4), Weight: w.weight, Allocated: w.allocated, Filled: w.filled,
			AvgPrice: vwap(w.notional, w.filled), ChildOrders: n, Rejected: w.rejected, Out: w.out,
		})
		r.Filled = r.Filled.Add(w.filled)
		r.ChildOrders += n
		notional = notional.Add(w.notional)
	}
	r.Unfilled = p.unfilled()
	r.AvgPrice = vwap(notional, r.Filled)
	if r.Filled.IsPositive() && p.pl.arrival.IsPositive() {
		avg := notional.Div(r.Filled)
		bps := avg.Sub(p.pl.arrival).Div(p.pl.arrival).Mul(decimal.NewFromInt(10000)).Mul(p.req.Side.Sign()).Round(2)
		s := bps.String()
		r.ShortfallBps = &s
	}
	p.snap.Store(&r)
}
