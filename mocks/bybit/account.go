package bybit

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
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
	OrderID      string
	OrderLinkID  string
	Symbol       string
	Side         string // Buy or Sell
	OrderType    string // Limit or Market
	TimeInForce  string // GTC, IOC or PostOnly (IOC for Market, as the venue reports it)
	Price        decimal.Decimal
	Qty          decimal.Decimal
	CumExecQty   decimal.Decimal
	CumExecValue decimal.Decimal
	CumExecFee   decimal.Decimal
	OrderStatus  string // New, PartiallyFilled, Filled, Cancelled
	// RejectReason is EC_PostOnlyWillTakeLiquidity for a PostOnly order the venue cancelled because it would have
	// taken liquidity, EC_NoError otherwise.
	RejectReason string
	ReduceOnly   bool
	CreatedTime  time.Time
	UpdatedTime  time.Time
}

func (o *OrderRecord) open() bool {
	return o.OrderStatus == "New" || o.OrderStatus == "PartiallyFilled"
}

func (o *OrderRecord) remaining() decimal.Decimal { return o.Qty.Sub(o.CumExecQty) }

var statuses = map[exchange.Status]string{exchange.New: "New", exchange.PartiallyFilled: "PartiallyFilled",
	exchange.Filled: "Filled", exchange.Canceled: "Cancelled", exchange.Expired: "Cancelled"}

func orderID(seq int64) string { return fmt.Sprintf("%08x-6a1e-4c1d-9b7e-%012x", seq, seq*7919) }

// record is o as Bybit reports it: Market orders are IOC, and IOC remainders are Cancelled; a PostOnly order that
// would have taken liquidity is Cancelled with rejectReason EC_PostOnlyWillTakeLiquidity.
func record(o *exchange.Order) OrderRecord {
	side, typ, tif := "Buy", "Limit", "GTC"
	if o.Side == market.Sell {
		side = "Sell"
	}
	if o.Market() {
		typ = "Market"
	}
	switch {
	case !o.Rest:
		tif = "IOC"
	case o.PostOnly:
		tif = "PostOnly"
	}
	reason := "EC_NoError"
	if o.WouldTake {
		reason = rejectPostOnly
	}
	return OrderRecord{OrderID: orderID(o.Seq), OrderLinkID: o.ClientID, Symbol: o.Symbol, Side: side, OrderType: typ,
		TimeInForce: tif, Price: o.Price, Qty: o.Qty, CumExecQty: o.Filled, CumExecValue: o.Notional,
		CumExecFee: o.Fees, OrderStatus: statuses[o.Status], RejectReason: reason, ReduceOnly: o.ReduceOnly,
		CreatedTime: o.Created, UpdatedTime: o.Updated}
}

// rejectPostOnly is the rejectReason (v5 "Enums Definitions", rejectReason) of a PostOnly order the venue cancelled
// because it would have executed as taker.
const rejectPostOnly = "EC_PostOnlyWillTakeLiquidity"

type execution struct {
	ID         string
	Order      OrderRecord
	Price, Qty decimal.Decimal
	Fee        decimal.Decimal
	FeeRate    decimal.Decimal
	Closed     decimal.Decimal
	Maker      bool
	Time       time.Time
	Leaves     decimal.Decimal
}

func executionOf(f *exchange.Fill) execution {
	return execution{ID: fmt.Sprintf("e%07x-3b2a-5c4d-8e9f-%012x", f.Seq, f.Seq), Order: record(&f.Order), Price: f.Price,
		Qty: f.Qty, Fee: f.Fee, FeeRate: f.FeeRate, Closed: f.Closed, Maker: f.Maker, Time: f.Time,
		Leaves: f.Order.Remaining()}
}

// account is the one account of a mock venue: the shared engine (orders, executions, positions, wallet) behind the
// v5 wire format, and the private streams. The engine reports its changes to push, in order.
type account struct {
	cfg    *Config
	faults *mockutil.Faults // the server's: lost stream fills, injected margin rejections, clock skew
	hub    *mockutil.Hub
	ex     *exchange.Account

	mu       sync.Mutex // guards nextMsg
	nextMsg  int64
	leverage decimal.Decimal
	linkRe   *regexp.Regexp
	specs    []*spec          // every listed symbol, Config.Symbol first, then Config.More in order
	bySymbol map[string]*spec // the same, by symbol
}

// spec is one listed symbol as the mock serves it: its book, its rules and the decimals of its prices and
// quantities on the wire (those of the tick, at least 2, and of the qty step).
type spec struct {
	Instrument
	pricePrec, qtyPrec int32
}

func newSpec(in Instrument) *spec {
	prec := func(d decimal.Decimal) int32 { return max(0, -d.Exponent()) }
	return &spec{Instrument: in, pricePrec: max(2, prec(in.TickSize)), qtyPrec: prec(in.QtyStep)}
}

func (p *spec) px(d decimal.Decimal) string  { return d.StringFixed(p.pricePrec) }
func (p *spec) qty(d decimal.Decimal) string { return d.StringFixed(p.qtyPrec) }

func newAccount(cfg *Config) *account {
	a := &account{cfg: cfg, hub: mockutil.NewHub(), leverage: decimal.NewFromInt(int64(cfg.Leverage)),
		linkRe: regexp.MustCompile(`^[A-Za-z0-9_-]{1,36}$`), bySymbol: map[string]*spec{}}
	a.specs = append(a.specs, newSpec(Instrument{Symbol: cfg.Symbol, Book: cfg.Book, TickSize: cfg.TickSize,
		QtyStep: cfg.QtyStep, MinOrderQty: cfg.MinOrderQty, MaxOrderQty: cfg.MaxOrderQty,
		MaxMktOrderQty: cfg.MaxMktOrderQty, MinNotionalValue: cfg.MinNotionalValue}))
	ec := exchange.Config{Book: cfg.Book, Clock: cfg.Clock, Balance: cfg.Balance,
		Leverage: cfg.Leverage, TakerFeeBps: cfg.TakerFeeBps, MakerFeeBps: cfg.MakerFeeBps,
		MinNotional: cfg.MinNotionalValue, UniqueClientIDs: true, Logger: cfg.Logger, OnEvents: a.push}
	if len(cfg.More) > 0 {
		ec.Books = map[string]exchange.Book{}
		ec.Lots = map[string]decimal.Decimal{}
		ec.MinNotionals = map[string]decimal.Decimal{}
	}
	for _, in := range cfg.More {
		a.specs = append(a.specs, newSpec(in))
		ec.Books[in.Symbol], ec.Lots[in.Symbol], ec.MinNotionals[in.Symbol] = in.Book, in.QtyStep, in.MinNotionalValue
	}
	for _, p := range a.specs {
		a.bySymbol[p.Symbol] = p
	}
	a.ex = exchange.NewAccount(ec)
	return a
}

// listed is the listed symbol sym, if it is one.
func (a *account) listed(sym string) (*spec, bool) {
	p, ok := a.bySymbol[sym]
	return p, ok
}

// spec is how sym is shown: its own rules and precision if listed, else Config.Symbol's (a position SetPosition
// gave a symbol the mock does not list).
func (a *account) spec(sym string) *spec {
	if p, ok := a.bySymbol[sym]; ok {
		return p
	}
	return a.specs[0]
}

// selected is the listed symbol a list request names in its symbol parameter (errSymbol if it names another),
// or every listed symbol if it names none.
func (a *account) selected(sym string) ([]*spec, *apiError) {
	if sym == "" {
		return a.specs, nil
	}
	p, ok := a.listed(sym)
	if !ok {
		return nil, errSymbol
	}
	return []*spec{p}, nil
}

func (a *account) now() time.Time { return a.cfg.Clock.Now() }

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func (a *account) records() []OrderRecord { return exchange.Convert(a.ex.Orders(), record) }

// createReq is the JSON body of POST /v5/order/create.
type createReq struct {
	Category    string `json:"category"`
	Symbol      string `json:"symbol"`
	Side        string `json:"side"`
	OrderType   string `json:"orderType"`
	Qty         string `json:"qty"`
	Price       string `json:"price"`
	TimeInForce string `json:"timeInForce"`
	OrderLinkID string `json:"orderLinkId"`
	ReduceOnly  *bool  `json:"reduceOnly"`
	PositionIdx *int   `json:"positionIdx"`
}

func parseDecimal(name, v string) (decimal.Decimal, *apiError) {
	if v == "" {
		return decimal.Zero, errParams("params error: %s is required", name)
	}
	d, err := decimal.NewFromString(v)
	if err != nil {
		return decimal.Zero, errParams("params error: %s invalid", name)
	}
	return d, nil
}

// quantity reads an order quantity against p's lot size filter (maxQty: the limit or the market maximum).
func (p *spec) quantity(v string, maxQty decimal.Decimal) (decimal.Decimal, *apiError) {
	qty, aerr := parseDecimal("qty", v)
	switch {
	case aerr != nil:
		return qty, aerr
	case !qty.IsPositive() || !exchange.OnGrid(qty, p.QtyStep):
		return qty, errParams("params error: qty invalid")
	case qty.LessThan(p.MinOrderQty):
		return qty, errQtyMin
	case qty.GreaterThan(maxQty):
		return qty, errQtyMax
	}
	return qty, nil
}

// price reads a limit price against p's price filter.
func (p *spec) price(v string) (decimal.Decimal, *apiError) {
	price, aerr := parseDecimal("price", v)
	switch {
	case aerr != nil:
		return price, aerr
	case !price.IsPositive() || !exchange.OnGrid(price, p.TickSize):
		return price, errParams("params error: price invalid")
	case price.GreaterThan(decimal.RequireFromString("1999999.80")):
		return price, errPriceRange
	}
	return price, nil
}

func (a *account) create(r *request) (any, *apiError) {
	var req createReq
	if err := json.Unmarshal(r.body, &req); err != nil {
		return nil, errParams("params error: invalid json body")
	}
	c, listed := a.listed(req.Symbol)
	switch {
	case req.Category != "linear":
		return nil, errCategory
	case !listed:
		return nil, errSymbol
	case req.Side != "Buy" && req.Side != "Sell":
		return nil, errParams("params error: side invalid")
	case req.PositionIdx != nil && *req.PositionIdx != 0:
		return nil, errPositionMode
	}
	tif := req.TimeInForce
	switch req.OrderType {
	case "Limit":
		if tif == "" {
			tif = "GTC"
		}
		if tif != "GTC" && tif != "IOC" && tif != "PostOnly" {
			return nil, errParams("params error: timeInForce invalid")
		}
	case "Market":
		tif = "IOC"
	default:
		return nil, errParams("params error: orderType invalid")
	}
	maxQty := c.MaxOrderQty
	if req.OrderType == "Market" {
		maxQty = c.MaxMktOrderQty
	}
	qty, aerr := c.quantity(req.Qty, maxQty)
	if aerr != nil {
		return nil, aerr
	}
	var price decimal.Decimal
	if req.OrderType == "Limit" {
		if price, aerr = c.price(req.Price); aerr != nil {
			return nil, aerr
		}
	}
	link := req.OrderLinkID
	if link != "" && !a.linkRe.MatchString(link) {
		return nil, errParams("params error: orderLinkId invalid")
	}
	reduceOnly := req.ReduceOnly != nil && *req.ReduceOnly

	if a.faults.TakeInsufficientMargin() { // injected: refused as the venue refuses an order the wallet cannot cover
		return nil, errBalance
	}
	side := market.Buy
	if req.Side == "Sell" {
		side = market.Sell
	}
	// A PostOnly order that would cross is still acknowledged here; the venue then cancels it (the v5 Place Order
	// page describes PostOnly that way: no immediate fill, a cancel instead), and the order lists show it Cancelled
	// with rejectReason EC_PostOnlyWillTakeLiquidity and nothing executed, as the Get Order History page's example
	// does.
	_, o, err := a.ex.Place(exchange.Request{ClientID: link, Symbol: c.Symbol, Side: side, Qty: qty, Price: price,
		Rest: tif == "GTC" || tif == "PostOnly", PostOnly: tif == "PostOnly", ReduceOnly: reduceOnly})
	if err != nil {
		return nil, exchange.Reject(err, map[error]*apiError{exchange.ErrDuplicate: errDuplicate,
			exchange.ErrReduceOnly: errReduceOnly, exchange.ErrMinNotional: errMinValue(c.MinNotionalValue.String()),
			exchange.ErrInsufficientMargin: errBalance}, errServer)
	}
	return map[string]string{"orderId": orderID(o.Seq), "orderLinkId": o.ClientID}, nil
}

func (p *spec) avgPrice(o *OrderRecord) string {
	if o.CumExecQty.IsZero() {
		return ""
	}
	return o.CumExecValue.Div(o.CumExecQty).StringFixed(p.pricePrec + 2)
}

// orderJSON is an order as /v5/order/realtime, /v5/order/history and the order topic show it, in its symbol's
// precision.
func (a *account) orderJSON(o *OrderRecord) map[string]any {
	p := a.spec(o.Symbol)
	price := p.px(o.Price)
	if o.OrderType == "Market" {
		price = "0"
	}
	leaves := o.remaining()
	if !o.open() {
		leaves = decimal.Zero
	}
	cancelType := "UNKNOWN"
	if o.OrderStatus == "Cancelled" {
		cancelType = "CancelByUser"
		if o.TimeInForce == "IOC" || o.RejectReason != "EC_NoError" {
			cancelType = "UNKNOWN"
		}
	}
	return map[string]any{
		"orderId": o.OrderID, "orderLinkId": o.OrderLinkID, "blockTradeId": "", "symbol": o.Symbol, "price": price,
		"qty": p.qty(o.Qty), "side": o.Side, "isLeverage": "", "positionIdx": 0, "orderStatus": o.OrderStatus,
		"cancelType": cancelType, "rejectReason": o.RejectReason, "avgPrice": p.avgPrice(o), "leavesQty": p.qty(leaves),
		"leavesValue": leaves.Mul(o.Price).StringFixed(4), "cumExecQty": p.qty(o.CumExecQty),
		"cumExecValue": o.CumExecValue.StringFixed(8), "cumExecFee": o.CumExecFee.StringFixed(8),
		"timeInForce": o.TimeInForce, "orderType": o.OrderType, "stopOrderType": "", "orderIv": "",
		"triggerPrice": "", "takeProfit": "", "stopLoss": "", "tpTriggerBy": "", "slTriggerBy": "",
		"triggerDirection": 0, "triggerBy": "", "lastPriceOnCreated": "", "reduceOnly": o.ReduceOnly,
		"closeOnTrigger": false, "smpType": "None", "smpGroup": 0, "smpOrderId": "", "tpslMode": "",
		"createdTime": ms(o.CreatedTime), "updatedTime": ms(o.UpdatedTime),
	}
}

// cancelReq is the JSON body of POST /v5/order/cancel.
type cancelReq struct {
	Category    string `json:"category"`
	Symbol      string `json:"symbol"`
	OrderID     string `json:"orderId"`
	OrderLinkID string `json:"orderLinkId"`
}

// raceFill carries out a fill armed to race the request being handled (mockutil.Faults.FillBeforeNextChange): the
// market takes the resting order before the venue looks at the cancel or amend.
func (a *account) raceFill() {
	if rf, ok := a.faults.TakeRaceFill(); ok {
		_, _ = a.ex.FillResting(exchange.Ref{ClientID: rf.ClientID}, rf.Qty)
	}
}

func (a *account) cancel(r *request) (any, *apiError) {
	a.raceFill()
	var req cancelReq
	if err := json.Unmarshal(r.body, &req); err != nil {
		return nil, errParams("params error: invalid json body")
	}
	_, listed := a.listed(req.Symbol)
	switch {
	case req.Category != "linear":
		return nil, errCategory
	case !listed:
		return nil, errSymbol
	case req.OrderID == "" && req.OrderLinkID == "":
		return nil, errParams("params error: orderId or orderLinkId is required")
	}
	// The order must be one of symbol's: an order of another symbol does not exist for this request.
	o, ok := a.ex.Find(ref(req.OrderID, req.OrderLinkID))
	if !ok || o.Symbol != req.Symbol {
		return nil, errNoOrder
	}
	o, err := a.ex.Cancel(exchange.Ref{Seq: o.Seq})
	if err != nil {
		return nil, errNoOrder
	}
	return map[string]string{"orderId": orderID(o.Seq), "orderLinkId": o.ClientID}, nil
}

// amendReq is the JSON body of POST /v5/order/amend.
type amendReq struct {
	Category    string `json:"category"`
	Symbol      string `json:"symbol"`
	OrderID     string `json:"orderId"`
	OrderLinkID string `json:"orderLinkId"`
	Qty         string `json:"qty"`
	Price       string `json:"price"`
}

// amend changes an open order's qty (its new total, fills included) and/or price: only New and PartiallyFilled
// orders can be amended; a qty at or below what has filled is refused; an order that reprices or grows loses its
// place in the queue, one that shrinks keeps it; a price that crosses executes at once. A PostOnly order repriced
// through the book is acknowledged and then cancelled, rejectReason EC_PostOnlyWillTakeLiquidity: the mock's reading
// of the venue's rule that a PostOnly order it cannot rest is cancelled (the v5 amend page does not say).
func (a *account) amend(r *request) (any, *apiError) {
	a.raceFill()
	var req amendReq
	if err := json.Unmarshal(r.body, &req); err != nil {
		return nil, errParams("params error: invalid json body")
	}
	c, listed := a.listed(req.Symbol)
	switch {
	case req.Category != "linear":
		return nil, errCategory
	case !listed:
		return nil, errSymbol
	case req.OrderID == "" && req.OrderLinkID == "":
		return nil, errParams("params error: orderId or orderLinkId is required")
	}
	var qty, price decimal.Decimal
	var aerr *apiError
	if req.Qty != "" {
		if qty, aerr = c.quantity(req.Qty, c.MaxOrderQty); aerr != nil {
			return nil, aerr
		}
	}
	if req.Price != "" {
		if price, aerr = c.price(req.Price); aerr != nil {
			return nil, aerr
		}
	}
	o, ok := a.ex.Find(ref(req.OrderID, req.OrderLinkID))
	switch {
	case !ok || !o.Open() || o.Symbol != req.Symbol:
		return nil, errNoAmend
	case (qty.IsZero() || qty.Equal(o.Qty)) && (price.IsZero() || price.Equal(o.Price)):
		return nil, errUnchanged
	}
	o, err := a.ex.Amend(exchange.Amend{Ref: exchange.Ref{Seq: o.Seq}, Qty: qty, Price: price})
	if err != nil {
		return nil, exchange.Reject(err, map[error]*apiError{exchange.ErrNotFound: errNoAmend, exchange.ErrNotOpen: errNoAmend,
			exchange.ErrBelowFilled: errAmendFilled, exchange.ErrInsufficientMargin: errBalance}, errServer)
	}
	return map[string]string{"orderId": orderID(o.Seq), "orderLinkId": o.ClientID}, nil
}

// ref names an order by orderId, orderLinkId (link ids are never reused) or both.
func ref(id, link string) exchange.Ref {
	r := exchange.Ref{ClientID: link}
	if id != "" {
		r.Seq = seqOf(id)
	}
	return r
}

// seqOf is the engine sequence number of an orderId; -1 (no order) for one the mock never issued.
func seqOf(id string) int64 {
	head, _, ok := strings.Cut(id, "-")
	if !ok {
		return -1
	}
	seq, err := strconv.ParseInt(head, 16, 64)
	if err != nil || seq <= 0 || orderID(seq) != id {
		return -1
	}
	return seq
}

// page parses limit (default def, at most maxN) and the cursor (an offset) of a list request.
func page(q map[string][]string, def, maxN int) (limit, offset int, aerr *apiError) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	limit = def
	if l := get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxN {
			return 0, 0, errParams("params error: limit invalid")
		}
		limit = n
	}
	if c := get("cursor"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return 0, 0, errParams("params error: cursor invalid")
		}
		offset = n
	}
	return limit, offset, nil
}

// pageOf cuts one page out of items and returns it with the next cursor ("" on the last page).
func pageOf[T any](items []T, limit, offset int) ([]T, string) {
	if offset >= len(items) {
		return []T{}, ""
	}
	end := min(len(items), offset+limit)
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[offset:end], next
}

func msParam(q map[string][]string, k string) (int64, *apiError) {
	v := q[k]
	if len(v) == 0 || v[0] == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil {
		return 0, errParams("params error: %s invalid", k)
	}
	return n, nil
}

// listOrders serves realtime (openOnly: only open orders unless an id is given) and history, of the symbol asked
// for or of every symbol.
func (a *account) listOrders(r *request, realtime bool) (any, *apiError) {
	q := r.query
	if q.Get("category") != "linear" {
		return nil, errCategory
	}
	sym := q.Get("symbol")
	if _, aerr := a.selected(sym); aerr != nil {
		return nil, aerr
	}
	limit, offset, aerr := page(q, 20, 50)
	if aerr != nil {
		return nil, aerr
	}
	of := func(o *exchange.Order) bool { return sym == "" || o.Symbol == sym }
	id, link := q.Get("orderId"), q.Get("orderLinkId")
	var orders []exchange.Order
	switch {
	case id != "" || link != "":
		if o, ok := a.ex.Find(ref(id, link)); ok && of(&o) {
			orders = append(orders, o)
		}
	case realtime:
		orders = slices.DeleteFunc(a.ex.OpenOrders(), func(o exchange.Order) bool { return !of(&o) })
		slices.Reverse(orders)
	case sym != "" && len(a.specs) > 1:
		// One symbol's history among several, newest first.
		orders = slices.DeleteFunc(a.ex.Orders(), func(o exchange.Order) bool { return !of(&o) })
		slices.Reverse(orders)
	default:
		// History, newest first: read only the page asked for (and one more, to know whether a next page exists).
		var more bool
		orders, more = a.ex.Recent(offset, limit)
		list := make([]map[string]any, 0, len(orders))
		for i := range orders {
			list = append(list, a.orderJSON(new(record(&orders[i]))))
		}
		next := ""
		if more {
			next = strconv.Itoa(offset + len(orders))
		}
		return map[string]any{"category": "linear", "list": list, "nextPageCursor": next}, nil
	}
	sel := make([]*OrderRecord, 0, len(orders))
	for i := range orders {
		sel = append(sel, new(record(&orders[i])))
	}
	pg, next := pageOf(sel, limit, offset)
	list := make([]map[string]any, 0, len(pg))
	for _, o := range pg {
		list = append(list, a.orderJSON(o))
	}
	return map[string]any{"category": "linear", "list": list, "nextPageCursor": next}, nil
}

func (a *account) realtime(r *request) (any, *apiError) { return a.listOrders(r, true) }
func (a *account) history(r *request) (any, *apiError)  { return a.listOrders(r, false) }

// execJSON is an execution as /v5/execution/list and the execution topic show it, in its symbol's precision.
func (a *account) execJSON(e *execution) map[string]any {
	o := e.Order
	p := a.spec(o.Symbol)
	execType := "Trade"
	return map[string]any{
		"symbol": o.Symbol, "orderId": o.OrderID, "orderLinkId": o.OrderLinkID, "side": o.Side,
		"orderPrice": p.px(o.Price), "orderQty": p.qty(o.Qty), "leavesQty": p.qty(e.Leaves), "createType": "CreateByUser",
		"orderType": o.OrderType, "stopOrderType": "", "execFee": e.Fee.StringFixed(8), "execId": e.ID,
		"execPrice": p.px(e.Price), "execQty": p.qty(e.Qty), "execType": execType,
		"execValue": e.Price.Mul(e.Qty).StringFixed(8), "execTime": ms(e.Time), "feeCurrency": "",
		"isMaker": e.Maker, "feeRate": e.FeeRate.String(), "tradeIv": "", "markIv": "", "markPrice": p.px(e.Price),
		"indexPrice": "", "underlyingPrice": "", "blockTradeId": "", "closedSize": p.qty(e.Closed), "seq": e.Time.UnixNano(),
	}
}

func (a *account) executions(r *request) (any, *apiError) {
	q := r.query
	if q.Get("category") != "linear" {
		return nil, errCategory
	}
	sym := q.Get("symbol")
	if _, aerr := a.selected(sym); aerr != nil {
		return nil, aerr
	}
	limit, offset, aerr := page(q, 50, 100)
	if aerr != nil {
		return nil, aerr
	}
	start, aerr := msParam(q, "startTime")
	if aerr != nil {
		return nil, aerr
	}
	end, aerr := msParam(q, "endTime")
	if aerr != nil {
		return nil, aerr
	}
	id, link := q.Get("orderId"), q.Get("orderLinkId")
	var fills []exchange.Fill
	if id != "" || link != "" {
		// One order's executions, from its index.
		if o, ok := a.ex.Find(ref(id, link)); ok {
			fills = a.ex.OrderFills(o.Seq)
		}
	} else {
		fills = a.ex.Fills()
	}
	var sel []*execution
	for _, f := range slices.Backward(fills) {
		e := new(executionOf(&f))
		if t := e.Time.UnixMilli(); start != 0 && t < start || end != 0 && t > end || sym != "" && e.Order.Symbol != sym {
			continue
		}
		sel = append(sel, e)
	}
	pg, next := pageOf(sel, limit, offset)
	list := make([]map[string]any, 0, len(pg))
	for _, e := range pg {
		list = append(list, a.execJSON(e))
	}
	return map[string]any{"category": "linear", "list": list, "nextPageCursor": next}, nil
}

// positionJSON is a position as /v5/position/list shows it (size unsigned, side Buy/Sell/"" for none), marked on
// its symbol's book, in its symbol's precision.
func (a *account) positionJSON(p *exchange.Position) map[string]any {
	symbol := p.Symbol
	sp := a.spec(symbol)
	mark := sp.Book.Quote().Mark
	side := ""
	switch p.Qty.Sign() {
	case 1:
		side = "Buy"
	case -1:
		side = "Sell"
	}
	upnl := mark.Sub(p.Entry).Mul(p.Qty)
	return map[string]any{
		"positionIdx": 0, "riskId": 1, "riskLimitValue": "2000000", "symbol": symbol, "side": side,
		"size": sp.qty(p.Qty.Abs()), "avgPrice": p.Entry.StringFixed(8), "positionValue": p.Entry.Mul(p.Qty.Abs()).StringFixed(8),
		"tradeMode": 0, "positionStatus": "Normal", "autoAddMargin": 0, "adlRankIndicator": 2,
		"leverage": a.leverage.String(), "positionBalance": "0", "markPrice": sp.px(mark), "liqPrice": "",
		"bustPrice": "", "positionMM": "0", "positionIM": "0", "tpslMode": "Full", "takeProfit": "0", "stopLoss": "0",
		"trailingStop": "0", "unrealisedPnl": upnl.StringFixed(8), "curRealisedPnl": p.Realized.Sub(p.Fees).StringFixed(8),
		"cumRealisedPnl": p.Realized.Sub(p.Fees).StringFixed(8), "seq": p.Updated.UnixNano(), "isReduceOnly": false,
		"createdTime": ms(p.Created), "updatedTime": ms(p.Updated),
	}
}

func (a *account) positionList(r *request) (any, *apiError) {
	q := r.query
	if q.Get("category") != "linear" {
		return nil, errCategory
	}
	sym, coin := q.Get("symbol"), q.Get("settleCoin")
	if sym == "" && coin == "" {
		return nil, errParams("params error: symbol or settleCoin is required")
	}
	specs, aerr := a.selected(sym)
	switch {
	case aerr != nil:
		return nil, aerr
	case coin != "" && coin != "USDT":
		return nil, errParams("params error: settleCoin invalid")
	}
	list := make([]map[string]any, 0, len(specs))
	for _, sp := range specs {
		p, _ := a.ex.Position(sp.Symbol)
		list = append(list, a.positionJSON(&p))
	}
	return map[string]any{"category": "linear", "list": list, "nextPageCursor": ""}, nil
}

func (a *account) walletBalance(r *request) (any, *apiError) {
	if t := r.query.Get("accountType"); t != "UNIFIED" && t != "CONTRACT" {
		return nil, errParams("params error: accountType only support UNIFIED")
	}
	w := a.ex.Wallet().StringFixed(8)
	return map[string]any{"list": []map[string]any{{
		"accountType": r.query.Get("accountType"), "totalEquity": w, "totalWalletBalance": w,
		"totalAvailableBalance": w, "totalMarginBalance": w, "accountIMRate": "0", "accountMMRate": "0",
		"coin": []map[string]any{{"coin": "USDT", "equity": w, "walletBalance": w, "usdValue": w,
			"unrealisedPnl": "0", "cumRealisedPnl": "0", "locked": "0"}},
	}}}, nil
}
