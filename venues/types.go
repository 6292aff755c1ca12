package venues

import (
	"fmt"
	"regexp"
	"time"

	"github.com/shopspring/decimal"
)

// Side is the direction of an order or fill.
type Side string

const (
	Buy  Side = "buy"
	Sell Side = "sell"
)

// ParseSide accepts "buy" or "sell".
func ParseSide(s string) (Side, error) {
	switch Side(s) {
	case Buy, Sell:
		return Side(s), nil
	}
	return "", fmt.Errorf("side %q: want buy or sell", s)
}

// Sign is +1 for buy and -1 for sell.
func (s Side) Sign() decimal.Decimal {
	if s == Sell {
		return decimal.NewFromInt(-1)
	}
	return decimal.NewFromInt(1)
}

// Opposite is the other side.
func (s Side) Opposite() Side {
	if s == Buy {
		return Sell
	}
	return Buy
}

// OrderType is the order's execution type.
type OrderType string

const (
	Limit  OrderType = "limit"
	Market OrderType = "market"
)

// TimeInForce says how long a limit order rests.
type TimeInForce string

const (
	// GTC rests until it fills or is cancelled; what crosses the book on arrival executes at once, as taker.
	GTC TimeInForce = "gtc"
	// IOC takes what it can on arrival; the remainder ends at once (StatusExpired).
	IOC TimeInForce = "ioc"
	// PostOnly is a limit order that may only rest: it never takes liquidity. If on arrival its price would cross
	// the book (a buy at or above the best ask, a sell at or below the best bid), the venue does not let it execute,
	// and how it says so is the venue's: Binance USDⓈ-M (timeInForce GTX) refuses the request, a Rejected error with
	// code -5022, and keeps no record of the order; Bybit v5 (timeInForce PostOnly) and OKX v5 (ordType post_only)
	// accept it and cancel it at once, which the adapters report as an Order in StatusRejected with nothing filled.
	// Once resting it behaves as GTC and fills as maker. An amendment whose new price would cross is the venue's to
	// handle too (Binance cancels the order, OKX refuses the amendment with 51511 and leaves the order as it was).
	PostOnly TimeInForce = "post_only"
)

// OrderStatus is the normalized state of a child order at a venue.
type OrderStatus string

const (
	StatusNew             OrderStatus = "new"
	StatusPartiallyFilled OrderStatus = "partially_filled"
	StatusFilled          OrderStatus = "filled"
	StatusCanceled        OrderStatus = "canceled"
	StatusExpired         OrderStatus = "expired" // IOC remainder, or expired by the venue
	// StatusRejected: the venue accepted the request, then refused the order, nothing filled (a post-only order
	// that would have taken liquidity, at Bybit and OKX).
	StatusRejected OrderStatus = "rejected"
)

// Terminal reports whether no more fills can come for an order in this status.
func (s OrderStatus) Terminal() bool {
	switch s {
	case StatusFilled, StatusCanceled, StatusExpired, StatusRejected:
		return true
	}
	return false
}

// Instrument names are canonical, venue-neutral: BASE-QUOTE-PERP, e.g. BTC-USDT-PERP.
var instrumentRe = regexp.MustCompile(`^([A-Z0-9]{2,10})-([A-Z0-9]{2,10})-PERP$`)

// ParseInstrument splits a canonical perpetual instrument name into base and quote.
func ParseInstrument(s string) (base, quote string, err error) {
	m := instrumentRe.FindStringSubmatch(s)
	if m == nil {
		return "", "", fmt.Errorf("instrument %q: want BASE-QUOTE-PERP, e.g. BTC-USDT-PERP", s)
	}
	return m[1], m[2], nil
}

// Rules are an instrument's trading rules at one venue, in base units and quote currency.
type Rules struct {
	Instrument  string          // canonical name
	Symbol      string          // the venue's own symbol
	TickSize    decimal.Decimal // price increment
	LotSize     decimal.Decimal // quantity increment, in base units
	MinQty      decimal.Decimal // smallest order quantity, base units
	MaxQty      decimal.Decimal // largest limit order quantity, base units (zero: none)
	MinNotional decimal.Decimal // smallest price × quantity
}

// Validate checks that the rules are usable: positive tick and lot, non-negative minimums.
func (r Rules) Validate() error {
	if !r.TickSize.IsPositive() {
		return fmt.Errorf("%s: tick size %s is not positive", r.Instrument, r.TickSize)
	}
	if !r.LotSize.IsPositive() {
		return fmt.Errorf("%s: lot size %s is not positive", r.Instrument, r.LotSize)
	}
	if r.MinQty.IsNegative() || r.MinNotional.IsNegative() || r.MaxQty.IsNegative() {
		return fmt.Errorf("%s: negative minimum or maximum", r.Instrument)
	}
	return nil
}

// FloorQty rounds q down to the lot grid.
func (r Rules) FloorQty(q decimal.Decimal) decimal.Decimal {
	return q.Div(r.LotSize).Floor().Mul(r.LotSize)
}

// OnLot reports whether q is a whole number of lots.
func (r Rules) OnLot(q decimal.Decimal) bool { return r.FloorQty(q).Equal(q) }

// OnTick reports whether p is a whole number of ticks.
func (r Rules) OnTick(p decimal.Decimal) bool {
	return p.Div(r.TickSize).Floor().Mul(r.TickSize).Equal(p)
}

// PriceFloor rounds p down to the tick grid; PriceCeil rounds it up.
func (r Rules) PriceFloor(p decimal.Decimal) decimal.Decimal {
	return p.Div(r.TickSize).Floor().Mul(r.TickSize)
}

func (r Rules) PriceCeil(p decimal.Decimal) decimal.Decimal {
	return p.Div(r.TickSize).Ceil().Mul(r.TickSize)
}

// Stats are an instrument's market statistics at one venue.
type Stats struct {
	Instrument  string
	MarkPrice   decimal.Decimal
	Volume24h   decimal.Decimal // base units traded in the last 24 h
	QuoteVol24h decimal.Decimal
	// FundingRate is the rate of the current funding period, paid at NextFunding (positive: longs pay shorts), as
	// a fraction of the position's notional; NextFunding is zero when the venue gives none.
	FundingRate decimal.Decimal
	NextFunding time.Time
	Time        time.Time
}

// OrderRequest is a child order to place.
type OrderRequest struct {
	ClientOrderID string
	Instrument    string
	Side          Side
	Type          OrderType
	TimeInForce   TimeInForce     // limit orders only
	Quantity      decimal.Decimal // base units, on the lot grid
	Price         decimal.Decimal // limit orders only, on the tick grid
	ReduceOnly    bool
}

// Order is a child order as the venue reports it.
type Order struct {
	ClientOrderID string
	VenueOrderID  string
	Instrument    string
	Side          Side
	Type          OrderType
	TimeInForce   TimeInForce
	Quantity      decimal.Decimal
	Price         decimal.Decimal
	FilledQty     decimal.Decimal
	AvgPrice      decimal.Decimal
	Status        OrderStatus
	ReduceOnly    bool
	UpdateTime    time.Time
}

// Fill is one execution of a child order.
type Fill struct {
	Venue         string
	Instrument    string
	ClientOrderID string
	VenueOrderID  string
	TradeID       string // unique per venue
	Side          Side
	Quantity      decimal.Decimal // base units
	Price         decimal.Decimal
	Fee           decimal.Decimal // in FeeAsset; positive is a cost
	FeeAsset      string
	Maker         bool
	Time          time.Time
}

// Position is the venue's view of a net position in one instrument.
type Position struct {
	Venue      string
	Instrument string
	Quantity   decimal.Decimal // signed, base units: negative is short
	EntryPrice decimal.Decimal
	MarkPrice  decimal.Decimal
}

// Notional is |quantity| × mark, signed like the quantity.
func (p Position) Notional() decimal.Decimal { return p.Quantity.Mul(p.MarkPrice) }

// Event is what a venue's private stream delivers: a fill, an order update, or both (Binance sends the fill inside
// the order update). Exactly one of the fields, or both Order and Fill, is set.
type Event struct {
	Venue string
	Order *Order
	Fill  *Fill
	// Reconnected is set on an event that says the stream was re-established; what happened while it was down
	// must be recovered by query.
	Reconnected bool
}
