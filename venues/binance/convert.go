package binance

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/adshao/go-binance/v2/futures"
	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/convert"
)

func sideToVenue(s venues.Side) (futures.SideType, error) {
	switch s {
	case venues.Buy:
		return futures.SideTypeBuy, nil
	case venues.Sell:
		return futures.SideTypeSell, nil
	}
	return "", fmt.Errorf("side %q", s)
}

func sideFromVenue(s futures.SideType) (venues.Side, error) {
	switch s {
	case futures.SideTypeBuy:
		return venues.Buy, nil
	case futures.SideTypeSell:
		return venues.Sell, nil
	}
	return "", fmt.Errorf("unknown side %q", s)
}

func statusFromVenue(s futures.OrderStatusType) (venues.OrderStatus, error) {
	switch s {
	case futures.OrderStatusTypeNew:
		return venues.StatusNew, nil
	case futures.OrderStatusTypePartiallyFilled:
		return venues.StatusPartiallyFilled, nil
	case futures.OrderStatusTypeFilled:
		return venues.StatusFilled, nil
	case futures.OrderStatusTypeCanceled:
		return venues.StatusCanceled, nil
	case futures.OrderStatusTypeExpired, "EXPIRED_IN_MATCH":
		return venues.StatusExpired, nil
	case futures.OrderStatusTypeRejected:
		return venues.StatusRejected, nil
	}
	return "", fmt.Errorf("unknown order status %q", s)
}

// typeFromVenue maps order type and time in force (GTX is post-only); a MARKET order has no time in force. A time in
// force execd never sends (FOK, GTD, ...) is an error: such an order is not one of ours to report.
func typeFromVenue(t futures.OrderType, tif futures.TimeInForceType) (venues.OrderType, venues.TimeInForce, error) {
	switch t {
	case futures.OrderTypeMarket:
		return venues.Market, "", nil
	case futures.OrderTypeLimit:
		switch tif {
		case futures.TimeInForceTypeGTC:
			return venues.Limit, venues.GTC, nil
		case futures.TimeInForceTypeIOC:
			return venues.Limit, venues.IOC, nil
		case futures.TimeInForceTypeGTX:
			return venues.Limit, venues.PostOnly, nil
		}
		return "", "", fmt.Errorf("unsupported time in force %q", tif)
	}
	return "", "", fmt.Errorf("unsupported order type %q", t)
}

// orderFields is what every Binance order payload carries, whatever struct it came in.
type orderFields struct {
	Symbol, ClientOrderID                 string
	OrderID                               int64
	Side                                  futures.SideType
	Type                                  futures.OrderType
	TIF                                   futures.TimeInForceType
	Status                                futures.OrderStatusType
	Price, OrigQty, ExecutedQty, AvgPrice string
	ReduceOnly                            bool
	UpdateTime                            int64
}

func fieldsOfOrder(o *futures.Order) orderFields {
	return orderFields{o.Symbol, o.ClientOrderID, o.OrderID, o.Side, o.Type, o.TimeInForce, o.Status, o.Price,
		o.OrigQuantity, o.ExecutedQuantity, o.AvgPrice, o.ReduceOnly, o.UpdateTime}
}

func fieldsOfCreate(o *futures.CreateOrderResponse) orderFields {
	return orderFields{o.Symbol, o.ClientOrderID, o.OrderID, o.Side, o.Type, o.TimeInForce, o.Status, o.Price,
		o.OrigQuantity, o.ExecutedQuantity, o.AvgPrice, o.ReduceOnly, o.UpdateTime}
}

func fieldsOfModify(o *futures.ModifyOrderResponse) orderFields {
	return orderFields{o.Symbol, o.ClientOrderID, o.OrderID, o.Side, o.Type, o.TimeInForce, o.Status, o.Price,
		o.OriginalQuantity, o.ExecutedQuantity, o.AveragePrice, o.ReduceOnly, o.UpdateTime}
}

// fieldsOfCancel: the cancel answer has no average price; it is computed from cumQuote / executedQty.
func fieldsOfCancel(o *futures.CancelOrderResponse) (orderFields, error) {
	f := orderFields{o.Symbol, o.ClientOrderID, o.OrderID, o.Side, o.Type, o.TimeInForce, o.Status, o.Price,
		o.OrigQuantity, o.ExecutedQuantity, "", o.ReduceOnly, o.UpdateTime}
	exec, err := convert.Dec("executedQty", o.ExecutedQuantity)
	if err != nil {
		return f, err
	}
	if exec.IsPositive() {
		quote, err := convert.Dec("cumQuote", o.CumQuote)
		if err != nil {
			return f, err
		}
		f.AvgPrice = quote.Div(exec).String()
	}
	return f, nil
}

func fieldsOfUpdate(u *futures.WsOrderTradeUpdate) orderFields {
	return orderFields{u.Symbol, u.ClientOrderID, u.ID, u.Side, u.Type, u.TimeInForce, u.Status, u.OriginalPrice,
		u.OriginalQty, u.AccumulatedFilledQty, u.AveragePrice, u.IsReduceOnly, u.TradeTime}
}

// toOrder translates an order payload of the given canonical instrument.
func toOrder(instrument string, f orderFields) (venues.Order, error) {
	var o venues.Order
	var errs convert.Errs
	add := errs.Add
	var err error
	o.Side, err = sideFromVenue(f.Side)
	add(err)
	o.Type, o.TimeInForce, err = typeFromVenue(f.Type, f.TIF)
	add(err)
	o.Status, err = statusFromVenue(f.Status)
	add(err)
	o.Quantity, err = convert.Dec("origQty", f.OrigQty)
	add(err)
	o.FilledQty, err = convert.Dec("executedQty", f.ExecutedQty)
	add(err)
	o.AvgPrice, err = convert.DecOpt("avgPrice", f.AvgPrice)
	add(err)
	if o.Type == venues.Limit {
		o.Price, err = convert.Dec("price", f.Price)
		add(err)
	}
	if f.ClientOrderID == "" {
		add(errors.New("empty clientOrderId"))
	}
	if err := errs.Err(); err != nil {
		return venues.Order{}, fmt.Errorf("order %d: %w", f.OrderID, err)
	}
	o.ClientOrderID, o.VenueOrderID, o.Instrument = f.ClientOrderID, strconv.FormatInt(f.OrderID, 10), instrument
	o.ReduceOnly, o.UpdateTime = f.ReduceOnly, time.UnixMilli(f.UpdateTime).UTC()
	return o, nil
}

// toFill translates one of the account's trades; clientOrderID is "" when the order is not known.
func toFill(venue, instrument, clientOrderID string, t *futures.AccountTrade) (venues.Fill, error) {
	side, err1 := sideFromVenue(t.Side)
	qty, err2 := convert.Dec("qty", t.Quantity)
	price, err3 := convert.Dec("price", t.Price)
	fee, err4 := convert.Dec("commission", t.Commission)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return venues.Fill{}, fmt.Errorf("trade %d: %w", t.ID, err)
	}
	if !qty.IsPositive() || !price.IsPositive() {
		return venues.Fill{}, fmt.Errorf("trade %d: non-positive qty %s or price %s", t.ID, qty, price)
	}
	return venues.Fill{Venue: venue, Instrument: instrument, ClientOrderID: clientOrderID,
		VenueOrderID: strconv.FormatInt(t.OrderID, 10), TradeID: strconv.FormatInt(t.ID, 10), Side: side,
		Quantity: qty, Price: price, Fee: fee, FeeAsset: t.CommissionAsset, Maker: t.Maker,
		Time: time.UnixMilli(t.Time).UTC()}, nil
}

// toEvent translates an ORDER_TRADE_UPDATE: the order, and the fill when the execution type is TRADE.
func toEvent(venue, instrument string, u *futures.WsOrderTradeUpdate) (venues.Event, error) {
	o, err := toOrder(instrument, fieldsOfUpdate(u))
	if err != nil {
		return venues.Event{}, err
	}
	ev := venues.Event{Venue: venue, Order: &o}
	if u.ExecutionType != futures.OrderExecutionTypeTrade {
		return ev, nil
	}
	qty, err1 := convert.Dec("l", u.LastFilledQty)
	price, err2 := convert.Dec("L", u.LastFilledPrice)
	fee, err3 := convert.DecOpt("n", u.Commission)
	if err := errors.Join(err1, err2, err3); err != nil {
		return venues.Event{}, fmt.Errorf("trade %d: %w", u.TradeID, err)
	}
	if !qty.IsPositive() || !price.IsPositive() || u.TradeID == 0 {
		return venues.Event{}, fmt.Errorf("trade %d: bad qty %s, price %s or id", u.TradeID, qty, price)
	}
	ev.Fill = &venues.Fill{Venue: venue, Instrument: instrument, ClientOrderID: u.ClientOrderID,
		VenueOrderID: o.VenueOrderID, TradeID: strconv.FormatInt(u.TradeID, 10), Side: o.Side, Quantity: qty,
		Price: price, Fee: fee, FeeAsset: u.CommissionAsset, Maker: u.IsMaker, Time: time.UnixMilli(u.TradeTime).UTC()}
	return ev, nil
}

// toPosition translates one position-risk row; a hedge-mode row (LONG/SHORT) cannot be mapped.
func toPosition(venue, instrument string, p *futures.PositionRisk) (venues.Position, error) {
	if p.PositionSide != "" && p.PositionSide != string(futures.PositionSideTypeBoth) {
		return venues.Position{}, fmt.Errorf("%s: hedge-mode position side %q is not supported", p.Symbol, p.PositionSide)
	}
	qty, err1 := convert.Dec("positionAmt", p.PositionAmt)
	entry, err2 := convert.Dec("entryPrice", p.EntryPrice)
	mark, err3 := convert.Dec("markPrice", p.MarkPrice)
	if err := errors.Join(err1, err2, err3); err != nil {
		return venues.Position{}, fmt.Errorf("position %s: %w", p.Symbol, err)
	}
	return venues.Position{Venue: venue, Instrument: instrument, Quantity: qty, EntryPrice: entry, MarkPrice: mark}, nil
}

// symbolInfo is what the adapter keeps of an exchangeInfo symbol.
type symbolInfo struct {
	instrument string
	rules      venues.Rules
}

// toSymbol translates a PERPETUAL exchangeInfo symbol into its canonical name and rules.
func toSymbol(s *futures.Symbol) (symbolInfo, error) {
	if s.ContractType != futures.ContractTypePerpetual {
		return symbolInfo{}, fmt.Errorf("%s: contract type %q is not PERPETUAL", s.Symbol, s.ContractType)
	}
	inst := s.BaseAsset + "-" + s.QuoteAsset + "-PERP"
	if _, _, err := venues.ParseInstrument(inst); err != nil {
		return symbolInfo{}, fmt.Errorf("%s: %w", s.Symbol, err)
	}
	filter := func(typ futures.SymbolFilterType) map[string]any {
		for _, f := range s.Filters {
			if t, ok := f["filterType"].(string); ok && t == string(typ) {
				return f
			}
		}
		return nil
	}
	var errs []error
	get := func(typ futures.SymbolFilterType, key string) decimal.Decimal {
		f := filter(typ)
		if f == nil {
			errs = append(errs, fmt.Errorf("no %s filter", typ))
			return decimal.Zero
		}
		v, ok := f[key].(string)
		if !ok {
			errs = append(errs, fmt.Errorf("%s.%s: not a string", typ, key))
			return decimal.Zero
		}
		d, err := convert.Dec(string(typ)+"."+key, v)
		if err != nil {
			errs = append(errs, err)
		}
		return d
	}
	r := venues.Rules{Instrument: inst, Symbol: s.Symbol,
		TickSize:    get(futures.SymbolFilterTypePrice, "tickSize"),
		LotSize:     get(futures.SymbolFilterTypeLotSize, "stepSize"),
		MinQty:      get(futures.SymbolFilterTypeLotSize, "minQty"),
		MaxQty:      get(futures.SymbolFilterTypeLotSize, "maxQty"),
		MinNotional: get(futures.SymbolFilterTypeMinNotional, "notional"),
	}
	if err := errors.Join(errs...); err != nil {
		return symbolInfo{}, fmt.Errorf("%s: %w", s.Symbol, err)
	}
	if err := r.Validate(); err != nil {
		return symbolInfo{}, err
	}
	return symbolInfo{instrument: inst, rules: r}, nil
}

// toQuote translates the premium index of symbol: the mark price and the venue's time; it carries no bid or ask.
// toTouch maps a book ticker (GET /fapi/v1/ticker/bookTicker) to a quote holding only the best bid and ask.
func toTouch(instrument, symbol string, b *futures.BookTicker) (venues.Quote, error) {
	if b.Symbol != symbol {
		return venues.Quote{}, fmt.Errorf("book ticker for %q, want %s", b.Symbol, symbol)
	}
	bid, err1 := convert.Dec("bidPrice", b.BidPrice)
	ask, err2 := convert.Dec("askPrice", b.AskPrice)
	if err := errors.Join(err1, err2); err != nil {
		return venues.Quote{}, fmt.Errorf("book ticker %s: %w", symbol, err)
	}
	if !bid.IsPositive() || !ask.GreaterThan(bid) {
		return venues.Quote{}, fmt.Errorf("book ticker %s: bid %s / ask %s is not a positive, uncrossed pair", symbol, bid, ask)
	}
	if b.Time <= 0 {
		return venues.Quote{}, fmt.Errorf("book ticker of %s: no time", symbol)
	}
	return venues.Quote{Instrument: instrument, Bid: bid, Ask: ask, Time: time.UnixMilli(b.Time).UTC()}, nil
}

func toQuote(instrument, symbol string, p *futures.PremiumIndex) (venues.Quote, error) {
	if p.Symbol != symbol {
		return venues.Quote{}, fmt.Errorf("premium index for %q, want %s", p.Symbol, symbol)
	}
	mark, err := convert.Dec("markPrice", p.MarkPrice)
	if err != nil {
		return venues.Quote{}, err
	}
	if !mark.IsPositive() {
		return venues.Quote{}, fmt.Errorf("markPrice %s is not positive", mark)
	}
	if p.Time <= 0 {
		return venues.Quote{}, fmt.Errorf("premium index of %s: no time", symbol)
	}
	return venues.Quote{Instrument: instrument, Mark: mark, Time: time.UnixMilli(p.Time).UTC()}, nil
}
