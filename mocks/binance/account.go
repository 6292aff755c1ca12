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
	TimeInForce   string // GTC or IOC (GTC for MARKET, as the venue reports it)
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

// record is o as Binance reports it: MARKET orders show timeInForce GTC.
func record(o *exchange.Order) OrderRecord {
	typ, tif := "LIMIT", "GTC"
	switch {
	case o.Market():
		typ = "MARKET"
	case !o.Rest:
		tif = "IOC"
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

// account is the one account of a mock venue: the shared engine (orders, trades, position, wallet) behind the
// Binance wire format, and the user-data streams. mu guards the listen keys; the engine reports its changes to
// push, after its own lock is released and in order.
type account struct {
	cfg    *Config
	faults *mockutil.Faults // the server's: lost stream fills
	ex     *exchange.Account
	hub    *mockutil.Hub

	mu         sync.Mutex
	keys       map[string]*listenKey
	pricePrec  int32
	qtyPrec    int32
	leverage   decimal.Decimal
	clientIDRe *regexp.Regexp
}

func newAccount(cfg *Config) *account {
	prec := func(d decimal.Decimal) int32 { return max(0, -d.Exponent()) }
	a := &account{cfg: cfg, keys: map[string]*listenKey{}, hub: mockutil.NewHub(), pricePrec: max(2, prec(cfg.TickSize)),
		qtyPrec: prec(cfg.StepSize), leverage: decimal.NewFromInt(int64(cfg.Leverage)),
		clientIDRe: regexp.MustCompile(`^[.A-Z:/a-z0-9_-]{1,36}$`)}
	a.ex = exchange.NewAccount(exchange.Config{Book: cfg.Book, Clock: cfg.Clock, Balance: cfg.Balance, Leverage: cfg.Leverage,
		TakerFeeBps: cfg.TakerFeeBps, MakerFeeBps: cfg.MakerFeeBps, MinNotional: cfg.MinNotional, Logger: cfg.Logger,
		AmendRequeues: true, OnEvents: a.push})
	return a
}

func (a *account) px(d decimal.Decimal) string  { return d.StringFixed(a.pricePrec) }
func (a *account) qty(d decimal.Decimal) string { return d.StringFixed(a.qtyPrec) }
func (a *account) now() time.Time               { return a.cfg.Clock.Now() }

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

// quantity reads an order quantity against the LOT_SIZE (or MARKET_LOT_SIZE, maxQty) filter.
func (a *account) quantity(v string, maxQty decimal.Decimal) (decimal.Decimal, *apiError) {
	qty, aerr := parseDecimal("quantity", v)
	switch {
	case aerr != nil:
		return qty, aerr
	case !qty.IsPositive():
		return qty, errQtyZero
	case -qty.Exponent() > a.qtyPrec && !qty.Equal(qty.Truncate(a.qtyPrec)):
		return qty, errPrecision
	case !exchange.OnGrid(qty, a.cfg.StepSize):
		return qty, errStep
	case qty.LessThan(a.cfg.MinQty):
		return qty, errQtyMin
	case qty.GreaterThan(maxQty):
		return qty, errQtyMax
	}
	return qty, nil
}

// price reads a limit price against the PRICE_FILTER.
func (a *account) price(v string) (decimal.Decimal, *apiError) {
	price, aerr := parseDecimal("price", v)
	switch {
	case aerr != nil:
		return price, aerr
	case !price.IsPositive():
		return price, errPriceZero
	case -price.Exponent() > a.pricePrec && !price.Equal(price.Truncate(a.pricePrec)):
		return price, errPrecision
	case !exchange.OnGrid(price, a.cfg.TickSize):
		return price, errTick
	case price.LessThan(decimal.RequireFromString("556.80")):
		return price, errPriceMin
	case price.GreaterThan(decimal.RequireFromString("4529764")):
		return price, errPriceMax
	}
	return price, nil
}

func (a *account) newOrder(r *request) (any, *apiError) {
	p := r.params
	c := a.cfg
	for _, k := range []string{"symbol", "side", "type"} {
		if p.Get(k) == "" {
			return nil, errMandatory(k)
		}
	}
	if p.Get("symbol") != c.Symbol {
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
		if tif != "GTC" && tif != "IOC" {
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
	maxQty := c.MaxQty
	if typ == "MARKET" {
		maxQty = c.MarketMaxQty
	}
	qty, aerr := a.quantity(p.Get("quantity"), maxQty)
	if aerr != nil {
		return nil, aerr
	}
	var price decimal.Decimal
	if typ == "LIMIT" {
		if price, aerr = a.price(p.Get("price")); aerr != nil {
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

	sd := market.Buy
	if side == "SELL" {
		sd = market.Sell
	}
	ack, o, err := a.ex.Place(exchange.Request{ClientID: cid, Symbol: c.Symbol, Side: sd, Qty: qty, Price: price,
		Rest: typ == "LIMIT" && tif == "GTC", ReduceOnly: reduceOnly})
	if err != nil {
		return nil, exchange.Reject(err, map[error]*apiError{exchange.ErrDuplicate: errDuplicate,
			exchange.ErrReduceOnly: errReduceOnly, exchange.ErrMinNotional: errMinNotional(c.MinNotional.String()),
			exchange.ErrInsufficientMargin: errMargin}, errInternal)
	}
	if respType == "ACK" {
		return a.jsonOf(&ack), nil
	}
	return a.jsonOf(&o), nil
}

func (a *account) orderJSON(o *OrderRecord) map[string]any {
	return map[string]any{
		"orderId": o.OrderID, "symbol": o.Symbol, "status": o.Status, "clientOrderId": o.ClientOrderID,
		"price": a.px(o.Price), "avgPrice": a.avgPrice(o).StringFixed(5), "origQty": a.qty(o.OrigQty),
		"executedQty": a.qty(o.ExecutedQty), "cumQty": a.qty(o.ExecutedQty), "cumQuote": o.CumQuote.StringFixed(5),
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

// ref reads orderId or origClientOrderId: orderId names the order; without it, the latest with the client id.
func (a *account) ref(r *request) (exchange.Ref, *apiError) {
	if r.params.Get("symbol") == "" {
		return exchange.Ref{}, errMandatory("symbol")
	}
	if r.params.Get("symbol") != a.cfg.Symbol {
		return exchange.Ref{}, errSymbol
	}
	id, cid := r.params.Get("orderId"), r.params.Get("origClientOrderId")
	if id == "" && cid == "" {
		return exchange.Ref{}, errf(http.StatusBadRequest, -1102, "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!")
	}
	if id == "" {
		return exchange.Ref{ClientID: cid}, nil
	}
	oid, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return exchange.Ref{}, errMandatory("orderId")
	}
	return exchange.Ref{Seq: seqOf(oid)}, nil
}

// seqOf is the engine sequence number of a Binance orderId; -1 (no order) for one the mock never issued.
func seqOf(orderID int64) int64 {
	if orderID <= orderIDBase {
		return -1
	}
	return orderID - orderIDBase
}

func (a *account) getOrder(r *request) (any, *apiError) {
	ref, aerr := a.ref(r)
	if aerr != nil {
		return nil, aerr
	}
	o, ok := a.ex.Find(ref)
	if !ok {
		return nil, errNoSuchOrder
	}
	return a.jsonOf(&o), nil
}

func (a *account) cancelOrder(r *request) (any, *apiError) {
	ref, aerr := a.ref(r)
	if aerr != nil {
		return nil, aerr
	}
	o, err := a.ex.Cancel(ref)
	if err != nil {
		return nil, errUnknownOrder
	}
	return a.jsonOf(&o), nil
}

// modifyOrder is PUT /fapi/v1/order: a LIMIT order's new quantity and price, both required with its side, the order
// named by orderId (which prevails) or origClientOrderId. A new quantity or price outside the filters is refused and
// the order stays as it is; a quantity at or below what has filled cancels the order; a modified order is reordered
// in the match queue; a price that crosses executes at once.
func (a *account) modifyOrder(r *request) (any, *apiError) {
	p := r.params
	ref, aerr := a.ref(r)
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
	qty, aerr := a.quantity(p.Get("quantity"), a.cfg.MaxQty)
	if aerr != nil {
		return nil, aerr
	}
	price, aerr := a.price(p.Get("price"))
	if aerr != nil {
		return nil, aerr
	}
	o, ok := a.ex.Find(ref)
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

func (a *account) openOrders(r *request) (any, *apiError) {
	if s := r.params.Get("symbol"); s != "" && s != a.cfg.Symbol {
		return nil, errSymbol
	}
	out := []map[string]any{}
	for _, o := range a.ex.OpenOrders() {
		out = append(out, a.jsonOf(&o))
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
		ms := t.Time.UnixMilli()
		if t.Symbol != r.params.Get("symbol") || ms < start || ms > end || t.ID < fromID {
			continue
		}
		out = append(out, map[string]any{
			"buyer": t.Side == "BUY", "commission": t.Commission.StringFixed(8), "commissionAsset": "USDT", "id": t.ID,
			"maker": t.Maker, "orderId": t.OrderID, "price": a.px(t.Price), "qty": a.qty(t.Qty),
			"quoteQty": t.Price.Mul(t.Qty).StringFixed(5), "realizedPnl": t.Realized.StringFixed(8), "side": t.Side,
			"positionSide": "BOTH", "symbol": t.Symbol, "time": ms,
		})
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

func (a *account) positionRisk(r *request) (any, *apiError) {
	if s := r.params.Get("symbol"); s != "" && s != a.cfg.Symbol {
		return nil, errSymbol
	}
	mark := a.cfg.Book.Quote().Mark
	p, _ := a.ex.Position(a.cfg.Symbol)
	upnl := mark.Sub(p.Entry).Mul(p.Qty)
	if p.Qty.IsZero() {
		upnl = decimal.Zero
	}
	return []map[string]any{{
		"symbol": a.cfg.Symbol, "positionAmt": a.qty(p.Qty), "entryPrice": p.Entry.StringFixed(8),
		"breakEvenPrice": p.Entry.StringFixed(8), "markPrice": mark.StringFixed(8), "unRealizedProfit": upnl.StringFixed(8),
		"liquidationPrice": "0", "leverage": strconv.Itoa(a.cfg.Leverage), "maxNotionalValue": "80000000",
		"marginType": "cross", "isolatedMargin": "0.00000000", "isAutoAddMargin": "false", "positionSide": "BOTH",
		"notional": p.Qty.Mul(mark).StringFixed(8), "isolatedWallet": "0", "updateTime": p.Updated.UnixMilli(),
	}}, nil
}

func (a *account) accountInfo(*request) (any, *apiError) {
	mark := a.cfg.Book.Quote().Mark
	p, wallet := a.ex.Position(a.cfg.Symbol)
	upnl := mark.Sub(p.Entry).Mul(p.Qty)
	margin := p.Qty.Abs().Mul(mark).Div(a.leverage)
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
			"marginAvailable": true, "updateTime": p.Updated.UnixMilli()}},
		"positions": []map[string]any{{"symbol": a.cfg.Symbol, "positionSide": "BOTH", "positionAmt": a.qty(p.Qty),
			"entryPrice": p.Entry.StringFixed(8), "unrealizedProfit": upnl.StringFixed(8), "isolated": false,
			"leverage": strconv.Itoa(a.cfg.Leverage), "initialMargin": margin.StringFixed(8), "maintMargin": "0",
			"positionInitialMargin": margin.StringFixed(8), "openOrderInitialMargin": "0", "maxNotional": "80000000",
			"notional": p.Qty.Mul(mark).StringFixed(8), "isolatedWallet": "0", "bidNotional": "0", "askNotional": "0",
			"updateTime": p.Updated.UnixMilli()}},
	}, nil
}

func (a *account) balance(*request) (any, *apiError) {
	w := a.ex.Wallet().StringFixed(8)
	return []map[string]any{{"accountAlias": "mock", "asset": "USDT", "balance": w, "crossWalletBalance": w,
		"crossUnPnl": "0", "availableBalance": w, "maxWithdrawAmount": w, "marginAvailable": true,
		"updateTime": a.now().UnixMilli()}}, nil
}
