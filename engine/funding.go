package engine

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/twap"
	"github.com/execd-dev/execd/venues"
)

// fundingTilt is a venue's schedule (cum, its running totals) with up to shift of its quantity moved across the
// venue's funding time at, the way that pays less funding: later when what fills before the time would pay (a buy
// while longs pay, rate > 0; a sell while shorts pay), earlier when it would receive. The move grows linearly over
// the slices before the funding time to its full size at the last of them and shrinks linearly over the slices
// after it to nothing at the last one, so the schedule still ends at its total and strays from the even one by at
// most the shift.
//
// What it trades: the funding saved is shift × |rate| of the notional moved; what it costs is schedule error, no
// more than the shift. A deviation from the even schedule has no expected price cost (the price is as likely to
// move either way meanwhile) but adds timing risk, so the shift is bounded (twap.funding_shift, at most half the
// maker tolerance, so that it never makes a maker-first venue cross) and taken whenever the rate is not zero.
//
// It returns cum unchanged when shift is not positive, the rate is zero, the funding time is unknown, or the
// schedule has no slice on one side of it (the guard before it counts as after). The result is on the lot grid and
// nondecreasing.
func fundingTilt(cum []decimal.Decimal, slices []twap.Slice, at time.Time, rate decimal.Decimal, side venues.Side,
	shift float64, rules venues.Rules) []decimal.Decimal {
	n := len(cum)
	if !(shift > 0) || rate.IsZero() || at.IsZero() || n < 2 || len(slices) != n || !rules.LotSize.IsPositive() {
		return cum
	}
	before := 0 // slices due before the guard ahead of the funding time
	for before < n && slices[before].At.Before(at.Add(-fundingGuard)) {
		before++
	}
	if before == 0 || before == n {
		return cum
	}
	total := cum[n-1]
	delta := rules.FloorQty(total.Mul(decimal.NewFromFloat(shift)))
	if !delta.IsPositive() {
		return cum
	}
	sign := decimal.NewFromInt(1) // receive: advance
	if (side == venues.Buy) == rate.IsPositive() {
		sign = sign.Neg() // pay: delay
	}
	out := make([]decimal.Decimal, n)
	prev := decimal.Zero
	for i := range cum {
		var w decimal.Decimal
		if i < before {
			w = decimal.NewFromInt(int64(i + 1)).Div(decimal.NewFromInt(int64(before)))
		} else {
			w = decimal.NewFromInt(int64(n - 1 - i)).Div(decimal.NewFromInt(int64(n - before)))
		}
		c := rules.FloorQty(cum[i].Add(sign.Mul(delta).Mul(w)))
		c = decimal.Min(decimal.Max(c, prev), total)
		if i == n-1 {
			c = total
		}
		out[i], prev = c, c
	}
	return out
}
