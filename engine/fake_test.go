package engine

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/mocks/market"
	"github.com/execd-dev/execd/venues"
)

// fakeVenue is an in-memory venue on the simulated market: IOC and market orders take from the venue's book,
// positions follow fills, events go to the stream. Faults are injected per call by the hook.
type fakeVenue struct {
	hung  []time.Duration // how long each "hang" place waited for its caller to give up
	name  string
	book  *market.Venue
	rules venues.Rules

	mu      sync.Mutex
	orders  map[string]*venues.Order // by client id
	placed  map[string]int           // how many times each client id was accepted
	fills   []venues.Fill
	pos     decimal.Decimal
	tradeID int64
	streams []chan<- venues.Event
	// hook, when set, decides the fate of a Place call: "ok", "unknown-after" (executed, error Unknown),
	// "unknown-before" (not executed, error Unknown), "reject", "retryable".
	hook func(n int, req venues.OrderRequest) string
	n    int
	// cancelHook decides a Cancel call: "ok", or "unknown-after" (cancelled, error Unknown).
	cancelHook func() string
	cancels    int
	// lag makes Query answer "does not exist" this many more times for an order that exists (a venue's read
	// lagging its write); set per client id when the order is placed with fate "lagging".
	lag      map[string]int
	lagCount int
	// statsFail makes the next n Stats calls fail with an Unknown error (a GET timed out after it was written).
	statsFail int
	// The venue's own record of reduce-only orders: how many asked for more than the position left to reduce
	// (the venue cut them), and whether the position ever crossed zero.
	overAsked int
	crossed   bool
	// placeDelay holds every Place this long before the venue acts on it (tests run in a synctest bubble: it is
	// the bubble's time), so children of different parents are in flight together.
	placeDelay time.Duration
}

var _ Trader = (*fakeVenue)(nil)
var _ Streamer = (*fakeVenue)(nil)

func newFake(name string, book *market.Venue, pos string) *fakeVenue {
	return &fakeVenue{
		name: name, book: book, orders: map[string]*venues.Order{}, placed: map[string]int{},
		pos: decimal.RequireFromString(pos),
		rules: venues.Rules{Instrument: "BTC-USDT-PERP", Symbol: "BTCUSDT", TickSize: decimal.RequireFromString("0.1"),
			LotSize: decimal.RequireFromString("0.001"), MinQty: decimal.RequireFromString("0.001"),
			MinNotional: decimal.RequireFromString("100")},
	}
}

func (f *fakeVenue) Name() string { return f.name }

func (f *fakeVenue) Rules(ctx context.Context, instrument string) (venues.Rules, error) {
	if instrument != f.rules.Instrument {
		return venues.Rules{}, &venues.Error{Venue: f.name, Op: "rules", Class: venues.Rejected, Msg: "unknown instrument"}
	}
	return f.rules, nil
}

func (f *fakeVenue) Stats(ctx context.Context, instrument string) (venues.Stats, error) {
	f.mu.Lock()
	if f.statsFail > 0 {
		f.statsFail--
		f.mu.Unlock()
		return venues.Stats{}, &venues.Error{Venue: f.name, Op: "stats", Class: venues.Unknown, Status: 504}
	}
	f.mu.Unlock()
	q := f.book.Quote()
	v := f.book.Volume24h()
	return venues.Stats{Instrument: instrument, MarkPrice: q.Mark, Volume24h: v.Base, QuoteVol24h: v.Quote, Time: q.Time}, nil
}

func (f *fakeVenue) Place(ctx context.Context, req venues.OrderRequest) (venues.Order, error) {
	f.mu.Lock()
	delay := f.placeDelay
	f.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	f.mu.Lock()
	f.n++
	fate := "ok"
	if f.hook != nil {
		fate = f.hook(f.n, req)
	}
	switch fate {
	case "hang": // no answer until the caller gives up; nothing done
		f.mu.Unlock()
		start := time.Now()
		<-ctx.Done()
		f.mu.Lock()
		f.hung = append(f.hung, time.Since(start))
		f.mu.Unlock()
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "place", Class: venues.Unknown, Err: ctx.Err()}
	case "retryable":
		f.mu.Unlock()
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "place", Class: venues.Retryable, Status: 429, Code: "-1003"}
	case "reject":
		f.mu.Unlock()
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "place", Class: venues.Rejected, Status: 400, Code: "-2022"}
	case "unknown-before":
		f.mu.Unlock()
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "place", Class: venues.Unknown, Status: 503}
	case "resting": // accepted and left working, as a venue that ignored the IOC would
		f.placed[req.ClientOrderID]++
		o := &venues.Order{ClientOrderID: req.ClientOrderID, Instrument: req.Instrument, Side: req.Side, Type: req.Type,
			TimeInForce: req.TimeInForce, Quantity: req.Quantity, Price: req.Price, Status: venues.StatusNew}
		f.orders[req.ClientOrderID] = o
		f.mu.Unlock()
		return *o, nil
	}
	if o, dup := f.orders[req.ClientOrderID]; dup && !o.Status.Terminal() {
		f.mu.Unlock()
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "place", Class: venues.Rejected, Code: "-4116", Msg: "duplicate"}
	}
	if _, dup := f.orders[req.ClientOrderID]; dup {
		f.mu.Unlock()
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "place", Class: venues.Rejected, Code: "-4116", Msg: "duplicate"}
	}
	f.placed[req.ClientOrderID]++
	qty := req.Quantity
	if req.ReduceOnly {
		red := reducible(f.pos, req.Side)
		if !red.IsPositive() {
			f.mu.Unlock()
			return venues.Order{}, &venues.Error{Venue: f.name, Op: "place", Class: venues.Rejected, Code: "-2022"}
		}
		if req.Quantity.GreaterThan(red) {
			f.overAsked++
		}
		qty = decimal.Min(qty, red)
	}
	side := market.Buy
	if req.Side == venues.Sell {
		side = market.Sell
	}
	execs := f.book.Take(side, qty, req.Price)
	o := &venues.Order{ClientOrderID: req.ClientOrderID, VenueOrderID: strconv.Itoa(len(f.orders) + 1),
		Instrument: req.Instrument, Side: req.Side, Type: req.Type, TimeInForce: req.TimeInForce, Quantity: req.Quantity,
		Price: req.Price, ReduceOnly: req.ReduceOnly}
	notional := decimal.Zero
	var evs []venues.Event
	for _, x := range execs {
		f.tradeID++
		fl := venues.Fill{Venue: f.name, Instrument: req.Instrument, ClientOrderID: req.ClientOrderID,
			VenueOrderID: o.VenueOrderID, TradeID: strconv.FormatInt(f.tradeID, 10), Side: req.Side, Quantity: x.Qty,
			Price: x.Price, Fee: x.Qty.Mul(x.Price).Mul(decimal.RequireFromString("0.0005")), FeeAsset: "USDT", Time: x.Time}
		f.fills = append(f.fills, fl)
		o.FilledQty = o.FilledQty.Add(x.Qty)
		notional = notional.Add(x.Qty.Mul(x.Price))
		before := f.pos
		f.pos = f.pos.Add(req.Side.Sign().Mul(x.Qty))
		if before.Sign()*f.pos.Sign() < 0 {
			f.crossed = true
		}
		flc := fl
		evs = append(evs, venues.Event{Venue: f.name, Fill: &flc})
	}
	if o.FilledQty.IsPositive() {
		o.AvgPrice = notional.Div(o.FilledQty)
	}
	switch {
	case o.FilledQty.Equal(req.Quantity):
		o.Status = venues.StatusFilled
	default:
		o.Status = venues.StatusExpired
	}
	f.orders[req.ClientOrderID] = o
	if fate == "lagging" || fate == "unknown-after-lagging" {
		if f.lag == nil {
			f.lag = map[string]int{}
		}
		f.lag[req.ClientOrderID] = f.lagCount
	}
	out := *o
	if fate == "lagging" {
		out.Status = venues.StatusNew // acknowledged before the venue's own record shows the result
	}
	streams := append([]chan<- venues.Event(nil), f.streams...)
	f.mu.Unlock()
	for _, s := range streams {
		for _, ev := range evs {
			s <- ev
		}
	}
	if fate == "unknown-after" || fate == "unknown-after-lagging" {
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "place", Class: venues.Unknown, Msg: "timeout after send"}
	}
	return out, nil
}

func (f *fakeVenue) Query(ctx context.Context, instrument, id string) (venues.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[id]
	if ok && f.lag[id] > 0 {
		f.lag[id]--
		ok = false
	}
	if !ok {
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "query", Class: venues.Rejected, Code: "-2013", Err: venues.ErrNotFound}
	}
	return *o, nil
}

func (f *fakeVenue) Cancel(ctx context.Context, instrument, id string) (venues.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[id]
	if !ok || o.Status.Terminal() {
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "cancel", Class: venues.Rejected, Code: "-2011", Err: venues.ErrNotFound}
	}
	f.cancels++
	o.Status = venues.StatusCanceled
	if f.cancelHook != nil && f.cancelHook() == "unknown-after" {
		return venues.Order{}, &venues.Error{Venue: f.name, Op: "cancel", Class: venues.Unknown, Status: 503}
	}
	return *o, nil
}

func (f *fakeVenue) OpenOrders(ctx context.Context, instrument string) ([]venues.Order, error) {
	return nil, nil // IOC orders never rest
}

func (f *fakeVenue) Fills(ctx context.Context, instrument string, since int64) ([]venues.Fill, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]venues.Fill(nil), f.fills...), nil
}

func (f *fakeVenue) Positions(ctx context.Context) ([]venues.Position, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []venues.Position{{Venue: f.name, Instrument: f.rules.Instrument, Quantity: f.pos}}, nil
}

func (f *fakeVenue) Stream(ctx context.Context, out chan<- venues.Event) error {
	f.mu.Lock()
	f.streams = append(f.streams, out)
	f.mu.Unlock()
	<-ctx.Done()
	return ctx.Err()
}

func (f *fakeVenue) position() decimal.Decimal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pos
}

func (f *fakeVenue) executed() (decimal.Decimal, map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := decimal.Zero
	for _, o := range f.orders {
		s = s.Add(o.FilledQty)
	}
	counts := map[string]int{}
	for k, v := range f.placed {
		counts[k] = v
	}
	return s, counts
}

func testMarket(seed int64) market.Config {
	return market.Config{
		Seed: seed, StartPrice: 10490, AnnualVolatility: 0.6, TotalVolume24h: 200000, BasisNoiseBps: 0.3,
		FundingRate8h: 0.0001,
		Venues: []market.VenueConfig{
			{Name: "a", VolumeShare: 0.4, TakerFeeBps: 5, MakerFeeBps: 2, TickSize: decimal.RequireFromString("0.1"), LotSize: decimal.RequireFromString("0.001")},
			{Name: "b", VolumeShare: 0.6, TakerFeeBps: 5, MakerFeeBps: 2, TickSize: decimal.RequireFromString("0.1"), LotSize: decimal.RequireFromString("0.001")},
		},
	}
}
