package binance

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/mocks/exchange"
	"github.com/execd-dev/execd/mocks/market"
	"github.com/execd-dev/execd/mocks/mockutil"
)

// OrderRecord is the venue's record of one accepted order.
type OrderRecord struct {
	OrderID       int64
	ClientOrderID string
	Symbol        string
	Side          string // BUY or SELL
	Type          string // LIMIT or MARKET
	TimeInForce   string // GTC, IOC or GTX (post-only); GTC for MARKET, as the venue reports it
	Price         decimal.Decimal
	OrigQty       decimal.Decimal
	ExecutedQty   decimal.Decimal
	CumQuote      decimal.Decimal
	Status        string // NEW, PARTIALLY_FILLED, FILLED, CANCELED, EXPIRED
	ReduceOnly    bool
	Time          time.Time
	UpdateTime    time.Time
}

// Binance's id bases: order and trade ids are the engine's sequence numbers above them.
const (
	orderIDBase = 4000000000
	tradeIDBase = 200000000
)

var statuses = map[exchange.Status]string{exchange.New: "NEW", exchange.PartiallyFilled: "PARTIALLY_FILLED",
	exchange.Filled: "FILLED", exchange.Canceled: "CANCELED", exchange.Expired: "EXPIRED"}

func sideString(s market.Side) string {
	if s == market.Sell {
		return "SELL"
	}
	return "BUY"
}

// record is o as Binance reports it: MARKET orders show timeInForce GTC, post-only orders GTX.
func record(o *exchange.Order) OrderRecord {
	typ, tif := "LIMIT", "GTC"
	switch {
	case o.Market():
		typ = "MARKET"
	case !o.Rest:
		tif = "IOC"
	case o.PostOnly:
		tif = "GTX"
	}
	return OrderRecord{OrderID: orderIDBase + o.Seq, ClientOrderID: o.ClientID, Symbol: o.Symbol, Side: sideString(o.Side),
		Type: typ, TimeInForce: tif, Price: o.Price, OrigQty: o.Qty, ExecutedQty: o.Filled, CumQuote: o.Notional,
		Status: statuses[o.Status], ReduceOnly: o.ReduceOnly, Time: o.Created, UpdateTime: o.Updated}
}

type trade struct {
	ID         int64
	OrderID    int64
	Symbol     string
	Side       string
	Price, Qty decimal.Decimal
	Commission decimal.Decimal
	Realized   decimal.Decimal
	Maker      bool
	Time       time.Time
}

func tradeOf(f *exchange.Fill) trade {
	return trade{ID: tradeIDBase + f.Seq, OrderID: orderIDBase + f.Order.Seq, Symbol: f.Order.Symbol,
		Side: sideString(f.Order.Side), Price: f.Price, Qty: f.Qty, Commission: f.Fee, Realized: f.Realized,
		Maker: f.Maker, Time: f.Time}
}

// listenKey is a live user-data stream key; its connections are the account hub's connections tagged with it.
type listenKey struct {
	expires time.Time
}

// instrument is one listed symbol as the venue serves it: its book and filters, the decimals its order, trade and
// position figures are written with, and what exchangeInfo and the market data say of it.
type instrument struct {
	Instrument
	pricePrec, qtyPrec int32 // from the tick (at least 2) and the step
	// exchangeInfo's pricePrecision and quantityPrecision, also the decimals of the ticker's and trades' figures.
	listPricePrec, listQtyPrec int32
	base                       string   // baseAsset
	subType                    []string // underlyingSubType
	// PRICE_FILTER's minPrice and maxPrice, enforced on limit prices, and as exchangeInfo writes them.
	minPrice, maxPrice         decimal.Decimal
	minPriceText, maxPriceText string
	lastQty                    string // the ticker's lastQty
}

func (in *instrument) px(d decimal.Decimal) string  { return d.StringFixed(in.pricePrec) }
func (in *instrument) qty(d decimal.Decimal) string { return d.StringFixed(in.qtyPrec) }

// instruments are the listed symbols: Config.Symbol with the Config's book and filters and the rest of its listing
// as the real BTCUSDT's (base asset BTC, precisions 2 and 3, prices 556.80 to 4529764), then each of Config.More with
// its own book and filters, its base asset the symbol less "USDT", its precisions from its tick and step, and its
// prices from its tick to BTCUSDT's maximum.
func instruments(cfg *Config) []*instrument {
	prec := func(d decimal.Decimal) int32 { return max(0, -d.Exponent()) }
	primary := &instrument{Instrument: Instrument{Symbol: cfg.Symbol, Book: cfg.Book, TickSize: cfg.TickSize,
		StepSize: cfg.StepSize, MinQty: cfg.MinQty, MaxQty: cfg.MaxQty, MarketMaxQty: cfg.MarketMaxQty,
		MinNotional: cfg.MinNotional}, pricePrec: max(2, prec(cfg.TickSize)), qtyPrec: prec(cfg.StepSize),
		listPricePrec: 2, listQtyPrec: 3, base: "BTC", subType: []string{"PoW"},
		minPrice: decimal.RequireFromString("556.80"), maxPrice: decimal.RequireFromString("4529764"),
		minPriceText: "556.80", maxPriceText: "4529764", lastQty: "0.001"}
	out := []*instrument{primary}
	for _, m := range cfg.More {
		in := &instrument{Instrument: m, pricePrec: max(2, prec(m.TickSize)), qtyPrec: prec(m.StepSize),
			base: strings.TrimSuffix(m.Symbol, "USDT"), subType: []string{}, minPrice: m.TickSize,
			maxPrice: primary.maxPrice, minPriceText: m.TickSize.String(), maxPriceText: primary.maxPriceText}
		in.listPricePrec, in.listQtyPrec, in.lastQty = in.pricePrec, in.qtyPrec, in.qty(m.StepSize)
		out = append(out, in)
	}
	return out
}

// account is the one account of a mock venue: the shared engine (orders, trades, position, wallet) behind the
// Binance wire format, and the user-data streams. mu guards the listen keys; the engine reports its changes to
// push, after its own lock is released and in order.
type account struct {
	cfg    *Config
	faults *mockutil.Faults // the server's: lost stream fills, injected margin rejections
	ex     *exchange.Account
	hub    *mockutil.Hub

	insts    []*instrument // Config.Symbol's first, then Config.More's in order
	bySymbol map[string]*instrument

	mu         sync.Mutex
	keys       map[string]*listenKey
	leverage   decimal.Decimal
	clientIDRe *regexp.Regexp
}

// newAccount builds the account: the engine trades Config.Symbol against Config.Book (with the Config's minimum
// notional) and each of Config.More against its own book, with its minimum notional and its step as the lot grid.
func newAccount(cfg *Config) *account {
	a := &account{cfg: cfg, keys: map[string]*listenKey{}, hub: mockutil.NewHub(), insts: instruments(cfg),
		bySymbol: map[string]*instrument{}, leverage: decimal.NewFromInt(int64(cfg.Leverage)),
		clientIDRe: regexp.MustCompile(`^[.A-Z:/a-z0-9_-]{1,36}$`)}
	ec := exchange.Config{Book: cfg.Book, Clock: cfg.Clock, Balance: cfg.Balance, Leverage: cfg.Leverage,
		TakerFeeBps: cfg.TakerFeeBps, MakerFeeBps: cfg.MakerFeeBps, MinNotional: cfg.MinNotional, Logger: cfg.Logger,
		AmendRequeues: true, RefuseWouldTake: true, OnEvents: a.push}
	for _, in := range a.insts {
		a.bySymbol[in.Symbol] = in
	}
	if len(cfg.More) > 0 {
		ec.Books, ec.Lots, ec.MinNotionals = map[string]exchange.Book{}, map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
		for _, m := range cfg.More {
			ec.Books[m.Symbol], ec.Lots[m.Symbol], ec.MinNotionals[m.Symbol] = m.Book, m.StepSize, m.MinNotional
		}
	}
	a.ex = exchange.NewAccount(ec)
	return a
}

// instrument is the listed symbol sym, if it is one.
func (a *account) instrument(sym string) (*instrument, bool) {
	in, ok := a.bySymbol[sym]
	return in, ok
}

// of is the instrument whose precision writes sym's figures: its own, Config.Symbol's for a symbol not listed (a
// position set by SetPosition).
func (a *account) of(sym string) *instrument {
	if in, ok := a.bySymbol[sym]; ok {
		return in
	}
	return a.insts[0]
}

func (a *account) now() time.Time { return a.cfg.Clock.Now() }

func (a *account) records() []OrderRecord { return exchange.Convert(a.ex.Orders(), record) }

// parseDecimal reads a positive-format decimal parameter, rejecting exponents and anything the venue would not.
func parseDecimal(name, v string) (decimal.Decimal, *apiError) {
	if v == "" {
		return decimal.Zero, errMandatory(name)
	}
	if strings.ContainsAny(v, "eE+") {
		return decimal.Zero, errIllegal(name)
	}
	d, err := decimal.NewFromString(v)
	if err != nil {
		return decimal.Zero, errIllegal(name)
	}
	return d, nil
}

// quantity reads an order quantity against in's LOT_SIZE (or MARKET_LOT_SIZE, maxQty) filter.
func (in *instrument) quantity(v string, maxQty decimal.Decimal) (decimal.Decimal, *apiError) {
	qty, aerr := parseDecimal("quantity", v)
	switch {
	case aerr != nil:
		return qty, aerr
	case !qty.IsPositive():
		return qty, errQtyZero
	case -qty.Exponent() > in.qtyPrec && !qty.Equal(qty.Truncate(in.qtyPrec)):
		return qty, errPrecision
	case !exchange.OnGrid(qty, in.StepSize):
		return qty, errStep
	case qty.LessThan(in.MinQty):
		return qty, errQtyMin
	case qty.GreaterThan(maxQty):
		return qty, errQtyMax
	}
	return qty, nil
}

// price reads a limit price against in's PRICE_FILTER.
func (in *instrument) price(v string) (decimal.Decimal, *apiError) {
	price, aerr := parseDecimal("price", v)
	switch {
	case aerr != nil:
		return price, aerr
	case !price.IsPositive():
		return price, errPriceZero
	case -price.Exponent() > in.pricePrec && !price.Equal(price.Truncate(in.pricePrec)):
		return price, errPrecision
	case !exchange.OnGrid(price, in.TickSize):
		return price, errTick
	case price.LessThan(in.minPrice):
		return price, errPriceMin
	case price.GreaterThan(in.maxPrice):
		return price, errPriceMax
	}
	return price, nil
}

func (a *account) newOrder(r *request) (any, *apiError) {
	p := r.params
	for _, k := range []string{"symbol", "side", "type"} {
		if p.Get(k) == "" {
			return nil, errMandatory(k)
		}
	}
	in, ok := a.instrument(p.Get("symbol"))
	if !ok {
		return nil, errSymbol
	}
	side, typ, tif := p.Get("side"), p.Get("type"), p.Get("timeInForce")
	if side != "BUY" && side != "SELL" {
		return nil, errSide
	}
	switch typ {
	case "LIMIT":
		if tif == "" {
			return nil, errMandatory("timeInForce")
		}
		if tif != "GTC" && tif != "IOC" && tif != "GTX" {
			return nil, errTIF
		}
	case "MARKET":
		tif = "GTC"
	default:
		return nil, errOrderType
	}
	respType := p.Get("newOrderRespType")
	if respType == "" {
		respType = "ACK"
	}
	if respType != "ACK" && respType != "RESULT" {
		return nil, errRespType
	}
	reduceOnly := false
	switch p.Get("reduceOnly") {
	case "", "false":
	case "true":
		reduceOnly = true
	default:
		return nil, errf(http.StatusBadRequest, -4062, "Invalid or improper reduceOnly value.")
	}
	if ps := p.Get("positionSide"); ps != "" && ps != "BOTH" {
		return nil, errf(http.StatusBadRequest, -4061, "Order's position side does not match user's setting.")
	}
	maxQty := in.MaxQty
	if typ == "MARKET" {
		maxQty = in.MarketMaxQty
	}
	qty, aerr := in.quantity(p.Get("quantity"), maxQty)
	if aerr != nil {
		return nil, aerr
	}
	var price decimal.Decimal
	if typ == "LIMIT" {
		if price, aerr = in.price(p.Get("price")); aerr != nil {
			return nil, aerr
		}
	} else if p.Get("price") != "" {
		return nil, errf(http.StatusBadRequest, -1106, "Parameter 'price' sent when not required.")
	}
	cid := p.Get("newClientOrderId")
	if cid == "" {
		cid = "x-mock" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if !a.clientIDRe.MatchString(cid) {
		return nil, errClientID
	}

	if a.faults.TakeInsufficientMargin() { // injected: refused as the venue refuses an order the wallet cannot cover
		return nil, errMargin
	}
	sd := market.Buy
	if side == "SELL" {
		sd = market.Sell
	}
	// A GTX order that would take liquidity is refused outright (-5022) and never recorded: since the release of
	// 2023-03-22 (derivatives change log, 2023-03-08 entry) no order, no ORDER_TRADE_UPDATE, and GET /fapi/v1/order
	// does not find it; before, it was accepted NEW and then EXPIRED.
	ack, o, err := a.ex.Place(exchange.Request{ClientID: cid, Symbol: in.Symbol, Side: sd, Qty: qty, Price: price,
		Rest: typ == "LIMIT" && (tif == "GTC" || tif == "GTX"), PostOnly: typ == "LIMIT" && tif == "GTX",
		ReduceOnly: reduceOnly})
	if err != nil {
		return nil, exchange.Reject(err, map[error]*apiError{exchange.ErrDuplicate: errDuplicate,
			exchange.ErrReduceOnly: errReduceOnly, exchange.ErrMinNotional: errMinNotional(in.MinNotional.String()),
			exchange.ErrInsufficientMargin: errMargin, exchange.ErrWouldTake: errGTXReject}, errInternal)
	}
	if respType == "ACK" {
		return a.jsonOf(&ack), nil
	}
	return a.jsonOf(&o), nil
}

func (a *account) orderJSON(o *OrderRecord) map[string]any {
	in := a.of(o.Symbol)
	return map[string]any{
		"orderId": o.OrderID, "symbol": o.Symbol, "status": o.Status, "clientOrderId": o.ClientOrderID,
		"price": in.px(o.Price), "avgPrice": a.avgPrice(o).StringFixed(5), "origQty": in.qty(o.OrigQty),
		"executedQty": in.qty(o.ExecutedQty), "cumQty": in.qty(o.ExecutedQty), "cumQuote": o.CumQuote.StringFixed(5),
		"timeInForce": o.TimeInForce, "type": o.Type, "reduceOnly": o.ReduceOnly, "closePosition": false,
		"side": o.Side, "positionSide": "BOTH", "stopPrice": "0.00", "workingType": "CONTRACT_PRICE",
		"priceProtect": false, "origType": o.Type, "priceMatch": "NONE", "selfTradePreventionMode": "EXPIRE_MAKER",
		"goodTillDate": 0, "time": o.Time.UnixMilli(), "updateTime": o.UpdateTime.UnixMilli(),
	}
}

// jsonOf is an engine order as the REST API shows it.
func (a *account) jsonOf(o *exchange.Order) map[string]any {
	r := record(o)
	return a.orderJSON(&r)
}

// ref reads the symbol and orderId or origClientOrderId: orderId names the order; without it, the latest with the
// client id. The order must also be in that symbol (find).
func (a *account) ref(r *request) (exchange.Ref, *instrument, *apiError) {
	if r.params.Get("symbol") == "" {
		return exchange.Ref{}, nil, errMandatory("symbol")
	}
	in, ok := a.instrument(r.params.Get("symbol"))
	if !ok {
		return exchange.Ref{}, nil, errSymbol
	}
	id, cid := r.params.Get("orderId"), r.params.Get("origClientOrderId")
	if id == "" && cid == "" {
		return exchange.Ref{}, nil, errf(http.StatusBadRequest, -1102, "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!")
	}
	if id == "" {
		return exchange.Ref{ClientID: cid}, in, nil
	}
	oid, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return exchange.Ref{}, nil, errMandatory("orderId")
	}
	return exchange.Ref{Seq: seqOf(oid)}, in, nil
}

// find is the order ref names if it is in in's symbol: orders are per symbol at the venue.
func (a *account) find(ref exchange.Ref, in *instrument) (exchange.Order, bool) {
	o, ok := a.ex.Find(ref)
	if !ok || o.Symbol != in.Symbol {
		return exchange.Order{}, false
	}
	return o, true
}

// seqOf is the engine sequence number of a Binance orderId; -1 (no order) for one the mock never issued.
func seqOf(orderID int64) int64 {
	if orderID <= orderIDBase {
		return -1
	}
	return orderID - orderIDBase
}

func (a *account) getOrder(r *request) (any, *apiError) {
	ref, in, aerr := a.ref(r)
	if aerr != nil {
		return nil, aerr
	}
	o, ok := a.find(ref, in)
	if !ok {
		return nil, errNoSuchOrder
	}
	return a.jsonOf(&o), nil
}

// raceFill carries out a fill armed to race the request being handled (mockutil.Faults.FillBeforeNextChange): the
// market takes the resting order before the venue looks at the cancel or modify.
func (a *account) raceFill() {
	if rf, ok := a.faults.TakeRaceFill(); ok {
		_, _ = a.ex.FillResting(exchange.Ref{ClientID: rf.ClientID}, rf.Qty)
	}
}

func (a *account) cancelOrder(r *request) (any, *apiError) {
	a.raceFill()
	ref, in, aerr := a.ref(r)
	if aerr != nil {
		return nil, aerr
	}
	found, ok := a.find(ref, in)
	if !ok {
		return nil, errUnknownOrder
	}
	o, err := a.ex.Cancel(exchange.Ref{Seq: found.Seq})
	if err != nil {
		return nil, errUnknownOrder
	}
	return a.jsonOf(&o), nil
}

// modifyOrder is PUT /fapi/v1/order: a LIMIT order's new quantity and price, both required with its side, the order
// named by orderId (which prevails) or origClientOrderId. A new quantity or price outside the filters is refused and
// the order stays as it is; a quantity at or below what has filled cancels the order; a modified order is reordered
// in the match queue; a price that crosses executes at once, except for a GTX order, which the modify cancels instead
// (the USDⓈ-M Modify Order page names both cases in which the modify cancels the order).
func (a *account) modifyOrder(r *request) (any, *apiError) {
	a.raceFill()
	p := r.params
	ref, in, aerr := a.ref(r)
	if aerr != nil {
		return nil, aerr
	}
	side := p.Get("side")
	switch {
	case side == "":
		return nil, errMandatory("side")
	case side != "BUY" && side != "SELL":
		return nil, errSide
	case p.Get("priceMatch") != "" && p.Get("price") != "":
		return nil, errf(http.StatusBadRequest, -1106, "Parameter 'price' sent when not required.")
	}
	qty, aerr := in.quantity(p.Get("quantity"), in.MaxQty)
	if aerr != nil {
		return nil, aerr
	}
	price, aerr := in.price(p.Get("price"))
	if aerr != nil {
		return nil, aerr
	}
	o, ok := a.find(ref, in)
	switch {
	case !ok || !o.Open():
		return nil, errNoSuchOrder
	case o.Market() || !o.Rest:
		return nil, errModifyLimit
	case sideString(o.Side) != side:
		return nil, errSide
	case o.Qty.Equal(qty) && o.Price.Equal(price):
		return nil, errNoModify
	}
	o, err := a.ex.Amend(exchange.Amend{Ref: exchange.Ref{Seq: o.Seq}, Qty: qty, Price: price, CancelAtOrBelowFilled: true})
	if err != nil {
		return nil, exchange.Reject(err, map[error]*apiError{exchange.ErrNotFound: errNoSuchOrder,
			exchange.ErrNotOpen: errNoSuchOrder, exchange.ErrInsufficientMargin: errMargin}, errInternal)
	}
	return a.jsonOf(&o), nil
}

// openOrders is every open order, or with symbol that symbol's.
func (a *account) openOrders(r *request) (any, *apiError) {
	sym := r.params.Get("symbol")
	if _, ok := a.instrument(sym); sym != "" && !ok {
		return nil, errSymbol
	}
	out := []map[string]any{}
	for _, o := range a.ex.OpenOrders() {
		if sym == "" || o.Symbol == sym {
			out = append(out, a.jsonOf(&o))
		}
	}
	return out, nil
}

// window reads startTime, endTime and limit (default 500, max 1000).
func timeWindow(r *request) (start, end int64, limit int, err *apiError) {
	end = 1<<63 - 1
	limit = 500
	var e error
	if v := r.params.Get("startTime"); v != "" {
		if start, e = strconv.ParseInt(v, 10, 64); e != nil {
			return 0, 0, 0, errMandatory("startTime")
		}
	}
	if v := r.params.Get("endTime"); v != "" {
		if end, e = strconv.ParseInt(v, 10, 64); e != nil {
			return 0, 0, 0, errMandatory("endTime")
		}
	}
	if v := r.params.Get("limit"); v != "" {
		if limit, e = strconv.Atoi(v); e != nil || limit < 1 || limit > 1000 {
			return 0, 0, 0, errMandatory("limit")
		}
	}
	if start > end {
		return 0, 0, 0, errf(http.StatusBadRequest, -1023, "Start time is greater than end time.")
	}
	return start, end, limit, nil
}

func (a *account) allOrders(r *request) (any, *apiError) {
	if r.params.Get("symbol") == "" {
		return nil, errMandatory("symbol")
	}
	start, end, limit, err := timeWindow(r)
	if err != nil {
		return nil, err
	}
	fromID, _ := strconv.ParseInt(r.params.Get("orderId"), 10, 64)
	out := []map[string]any{}
	for _, o := range a.ex.Orders() {
		if t := o.Created.UnixMilli(); o.Symbol == r.params.Get("symbol") && t >= start && t <= end && orderIDBase+o.Seq >= fromID {
			out = append(out, a.jsonOf(&o))
		}
	}
	if len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}

func (a *account) userTrades(r *request) (any, *apiError) {
	if r.params.Get("symbol") == "" {
		return nil, errMandatory("symbol")
	}
	start, end, limit, err := timeWindow(r)
	if err != nil {
		return nil, err
	}
	fromID, _ := strconv.ParseInt(r.params.Get("fromId"), 10, 64)
	var fills []exchange.Fill
	if v := r.params.Get("orderId"); v != "" {
		// orderId (only with symbol): that order's trades, read from its index.
		orderID, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, errMandatory("orderId")
		}
		fills = a.ex.OrderFills(seqOf(orderID))
	} else {
		fills = a.ex.Fills()
	}
	out := []map[string]any{}
	for _, f := range fills {
		t := tradeOf(&f)
		in := a.of(t.Symbol)
		ms := t.Time.UnixMilli()
		if t.Symbol != r.params.Get("symbol") || ms < start || ms > end || t.ID < fromID {
			continue
		}
		out = append(out, map[string]any{
			"buyer": t.Side == "BUY", "commission": t.Commission.StringFixed(8), "commissionAsset": "USDT", "id": t.ID,
			"maker": t.Maker, "orderId": t.OrderID, "price": in.px(t.Price), "qty": in.qty(t.Qty),
			"quoteQty": t.Price.Mul(t.Qty).StringFixed(5), "realizedPnl": t.Realized.StringFixed(8), "side": t.Side,
			"positionSide": "BOTH", "symbol": t.Symbol, "time": ms,
		})
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// positionRisk is the position in every listed symbol, or with symbol in that one.
func (a *account) positionRisk(r *request) (any, *apiError) {
	insts := a.insts
	if s := r.params.Get("symbol"); s != "" {
		in, ok := a.instrument(s)
		if !ok {
			return nil, errSymbol
		}
		insts = []*instrument{in}
	}
	out := make([]map[string]any, 0, len(insts))
	for _, in := range insts {
		mark := in.Book.Quote().Mark
		p, _ := a.ex.Position(in.Symbol)
		upnl := mark.Sub(p.Entry).Mul(p.Qty)
		if p.Qty.IsZero() {
			upnl = decimal.Zero
		}
		out = append(out, map[string]any{
			"symbol": in.Symbol, "positionAmt": in.qty(p.Qty), "entryPrice": p.Entry.StringFixed(8),
			"breakEvenPrice": p.Entry.StringFixed(8), "markPrice": mark.StringFixed(8), "unRealizedProfit": upnl.StringFixed(8),
			"liquidationPrice": "0", "leverage": strconv.Itoa(a.cfg.Leverage), "maxNotionalValue": "80000000",
			"marginType": "cross", "isolatedMargin": "0.00000000", "isAutoAddMargin": "false", "positionSide": "BOTH",
			"notional": p.Qty.Mul(mark).StringFixed(8), "isolatedWallet": "0", "updateTime": p.Updated.UnixMilli(),
		})
	}
	return out, nil
}

// accountInfo is the wallet, the totals over the listed symbols and the position in each.
func (a *account) accountInfo(*request) (any, *apiError) {
	var wallet decimal.Decimal
	upnl, margin := decimal.Zero, decimal.Zero
	var updated time.Time
	positions := make([]map[string]any, 0, len(a.insts))
	for i, in := range a.insts {
		mark := in.Book.Quote().Mark
		p, w := a.ex.Position(in.Symbol)
		if i == 0 {
			wallet, updated = w, p.Updated
		}
		if p.Updated.After(updated) {
			updated = p.Updated
		}
		pnl := mark.Sub(p.Entry).Mul(p.Qty)
		m := p.Qty.Abs().Mul(mark).Div(a.leverage)
		upnl, margin = upnl.Add(pnl), margin.Add(m)
		positions = append(positions, map[string]any{"symbol": in.Symbol, "positionSide": "BOTH",
			"positionAmt": in.qty(p.Qty), "entryPrice": p.Entry.StringFixed(8), "unrealizedProfit": pnl.StringFixed(8),
			"isolated": false, "leverage": strconv.Itoa(a.cfg.Leverage), "initialMargin": m.StringFixed(8),
			"maintMargin": "0", "positionInitialMargin": m.StringFixed(8), "openOrderInitialMargin": "0",
			"maxNotional": "80000000", "notional": p.Qty.Mul(mark).StringFixed(8), "isolatedWallet": "0",
			"bidNotional": "0", "askNotional": "0", "updateTime": p.Updated.UnixMilli()})
	}
	w := wallet.StringFixed(8)
	avail := wallet.Add(upnl).Sub(margin).StringFixed(8)
	return map[string]any{
		"feeTier": 0, "canTrade": true, "canDeposit": true, "canWithdraw": true, "multiAssetsMargin": false,
		"updateTime": 0, "totalInitialMargin": margin.StringFixed(8), "totalMaintMargin": "0", "totalWalletBalance": w,
		"totalUnrealizedProfit": upnl.StringFixed(8), "totalMarginBalance": wallet.Add(upnl).StringFixed(8),
		"totalPositionInitialMargin": margin.StringFixed(8), "totalOpenOrderInitialMargin": "0",
		"totalCrossWalletBalance": w, "totalCrossUnPnl": upnl.StringFixed(8), "availableBalance": avail,
		"maxWithdrawAmount": avail,
		"assets": []map[string]any{{"asset": "USDT", "walletBalance": w, "unrealizedProfit": upnl.StringFixed(8),
			"marginBalance": wallet.Add(upnl).StringFixed(8), "maintMargin": "0", "initialMargin": margin.StringFixed(8),
			"positionInitialMargin": margin.StringFixed(8), "openOrderInitialMargin": "0", "crossWalletBalance": w,
			"crossUnPnl": upnl.StringFixed(8), "availableBalance": avail, "maxWithdrawAmount": avail,
			"marginAvailable": true, "updateTime": updated.UnixMilli()}},
		"positions": positions,
	}, nil
}

func (a *account) balance(*request) (any, *apiError) {
	w := a.ex.Wallet().StringFixed(8)
	return []map[string]any{{"accountAlias": "mock", "asset": "USDT", "balance": w, "crossWalletBalance": w,
		"crossUnPnl": "0", "availableBalance": w, "maxWithdrawAmount": w, "marginAvailable": true,
		"updateTime": a.now().UnixMilli()}}, nil
}
