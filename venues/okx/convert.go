package okx

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/convert"
)

// instrumentFromInstID maps BTC-USDT-SWAP to BTC-USDT-PERP.
func instrumentFromInstID(instID string) (string, error) {
	base, ok := strings.CutSuffix(instID, "-SWAP")
	if !ok {
		return "", fmt.Errorf("instId %q is not a swap", instID)
	}
	inst := base + "-PERP"
	if _, _, err := venues.ParseInstrument(inst); err != nil {
		return "", fmt.Errorf("instId %q: %w", instID, err)
	}
	return inst, nil
}

// instIDFromInstrument maps BTC-USDT-PERP to BTC-USDT-SWAP.
func instIDFromInstrument(inst string) (string, error) {
	base, quote, err := venues.ParseInstrument(inst)
	if err != nil {
		return "", err
	}
	return base + "-" + quote + "-SWAP", nil
}

// instrumentRow is one row of GET /api/v5/public/instruments.
type instrumentRow struct {
	InstType  string `json:"instType"`
	InstID    string `json:"instId"`
	SettleCcy string `json:"settleCcy"`
	CtVal     string `json:"ctVal"`
	CtMult    string `json:"ctMult"`
	CtValCcy  string `json:"ctValCcy"`
	CtType    string `json:"ctType"`
	LotSz     string `json:"lotSz"`
	MinSz     string `json:"minSz"`
	TickSz    string `json:"tickSz"`
	MaxLmtSz  string `json:"maxLmtSz"`
	State     string `json:"state"`
}

// instrument is what the adapter keeps of a swap: its rules in base units and the contract terms.
type instrument struct {
	rules venues.Rules
	ctVal decimal.Decimal // base units per contract (× ctMult)
	lotSz decimal.Decimal // contracts
}

// toInstrument translates a linear swap whose contract value is in its base currency.
func toInstrument(r instrumentRow) (instrument, error) {
	inst, err := instrumentFromInstID(r.InstID)
	if err != nil {
		return instrument{}, err
	}
	base, _, _ := venues.ParseInstrument(inst)
	if r.InstType != "SWAP" || r.CtType != "linear" || r.CtValCcy != base {
		return instrument{}, fmt.Errorf("%s: not a linear swap valued in %s (type %q, ctType %q, ctValCcy %q)",
			r.InstID, base, r.InstType, r.CtType, r.CtValCcy)
	}
	ctVal, err1 := convert.Dec("ctVal", r.CtVal)
	ctMult, err2 := convert.Dec("ctMult", r.CtMult)
	lot, err3 := convert.Dec("lotSz", r.LotSz)
	minSz, err4 := convert.Dec("minSz", r.MinSz)
	tick, err5 := convert.Dec("tickSz", r.TickSz)
	// maxLmtSz is part of every swap instrument OKX lists: without it the largest order is unknown, which is an error,
	// not "no limit".
	maxSz, err6 := convert.Dec("maxLmtSz", r.MaxLmtSz)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		return instrument{}, fmt.Errorf("%s: %w", r.InstID, err)
	}
	if !ctVal.IsPositive() || !ctMult.IsPositive() {
		return instrument{}, fmt.Errorf("%s: contract value %s × %s is not positive", r.InstID, ctVal, ctMult)
	}
	cv := ctVal.Mul(ctMult)
	rules := venues.Rules{Instrument: inst, Symbol: r.InstID, TickSize: tick, LotSize: lot.Mul(cv),
		MinQty: minSz.Mul(cv), MaxQty: maxSz.Mul(cv)}
	if err := rules.Validate(); err != nil {
		return instrument{}, err
	}
	return instrument{rules: rules, ctVal: cv, lotSz: lot}, nil
}

// toContracts converts a base quantity to contracts exactly; a quantity that is not a whole number of lots is an
// error, never rounded.
func (in instrument) toContracts(qty decimal.Decimal) (decimal.Decimal, error) {
	if !qty.IsPositive() {
		return decimal.Zero, fmt.Errorf("quantity %s is not positive", qty)
	}
	c := qty.Div(in.ctVal)
	if !c.Mul(in.ctVal).Equal(qty) || !c.Mod(in.lotSz).IsZero() {
		return decimal.Zero, fmt.Errorf("quantity %s is not a whole number of lots of %s (%s contracts of %s)",
			qty, in.rules.LotSize, in.lotSz, in.ctVal)
	}
	return c, nil
}

// toBase converts contracts to base units (exact: a product of decimals).
func (in instrument) toBase(contracts decimal.Decimal) decimal.Decimal {
	return contracts.Mul(in.ctVal)
}

// orderRow is an order as GET /api/v5/trade/order, orders-pending and the orders channel send it.
type orderRow struct {
	InstID    string `json:"instId"`
	OrdID     string `json:"ordId"`
	ClOrdID   string `json:"clOrdId"`
	Px        string `json:"px"`
	Sz        string `json:"sz"`
	OrdType   string `json:"ordType"`
	Side      string `json:"side"`
	PosSide   string `json:"posSide"`
	AccFillSz string `json:"accFillSz"`
	AvgPx     string `json:"avgPx"`
	State     string `json:"state"`
	// CancelSource says who ended a canceled order ("31": a post_only order that would have taken liquidity).
	CancelSource string `json:"cancelSource"`
	ReduceOnly   string `json:"reduceOnly"`
	UTime        string `json:"uTime"`
	// Set on orders-channel pushes for an execution.
	TradeID    string `json:"tradeId"`
	FillPx     string `json:"fillPx"`
	FillSz     string `json:"fillSz"`
	FillTime   string `json:"fillTime"`
	FillFee    string `json:"fillFee"`
	FillFeeCcy string `json:"fillFeeCcy"`
	ExecType   string `json:"execType"`
}

func sideFromVenue(s string) (venues.Side, error) {
	switch s {
	case "buy":
		return venues.Buy, nil
	case "sell":
		return venues.Sell, nil
	}
	return "", fmt.Errorf("unknown side %q", s)
}

// typeFromVenue maps ordType: market; limit (GTC); ioc (a limit IOC); post_only (a limit post-only). Other types
// execd never sends, and they are an error.
func typeFromVenue(t string) (venues.OrderType, venues.TimeInForce, error) {
	switch t {
	case "market":
		return venues.Market, "", nil
	case "limit":
		return venues.Limit, venues.GTC, nil
	case "ioc":
		return venues.Limit, venues.IOC, nil
	case "post_only":
		return venues.Limit, venues.PostOnly, nil
	}
	return "", "", fmt.Errorf("unsupported ordType %q", t)
}

// ordTypeToVenue is the inverse of typeFromVenue.
func ordTypeToVenue(t venues.OrderType, tif venues.TimeInForce) (string, error) {
	switch {
	case t == venues.Market:
		return "market", nil
	case t == venues.Limit && tif == venues.GTC:
		return "limit", nil
	case t == venues.Limit && tif == venues.IOC:
		return "ioc", nil
	case t == venues.Limit && tif == venues.PostOnly:
		return "post_only", nil
	}
	return "", fmt.Errorf("order type %q with time in force %q", t, tif)
}

// cancelPostOnly is the cancelSource of a post_only order OKX canceled because it would have taken liquidity: the
// v5 docs list the code among the cancelSource values of the orders channel, and Get order details carries the
// field. Such an order is placed (sCode 0) and then canceled, nothing filled; it is not refused by the place call.
const cancelPostOnly = "31"

// statusFromVenue maps state; a canceled IOC or market order is an expired remainder, and a post_only order
// canceled for crossing (cancelSource 31) never worked: StatusRejected.
func statusFromVenue(state, cancelSource string, t venues.OrderType, tif venues.TimeInForce) (venues.OrderStatus, error) {
	if state == "canceled" && tif == venues.PostOnly && cancelSource == cancelPostOnly {
		return venues.StatusRejected, nil
	}
	switch state {
	case "live":
		return venues.StatusNew, nil
	case "partially_filled":
		return venues.StatusPartiallyFilled, nil
	case "filled":
		return venues.StatusFilled, nil
	case "canceled", "mmp_canceled":
		if t == venues.Market || tif == venues.IOC {
			return venues.StatusExpired, nil
		}
		return venues.StatusCanceled, nil
	}
	return "", fmt.Errorf("unknown order state %q", state)
}

// toOrder translates an order row in contracts to a canonical order in base units.
func toOrder(in instrument, r orderRow) (venues.Order, error) {
	var o venues.Order
	var errs convert.Errs
	add := errs.Add
	var err error
	if r.InstID != in.rules.Symbol {
		add(fmt.Errorf("instId %q, want %q", r.InstID, in.rules.Symbol))
	}
	if r.PosSide != "" && r.PosSide != "net" {
		add(fmt.Errorf("posSide %q: only net mode is supported", r.PosSide))
	}
	o.Side, err = sideFromVenue(r.Side)
	add(err)
	o.Type, o.TimeInForce, err = typeFromVenue(r.OrdType)
	add(err)
	o.Status, err = statusFromVenue(r.State, r.CancelSource, o.Type, o.TimeInForce)
	add(err)
	sz, err := convert.Dec("sz", r.Sz)
	add(err)
	filled, err := convert.Dec("accFillSz", r.AccFillSz)
	add(err)
	o.AvgPrice, err = convert.DecOpt("avgPx", r.AvgPx)
	add(err)
	if o.Type == venues.Limit {
		o.Price, err = convert.Dec("px", r.Px)
		add(err)
	}
	switch r.ReduceOnly {
	case "true":
		o.ReduceOnly = true
	case "false", "":
	default:
		add(fmt.Errorf("reduceOnly %q", r.ReduceOnly))
	}
	o.UpdateTime, err = convert.Millis("uTime", r.UTime)
	add(err)
	if r.ClOrdID == "" {
		add(errors.New("empty clOrdId"))
	}
	if len(errs) == 0 && (!sz.IsPositive() || filled.IsNegative() || filled.GreaterThan(sz)) {
		add(fmt.Errorf("sz %s / accFillSz %s out of range", sz, filled))
	}
	if err := errs.Err(); err != nil {
		return venues.Order{}, fmt.Errorf("order %s: %w", r.OrdID, err)
	}
	o.Quantity, o.FilledQty = in.toBase(sz), in.toBase(filled)
	o.ClientOrderID, o.VenueOrderID, o.Instrument = r.ClOrdID, r.OrdID, in.rules.Instrument
	return o, nil
}

// toEvent translates one orders-channel row: the order, and the fill when the row carries an execution.
func toEvent(venue string, in instrument, r orderRow) (venues.Event, error) {
	o, err := toOrder(in, r)
	if err != nil {
		return venues.Event{}, err
	}
	ev := venues.Event{Venue: venue, Order: &o}
	if r.TradeID == "" {
		return ev, nil
	}
	sz, err1 := convert.Dec("fillSz", r.FillSz)
	px, err2 := convert.Dec("fillPx", r.FillPx)
	fee, err3 := convert.DecOpt("fillFee", r.FillFee)
	t, err4 := convert.Millis("fillTime", r.FillTime)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return venues.Event{}, fmt.Errorf("trade %s: %w", r.TradeID, err)
	}
	if !sz.IsPositive() || !px.IsPositive() {
		return venues.Event{}, fmt.Errorf("trade %s: non-positive fillSz %s or fillPx %s", r.TradeID, sz, px)
	}
	ev.Fill = &venues.Fill{Venue: venue, Instrument: o.Instrument, ClientOrderID: o.ClientOrderID,
		VenueOrderID: o.VenueOrderID, TradeID: r.TradeID, Side: o.Side, Quantity: in.toBase(sz), Price: px,
		Fee: fee.Neg(), FeeAsset: r.FillFeeCcy, Maker: r.ExecType == "M", Time: t}
	return ev, nil
}

// fillRow is one row of GET /api/v5/trade/fills.
type fillRow struct {
	InstID   string `json:"instId"`
	TradeID  string `json:"tradeId"`
	OrdID    string `json:"ordId"`
	ClOrdID  string `json:"clOrdId"`
	BillID   string `json:"billId"`
	FillPx   string `json:"fillPx"`
	FillSz   string `json:"fillSz"`
	Side     string `json:"side"`
	ExecType string `json:"execType"`
	FeeCcy   string `json:"feeCcy"`
	Fee      string `json:"fee"`
	Ts       string `json:"ts"`
}

// toFill translates a fills row; OKX's negative fee (a charge) becomes a positive cost.
func toFill(venue string, in instrument, r fillRow) (venues.Fill, error) {
	side, err1 := sideFromVenue(r.Side)
	sz, err2 := convert.Dec("fillSz", r.FillSz)
	px, err3 := convert.Dec("fillPx", r.FillPx)
	fee, err4 := convert.DecOpt("fee", r.Fee)
	t, err5 := convert.Millis("ts", r.Ts)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return venues.Fill{}, fmt.Errorf("trade %s: %w", r.TradeID, err)
	}
	if r.InstID != in.rules.Symbol || r.TradeID == "" || !sz.IsPositive() || !px.IsPositive() {
		return venues.Fill{}, fmt.Errorf("trade %q: bad instId %q, fillSz %s or fillPx %s", r.TradeID, r.InstID, sz, px)
	}
	return venues.Fill{Venue: venue, Instrument: in.rules.Instrument, ClientOrderID: r.ClOrdID, VenueOrderID: r.OrdID,
		TradeID: r.TradeID, Side: side, Quantity: in.toBase(sz), Price: px, Fee: fee.Neg(), FeeAsset: r.FeeCcy,
		Maker: r.ExecType == "M", Time: t}, nil
}

// positionRow is one row of GET /api/v5/account/positions.
type positionRow struct {
	InstType string `json:"instType"`
	InstID   string `json:"instId"`
	MgnMode  string `json:"mgnMode"`
	PosSide  string `json:"posSide"`
	Pos      string `json:"pos"`
	AvgPx    string `json:"avgPx"`
	MarkPx   string `json:"markPx"`
}

// toPosition translates a net-mode position in contracts; a long/short (hedge-mode) row cannot be mapped.
func toPosition(venue string, in instrument, r positionRow) (venues.Position, error) {
	if r.PosSide != "net" {
		return venues.Position{}, fmt.Errorf("%s: position side %q: only net mode is supported", r.InstID, r.PosSide)
	}
	pos, err1 := convert.Dec("pos", r.Pos)
	avg, err2 := convert.DecOpt("avgPx", r.AvgPx)
	mark, err3 := convert.DecOpt("markPx", r.MarkPx)
	if err := errors.Join(err1, err2, err3); err != nil {
		return venues.Position{}, fmt.Errorf("position %s: %w", r.InstID, err)
	}
	return venues.Position{Venue: venue, Instrument: in.rules.Instrument, Quantity: in.toBase(pos), EntryPrice: avg,
		MarkPrice: mark}, nil
}

// tickerRow, markRow and fundingRow are the rows Stats reads.
type tickerRow struct {
	InstID    string `json:"instId"`
	Last      string `json:"last"`
	BidPx     string `json:"bidPx"`
	AskPx     string `json:"askPx"`
	Vol24h    string `json:"vol24h"` // contracts
	VolCcy24h string `json:"volCcy24h"`
	Ts        string `json:"ts"`
}

type markRow struct {
	InstID string `json:"instId"`
	MarkPx string `json:"markPx"`
	Ts     string `json:"ts"`
}

type fundingRow struct {
	InstID      string `json:"instId"`
	FundingRate string `json:"fundingRate"`
	FundingTime string `json:"fundingTime"` // ms: when the current period's rate is settled
}

// toStats combines ticker, mark price and funding rate. Volume24h is vol24h×ctVal (base units); QuoteVol24h is
// an estimate, Volume24h × last, since OKX gives no quote volume for swaps.
func toStats(in instrument, t tickerRow, m markRow, f fundingRow) (venues.Stats, error) {
	vol, err1 := convert.Dec("vol24h", t.Vol24h)
	last, err2 := convert.DecOpt("last", t.Last)
	mark, err3 := convert.Dec("markPx", m.MarkPx)
	rate, err4 := convert.Dec("fundingRate", f.FundingRate)
	ts, err5 := convert.Millis("ts", m.Ts)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return venues.Stats{}, err
	}
	if t.InstID != in.rules.Symbol || m.InstID != in.rules.Symbol || f.InstID != in.rules.Symbol {
		return venues.Stats{}, fmt.Errorf("stats rows for %q/%q/%q, want %s", t.InstID, m.InstID, f.InstID, in.rules.Symbol)
	}
	base := in.toBase(vol)
	st := venues.Stats{Instrument: in.rules.Instrument, MarkPrice: mark, Volume24h: base,
		QuoteVol24h: base.Mul(last), FundingRate: rate, Time: ts}
	if f.FundingTime != "" {
		next, err := convert.Millis("fundingTime", f.FundingTime)
		if err != nil {
			return venues.Stats{}, err
		}
		st.NextFunding = next
	}
	return st, nil
}

// toQuote translates a mark-price row: the mark and its time; OKX's mark price carries no bid or ask.
func toQuote(in instrument, m markRow) (venues.Quote, error) {
	mark, err1 := convert.Dec("markPx", m.MarkPx)
	ts, err2 := convert.Millis("ts", m.Ts)
	if err := errors.Join(err1, err2); err != nil {
		return venues.Quote{}, fmt.Errorf("mark price %s: %w", m.InstID, err)
	}
	switch {
	case m.InstID != in.rules.Symbol:
		return venues.Quote{}, fmt.Errorf("mark price for %q, want %s", m.InstID, in.rules.Symbol)
	case !mark.IsPositive():
		return venues.Quote{}, fmt.Errorf("mark price %s: markPx %s is not positive", m.InstID, mark)
	case ts.IsZero():
		return venues.Quote{}, fmt.Errorf("mark price %s: no ts", m.InstID)
	}
	return venues.Quote{Instrument: in.rules.Instrument, Mark: mark, Time: ts}, nil
}

// withTouch adds the ticker's best bid and ask to a quote; a ticker without both (an empty book side is "") or
// crossed is an error.
func withTouch(q venues.Quote, in instrument, t tickerRow) (venues.Quote, error) {
	bid, err1 := convert.Dec("bidPx", t.BidPx)
	ask, err2 := convert.Dec("askPx", t.AskPx)
	if err := errors.Join(err1, err2); err != nil {
		return venues.Quote{}, fmt.Errorf("ticker %s: %w", t.InstID, err)
	}
	switch {
	case t.InstID != in.rules.Symbol:
		return venues.Quote{}, fmt.Errorf("ticker for %q, want %s", t.InstID, in.rules.Symbol)
	case !bid.IsPositive() || !ask.GreaterThan(bid):
		return venues.Quote{}, fmt.Errorf("ticker %s: bid %s / ask %s is not a positive, uncrossed pair", t.InstID, bid, ask)
	}
	q.Bid, q.Ask = bid, ask
	return q, nil
}
