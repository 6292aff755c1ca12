package gateway_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/venues"
)

const inst = "BTC-USDT-PERP"

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// callLog is one ordered record shared by the fake venue (what it was called for) and the test limiter (which
// tokens it gave), so a test can check that a token came before every call.
type callLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *callLog) add(s string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *callLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// call is one call the fake venue answered.
type call struct {
	op, id string
	qty    decimal.Decimal // place: the quantity asked
	at     time.Time       // the bubble's time
}

// fakeVenue is an in-memory venue with a fixed mark. Each call's fate is scripted per operation: script(op,
// fates...) queues fates consumed one per call, and when the queue is empty the operation's default (setDefault)
// or "ok" applies.
//
// place: "ok" (executes: an IOC or GTC order fills in full at its limit price, in `split` trades), "partial" (fills
// half, the rest expires), "expire" (an IOC that finds nothing: expired unfilled), "resting" (accepted, left
// working, as a GTC order or a venue that ignored the IOC), "retryable" (429, not acted on), "rejected" (a business
// rejection), "unknown-after" (executed as "ok", the answer lost: Unknown), "unknown-before" (not acted on, the
// answer lost: Unknown). An order whose id the venue already has is refused as a duplicate (Rejected) whatever
// the fate, except the fates that do not act.
// query: "ok" (the truth), "notfound" (a lagging read: "does not exist" whether or not it does), "unknown".
// cancel: "ok", "unknown-after" (cancelled, the answer lost).
// amend: "ok", "rejected", "unknown-after" (applied, the answer lost).
// fills (Fills and OrderFills): "ok" (the venue's fills), "hide" (none: the venue never delivers them), "unknown".
type fakeVenue struct {
	name  string
	rules venues.Rules
	log   *callLog

	mu       sync.Mutex
	mark     decimal.Decimal
	pos      decimal.Decimal
	orders   map[string]*venues.Order
	accepted map[string]int // how many times the venue took each client id
	fills    []venues.Fill
	trade    int
	fates    map[string][]string
	defaults map[string]string
	calls    []call
	split    int // trades per execution (default 1)
	// stream, when set (the gateway's OnEvent), gets every fill the venue makes, as its private stream would,
	// unless streamFilter says no.
	stream       func(venues.Event)
	streamFilter func(venues.Fill) bool
	// placeDelay holds every Place this long (the bubble's time) before the venue acts; honorCtx makes a Place whose
	// ctx ends first return an Unknown error without acting.
	placeDelay time.Duration
	honorCtx   bool
	// statsHold, when set, holds every Stats call until it is closed.
	statsHold chan struct{}
	// onPlace, when set, runs at the start of every Place call (outside the venue's lock).
	onPlace func(req venues.OrderRequest)
	// onPositions, when set, is told when a Positions call enters and leaves; positionsDelay holds it that long.
	onPositions    func(enter bool)
	positionsDelay time.Duration
	// streamOrders: the stream also pushes the order's state after a place (as Binance's ORDER_TRADE_UPDATE does).
	streamOrders bool
}

func newFake() *fakeVenue {
	return &fakeVenue{
		name: "fake",
		rules: venues.Rules{Instrument: inst, Symbol: "BTCUSDT", TickSize: dec("0.1"), LotSize: dec("0.001"),
			MinQty: dec("0.001"), MinNotional: dec("5")},
		mark: dec("10000"), orders: map[string]*venues.Order{}, accepted: map[string]int{},
		fates: map[string][]string{}, defaults: map[string]string{}, split: 1,
	}
}

func (f *fakeVenue) script(op string, fates ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fates[op] = append(f.fates[op], fates...)
}

func (f *fakeVenue) setDefault(op, fate string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.defaults[op] = fate
}

// fate pops the next fate of op and records the call. Called with f.mu held.
func (f *fakeVenue) fate(op, id string, qty decimal.Decimal) string {
	f.calls = append(f.calls, call{op: op, id: id, qty: qty, at: time.Now()})
	f.log.add("call " + op)
	if q := f.fates[op]; len(q) > 0 {
		f.fates[op] = q[1:]
		return q[0]
	}
	if d := f.defaults[op]; d != "" {
		return d
	}
	return "ok"
}

func (f *fakeVenue) callsOf(op string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.op == op {
			out = append(out, c)
		}
	}
	return out
}

// opsFor lists the operations called for one client id, in order.
func (f *fakeVenue) opsFor(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if c.id == id {
			out = append(out, c.op)
		}
	}
	return out
}

func (f *fakeVenue) order(id string) (venues.Order, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[id]
	if !ok {
		return venues.Order{}, false
	}
	return *o, true
}

func (f *fakeVenue) acceptedCounts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.accepted {
		out[k] = v
	}
	return out
}

func (f *fakeVenue) position() decimal.Decimal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pos
}

func (f *fakeVenue) setPosition(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pos = dec(p)
}

// seed puts an order (and the fills that make its FilledQty) at the venue, as if placed before a restart. The
// fills are not streamed.
func (f *fakeVenue) seed(o venues.Order) []venues.Fill {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o.VenueOrderID == "" {
		o.VenueOrderID = "v" + strconv.Itoa(len(f.orders)+1)
	}
	o.Instrument = inst
	oo := o
	f.orders[o.ClientOrderID] = &oo
	f.accepted[o.ClientOrderID]++
	var out []venues.Fill
	if o.FilledQty.IsPositive() {
		out = append(out, f.execute(&oo, o.FilledQty))
	}
	return out
}

// execute makes the trades of q on o in f.split pieces, moving the position. Called with f.mu held.
func (f *fakeVenue) execute(o *venues.Order, q decimal.Decimal) venues.Fill {
	n := max(f.split, 1)
	piece := q.Div(decimal.NewFromInt(int64(n))).Truncate(3)
	var last venues.Fill
	for i := 0; i < n; i++ {
		fq := piece
		if i == n-1 {
			fq = q.Sub(piece.Mul(decimal.NewFromInt(int64(n - 1))))
		}
		f.trade++
		last = venues.Fill{Venue: f.name, Instrument: inst, ClientOrderID: o.ClientOrderID, VenueOrderID: o.VenueOrderID,
			TradeID: "t" + strconv.Itoa(f.trade), Side: o.Side, Quantity: fq, Price: o.Price, Fee: dec("0.01"),
			FeeAsset: "USDT", Time: time.Now()}
		f.fills = append(f.fills, last)
		f.pos = f.pos.Add(o.Side.Sign().Mul(fq))
	}
	return last
}

// fillsOf returns the venue's fills of one order (all orders when id is "").
func (f *fakeVenue) fillsOf(id string) []venues.Fill {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []venues.Fill
	for _, fl := range f.fills {
		if id == "" || fl.ClientOrderID == id {
			out = append(out, fl)
		}
	}
	return out
}

func (f *fakeVenue) errorf(op string, class venues.Class, inner error, format string, a ...any) error {
	return &venues.Error{Venue: f.name, Op: op, Class: class, Msg: fmt.Sprintf(format, a...), Err: inner}
}

func (f *fakeVenue) notFound(op, id string) error {
	return &venues.Error{Venue: f.name, Op: op, Class: venues.Rejected, Code: "-2013", Err: venues.ErrNotFound}
}

func (f *fakeVenue) Name() string { return f.name }

func (f *fakeVenue) Rules(ctx context.Context, instrument string) (venues.Rules, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fate("rules", "", decimal.Zero)
	return f.rules, nil
}

func (f *fakeVenue) Stats(ctx context.Context, instrument string) (venues.Stats, error) {
	f.mu.Lock()
	hold := f.statsHold
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fate("stats", "", decimal.Zero) == "unknown" {
		return venues.Stats{}, f.errorf("stats", venues.Unknown, nil, "timeout")
	}
	return venues.Stats{Instrument: instrument, MarkPrice: f.mark, Volume24h: dec("1000"), Time: time.Now()}, nil
}

func (f *fakeVenue) Place(ctx context.Context, req venues.OrderRequest) (venues.Order, error) {
	if f.onPlace != nil {
		f.onPlace(req)
	}
	f.mu.Lock()
	delay, honor := f.placeDelay, f.honorCtx
	f.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		if honor {
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				f.mu.Lock()
				f.calls = append(f.calls, call{op: "place", id: req.ClientOrderID, qty: req.Quantity, at: time.Now()})
				f.mu.Unlock()
				return venues.Order{}, f.errorf("place", venues.Unknown, ctx.Err(), "request abandoned")
			}
		} else {
			<-t.C
		}
	}
	f.mu.Lock()
	fate := f.fate("place", req.ClientOrderID, req.Quantity)
	switch fate {
	case "retryable":
		f.mu.Unlock()
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "place", Class: venues.Retryable, Status: 429, Code: "-1003"}
	case "rejected":
		f.mu.Unlock()
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "place", Class: venues.Rejected, Status: 400, Code: "-2019",
			Msg: "margin is insufficient"}
	case "unknown-before":
		f.mu.Unlock()
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "place", Class: venues.Unknown, Status: 503}
	}
	if _, dup := f.orders[req.ClientOrderID]; dup {
		f.mu.Unlock()
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "place", Class: venues.Rejected, Code: "-4116",
			Msg: "client order id is duplicated"}
	}
	f.accepted[req.ClientOrderID]++
	o := &venues.Order{ClientOrderID: req.ClientOrderID, VenueOrderID: "v" + strconv.Itoa(len(f.orders)+1),
		Instrument: req.Instrument, Side: req.Side, Type: req.Type, TimeInForce: req.TimeInForce, Quantity: req.Quantity,
		Price: req.Price, ReduceOnly: req.ReduceOnly, Status: venues.StatusNew, UpdateTime: time.Now()}
	f.orders[req.ClientOrderID] = o
	var made []venues.Fill
	before := len(f.fills)
	switch fate {
	case "resting":
	case "expire":
		o.Status = venues.StatusExpired
	case "partial":
		q := req.Quantity.Div(decimal.NewFromInt(2)).Truncate(3)
		f.execute(o, q)
		o.FilledQty, o.AvgPrice, o.Status = q, req.Price, venues.StatusExpired
	default: // ok, unknown-after
		f.execute(o, req.Quantity)
		o.FilledQty, o.AvgPrice, o.Status = req.Quantity, req.Price, venues.StatusFilled
	}
	made = append(made, f.fills[before:]...)
	out := *o
	stream, filter := f.stream, f.streamFilter
	f.mu.Unlock()
	if stream != nil {
		for _, fl := range made {
			if filter == nil || filter(fl) {
				flc := fl
				stream(venues.Event{Venue: f.name, Fill: &flc})
			}
		}
		if f.streamOrders {
			oc := out
			stream(venues.Event{Venue: f.name, Order: &oc})
		}
	}
	if fate == "unknown-after" {
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "place", Class: venues.Unknown, Msg: "timeout after send"}
	}
	return out, nil
}

func (f *fakeVenue) Query(ctx context.Context, instrument, id string) (venues.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch f.fate("query", id, decimal.Zero) {
	case "notfound":
		return venues.Order{}, f.notFound("query", id)
	case "unknown":
		return venues.Order{}, f.errorf("query", venues.Unknown, nil, "timeout")
	}
	o, ok := f.orders[id]
	if !ok {
		return venues.Order{}, f.notFound("query", id)
	}
	return *o, nil
}

func (f *fakeVenue) Cancel(ctx context.Context, instrument, id string) (venues.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fate := f.fate("cancel", id, decimal.Zero)
	o, ok := f.orders[id]
	if !ok || o.Status.Terminal() {
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "cancel", Class: venues.Rejected, Code: "-2011", Err: venues.ErrNotFound}
	}
	o.Status = venues.StatusCanceled
	if fate == "unknown-after" {
		return venues.Order{}, f.errorf("cancel", venues.Unknown, nil, "timeout after send")
	}
	return *o, nil
}

func (f *fakeVenue) OpenOrders(ctx context.Context, instrument string) ([]venues.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fate("openorders", "", decimal.Zero)
	var out []venues.Order
	for _, o := range f.orders {
		if !o.Status.Terminal() {
			out = append(out, *o)
		}
	}
	return out, nil
}

func (f *fakeVenue) readFills(op, id string, since int64) ([]venues.Fill, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch f.fate(op, id, decimal.Zero) {
	case "hide":
		return nil, nil
	case "unknown":
		return nil, f.errorf(op, venues.Unknown, nil, "timeout")
	}
	var out []venues.Fill
	for _, fl := range f.fills {
		if (id == "" || fl.ClientOrderID == id) && fl.Time.UnixMilli() >= since {
			out = append(out, fl)
		}
	}
	return out, nil
}

func (f *fakeVenue) Fills(ctx context.Context, instrument string, since int64) ([]venues.Fill, error) {
	return f.readFills("fills", "", since)
}

func (f *fakeVenue) Positions(ctx context.Context) ([]venues.Position, error) {
	if f.onPositions != nil {
		f.onPositions(true)
		defer f.onPositions(false)
	}
	if f.positionsDelay > 0 {
		t := time.NewTimer(f.positionsDelay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, f.errorf("positions", venues.Unknown, ctx.Err(), "abandoned")
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fate("positions", "", decimal.Zero) == "retryable" {
		return nil, &venues.Error{Venue: f.name, Op: "positions", Class: venues.Retryable, Status: 429, Code: "-1003"}
	}
	return []venues.Position{{Venue: f.name, Instrument: inst, Quantity: f.pos, MarkPrice: f.mark}}, nil
}

// capableVenue is the fake with every optional capability: venues.Quoter, venues.OrderFiller, venues.Amender.
type capableVenue struct{ *fakeVenue }

var (
	_ gateway.Venue      = (*fakeVenue)(nil)
	_ venues.Quoter      = capableVenue{}
	_ venues.OrderFiller = capableVenue{}
	_ venues.Amender     = capableVenue{}
)

func (c capableVenue) Quote(ctx context.Context, instrument string) (venues.Quote, error) {
	f := c.fakeVenue
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fate("quote", "", decimal.Zero) == "unknown" {
		return venues.Quote{}, f.errorf("quote", venues.Unknown, nil, "timeout")
	}
	return venues.Quote{Instrument: instrument, Mark: f.mark, Bid: f.mark.Sub(dec("0.1")), Ask: f.mark.Add(dec("0.1")),
		Time: time.Now()}, nil
}

func (c capableVenue) OrderFills(ctx context.Context, instrument, clientOrderID, venueOrderID string, since int64) ([]venues.Fill, error) {
	return c.readFills("orderfills", clientOrderID, since)
}

func (c capableVenue) Amend(ctx context.Context, req venues.AmendRequest) (venues.Order, error) {
	f := c.fakeVenue
	f.mu.Lock()
	defer f.mu.Unlock()
	fate := f.fate("amend", req.ClientOrderID, req.Quantity)
	o, ok := f.orders[req.ClientOrderID]
	switch {
	case !ok:
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "amend", Class: venues.Rejected, Err: venues.ErrNotFound}
	case o.Status.Terminal():
		return venues.Order{}, f.errorf("amend", venues.Rejected, nil, "order is %s", o.Status)
	case fate == "rejected":
		return venues.Order{}, f.errorf("amend", venues.Rejected, nil, "amend refused")
	case req.Quantity.IsPositive() && !req.Quantity.GreaterThan(o.FilledQty):
		return venues.Order{}, f.errorf("amend", venues.Rejected, nil, "quantity not above the filled")
	}
	if req.Quantity.IsPositive() {
		o.Quantity = req.Quantity
	}
	if req.Price.IsPositive() {
		o.Price = req.Price
	}
	o.UpdateTime = time.Now()
	if fate == "unknown-after" {
		return venues.Order{}, f.errorf("amend", venues.Unknown, nil, "timeout after send")
	}
	return *o, nil
}

// externalTrade makes a trade of another program's order (client id id, without the engine's prefix) on the
// account, as a manual trade would: the position moves and the venue records the fill, which the private stream
// delivers when the fake has one and stream is set.
func (f *fakeVenue) externalTrade(id string, side venues.Side, qty string, stream bool) venues.Fill {
	f.mu.Lock()
	f.trade++
	fl := venues.Fill{Venue: f.name, Instrument: inst, ClientOrderID: id, VenueOrderID: "x" + strconv.Itoa(f.trade),
		TradeID: "t" + strconv.Itoa(f.trade), Side: side, Quantity: dec(qty), Price: f.mark, Fee: dec("0.01"),
		FeeAsset: "USDT", Time: time.Now()}
	f.fills = append(f.fills, fl)
	f.pos = f.pos.Add(side.Sign().Mul(fl.Quantity))
	out := f.stream
	f.mu.Unlock()
	if stream && out != nil {
		out(venues.Event{Venue: f.name, Fill: &fl})
	}
	return fl
}

// cut moves the position by delta with no trade on record, as a liquidation or auto-deleveraging the venue
// reports only in the position would.
func (f *fakeVenue) cut(delta string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pos = f.pos.Add(dec(delta))
}
