package okx

import (
	"encoding/json"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"execd/mocks/market"
	"execd/mocks/mockutil"
)

// OrderRecord is the venue's record of one accepted order. Sizes are in contracts.
type OrderRecord struct {
	OrdID      string
	ClOrdID    string
	InstID     string
	Side       string // buy or sell
	OrdType    string // limit, market or ioc
	Sz         decimal.Decimal
	Px         decimal.Decimal // zero for market
	AccFillSz  decimal.Decimal
	Notional   decimal.Decimal // Σ price × BTC quantity, for avgPx
	Fee        decimal.Decimal // accumulated, negative is a cost
	State      string          // live, partially_filled, filled, canceled
	ReduceOnly bool
	CTime      time.Time
	UTime      time.Time
}

func (o *OrderRecord) open() bool { return o.State == "live" || o.State == "partially_filled" }

func (o *OrderRecord) remaining() decimal.Decimal { return o.Sz.Sub(o.AccFillSz) }

func (o *OrderRecord) sign() int {
	if o.Side == "sell" {
		return -1
	}
	return 1
}

// fill is one execution, in contracts.
type fill struct {
	TradeID, BillID string
	Order           *OrderRecord
	Px, Sz          decimal.Decimal
	Fee             decimal.Decimal // negative is a cost
	Maker           bool
	Time            time.Time
}

type position struct {
	Pos, AvgPx decimal.Decimal // contracts, signed
	CTime      time.Time
	UTime      time.Time
}

// account is the one account of a mock venue. One mutex guards it; pushes are queued under it (the hub never
// blocks), so every stream sees events in order.
type account struct {
	cfg *Config
	hub *mockutil.Hub

	mu        sync.Mutex
	orders    []*OrderRecord
	fills     []fill
	positions map[string]*position
	balance   decimal.Decimal
	nextOrder int64
	nextTrade int64
	taker     decimal.Decimal
	maker     decimal.Decimal
	clOrdRe   *regexp.Regexp
}

func newAccount(cfg *Config, hub *mockutil.Hub) *account {
	bps := decimal.NewFromInt(10000)
	return &account{cfg: cfg, hub: hub, positions: map[string]*position{}, balance: cfg.Balance,
		nextOrder: 580000000000000000, nextTrade: 300000000,
		taker: decimal.NewFromFloat(cfg.TakerFeeBps).Div(bps), maker: decimal.NewFromFloat(cfg.MakerFeeBps).Div(bps),
		clOrdRe: regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)}
}

func (a *account) now() time.Time { return a.cfg.Clock.Now() }

func (a *account) pos(instID string) *position {
	p, ok := a.positions[instID]
	if !ok {
		p = &position{}
		a.positions[instID] = p
	}
	return p
}

func (a *account) setPosition(instID string, contracts, entry decimal.Decimal) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pos(instID)
	p.Pos, p.AvgPx, p.UTime = contracts, entry, a.now()
	if p.CTime.IsZero() {
		p.CTime = p.UTime
	}
	a.pushPosition(instID)
}

func (a *account) position(instID string) decimal.Decimal {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pos(instID).Pos
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

// placeBody is POST /api/v5/trade/order's body.
type placeBody struct {
	InstID     string `json:"instId"`
	TdMode     string `json:"tdMode"`
	Side       string `json:"side"`
	PosSide    string `json:"posSide"`
	OrdType    string `json:"ordType"`
	Sz         string `json:"sz"`
	Px         string `json:"px"`
	ClOrdID    string `json:"clOrdId"`
	Tag        string `json:"tag"`
	ReduceOnly any    `json:"reduceOnly"` // boolean; "true"/"false" accepted too
}

// decimalParam reads a plain decimal string (no exponent), as the venue does.
func decimalParam(v string) (decimal.Decimal, bool) {
	if v == "" {
		return decimal.Zero, false
	}
	for _, c := range v {
		if (c < '0' || c > '9') && c != '.' && c != '-' {
			return decimal.Zero, false
		}
	}
	d, err := decimal.NewFromString(v)
	return d, err == nil
}

func onGrid(v, step decimal.Decimal) bool { return v.Mod(step).IsZero() }

func (a *account) placeOrder(r *request) (any, *apiError) {
	var b placeBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		return nil, errJSON
	}
	c := a.cfg
	fail := func(code, msg string) (any, *apiError) { return nil, orderFailed(b.ClOrdID, "", code, msg) }
	for k, v := range map[string]string{"instId": b.InstID, "tdMode": b.TdMode, "side": b.Side, "ordType": b.OrdType, "sz": b.Sz} {
		if v == "" {
			return nil, errEmpty(k)
		}
	}
	if b.InstID != c.InstID {
		return fail(sInstrument, "Instrument ID does not exist")
	}
	if b.TdMode != "cross" {
		return fail(sParam, "Parameter tdMode error")
	}
	if b.Side != "buy" && b.Side != "sell" {
		return fail(sParam, "Parameter side error")
	}
	if b.PosSide != "" && b.PosSide != "net" {
		return fail(sParam, "Parameter posSide error")
	}
	reduceOnly := false
	switch v := b.ReduceOnly.(type) {
	case nil:
	case bool:
		reduceOnly = v
	case string:
		if v != "true" && v != "false" && v != "" {
			return fail(sParam, "Parameter reduceOnly error")
		}
		reduceOnly = v == "true"
	default:
		return fail(sParam, "Parameter reduceOnly error")
	}
	if b.ClOrdID != "" && !a.clOrdRe.MatchString(b.ClOrdID) {
		return fail(sParam, "Parameter clOrdId error")
	}
	sz, ok := decimalParam(b.Sz)
	if !ok || !sz.IsPositive() {
		return fail(sParam, "Parameter sz error")
	}
	if !onGrid(sz, c.LotSz) {
		return fail(sLotSize, "Order quantity must be a multiple of the lot size")
	}
	if sz.LessThan(c.MinSz) {
		return fail(sMinSize, "Order amount should be greater than the min available amount")
	}
	var px decimal.Decimal
	switch b.OrdType {
	case "limit", "ioc":
		if px, ok = decimalParam(b.Px); !ok || !px.IsPositive() || !onGrid(px, c.TickSz) {
			return fail(sParam, "Parameter px error")
		}
	case "market":
	default:
		return fail(sParam, "Parameter ordType error")
	}

	q := c.Book.Quote()
	ref := px
	if b.OrdType == "market" {
		ref = q.Mark
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if b.ClOrdID != "" {
		for _, o := range a.orders {
			if o.ClOrdID == b.ClOrdID && o.open() {
				return fail(sDuplicate, "Duplicated clOrdId")
			}
		}
	}
	p := a.pos(c.InstID)
	sign := 1
	if b.Side == "sell" {
		sign = -1
	}
	if reduceOnly {
		if p.Pos.IsZero() || p.Pos.Sign() == sign {
			return fail(sReduceOnly, "Order failed because you don't have any positions in this direction for this contract to reduce or close.")
		}
	} else {
		opening := sz
		if p.Pos.Sign() == -sign {
			opening = decimal.Max(decimal.Zero, sz.Sub(p.Pos.Abs()))
		}
		used := p.Pos.Abs().Mul(c.CtVal).Mul(q.Mark)
		for _, o := range a.orders {
			if o.open() && !o.ReduceOnly {
				used = used.Add(o.remaining().Mul(c.CtVal).Mul(o.Px))
			}
		}
		lev := decimal.NewFromInt(int64(c.Leverage))
		if opening.Mul(c.CtVal).Mul(ref).Add(used).Div(lev).GreaterThan(a.balance) {
			return fail(sBalance, "Order failed. Insufficient USDT margin in account")
		}
	}
	now := a.now()
	a.nextOrder++
	o := &OrderRecord{OrdID: strconv.FormatInt(a.nextOrder, 10), ClOrdID: b.ClOrdID, InstID: c.InstID, Side: b.Side,
		OrdType: b.OrdType, Sz: sz, Px: px, State: "live", ReduceOnly: reduceOnly, CTime: now, UTime: now}
	a.orders = append(a.orders, o)
	a.pushOrder(o, nil)
	a.match(o, false)
	if o.open() && (o.OrdType != "limit" || (o.ReduceOnly && a.reducible(o).IsZero())) {
		a.finish(o) // IOC and market remainders, and reduce-only orders with nothing left to reduce
	}
	return []any{map[string]string{"clOrdId": o.ClOrdID, "ordId": o.OrdID, "tag": b.Tag, "ts": ms(now),
		"sCode": "0", "sMsg": "Order placed"}}, nil
}

// reducible is how much of a reduce-only order may still execute: at most the opposite position.
func (a *account) reducible(o *OrderRecord) decimal.Decimal {
	p := a.pos(o.InstID).Pos
	if p.IsZero() || p.Sign() == o.sign() {
		return decimal.Zero
	}
	return decimal.Min(o.remaining(), p.Abs())
}

// match takes liquidity for o from the book at its limit (none for market). Called with a.mu held.
func (a *account) match(o *OrderRecord, maker bool) {
	want := o.remaining()
	if o.ReduceOnly {
		want = a.reducible(o)
	}
	if !want.IsPositive() {
		return
	}
	side := market.Buy
	if o.Side == "sell" {
		side = market.Sell
	}
	for _, ex := range a.cfg.Book.Take(side, want.Mul(a.cfg.CtVal), o.Px) {
		n := ex.Qty.Div(a.cfg.CtVal)
		if !n.IsPositive() || !n.Equal(n.Truncate(0)) {
			a.cfg.Logger.Error("okx mock: book execution is not a whole number of contracts; configure the market venue's LotSize as CtVal",
				zap.String("qty", ex.Qty.String()))
			continue
		}
		a.execute(o, ex.Price, n, maker)
	}
}

// execute books one execution of n contracts: fill, order, position, balance and the pushes. Called with a.mu held.
func (a *account) execute(o *OrderRecord, px, n decimal.Decimal, maker bool) {
	rate := a.taker
	if maker {
		rate = a.maker
	}
	btc := n.Mul(a.cfg.CtVal)
	fee := px.Mul(btc).Mul(rate).Round(8).Neg()
	p := a.pos(o.InstID)
	signed := n
	if o.sign() < 0 {
		signed = n.Neg()
	}
	realized := decimal.Zero
	switch {
	case p.Pos.IsZero() || p.Pos.Sign() == signed.Sign():
		total := p.Pos.Abs().Add(n)
		p.AvgPx = p.AvgPx.Mul(p.Pos.Abs()).Add(px.Mul(n)).Div(total).Round(8)
		p.Pos = p.Pos.Add(signed)
	default:
		closed := decimal.Min(n, p.Pos.Abs())
		realized = px.Sub(p.AvgPx).Mul(closed).Mul(a.cfg.CtVal).Mul(decimal.NewFromInt(int64(p.Pos.Sign()))).Round(8)
		p.Pos = p.Pos.Add(signed)
		switch {
		case p.Pos.IsZero():
			p.AvgPx = decimal.Zero
		case p.Pos.Sign() == signed.Sign():
			p.AvgPx = px
		}
	}
	now := a.now()
	if p.CTime.IsZero() {
		p.CTime = now
	}
	p.UTime = now
	a.balance = a.balance.Add(realized).Add(fee)
	o.AccFillSz = o.AccFillSz.Add(n)
	o.Notional = o.Notional.Add(px.Mul(btc))
	o.Fee = o.Fee.Add(fee)
	o.UTime = now
	o.State = "partially_filled"
	if !o.remaining().IsPositive() {
		o.State = "filled"
	}
	a.nextTrade++
	f := fill{TradeID: strconv.FormatInt(a.nextTrade, 10), BillID: strconv.FormatInt(a.nextTrade*10, 10), Order: o,
		Px: px, Sz: n, Fee: fee, Maker: maker, Time: now}
	a.fills = append(a.fills, f)
	a.pushOrder(o, &f)
	a.pushPosition(o.InstID)
}

// finish ends an open order as canceled (OKX's state for an IOC remainder too). Called with a.mu held.
func (a *account) finish(o *OrderRecord) {
	o.State, o.UTime = "canceled", a.now()
	a.pushOrder(o, nil)
}

// sweep re-checks every resting limit order against the book.
func (a *account) sweep() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, o := range a.orders {
		if !o.open() || o.OrdType != "limit" {
			continue
		}
		a.match(o, true)
		if o.open() && o.ReduceOnly && a.reducible(o).IsZero() {
			a.finish(o)
		}
	}
}

func (a *account) avgPx(o *OrderRecord) string {
	if o.AccFillSz.IsZero() {
		return ""
	}
	return o.Notional.Div(o.AccFillSz.Mul(a.cfg.CtVal)).Round(8).String()
}

func (a *account) pxString(d decimal.Decimal) string {
	if d.IsZero() {
		return ""
	}
	return d.StringFixed(max(0, -a.cfg.TickSz.Exponent()))
}

// orderJSON is an order as GET /api/v5/trade/order and the orders channel show it.
func (a *account) orderJSON(o *OrderRecord, f *fill) map[string]string {
	m := map[string]string{
		"instType": "SWAP", "instId": o.InstID, "ccy": "", "ordId": o.OrdID, "clOrdId": o.ClOrdID, "tag": "",
		"px": a.pxString(o.Px), "sz": o.Sz.String(), "pnl": "0", "ordType": o.OrdType, "side": o.Side,
		"posSide": "net", "tdMode": "cross", "accFillSz": o.AccFillSz.String(), "fillPx": "", "tradeId": "",
		"fillSz": "0", "fillTime": "", "avgPx": a.avgPx(o), "state": o.State,
		"lever": strconv.Itoa(a.cfg.Leverage), "feeCcy": "USDT", "fee": o.Fee.String(), "rebateCcy": "USDT",
		"rebate": "0", "category": "normal", "reduceOnly": strconv.FormatBool(o.ReduceOnly), "cancelSource": "",
		"uTime": ms(o.UTime), "cTime": ms(o.CTime),
	}
	if f != nil {
		m["fillPx"], m["tradeId"], m["fillSz"], m["fillTime"] = a.pxString(f.Px), f.TradeID, f.Sz.String(), ms(f.Time)
	} else {
		// The last fill of the order, as the venue reports it on queries.
		for i := len(a.fills) - 1; i >= 0; i-- {
			if lf := a.fills[i]; lf.Order == o {
				m["fillPx"], m["tradeId"], m["fillSz"], m["fillTime"] = a.pxString(lf.Px), lf.TradeID, lf.Sz.String(), ms(lf.Time)
				break
			}
		}
	}
	return m
}

// find returns the latest order with ordId or clOrdId, or nil.
func (a *account) find(ordID, clOrdID string) *OrderRecord {
	for i := len(a.orders) - 1; i >= 0; i-- {
		o := a.orders[i]
		if (ordID != "" && o.OrdID == ordID) || (ordID == "" && o.ClOrdID == clOrdID) {
			return o
		}
	}
	return nil
}

func (a *account) getOrder(r *request) (any, *apiError) {
	if r.query.Get("instId") == "" {
		return nil, errEmpty("instId")
	}
	if r.query.Get("instId") != a.cfg.InstID {
		return nil, errInstrument
	}
	ordID, clOrdID := r.query.Get("ordId"), r.query.Get("clOrdId")
	if ordID == "" && clOrdID == "" {
		return nil, errf(200, "51003", "Either client order ID or order ID is required.")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.find(ordID, clOrdID)
	if o == nil {
		return nil, errNoOrder
	}
	m := a.orderJSON(o, nil)
	return []any{m}, nil
}

type cancelBody struct {
	InstID  string `json:"instId"`
	OrdID   string `json:"ordId"`
	ClOrdID string `json:"clOrdId"`
}

func (a *account) cancelOrder(r *request) (any, *apiError) {
	var b cancelBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		return nil, errJSON
	}
	if b.InstID == "" {
		return nil, errEmpty("instId")
	}
	if b.InstID != a.cfg.InstID {
		return nil, orderFailed(b.ClOrdID, b.OrdID, sInstrument, "Instrument ID does not exist")
	}
	if b.OrdID == "" && b.ClOrdID == "" {
		return nil, errf(200, "51003", "Either client order ID or order ID is required.")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.find(b.OrdID, b.ClOrdID)
	if o == nil || !o.open() {
		return nil, orderFailed(b.ClOrdID, b.OrdID, sCancelFinal,
			"Order cancellation failed as the order has been filled, canceled or does not exist")
	}
	a.finish(o)
	return []any{map[string]string{"clOrdId": o.ClOrdID, "ordId": o.OrdID, "ts": ms(a.now()), "sCode": "0", "sMsg": ""}}, nil
}

// listFilter checks instType (SWAP) and instId, and reads limit (default and max 100).
func (a *account) listFilter(r *request, typeRequired bool) (limit int, ok bool, aerr *apiError) {
	t := r.query.Get("instType")
	if t == "" && typeRequired {
		return 0, false, errEmpty("instType")
	}
	if t != "" && t != "SWAP" {
		return 0, false, nil
	}
	if id := r.query.Get("instId"); id != "" && id != a.cfg.InstID {
		return 0, false, errInstrument
	}
	limit = 100
	if v := r.query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, false, errParam("limit")
		}
		limit = n
	}
	return limit, true, nil
}

func (a *account) ordersPending(r *request) (any, *apiError) {
	limit, ok, aerr := a.listFilter(r, false)
	if aerr != nil || !ok {
		return []any{}, aerr
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []any{}
	for i := len(a.orders) - 1; i >= 0 && len(out) < limit; i-- {
		if o := a.orders[i]; o.open() {
			out = append(out, a.orderJSON(o, nil))
		}
	}
	return out, nil
}

func (a *account) ordersHistory(r *request) (any, *apiError) {
	limit, ok, aerr := a.listFilter(r, true)
	if aerr != nil || !ok {
		return []any{}, aerr
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []any{}
	for i := len(a.orders) - 1; i >= 0 && len(out) < limit; i-- {
		if o := a.orders[i]; !o.open() {
			out = append(out, a.orderJSON(o, nil))
		}
	}
	return out, nil
}

// fills is GET /api/v5/trade/fills: newest first, paged by billId (after: older than; before: newer than), filtered
// by begin/end (ms, inclusive) and ordId.
func (a *account) getFills(r *request) (any, *apiError) {
	limit, ok, aerr := a.listFilter(r, false)
	if aerr != nil || !ok {
		return []any{}, aerr
	}
	num := func(k string) (int64, *apiError) {
		v := r.query.Get(k)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, errParam(k)
		}
		return n, nil
	}
	after, e1 := num("after")
	before, e2 := num("before")
	begin, e3 := num("begin")
	end, e4 := num("end")
	for _, e := range []*apiError{e1, e2, e3, e4} {
		if e != nil {
			return nil, e
		}
	}
	ordID := r.query.Get("ordId")
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []any{}
	for i := len(a.fills) - 1; i >= 0 && len(out) < limit; i-- {
		f := a.fills[i]
		bill, _ := strconv.ParseInt(f.BillID, 10, 64)
		t := f.Time.UnixMilli()
		if (after != 0 && bill >= after) || (before != 0 && bill <= before) || (begin != 0 && t < begin) ||
			(end != 0 && t > end) || (ordID != "" && f.Order.OrdID != ordID) {
			continue
		}
		exec := "T"
		if f.Maker {
			exec = "M"
		}
		out = append(out, map[string]string{
			"instType": "SWAP", "instId": f.Order.InstID, "tradeId": f.TradeID, "ordId": f.Order.OrdID,
			"clOrdId": f.Order.ClOrdID, "billId": f.BillID, "tag": "", "fillPx": a.pxString(f.Px),
			"fillSz": f.Sz.String(), "side": f.Order.Side, "posSide": "net", "execType": exec, "feeCcy": "USDT",
			"fee": f.Fee.String(), "ts": ms(f.Time), "fillTime": ms(f.Time),
		})
	}
	return out, nil
}

func (a *account) positionJSON(instID string, p *position, mark decimal.Decimal) map[string]string {
	upl := mark.Sub(p.AvgPx).Mul(p.Pos).Mul(a.cfg.CtVal).Round(8)
	avg := ""
	if !p.Pos.IsZero() {
		avg = p.AvgPx.String()
	}
	return map[string]string{
		"instType": "SWAP", "instId": instID, "mgnMode": "cross", "posId": "1", "posSide": "net",
		"pos": p.Pos.String(), "posCcy": "", "availPos": "", "avgPx": avg, "markPx": mark.String(), "upl": upl.String(),
		"lever": strconv.Itoa(a.cfg.Leverage), "ccy": "USDT", "notionalUsd": p.Pos.Abs().Mul(a.cfg.CtVal).Mul(mark).Round(8).String(),
		"cTime": ms(p.CTime), "uTime": ms(p.UTime),
	}
}

func (a *account) getPositions(r *request) (any, *apiError) {
	if t := r.query.Get("instType"); t != "" && t != "SWAP" {
		return []any{}, nil
	}
	if id := r.query.Get("instId"); id != "" && id != a.cfg.InstID {
		return nil, errInstrument
	}
	mark := a.cfg.Book.Quote().Mark
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []any{}
	for id, p := range a.positions {
		if !p.Pos.IsZero() {
			out = append(out, a.positionJSON(id, p, mark))
		}
	}
	return out, nil
}

func (a *account) getBalance(*request) (any, *apiError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.balance.String()
	return []any{map[string]any{"totalEq": b, "uTime": ms(a.now()), "details": []map[string]string{{
		"ccy": "USDT", "eq": b, "cashBal": b, "availBal": b, "availEq": b, "frozenBal": "0", "upl": "0",
	}}}}, nil
}
