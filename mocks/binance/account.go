package binance

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"execd/mocks/market"
	"execd/mocks/mockutil"
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

func (o *OrderRecord) open() bool { return o.Status == "NEW" || o.Status == "PARTIALLY_FILLED" }

func (o *OrderRecord) remaining() decimal.Decimal { return o.OrigQty.Sub(o.ExecutedQty) }

func (o *OrderRecord) sign() decimal.Decimal {
	if o.Side == "SELL" {
		return decimal.NewFromInt(-1)
	}
	return decimal.NewFromInt(1)
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

type position struct {
	Qty, Entry decimal.Decimal
	Realized   decimal.Decimal
	Update     time.Time
}

// listenKey is a live user-data stream key; its connections are the account hub's connections tagged with it.
type listenKey struct {
	expires time.Time
}

// account is the one account of a mock venue: orders, trades, position, wallet and user-data streams. One mutex
// guards it all; stream messages are queued under it (non-blocking) so every stream sees events in order.
type account struct {
	cfg *Config

	mu         sync.Mutex
	orders     []*OrderRecord
	trades     []trade
	positions  map[string]*position
	wallet     decimal.Decimal
	nextOrder  int64
	nextTrade  int64
	keys       map[string]*listenKey
	hub        *mockutil.Hub
	nextKey    int64
	pricePrec  int32
	qtyPrec    int32
	takerRate  decimal.Decimal
	makerRate  decimal.Decimal
	one        decimal.Decimal
	leverage   decimal.Decimal
	clientIDRe *regexp.Regexp
}

func newAccount(cfg *Config) *account {
	prec := func(d decimal.Decimal) int32 { return max(0, -d.Exponent()) }
	return &account{cfg: cfg, positions: map[string]*position{}, wallet: cfg.Balance, nextOrder: 4000000000,
		nextTrade: 200000000, keys: map[string]*listenKey{}, hub: mockutil.NewHub(), pricePrec: max(2, prec(cfg.TickSize)),
		qtyPrec: prec(cfg.StepSize), takerRate: decimal.NewFromFloat(cfg.TakerFeeBps).Div(decimal.NewFromInt(10000)),
		makerRate: decimal.NewFromFloat(cfg.MakerFeeBps).Div(decimal.NewFromInt(10000)), one: decimal.NewFromInt(1),
		leverage: decimal.NewFromInt(int64(cfg.Leverage)), clientIDRe: regexp.MustCompile(`^[.A-Z:/a-z0-9_-]{1,36}$`)}
}

func (a *account) px(d decimal.Decimal) string  { return d.StringFixed(a.pricePrec) }
func (a *account) qty(d decimal.Decimal) string { return d.StringFixed(a.qtyPrec) }
func (a *account) now() time.Time               { return a.cfg.Clock.Now() }

func (a *account) pos(symbol string) *position {
	p, ok := a.positions[symbol]
	if !ok {
		p = &position{}
		a.positions[symbol] = p
	}
	return p
}

func (a *account) setPosition(symbol string, qty, entry decimal.Decimal) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pos(symbol)
	p.Qty, p.Entry, p.Update = qty, entry, a.now()
	a.pushAccount(symbol, "ORDER")
}

func (a *account) position(symbol string) decimal.Decimal {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pos(symbol).Qty
}

func (a *account) records() []OrderRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]OrderRecord, len(a.orders))
	for i, o := range a.orders {
		out[i] = *o
	}
	return out
}

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

func onGrid(v, step decimal.Decimal) bool { return v.Mod(step).IsZero() }

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
	qty, aerr := parseDecimal("quantity", p.Get("quantity"))
	if aerr != nil {
		return nil, aerr
	}
	if !qty.IsPositive() {
		return nil, errQtyZero
	}
	if -qty.Exponent() > a.qtyPrec && !qty.Equal(qty.Truncate(a.qtyPrec)) {
		return nil, errPrecision
	}
	if !onGrid(qty, c.StepSize) {
		return nil, errStep
	}
	maxQty := c.MaxQty
	if typ == "MARKET" {
		maxQty = c.MarketMaxQty
	}
	switch {
	case qty.LessThan(c.MinQty):
		return nil, errQtyMin
	case qty.GreaterThan(maxQty):
		return nil, errQtyMax
	}
	var price decimal.Decimal
	if typ == "LIMIT" {
		if price, aerr = parseDecimal("price", p.Get("price")); aerr != nil {
			return nil, aerr
		}
		switch {
		case !price.IsPositive():
			return nil, errPriceZero
		case -price.Exponent() > a.pricePrec && !price.Equal(price.Truncate(a.pricePrec)):
			return nil, errPrecision
		case !onGrid(price, c.TickSize):
			return nil, errTick
		case price.LessThan(decimal.RequireFromString("556.80")):
			return nil, errPriceMin
		case price.GreaterThan(decimal.RequireFromString("4529764")):
			return nil, errPriceMax
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

	q := c.Book.Quote()
	ref := price
	if typ == "MARKET" {
		ref = q.Mark
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, o := range a.orders {
		if o.ClientOrderID == cid && o.open() {
			return nil, errDuplicate
		}
	}
	pos := a.pos(c.Symbol)
	sign := decimal.NewFromInt(1)
	if side == "SELL" {
		sign = sign.Neg()
	}
	if reduceOnly {
		if pos.Qty.IsZero() || pos.Qty.Sign() == sign.Sign() {
			return nil, errReduceOnly
		}
	} else {
		if qty.Mul(ref).LessThan(c.MinNotional) {
			return nil, errMinNotional(c.MinNotional.String())
		}
		// Initial margin for the part of the order that opens exposure, against the wallet less the margin of the
		// current position and of the open orders.
		opening := qty
		if pos.Qty.Sign() == -sign.Sign() {
			opening = decimal.Max(decimal.Zero, qty.Sub(pos.Qty.Abs()))
		}
		used := pos.Qty.Abs().Mul(q.Mark)
		for _, o := range a.orders {
			if o.open() && !o.ReduceOnly {
				used = used.Add(o.remaining().Mul(o.Price))
			}
		}
		if opening.Mul(ref).Add(used).Div(a.leverage).GreaterThan(a.wallet) {
			return nil, errMargin
		}
	}
	now := a.now()
	a.nextOrder++
	o := &OrderRecord{OrderID: a.nextOrder, ClientOrderID: cid, Symbol: c.Symbol, Side: side, Type: typ,
		TimeInForce: tif, Price: price, OrigQty: qty, Status: "NEW", ReduceOnly: reduceOnly, Time: now, UpdateTime: now}
	a.orders = append(a.orders, o)
	ack := a.orderJSON(o)
	a.pushOrder(o, "NEW", nil)
	a.match(o, false)
	switch {
	case o.open() && (typ == "MARKET" || tif == "IOC"):
		a.finish(o, "EXPIRED")
	case o.open() && o.ReduceOnly && a.reducible(o).IsZero():
		a.finish(o, "EXPIRED")
	}
	if respType == "ACK" {
		return ack, nil
	}
	return a.orderJSON(o), nil
}

// reducible is how much of a reduce-only order may still execute: at most the opposite position.
func (a *account) reducible(o *OrderRecord) decimal.Decimal {
	pos := a.pos(o.Symbol).Qty
	if pos.IsZero() || pos.Sign() == o.sign().Sign() {
		return decimal.Zero
	}
	return decimal.Min(o.remaining(), pos.Abs())
}

// match takes liquidity for o from the book at its limit (none for MARKET). Called with a.mu held.
func (a *account) match(o *OrderRecord, maker bool) {
	want := o.remaining()
	if o.ReduceOnly {
		want = a.reducible(o)
	}
	if !want.IsPositive() {
		return
	}
	mside := market.Buy
	if o.Side == "SELL" {
		mside = market.Sell
	}
	for _, ex := range a.cfg.Book.Take(mside, want, o.Price) {
		if !ex.Qty.IsPositive() {
			continue
		}
		a.fill(o, ex.Price, ex.Qty, maker)
	}
}

// fill books one execution: trade, order, position, wallet, and the stream events. Called with a.mu held.
func (a *account) fill(o *OrderRecord, price, qty decimal.Decimal, maker bool) {
	rate := a.takerRate
	if maker {
		rate = a.makerRate
	}
	fee := price.Mul(qty).Mul(rate).Round(8)
	p := a.pos(o.Symbol)
	signed := qty.Mul(o.sign())
	realized := decimal.Zero
	switch {
	case p.Qty.IsZero() || p.Qty.Sign() == signed.Sign():
		total := p.Qty.Abs().Add(qty)
		p.Entry = p.Entry.Mul(p.Qty.Abs()).Add(price.Mul(qty)).Div(total).Round(8)
		p.Qty = p.Qty.Add(signed)
	default:
		closed := decimal.Min(qty, p.Qty.Abs())
		realized = price.Sub(p.Entry).Mul(closed).Mul(decimal.NewFromInt(int64(p.Qty.Sign()))).Round(8)
		p.Qty = p.Qty.Add(signed)
		switch {
		case p.Qty.IsZero():
			p.Entry = decimal.Zero
		case p.Qty.Sign() == signed.Sign():
			p.Entry = price
		}
	}
	now := a.now()
	p.Realized = p.Realized.Add(realized)
	p.Update = now
	a.wallet = a.wallet.Add(realized).Sub(fee)
	o.CumQuote = o.CumQuote.Add(price.Mul(qty))
	o.ExecutedQty = o.ExecutedQty.Add(qty)
	o.UpdateTime = now
	o.Status = "PARTIALLY_FILLED"
	if !o.remaining().IsPositive() {
		o.Status = "FILLED"
	}
	a.nextTrade++
	t := trade{ID: a.nextTrade, OrderID: o.OrderID, Symbol: o.Symbol, Side: o.Side, Price: price, Qty: qty,
		Commission: fee, Realized: realized, Maker: maker, Time: now}
	a.trades = append(a.trades, t)
	a.pushOrder(o, "TRADE", &t)
	a.pushAccount(o.Symbol, "ORDER")
}

// finish ends an open order as CANCELED or EXPIRED. Called with a.mu held.
func (a *account) finish(o *OrderRecord, status string) {
	o.Status, o.UpdateTime = status, a.now()
	a.pushOrder(o, status, nil)
}

// sweep re-checks every resting order against the book.
func (a *account) sweep() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, o := range a.orders {
		if !o.open() || o.Type != "LIMIT" || o.TimeInForce != "GTC" {
			continue
		}
		a.match(o, true)
		if o.open() && o.ReduceOnly && a.reducible(o).IsZero() {
			a.finish(o, "EXPIRED")
		}
	}
}

func (a *account) avgPrice(o *OrderRecord) decimal.Decimal {
	if o.ExecutedQty.IsZero() {
		return decimal.Zero
	}
	return o.CumQuote.Div(o.ExecutedQty)
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

// find looks an order up by orderId or origClientOrderId (the latest with that id).
func (a *account) find(r *request) (*OrderRecord, *apiError) {
	if r.params.Get("symbol") == "" {
		return nil, errMandatory("symbol")
	}
	if r.params.Get("symbol") != a.cfg.Symbol {
		return nil, errSymbol
	}
	id, cid := r.params.Get("orderId"), r.params.Get("origClientOrderId")
	if id == "" && cid == "" {
		return nil, errf(http.StatusBadRequest, -1102, "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!")
	}
	var oid int64
	if id != "" {
		var err error
		if oid, err = strconv.ParseInt(id, 10, 64); err != nil {
			return nil, errMandatory("orderId")
		}
	}
	for i := len(a.orders) - 1; i >= 0; i-- {
		o := a.orders[i]
		if (id != "" && o.OrderID == oid) || (id == "" && o.ClientOrderID == cid) {
			return o, nil
		}
	}
	return nil, nil
}

func (a *account) getOrder(r *request) (any, *apiError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o, err := a.find(r)
	switch {
	case err != nil:
		return nil, err
	case o == nil:
		return nil, errNoSuchOrder
	}
	return a.orderJSON(o), nil
}

func (a *account) cancelOrder(r *request) (any, *apiError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o, err := a.find(r)
	switch {
	case err != nil:
		return nil, err
	case o == nil || !o.open():
		return nil, errUnknownOrder
	}
	a.finish(o, "CANCELED")
	return a.orderJSON(o), nil
}

func (a *account) openOrders(r *request) (any, *apiError) {
	if s := r.params.Get("symbol"); s != "" && s != a.cfg.Symbol {
		return nil, errSymbol
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []map[string]any{}
	for _, o := range a.orders {
		if o.open() {
			out = append(out, a.orderJSON(o))
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
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []map[string]any{}
	for _, o := range a.orders {
		if t := o.Time.UnixMilli(); o.Symbol == r.params.Get("symbol") && t >= start && t <= end && o.OrderID >= fromID {
			out = append(out, a.orderJSON(o))
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
	orderID, _ := strconv.ParseInt(r.params.Get("orderId"), 10, 64)
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []map[string]any{}
	for _, t := range a.trades {
		ms := t.Time.UnixMilli()
		if t.Symbol != r.params.Get("symbol") || ms < start || ms > end || t.ID < fromID || (orderID != 0 && t.OrderID != orderID) {
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
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pos(a.cfg.Symbol)
	upnl := mark.Sub(p.Entry).Mul(p.Qty)
	if p.Qty.IsZero() {
		upnl = decimal.Zero
	}
	return []map[string]any{{
		"symbol": a.cfg.Symbol, "positionAmt": a.qty(p.Qty), "entryPrice": p.Entry.StringFixed(8),
		"breakEvenPrice": p.Entry.StringFixed(8), "markPrice": mark.StringFixed(8), "unRealizedProfit": upnl.StringFixed(8),
		"liquidationPrice": "0", "leverage": strconv.Itoa(a.cfg.Leverage), "maxNotionalValue": "80000000",
		"marginType": "cross", "isolatedMargin": "0.00000000", "isAutoAddMargin": "false", "positionSide": "BOTH",
		"notional": p.Qty.Mul(mark).StringFixed(8), "isolatedWallet": "0", "updateTime": p.Update.UnixMilli(),
	}}, nil
}

func (a *account) accountInfo(*request) (any, *apiError) {
	mark := a.cfg.Book.Quote().Mark
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pos(a.cfg.Symbol)
	upnl := mark.Sub(p.Entry).Mul(p.Qty)
	margin := p.Qty.Abs().Mul(mark).Div(a.leverage)
	w := a.wallet.StringFixed(8)
	avail := a.wallet.Add(upnl).Sub(margin).StringFixed(8)
	return map[string]any{
		"feeTier": 0, "canTrade": true, "canDeposit": true, "canWithdraw": true, "multiAssetsMargin": false,
		"updateTime": 0, "totalInitialMargin": margin.StringFixed(8), "totalMaintMargin": "0", "totalWalletBalance": w,
		"totalUnrealizedProfit": upnl.StringFixed(8), "totalMarginBalance": a.wallet.Add(upnl).StringFixed(8),
		"totalPositionInitialMargin": margin.StringFixed(8), "totalOpenOrderInitialMargin": "0",
		"totalCrossWalletBalance": w, "totalCrossUnPnl": upnl.StringFixed(8), "availableBalance": avail,
		"maxWithdrawAmount": avail,
		"assets": []map[string]any{{"asset": "USDT", "walletBalance": w, "unrealizedProfit": upnl.StringFixed(8),
			"marginBalance": a.wallet.Add(upnl).StringFixed(8), "maintMargin": "0", "initialMargin": margin.StringFixed(8),
			"positionInitialMargin": margin.StringFixed(8), "openOrderInitialMargin": "0", "crossWalletBalance": w,
			"crossUnPnl": upnl.StringFixed(8), "availableBalance": avail, "maxWithdrawAmount": avail,
			"marginAvailable": true, "updateTime": p.Update.UnixMilli()}},
		"positions": []map[string]any{{"symbol": a.cfg.Symbol, "positionSide": "BOTH", "positionAmt": a.qty(p.Qty),
			"entryPrice": p.Entry.StringFixed(8), "unrealizedProfit": upnl.StringFixed(8), "isolated": false,
			"leverage": strconv.Itoa(a.cfg.Leverage), "initialMargin": margin.StringFixed(8), "maintMargin": "0",
			"positionInitialMargin": margin.StringFixed(8), "openOrderInitialMargin": "0", "maxNotional": "80000000",
			"notional": p.Qty.Mul(mark).StringFixed(8), "isolatedWallet": "0", "bidNotional": "0", "askNotional": "0",
			"updateTime": p.Update.UnixMilli()}},
	}, nil
}

func (a *account) balance(*request) (any, *apiError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.wallet.StringFixed(8)
	return []map[string]any{{"accountAlias": "mock", "asset": "USDT", "balance": w, "crossWalletBalance": w,
		"crossUnPnl": "0", "availableBalance": w, "maxWithdrawAmount": w, "marginAvailable": true,
		"updateTime": a.now().UnixMilli()}}, nil
}
