package twap

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
)

var bpsScale = decimal.NewFromInt(10_000)

// LimitPrice is the IOC price for a child: mark × (1 ± bps/1e4), rounded toward the mark onto the tick grid
// (buy: floor, sell: ceil) so the band is never exceeded, and never through an optional parent limit (zero:
// none): a buy takes the lower of the two, a sell the higher. It fails on a bad side, a non-positive mark, a
// negative bps or parent limit, an invalid tick, or when the result is not a positive price.
func LimitPrice(side venues.Side, mark decimal.Decimal, maxSlippageBps int, parentLimit decimal.Decimal, rules venues.Rules) (decimal.Decimal, error) {
	switch {
	case side != venues.Buy && side != venues.Sell:
		return decimal.Zero, fmt.Errorf("twap: limit price: side %q", side)
	case !mark.IsPositive():
		return decimal.Zero, fmt.Errorf("twap: limit price: mark %s is not positive", mark)
	case maxSlippageBps < 0:
		return decimal.Zero, fmt.Errorf("twap: limit price: slippage %d bps is negative", maxSlippageBps)
	case parentLimit.IsNegative():
		return decimal.Zero, fmt.Errorf("twap: limit price: parent limit %s is negative", parentLimit)
	case !rules.TickSize.IsPositive():
		return decimal.Zero, fmt.Errorf("twap: limit price: tick size %s is not positive", rules.TickSize)
	}
	band := mark.Mul(decimal.NewFromInt(int64(maxSlippageBps))).Div(bpsScale)
	var px decimal.Decimal
	if side == venues.Buy {
		px = floorTo(mark.Add(band), rules.TickSize)
		if parentLimit.IsPositive() {
			px = decimal.Min(px, floorTo(parentLimit, rules.TickSize))
		}
	} else {
		px = ceilTo(mark.Sub(band), rules.TickSize)
		if parentLimit.IsPositive() {
			px = decimal.Max(px, ceilTo(parentLimit, rules.TickSize))
		}
	}
	if !px.IsPositive() {
		return decimal.Zero, fmt.Errorf("twap: limit price: %s %s at mark %s ± %d bps is not a positive price", side, px, mark, maxSlippageBps)
	}
	return px, nil
}

// floorTo and ceilTo round exactly onto a grid (QuoRem, not the 16-digit Div).
func floorTo(x, step decimal.Decimal) decimal.Decimal {
	n, rem := x.QuoRem(step, 0)
	if rem.IsNegative() {
		n = n.Sub(decimal.NewFromInt(1))
	}
	return n.Mul(step)
}

func ceilTo(x, step decimal.Decimal) decimal.Decimal {
	n, rem := x.QuoRem(step, 0)
	if rem.IsPositive() {
		n = n.Add(decimal.NewFromInt(1))
	}
	return n.Mul(step)
}

// ChildQuantity is how much to send at slice idx: the schedule's cumulative quantity through idx minus what is
// already filled and still open for this venue, so an unfilled part of earlier slices is carried into later
// ones; floored to the lot grid, clamped to [0, total − filled − open] and never above maxChild (zero: none).
// At the last slice (or any idx past it) it is everything left, still under maxChild. Before the last slice an
// amount below Rules.MinQty is held back (0) and carried forward, since the venue would reject it. A negative
// idx gives 0.
func ChildQuantity(slices []Slice, idx int, filled, open, maxChild decimal.Decimal, rules venues.Rules) decimal.Decimal {
	if idx < 0 || len(slices) == 0 || !rules.LotSize.IsPositive() {
		return decimal.Zero
	}
	return ChildQuantityCum(Cumulative(slices), idx, filled.Add(open), maxChild, rules)
}

// Cumulative returns the running totals of a schedule's quantities: element i is the sum of slices 0..i. With
// it ChildQuantityCum decides a child in constant time, however long the schedule.
func Cumulative(slices []Slice) []decimal.Decimal {
	cum := make([]decimal.Decimal, len(slices))
	total := decimal.Zero
	for i, s := range slices {
		total = total.Add(s.Quantity)
		cum[i] = total
	}
	return cum
}

// ChildQuantityCum is ChildQuantity on the schedule's running totals (Cumulative), with done the quantity
// already filled or open on the venue.
func ChildQuantityCum(cum []decimal.Decimal, idx int, done, maxChild decimal.Decimal, rules venues.Rules) decimal.Decimal {
	if idx < 0 || len(cum) == 0 || !rules.LotSize.IsPositive() {
		return decimal.Zero
	}
	last := idx >= len(cum)-1
	idx = min(idx, len(cum)-1)
	total := cum[len(cum)-1]
	left := total.Sub(done)
	want := left
	if !last {
		want = cum[idx].Sub(done)
	}
	want = floorTo(decimal.Max(decimal.Min(want, left), decimal.Zero), rules.LotSize)
	if maxChild.IsPositive() {
		want = decimal.Min(want, floorTo(maxChild, rules.LotSize))
	}
	if !last && want.Cmp(rules.MinQty) < 0 {
		return decimal.Zero
	}
	return want
}
