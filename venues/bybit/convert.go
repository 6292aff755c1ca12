package bybit

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/convert"
)

// envelope is every v5 REST answer.
type envelope struct {
	RetCode int             `json:"retCode"`
	RetMsg  string          `json:"retMsg"`
	Result  json.RawMessage `json:"result"`
	Time    int64           `json:"time"`
}

type listResult[T any] struct {
	Category       string `json:"category"`
	List           []T    `json:"list"`
	NextPageCursor string `json:"nextPageCursor"`
}

type instrumentJSON struct {
	Symbol       string `json:"symbol"`
	ContractType string `json:"contractType"`
	Status       string `json:"status"`
	BaseCoin     string `json:"baseCoin"`
	QuoteCoin    string `json:"quoteCoin"`
	PriceFilter  struct {
		TickSize string `json:"tickSize"`
	} `json:"priceFilter"`
	LotSizeFilter struct {
		MaxOrderQty      string `json:"maxOrderQty"`
		MinOrderQty      string `json:"minOrderQty"`
		QtyStep          string `json:"qtyStep"`
		MinNotionalValue string `json:"minNotionalValue"`
	} `json:"lotSizeFilter"`
}

type tickerJSON struct {
	Symbol      string `json:"symbol"`
	MarkPrice   string `json:"markPrice"`
	Bid1Price   string `json:"bid1Price"`
	Ask1Price   string `json:"ask1Price"`
	Volume24h   string `json:"volume24h"`
	Turnover24h string `json:"turnover24h"`
	FundingRate string `json:"fundingRate"`
	// NextFundingTime is milliseconds, "" or "0" for a contract without funding.
	NextFundingTime string `json:"nextFundingTime"`
}

// orderJSON is an order in /v5/order/realtime, /v5/order/history and the order topic.
type orderJSON struct {
	Symbol      string `json:"symbol"`
	OrderID     string `json:"orderId"`
	OrderLinkID string `json:"orderLinkId"`
	Side        string `json:"side"`
	OrderType   string `json:"orderType"`
	TimeInForce string `json:"timeInForce"`
	Price       string `json:"price"`
	Qty         string `json:"qty"`
	CumExecQty  string `json:"cumExecQty"`
	AvgPrice    string `json:"avgPrice"`
	OrderStatus string `json:"orderStatus"`
	// RejectReason is EC_NoError, or why the venue ended the order itself (v5 "Enums Definitions", rejectReason).
	RejectReason string `json:"rejectReason"`
	ReduceOnly   bool   `json:"reduceOnly"`
	UpdatedTime  string `json:"updatedTime"`
}

// execJSON is an execution in /v5/execution/list and the execution topic.
type execJSON struct {
	Symbol      string `json:"symbol"`
	OrderID     string `json:"orderId"`
	OrderLinkID string `json:"orderLinkId"`
	Side        string `json:"side"`
	ExecID      string `json:"execId"`
	ExecPrice   string `json:"execPrice"`
	ExecQty     string `json:"execQty"`
	ExecFee     string `json:"execFee"`
	ExecType    string `json:"execType"`
	ExecTime    string `json:"execTime"`
	FeeCurrency string `json:"feeCurrency"`
	IsMaker     bool   `json:"isMaker"`
}

// positionJSON is a position in /v5/position/list (avgPrice) and the position topic (entryPrice).
type positionJSON struct {
	Symbol     string `json:"symbol"`
	Side       string `json:"side"`
	Size       string `json:"size"`
	AvgPrice   string `json:"avgPrice"`
	EntryPrice string `json:"entryPrice"`
	MarkPrice  string `json:"markPrice"`
}

// streamMsg is one private-stream message: a topic push, or an op answer (auth, subscribe, pong).
type streamMsg struct {
	Topic   string          `json:"topic"`
	Data    json.RawMessage `json:"data"`
	Op      string          `json:"op"`
	Success *bool           `json:"success"`
	RetMsg  string          `json:"ret_msg"`
}

var linkIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,36}$`)

// symbolOf maps a canonical instrument to the Bybit linear symbol: BTC-USDT-PERP → BTCUSDT.
func symbolOf(instrument string) (string, error) {
	base, quote, err := venues.ParseInstrument(instrument)
	if err != nil {
		return "", err
	}
	return base + quote, nil
}

// toRules translates a linear perpetual's instruments-info entry; ok is false for other contracts.
func toRules(in instrumentJSON) (venues.Rules, bool, error) {
	if in.ContractType != "LinearPerpetual" {
		return venues.Rules{}, false, nil
	}
	inst := in.BaseCoin + "-" + in.QuoteCoin + "-PERP"
	if _, _, err := venues.ParseInstrument(inst); err != nil || in.BaseCoin+in.QuoteCoin != in.Symbol {
		return venues.Rules{}, false, fmt.Errorf("symbol %q (%s/%s) has no canonical name", in.Symbol, in.BaseCoin, in.QuoteCoin)
	}
	r := venues.Rules{Instrument: inst, Symbol: in.Symbol}
	var err error
	for _, f := range []struct {
		dst  *decimal.Decimal
		name string
		v    string
		opt  bool
	}{
		{&r.TickSize, "tickSize", in.PriceFilter.TickSize, false},
		{&r.LotSize, "qtyStep", in.LotSizeFilter.QtyStep, false},
		{&r.MinQty, "minOrderQty", in.LotSizeFilter.MinOrderQty, false},
		{&r.MaxQty, "maxOrderQty", in.LotSizeFilter.MaxOrderQty, true},
		{&r.MinNotional, "minNotionalValue", in.LotSizeFilter.MinNotionalValue, true},
	} {
		if f.opt {
			*f.dst, err = convert.DecOpt(f.name, f.v)
		} else {
			*f.dst, err = convert.Dec(f.name, f.v)
		}
		if err != nil {
			return venues.Rules{}, false, fmt.Errorf("symbol %s: %w", in.Symbol, err)
		}
	}
	if err := r.Validate(); err != nil {
		return venues.Rules{}, false, err
	}
	return r, true, nil
}

func toStats(instrument string, t tickerJSON, at int64) (venues.Stats, error) {
	s := venues.Stats{Instrument: instrument, Time: time.UnixMilli(at).UTC()}
	var err error
	if s.MarkPrice, err = convert.Dec("markPrice", t.MarkPrice); err != nil {
		return venues.Stats{}, err
	}
	if s.Volume24h, err = convert.Dec("volume24h", t.Volume24h); err != nil {
		return venues.Stats{}, err
	}
	if s.QuoteVol24h, err = convert.Dec("turnover24h", t.Turnover24h); err != nil {
		return venues.Stats{}, err
	}
	if s.FundingRate, err = convert.DecOpt("fundingRate", t.FundingRate); err != nil {
		return venues.Stats{}, err
	}
	if t.NextFundingTime != "" && t.NextFundingTime != "0" {
		if s.NextFunding, err = convert.Millis("nextFundingTime", t.NextFundingTime); err != nil {
			return venues.Stats{}, err
		}
	}
	return s, nil
}

// toQuote translates a ticker: mark, best bid and ask (empty when that side of the book is empty: zero), and the
// answer's time. A crossed book is an error.
func toQuote(instrument string, t tickerJSON, at time.Time) (venues.Quote, error) {
	mark, err1 := convert.Dec("markPrice", t.MarkPrice)
	bid, err2 := convert.DecOpt("bid1Price", t.Bid1Price)
	ask, err3 := convert.DecOpt("ask1Price", t.Ask1Price)
	if err := errors.Join(err1, err2, err3); err != nil {
		return venues.Quote{}, fmt.Errorf("ticker %s: %w", t.Symbol, err)
	}
	switch {
	case !mark.IsPositive():
		return venues.Quote{}, fmt.Errorf("ticker %s: markPrice %s is not positive", t.Symbol, mark)
	case bid.IsNegative() || ask.IsNegative() || bid.IsPositive() && ask.IsPositive() && !bid.LessThan(ask):
		return venues.Quote{}, fmt.Errorf("ticker %s: bid %s, ask %s", t.Symbol, bid, ask)
	case at.IsZero() || at.Unix() <= 0:
		return venues.Quote{}, fmt.Errorf("ticker %s: no time", t.Symbol)
	}
	return venues.Quote{Instrument: instrument, Mark: mark, Bid: bid, Ask: ask, Time: at}, nil
}

func toSide(s string) (venues.Side, error) {
	switch s {
	case "Buy":
		return venues.Buy, nil
	case "Sell":
		return venues.Sell, nil
	}
	return "", fmt.Errorf("side %q", s)
}

func fromSide(s venues.Side) (string, error) {
	switch s {
	case venues.Buy:
		return "Buy", nil
	case venues.Sell:
		return "Sell", nil
	}
	return "", fmt.Errorf("side %q", s)
}

// rejectPostOnly is the rejectReason of a PostOnly order the venue cancelled because it would have taken liquidity.
// The v5 Place Order page says a PostOnly order that would fill on arrival is cancelled (the create call itself is
// acknowledged: creation is asynchronous), and the Get Order History page's example shows the result: orderStatus
// Cancelled, this rejectReason, cumExecQty 0.
const rejectPostOnly = "EC_PostOnlyWillTakeLiquidity"

// toStatus maps orderStatus. Bybit reports an IOC (and Market) remainder as Cancelled; that is the venues'
// StatusExpired, while a cancelled resting order is StatusCanceled. A PostOnly order the venue cancelled (or
// rejected) because it would have taken liquidity is StatusRejected: it never worked.
func toStatus(status, tif, typ, rejectReason string) (venues.OrderStatus, error) {
	if rejectReason == rejectPostOnly && (status == "Cancelled" || status == "Rejected") {
		return venues.StatusRejected, nil
	}
	switch status {
	case "Created", "New", "Untriggered":
		return venues.StatusNew, nil
	case "PartiallyFilled":
		return venues.StatusPartiallyFilled, nil
	case "Filled":
		return venues.StatusFilled, nil
	case "Cancelled", "PartiallyFilledCanceled", "Deactivated":
		if tif == "IOC" || tif == "FOK" || typ == "Market" {
			return venues.StatusExpired, nil
		}
		return venues.StatusCanceled, nil
	case "Rejected":
		return venues.StatusRejected, nil
	}
	return "", fmt.Errorf("orderStatus %q", status)
}

// toOrder translates an order for a known instrument.
func toOrder(instrument string, o orderJSON) (venues.Order, error) {
	out := venues.Order{ClientOrderID: o.OrderLinkID, VenueOrderID: o.OrderID, Instrument: instrument,
		ReduceOnly: o.ReduceOnly}
	var err error
	wrap := func(err error) error { return fmt.Errorf("order %s: %w", o.OrderID, err) }
	if o.OrderID == "" {
		return venues.Order{}, wrap(fmt.Errorf("no orderId"))
	}
	if out.Side, err = toSide(o.Side); err != nil {
		return venues.Order{}, wrap(err)
	}
	switch o.OrderType {
	case "Limit":
		out.Type = venues.Limit
	case "Market":
		out.Type = venues.Market
	default:
		return venues.Order{}, wrap(fmt.Errorf("orderType %q", o.OrderType))
	}
	switch o.TimeInForce {
	case "GTC":
		out.TimeInForce = venues.GTC
	case "IOC":
		out.TimeInForce = venues.IOC
	case "PostOnly":
		out.TimeInForce = venues.PostOnly
	default:
		return venues.Order{}, wrap(fmt.Errorf("timeInForce %q", o.TimeInForce))
	}
	if out.Type == venues.Market {
		out.TimeInForce = ""
	}
	if out.Status, err = toStatus(o.OrderStatus, o.TimeInForce, o.OrderType, o.RejectReason); err != nil {
		return venues.Order{}, wrap(err)
	}
	if out.Quantity, err = convert.Dec("qty", o.Qty); err != nil {
		return venues.Order{}, wrap(err)
	}
	if out.Price, err = convert.DecOpt("price", o.Price); err != nil {
		return venues.Order{}, wrap(err)
	}
	if out.FilledQty, err = convert.DecOpt("cumExecQty", o.CumExecQty); err != nil {
		return venues.Order{}, wrap(err)
	}
	if out.AvgPrice, err = convert.DecOpt("avgPrice", o.AvgPrice); err != nil {
		return venues.Order{}, wrap(err)
	}
	if out.UpdateTime, err = convert.Millis("updatedTime", o.UpdatedTime); err != nil {
		return venues.Order{}, wrap(err)
	}
	if out.Quantity.IsNegative() || out.FilledQty.IsNegative() || out.FilledQty.GreaterThan(out.Quantity) {
		return venues.Order{}, wrap(fmt.Errorf("filled %s of %s", out.FilledQty, out.Quantity))
	}
	return out, nil
}

// toFill translates an execution; ok is false for executions that are not trades of the account (funding,
// settlement).
func toFill(venue, instrument string, e execJSON) (venues.Fill, bool, error) {
	switch e.ExecType {
	case "Trade", "AdlTrade", "BustTrade", "":
	case "Funding", "Settle", "Delivery":
		return venues.Fill{}, false, nil
	default:
		return venues.Fill{}, false, fmt.Errorf("execution %s: execType %q", e.ExecID, e.ExecType)
	}
	f := venues.Fill{Venue: venue, Instrument: instrument, ClientOrderID: e.OrderLinkID, VenueOrderID: e.OrderID,
		TradeID: e.ExecID, Maker: e.IsMaker, FeeAsset: e.FeeCurrency}
	if f.FeeAsset == "" {
		f.FeeAsset = "USDT" // linear contracts settle fees in the settle coin
	}
	wrap := func(err error) error { return fmt.Errorf("execution %s: %w", e.ExecID, err) }
	var err error
	if e.ExecID == "" {
		return venues.Fill{}, false, wrap(fmt.Errorf("no execId"))
	}
	if f.Side, err = toSide(e.Side); err != nil {
		return venues.Fill{}, false, wrap(err)
	}
	if f.Quantity, err = convert.Dec("execQty", e.ExecQty); err != nil {
		return venues.Fill{}, false, wrap(err)
	}
	if !f.Quantity.IsPositive() {
		return venues.Fill{}, false, wrap(fmt.Errorf("execQty %s", f.Quantity))
	}
	if f.Price, err = convert.Dec("execPrice", e.ExecPrice); err != nil {
		return venues.Fill{}, false, wrap(err)
	}
	if f.Fee, err = convert.DecOpt("execFee", e.ExecFee); err != nil {
		return venues.Fill{}, false, wrap(err)
	}
	if f.Time, err = convert.Millis("execTime", e.ExecTime); err != nil {
		return venues.Fill{}, false, wrap(err)
	}
	return f, true, nil
}

// toPosition translates a position: Bybit reports an unsigned size and a side.
func toPosition(venue, instrument string, p positionJSON) (venues.Position, error) {
	out := venues.Position{Venue: venue, Instrument: instrument}
	size, err := convert.Dec("size", p.Size)
	if err != nil {
		return venues.Position{}, fmt.Errorf("position %s: %w", p.Symbol, err)
	}
	entry := p.AvgPrice
	if entry == "" {
		entry = p.EntryPrice
	}
	if out.EntryPrice, err = convert.DecOpt("avgPrice", entry); err != nil {
		return venues.Position{}, fmt.Errorf("position %s: %w", p.Symbol, err)
	}
	if out.MarkPrice, err = convert.DecOpt("markPrice", p.MarkPrice); err != nil {
		return venues.Position{}, fmt.Errorf("position %s: %w", p.Symbol, err)
	}
	switch {
	case size.IsNegative():
		return venues.Position{}, fmt.Errorf("position %s: negative size %s", p.Symbol, size)
	case size.IsZero():
		out.Quantity = decimal.Zero
	case p.Side == "Buy":
		out.Quantity = size
	case p.Side == "Sell":
		out.Quantity = size.Neg()
	default:
		return venues.Position{}, fmt.Errorf("position %s: size %s with side %q", p.Symbol, size, p.Side)
	}
	return out, nil
}

// createBody is the JSON body of POST /v5/order/create for req, or an error for a request Bybit cannot express.
func createBody(symbol string, rules venues.Rules, req venues.OrderRequest) (map[string]any, error) {
	if !linkIDRe.MatchString(req.ClientOrderID) {
		return nil, fmt.Errorf("client order id %q: want 1-36 of [A-Za-z0-9_-]", req.ClientOrderID)
	}
	side, err := fromSide(req.Side)
	if err != nil {
		return nil, err
	}
	if !req.Quantity.IsPositive() || !rules.OnLot(req.Quantity) {
		return nil, fmt.Errorf("quantity %s is not a positive multiple of the lot %s", req.Quantity, rules.LotSize)
	}
	body := map[string]any{"category": "linear", "symbol": symbol, "side": side, "qty": req.Quantity.String(),
		"orderLinkId": req.ClientOrderID, "reduceOnly": req.ReduceOnly, "positionIdx": 0}
	switch req.Type {
	case venues.Market:
		body["orderType"] = "Market"
	case venues.Limit:
		if !req.Price.IsPositive() || !rules.OnTick(req.Price) {
			return nil, fmt.Errorf("price %s is not a positive multiple of the tick %s", req.Price, rules.TickSize)
		}
		body["orderType"], body["price"] = "Limit", req.Price.String()
		switch req.TimeInForce {
		case venues.GTC, "":
			body["timeInForce"] = "GTC"
		case venues.IOC:
			body["timeInForce"] = "IOC"
		case venues.PostOnly:
			body["timeInForce"] = "PostOnly"
		default:
			return nil, fmt.Errorf("time in force %q", req.TimeInForce)
		}
	default:
		return nil, fmt.Errorf("order type %q", req.Type)
	}
	return body, nil
}

// decodeStream translates one private-stream message. Order pushes become order events, execution pushes fill
// events; op answers (pong, auth, subscribe) and position pushes carry nothing execd consumes from the stream.
// instOf maps a symbol to its instrument.
func decodeStream(venue string, msg []byte, instOf func(symbol string) (string, error)) ([]venues.Event, error) {
	var m streamMsg
	if err := json.Unmarshal(msg, &m); err != nil {
		return nil, fmt.Errorf("stream message: %w", err)
	}
	if m.Op != "" || m.Topic == "" {
		if m.Success != nil && !*m.Success {
			return nil, fmt.Errorf("stream op %q failed: %s", m.Op, m.RetMsg)
		}
		return nil, nil
	}
	topic, _, _ := strings.Cut(m.Topic, ".")
	switch topic {
	case "order":
		var data []orderJSON
		if err := json.Unmarshal(m.Data, &data); err != nil {
			return nil, fmt.Errorf("order push: %w", err)
		}
		evs := make([]venues.Event, 0, len(data))
		for _, d := range data {
			inst, err := instOf(d.Symbol)
			if err != nil {
				return nil, err
			}
			o, err := toOrder(inst, d)
			if err != nil {
				return nil, err
			}
			evs = append(evs, venues.Event{Venue: venue, Order: &o})
		}
		return evs, nil
	case "execution":
		var data []execJSON
		if err := json.Unmarshal(m.Data, &data); err != nil {
			return nil, fmt.Errorf("execution push: %w", err)
		}
		evs := make([]venues.Event, 0, len(data))
		for _, d := range data {
			inst, err := instOf(d.Symbol)
			if err != nil {
				return nil, err
			}
			f, ok, err := toFill(venue, inst, d)
			if err != nil {
				return nil, err
			}
			if ok {
				evs = append(evs, venues.Event{Venue: venue, Fill: &f})
			}
		}
		return evs, nil
	}
	return nil, nil // position and other topics: not stream events for execd
}

// amendBody is the JSON body of POST /v5/order/amend for req: qty and price only when they change, or an error for
// an amendment Bybit cannot express.
func amendBody(rules venues.Rules, req venues.AmendRequest) (map[string]any, error) {
	if !linkIDRe.MatchString(req.ClientOrderID) {
		return nil, fmt.Errorf("client order id %q: want 1-36 of [A-Za-z0-9_-]", req.ClientOrderID)
	}
	if req.Quantity.IsZero() && req.Price.IsZero() {
		return nil, fmt.Errorf("an amendment changes the quantity, the price or both")
	}
	body := map[string]any{"category": "linear", "symbol": rules.Symbol, "orderLinkId": req.ClientOrderID}
	if !req.Quantity.IsZero() {
		if !req.Quantity.IsPositive() || !rules.OnLot(req.Quantity) {
			return nil, fmt.Errorf("quantity %s is not a positive multiple of the lot %s", req.Quantity, rules.LotSize)
		}
		body["qty"] = req.Quantity.String()
	}
	if !req.Price.IsZero() {
		if !req.Price.IsPositive() || !rules.OnTick(req.Price) {
			return nil, fmt.Errorf("price %s is not a positive multiple of the tick %s", req.Price, rules.TickSize)
		}
		body["price"] = req.Price.String()
	}
	return body, nil
}
