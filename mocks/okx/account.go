package okx

import (
	"cmp"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/mocks/exchange"
	"github.com/execd-dev/execd/mocks/market"
	"github.com/execd-dev/execd/mocks/mockutil"
)

// OrderRecord is the venue's record of one accepted order. Sizes are in contracts.
type OrderRecord struct {
	OrdID     string
	ClOrdID   string
	InstID    string
	Side      string // buy or sell
	OrdType   string // limit, market, ioc or post_only
	Sz        decimal.Decimal
	Px        decimal.Decimal // zero for market
	AccFillSz decimal.Decimal
	Notional  decimal.Decimal // Σ price × base quantity (BTC for BTC-USDT-SWAP), for avgPx
	Fee       decimal.Decimal // accumulated, negative is a cost
	State     string          // live, partially_filled, filled, canceled
	// CancelSource is "31" for a post_only order the venue canceled because it would have taken liquidity, ""
	// otherwise.
	CancelSource string
	ReduceOnly   bool
	CTime        time.Time
	UTime        time.Time
}

// OKX's id bases: order, trade and bill ids are derived from the engine's sequence numbers.
const (
	ordIDBase   = 580000000000000000
	tradeIDBase = 300000000
)

var states = map[exchange.Status]string{exchange.New: "live", exchange.PartiallyFilled: "partially_filled",
	exchange.Filled: "filled", exchange.Canceled: "canceled", exchange.Expired: "canceled"}

func ordID(seq int64) string { return strconv.FormatInt(ordIDBase+seq, 10) }

// record is o as OKX reports it: sizes in contracts of its swap, ordType limit (GTC), ioc, post_only or market, fees
// negative; a post_only order canceled for crossing carries cancelSource 31.
func (a *account) record(o *exchange.Order) OrderRecord {
	in := a.swaps.of(o.Symbol)
	side, typ := "buy", "limit"
	if o.Side == market.Sell {
		side = "sell"
	}
	switch {
	case o.Market():
		typ = "market"
	case !o.Rest:
		typ = "ioc"
	case o.PostOnly:
		typ = "post_only"
	}
	source := ""
	if o.WouldTake {
		source = cancelPostOnly
	}
	return OrderRecord{OrdID: ordID(o.Seq), ClOrdID: o.ClientID, InstID: o.Symbol, Side: side, OrdType: typ,
		Sz: in.contracts(o.Qty), Px: o.Price, AccFillSz: in.contracts(o.Filled), Notional: o.Notional, Fee: o.Fees.Neg(),
		State: states[o.Status], CancelSource: source, ReduceOnly: o.ReduceOnly, CTime: o.Created, UTime: o.Updated}
}

// cancelPostOnly is the cancelSource of a post_only order the venue canceled because it would have taken liquidity;
// the v5 docs list it among the cancelSource codes of the orders channel (and of the order queries, which add
// cancelSourceReason).
const cancelPostOnly = "31"

// fill is one execution, in contracts.
type fill struct {
	TradeID, BillID string
	Order           OrderRecord
	Px, Sz          decimal.Decimal
	Fee             decimal.Decimal // negative is a cost
	Maker           bool
	Time            time.Time
}

func (a *account) fillOf(f *exchange.Fill) fill {
	id := tradeIDBase + f.Seq
	return fill{TradeID: strconv.FormatInt(id, 10), BillID: strconv.FormatInt(id*10, 10), Order: a.record(&f.Order),
		Px: f.Price, Sz: a.swaps.of(f.Order.Symbol).contracts(f.Qty), Fee: f.Fee.Neg(), Maker: f.Maker, Time: f.Time}
}

// account is the one account of a mock venue: the shared engine, in base units (BTC, ETH, …), behind OKX's wire
// format in contracts of each swap. The engine's symbol is the instId; it trades each swap against that swap's
// book. The engine reports its changes to push, in order.
type account struct {
	cfg     *Config
	swaps   swaps            // the listed swaps; fixed once built
	faults  *mockutil.Faults // the server's: lost stream fills, injected margin rejections, clock skew
	hub     *mockutil.Hub
	ex      *exchange.Account
	clOrdRe *regexp.Regexp
}

func newAccount(cfg *Config, hub *mockutil.Hub) *account {
	a := &account{cfg: cfg, swaps: newSwaps(cfg), hub: hub, clOrdRe: regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)}
	// The main swap keeps its grid of one contract; each of More has its own book and a grid of one lot.
	books := map[string]exchange.Book{}
	lots, minNotionals := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	for i := range cfg.More {
		in := &cfg.More[i]
		books[in.InstID], lots[in.InstID], minNotionals[in.InstID] = in.Book, in.lot(), decimal.Zero
	}
	a.ex = exchange.NewAccount(exchange.Config{Book: cfg.Book, Books: books, Lots: lots, MinNotionals: minNotionals,
		Clock: cfg.Clock, Balance: cfg.Balance, Leverage: cfg.Leverage, TakerFeeBps: cfg.TakerFeeBps,
		MakerFeeBps: cfg.MakerFeeBps, Lot: cfg.CtVal, Logger: cfg.Logger, OnEvents: a.push})
	return a
}

func (a *account) now() time.Time { return a.cfg.Clock.Now() }

func (a *account) records() []OrderRecord { return exchange.Convert(a.ex.Orders(), a.record) }

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

func (a *account) placeOrder(r *request) (any, *apiError) {
	var b placeBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		return nil, errJSON
	}
	fail := func(code, msg string) (any, *apiError) { return nil, orderFailed(b.ClOrdID, "", code, msg) }
	for k, v := range map[string]string{"instId": b.InstID, "tdMode": b.TdMode, "side": b.Side, "ordType": b.OrdType, "sz": b.Sz} {
		if v == "" {
			return nil, errEmpty(k)
		}
	}
	c, ok := a.swaps.get(b.InstID)
	if !ok {
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
	if !exchange.OnGrid(sz, c.LotSz) {
		return fail(sLotSize, "Order quantity must be a multiple of the lot size")
	}
	if sz.LessThan(c.MinSz) {
		return fail(sMinSize, "Order amount should be greater than the min available amount")
	}
	var px decimal.Decimal
	switch b.OrdType {
	case "limit", "ioc", "post_only":
		if px, ok = decimalParam(b.Px); !ok || !px.IsPositive() || !exchange.OnGrid(px, c.TickSz) {
			return fail(sParam, "Parameter px error")
		}
	case "market":
	default:
		return fail(sParam, "Parameter ordType error")
	}

	if a.faults.TakeInsufficientMargin() { // injected: refused as the venue refuses an order the margin cannot cover
		return nil, orderFailed(b.ClOrdID, "", sBalance, msgBalance)
	}
	side := market.Buy
	if b.Side == "sell" {
		side = market.Sell
	}
	// A post_only order that would cross is placed (sCode 0) and then canceled by the venue, cancelSource 31, with
	// nothing filled: the order queries and the orders channel show it canceled.
	_, o, err := a.ex.Place(exchange.Request{ClientID: b.ClOrdID, Symbol: c.InstID, Side: side, Qty: c.base(sz),
		Price: px, Rest: b.OrdType == "limit" || b.OrdType == "post_only", PostOnly: b.OrdType == "post_only",
		ReduceOnly: reduceOnly})
	if err != nil {
		failed := func(code, msg string) *apiError { return orderFailed(b.ClOrdID, "", code, msg) }
		return nil, exchange.Reject(err, map[error]*apiError{exchange.ErrDuplicate: failed(sDuplicate, "Duplicated clOrdId"),
			exchange.ErrReduceOnly:         failed(sReduceOnly, "Order failed because you don't have any positions in this direction for this contract to reduce or close."),
			exchange.ErrInsufficientMargin: failed(sBalance, msgBalance)}, errUnavailable)
	}
	return []any{map[string]string{"clOrdId": o.ClientID, "ordId": ordID(o.Seq), "tag": b.Tag, "ts": ms(o.Created),
		"sCode": "0", "sMsg": "Order placed"}}, nil
}

// avgPx is o's average fill price: notional over the base quantity of its fills.
func (a *account) avgPx(o *OrderRecord) string {
	if o.AccFillSz.IsZero() {
		return ""
	}
	return o.Notional.Div(a.swaps.of(o.InstID).base(o.AccFillSz)).Round(8).String()
}

// orderJSON is an order as GET /api/v5/trade/order and the orders channel show it, prices at its swap's precision.
func (a *account) orderJSON(o *OrderRecord, f *fill) map[string]string {
	in := a.swaps.of(o.InstID)
	m := map[string]string{
		"instType": "SWAP", "instId": o.InstID, "ccy": "", "ordId": o.OrdID, "clOrdId": o.ClOrdID, "tag": "",
		"px": in.pxString(o.Px), "sz": o.Sz.String(), "pnl": "0", "ordType": o.OrdType, "side": o.Side,
		"posSide": "net", "tdMode": "cross", "accFillSz": o.AccFillSz.String(), "fillPx": "", "tradeId": "",
		"fillSz": "0", "fillTime": "", "avgPx": a.avgPx(o), "state": o.State,
		"lever": strconv.Itoa(a.cfg.Leverage), "feeCcy": "USDT", "fee": o.Fee.String(), "rebateCcy": "USDT",
		"rebate": "0", "category": "normal", "reduceOnly": strconv.FormatBool(o.ReduceOnly),
		"cancelSource": o.CancelSource, "cancelSourceReason": "",
		"uTime": ms(o.UTime), "cTime": ms(o.CTime),
	}
	if f != nil {
		m["fillPx"], m["tradeId"], m["fillSz"], m["fillTime"] = in.pxString(f.Px), f.TradeID, f.Sz.String(), ms(f.Time)
	}
	if o.CancelSource == cancelPostOnly {
		m["cancelSourceReason"] = "The post-only order will take liquidity in taker orders"
	}
	return m
}

// queried renders orders as the queries show them: with the last fill of each, as the venue reports it.
func (a *account) queried(orders []exchange.Order) []any {
	out := make([]any, 0, len(orders))
	for i := range orders {
		r := a.record(&orders[i])
		var f *fill
		if lf, ok := a.ex.LastFill(orders[i].Seq); ok {
			f = new(a.fillOf(&lf))
		}
		out = append(out, a.orderJSON(&r, f))
	}
	return out
}

// ref names the order with ordId, or without one the latest with clOrdId.
func ref(id, clOrdID string) exchange.Ref {
	if id != "" {
		return exchange.Ref{Seq: seqOf(id)}
	}
	return exchange.Ref{ClientID: clOrdID}
}

// seqOf is the engine sequence number of an ordId; -1 (no order) for one the mock never issued.
func seqOf(id string) int64 {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= ordIDBase {
		return -1
	}
	return n - ordIDBase
}

// find is the order ref names if it is of the swap instID: an order of another swap does not exist for it.
func (a *account) find(r exchange.Ref, instID string) (exchange.Order, bool) {
	o, ok := a.ex.Find(r)
	if !ok || o.Symbol != instID {
		return exchange.Order{}, false
	}
	return o, true
}

func (a *account) getOrder(r *request) (any, *apiError) {
	instID := r.query.Get("instId")
	if instID == "" {
		return nil, errEmpty("instId")
	}
	if _, ok := a.swaps.get(instID); !ok {
		return nil, errInstrument
	}
	id, clOrdID := r.query.Get("ordId"), r.query.Get("clOrdId")
	if id == "" && clOrdID == "" {
		return nil, errf(200, "51003", "Either client order ID or order ID is required.")
	}
	o, ok := a.find(ref(id, clOrdID), instID)
	if !ok {
		return nil, errNoOrder
	}
	return a.queried([]exchange.Order{o}), nil
}

type cancelBody struct {
	InstID  string `json:"instId"`
	OrdID   string `json:"ordId"`
	ClOrdID string `json:"clOrdId"`
}

// raceFill carries out a fill armed to race the request being handled (mockutil.Faults.FillBeforeNextChange): the
// market takes the resting order before the venue looks at the cancel or amendment.
func (a *account) raceFill() {
	if rf, ok := a.faults.TakeRaceFill(); ok {
		_, _ = a.ex.FillResting(exchange.Ref{ClientID: rf.ClientID}, rf.Qty)
	}
}

func (a *account) cancelOrder(r *request) (any, *apiError) {
	a.raceFill()
	var b cancelBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		return nil, errJSON
	}
	if b.InstID == "" {
		return nil, errEmpty("instId")
	}
	if _, ok := a.swaps.get(b.InstID); !ok {
		return nil, orderFailed(b.ClOrdID, b.OrdID, sInstrument, "Instrument ID does not exist")
	}
	if b.OrdID == "" && b.ClOrdID == "" {
		return nil, errf(200, "51003", "Either client order ID or order ID is required.")
	}
	o, ok := a.find(ref(b.OrdID, b.ClOrdID), b.InstID)
	var err error = exchange.ErrNotFound
	if ok {
		o, err = a.ex.Cancel(exchange.Ref{Seq: o.Seq})
	}
	if err != nil {
		return nil, orderFailed(b.ClOrdID, b.OrdID, sCancelFinal,
			"Order cancellation failed as the order has been filled, canceled or does not exist")
	}
	return []any{map[string]string{"clOrdId": o.ClientID, "ordId": ordID(o.Seq), "ts": ms(a.now()), "sCode": "0", "sMsg": ""}}, nil
}

// amendBody is POST /api/v5/trade/amend-order's body.
type amendBody struct {
	InstID    string `json:"instId"`
	OrdID     string `json:"ordId"`
	ClOrdID   string `json:"clOrdId"`
	ReqID     string `json:"reqId"`
	NewSz     string `json:"newSz"`
	NewPx     string `json:"newPx"`
	CxlOnFail any    `json:"cxlOnFail"` // boolean; "true"/"false" accepted too
}

// amendOrder changes a live or partially filled order's size (newSz, contracts, fills included) and/or price
// (newPx): an order that reprices or grows loses its place in the queue, one that shrinks keeps it; a price that
// crosses executes at once, except for a post_only order, whose amendment is refused (51511, the order as it was). With
// cxlOnFail the order is cancelled when the amendment fails.
func (a *account) amendOrder(r *request) (any, *apiError) {
	a.raceFill()
	var b amendBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		return nil, errJSON
	}
	fail := func(code, msg string) (any, *apiError) {
		e := orderFailed(b.ClOrdID, b.OrdID, code, msg)
		e.Data[0].(map[string]any)["reqId"] = b.ReqID
		return nil, e
	}
	cxlOnFail := false
	switch v := b.CxlOnFail.(type) {
	case nil:
	case bool:
		cxlOnFail = v
	case string:
		if v != "true" && v != "false" && v != "" {
			return fail(sParam, "Parameter cxlOnFail error")
		}
		cxlOnFail = v == "true"
	default:
		return fail(sParam, "Parameter cxlOnFail error")
	}
	c, listed := a.swaps.get(b.InstID)
	switch {
	case b.InstID == "":
		return nil, errEmpty("instId")
	case !listed:
		return fail(sInstrument, "Instrument ID does not exist")
	case b.OrdID == "" && b.ClOrdID == "":
		return nil, errf(200, "51003", "Either client order ID or order ID is required.")
	case b.NewSz == "" && b.NewPx == "":
		return fail(sAmendNoArg, "Either order price or amount is required")
	}
	var sz, px decimal.Decimal
	if b.NewSz != "" {
		var ok bool
		if sz, ok = decimalParam(b.NewSz); !ok || !sz.IsPositive() {
			return fail(sParam, "Parameter newSz error")
		}
		if !exchange.OnGrid(sz, c.LotSz) {
			return fail(sLotSize, "Order quantity must be a multiple of the lot size")
		}
		if sz.LessThan(c.MinSz) {
			return fail(sMinSize, "Order amount should be greater than the min available amount")
		}
	}
	if b.NewPx != "" {
		var ok bool
		if px, ok = decimalParam(b.NewPx); !ok || !px.IsPositive() || !exchange.OnGrid(px, c.TickSz) {
			return fail(sParam, "Parameter newPx error")
		}
	}
	o, ok := a.find(ref(b.OrdID, b.ClOrdID), b.InstID)
	switch {
	case !ok:
		return fail(sAmendNone, "Order modification failed as the order does not exist")
	case o.Status == exchange.Filled:
		return fail(sAmendDone, "Modification failed as the order has been completed")
	case !o.Open():
		return fail(sAmendCxl, "Modification failed as the order has been canceled")
	}
	o, err := a.ex.Amend(exchange.Amend{Ref: exchange.Ref{Seq: o.Seq}, Qty: c.base(sz), Price: px, RefuseWouldTake: true})
	if err != nil {
		switch {
		case errors.Is(err, exchange.ErrNotOpen) && o.Status == exchange.Filled:
			return fail(sAmendDone, "Modification failed as the order has been completed")
		case errors.Is(err, exchange.ErrNotOpen):
			return fail(sAmendCxl, "Modification failed as the order has been canceled")
		}
		if cxlOnFail {
			_, _ = a.ex.Cancel(exchange.Ref{Seq: o.Seq})
		}
		if errors.Is(err, exchange.ErrInsufficientMargin) {
			return fail(sAmendMargin, "Order modification failed for insufficient margin")
		}
		if errors.Is(err, exchange.ErrBelowFilled) {
			return fail(sParam, "Parameter newSz error")
		}
		if errors.Is(err, exchange.ErrWouldTake) {
			return fail(sAmendPostOnly, "Modification failed as the order price did not meet the requirement for Post Only.")
		}
		return nil, errUnavailable
	}
	return []any{map[string]string{"clOrdId": o.ClientID, "ordId": ordID(o.Seq), "reqId": b.ReqID, "ts": ms(a.now()),
		"sCode": "0", "sMsg": ""}}, nil
}

// listFilter checks instType (SWAP) and instId (a listed swap, or "" for all: the list keeps orders and fills of
// instID alone when it is set), and reads limit (default and max 100).
func (a *account) listFilter(r *request, typeRequired bool) (limit int, instID string, ok bool, aerr *apiError) {
	t := r.query.Get("instType")
	if t == "" && typeRequired {
		return 0, "", false, errEmpty("instType")
	}
	if t != "" && t != "SWAP" {
		return 0, "", false, nil
	}
	instID = r.query.Get("instId")
	if _, listed := a.swaps.get(instID); instID != "" && !listed {
		return 0, "", false, errInstrument
	}
	limit = 100
	if v := r.query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, "", false, errParam("limit")
		}
		limit = n
	}
	return limit, instID, true, nil
}

// listOrders serves orders-pending (open, instType optional) and orders-history (closed, instType required): newest
// first, at most limit, paged by ordId (after: older than; before: newer than).
func (a *account) listOrders(r *request, open bool) (any, *apiError) {
	limit, instID, ok, aerr := a.listFilter(r, !open)
	if aerr != nil || !ok {
		return []any{}, aerr
	}
	// after: older than that ordId; before: newer than it (the pages of both lists).
	var after, before int64
	if v := r.query.Get("after"); v != "" {
		after = seqOf(v)
	}
	if v := r.query.Get("before"); v != "" {
		before = seqOf(v)
	}
	keep := func(o *exchange.Order) bool {
		return o.Open() == open && (instID == "" || o.Symbol == instID) && (after == 0 || o.Seq < after) &&
			(before == 0 || o.Seq > before)
	}
	var sel []exchange.Order
	if open {
		for _, o := range slices.Backward(a.ex.OpenOrders()) {
			if keep(&o) {
				sel = append(sel, o)
			}
		}
	} else {
		// Closed orders, newest first: read back page by page only as far as needed.
		for skip, more := 0, true; more && len(sel) < limit; skip += limit {
			var page []exchange.Order
			page, more = a.ex.Recent(skip, limit)
			for _, o := range page {
				if keep(&o) {
					sel = append(sel, o)
				}
			}
			if n := len(page); n > 0 && before != 0 && page[n-1].Seq <= before {
				break
			}
		}
	}
	return a.queried(sel[:min(len(sel), limit)]), nil
}

func (a *account) ordersPending(r *request) (any, *apiError) { return a.listOrders(r, true) }
func (a *account) ordersHistory(r *request) (any, *apiError) { return a.listOrders(r, false) }

// fills is GET /api/v5/trade/fills: newest first, paged by billId (after: older than; before: newer than), filtered
// by begin/end (ms, inclusive) and ordId.
func (a *account) getFills(r *request) (any, *apiError) {
	limit, instID, ok, aerr := a.listFilter(r, false)
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
	id := r.query.Get("ordId")
	out := []any{}
	var fills []exchange.Fill
	if id != "" {
		fills = a.ex.OrderFills(seqOf(id)) // one order's fills, from its index
	} else {
		fills = a.ex.Fills()
	}
	for i := len(fills) - 1; i >= 0 && len(out) < limit; i-- {
		f := a.fillOf(&fills[i])
		bill, _ := strconv.ParseInt(f.BillID, 10, 64)
		t := f.Time.UnixMilli()
		if (after != 0 && bill >= after) || (before != 0 && bill <= before) || (begin != 0 && t < begin) ||
			(end != 0 && t > end) || (id != "" && f.Order.OrdID != id) || (instID != "" && f.Order.InstID != instID) {
			continue
		}
		exec := "T"
		if f.Maker {
			exec = "M"
		}
		out = append(out, map[string]string{
			"instType": "SWAP", "instId": f.Order.InstID, "tradeId": f.TradeID, "ordId": f.Order.OrdID,
			"clOrdId": f.Order.ClOrdID, "billId": f.BillID, "tag": "", "fillPx": a.swaps.of(f.Order.InstID).pxString(f.Px),
			"fillSz": f.Sz.String(), "side": f.Order.Side, "posSide": "net", "execType": exec, "feeCcy": "USDT",
			"fee": f.Fee.String(), "ts": ms(f.Time), "fillTime": ms(f.Time),
		})
	}
	return out, nil
}

// positionJSON is a position as account/positions and the positions channel show it: in contracts of its swap,
// marked at its swap's book.
func (a *account) positionJSON(ep *exchange.Position) map[string]string {
	instID := ep.Symbol
	in := a.swaps.of(instID)
	mark := in.Book.Quote().Mark
	p := struct{ Pos, AvgPx decimal.Decimal }{in.contracts(ep.Qty), ep.Entry}
	upl := mark.Sub(p.AvgPx).Mul(in.base(p.Pos)).Round(8)
	avg := ""
	if !p.Pos.IsZero() {
		avg = p.AvgPx.String()
	}
	return map[string]string{
		"instType": "SWAP", "instId": instID, "mgnMode": "cross", "posId": "1", "posSide": "net",
		"pos": p.Pos.String(), "posCcy": "", "availPos": "", "avgPx": avg, "markPx": mark.String(), "upl": upl.String(),
		"lever": strconv.Itoa(a.cfg.Leverage), "ccy": "USDT", "notionalUsd": in.base(p.Pos.Abs()).Mul(mark).Round(8).String(),
		"cTime": ms(ep.Created), "uTime": ms(ep.Updated),
	}
}

// getPositions lists the open positions of every listed swap, in listing order, or of the one instId names.
func (a *account) getPositions(r *request) (any, *apiError) {
	if t := r.query.Get("instType"); t != "" && t != "SWAP" {
		return []any{}, nil
	}
	id := r.query.Get("instId")
	if _, listed := a.swaps.get(id); id != "" && !listed {
		return nil, errInstrument
	}
	ps := a.ex.Positions()
	slices.SortStableFunc(ps, func(x, y exchange.Position) int {
		return cmp.Compare(a.swaps.rank(x.Symbol), a.swaps.rank(y.Symbol))
	})
	out := []any{}
	for _, p := range ps {
		if _, listed := a.swaps.get(p.Symbol); listed && !p.Qty.IsZero() && (id == "" || p.Symbol == id) {
			out = append(out, a.positionJSON(&p))
		}
	}
	return out, nil
}

func (a *account) getBalance(*request) (any, *apiError) {
	b := a.ex.Wallet().String()
	return []any{map[string]any{"totalEq": b, "uTime": ms(a.now()), "details": []map[string]string{{
		"ccy": "USDT", "eq": b, "cashBal": b, "availBal": b, "availEq": b, "frozenBal": "0", "upl": "0",
	}}}}, nil
}
