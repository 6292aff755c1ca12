package twap

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
)

// PegPrice is the price a maker (post-only) child rests at: one tick inside the spread when the spread is wider
// than a tick, else at the touch (a buy at the bid, a sell at the ask); never through band (the price an IOC child
// would be sent at, LimitPrice: the slippage band and the parent's limit) and never crossing the other side, so a
// post-only order is not refused for crossing the quote it was priced from. It fails on a bad side, a quote that is
// not a positive, uncrossed pair on the tick grid's terms, a non-positive band or tick, or when no such price is
// positive.
func PegPrice(side venues.Side, bid, ask, band decimal.Decimal, rules venues.Rules) (decimal.Decimal, error) {
	tick := rules.TickSize
	switch {
	case side != venues.Buy && side != venues.Sell:
		return decimal.Zero, fmt.Errorf("twap: peg price: side %q", side)
	case !tick.IsPositive():
		return decimal.Zero, fmt.Errorf("twap: peg price: tick size %s is not positive", tick)
	case !bid.IsPositive() || !ask.IsPositive() || !ask.GreaterThan(bid):
		return decimal.Zero, fmt.Errorf("twap: peg price: quote %s / %s is not a positive, uncrossed pair", bid, ask)
	case !band.IsPositive():
		return decimal.Zero, fmt.Errorf("twap: peg price: band %s is not positive", band)
	}
	wide := ask.Sub(bid).GreaterThan(tick)
	var px decimal.Decimal
	if side == venues.Buy {
		px = floorTo(bid, tick)
		if wide {
			px = px.Add(tick)
		}
		px = decimal.Min(px, band, ceilTo(ask, tick).Sub(tick))
	} else {
		px = ceilTo(ask, tick)
		if wide {
			px = px.Sub(tick)
		}
		px = decimal.Max(px, band, floorTo(bid, tick).Add(tick))
	}
	if !px.IsPositive() {
		return decimal.Zero, fmt.Errorf("twap: peg price: %s at %s / %s within %s is not a positive price", side, bid, ask, band)
	}
	return px, nil
}
