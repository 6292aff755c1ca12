package venuetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
)

// Harness is one adapter under test against its own mock venue on a simulated market. Fault injections apply to
// the venue's next matching request: scenarios read rules and prices before they inject one. Each call of the
// constructor given to Run starts a fresh mock (its own account and book) and an adapter on it.
type Harness interface {
	// Venue is the adapter under test.
	Venue() venues.Venue
	// Instrument is the canonical instrument the mock trades (BTC-USDT-PERP).
	Instrument() string
	// Ask and Bid are the venue's best prices now, with the quantity resting there, in base units.
	Ask() (price, qty decimal.Decimal)
	Bid() (price, qty decimal.Decimal)
	// SetPosition sets the account's position at the venue, in base units (signed).
	SetPosition(qty decimal.Decimal)
	// BadSecret is an adapter on the same mock whose secret is wrong.
	BadSecret() venues.Venue
	// StaleClock is an adapter on the same mock whose requests carry a timestamp outside the venue's window.
	StaleClock() venues.Venue
	// TooSmall is a quantity (base units) the venue refuses for a non-reduce-only order at the ask: below its
	// minimum quantity or notional.
	TooSmall() decimal.Decimal
	// Fault injection on the mock.
	RateLimitNext(n int)
	Fail5xxAfterAccept(n int)
	DropResponseAfterAccept(n int)
	DropStreams()
	// WaitSubscribed blocks until at least n private-stream connections are open at the mock and subscribed to
	// the account's pushes (what that takes is the venue's: connected, logged in, subscribe answered), or until
	// ctx ends (its error). A dropped connection no longer counts. Scenarios call it after starting a stream and
	// before placing the order whose events they expect, instead of retrying on a timer.
	WaitSubscribed(ctx context.Context, n int) error
	// Executed is the base quantity the venue's own record says it executed for a client order id, and whether
	// it knows the id at all (the judge of every scenario, not the adapter).
	Executed(clientID string) (decimal.Decimal, bool)
	// Requests is the number of HTTP requests Venue has sent so far.
	Requests() int64
}

// Scenario is one behaviour every adapter must show.
type Scenario struct {
	Name string
	Run  func(t *testing.T, h Harness)
}

// Scenarios is the one table every adapter runs.
func Scenarios() []Scenario {
	return []Scenario{
		{"instrument-rules", scRules},
		{"stats", scStats},
		{"quote-one-request", scQuote},
		{"place-ioc-fills", scIOCFill},
		{"partial-fill-ioc-expiry", scPartial},
		{"ioc-outside-book-expires", scIOCExpiry},
		{"gtc-rest-and-cancel", scGTCCancel},
		{"query-found", scQueryFound},
		{"query-not-found", scQueryNotFound},
		{"duplicate-client-id-rejected", scDuplicate},
		{"reduce-only-increase-rejected", scReduceOnly},
		{"below-minimum-rejected", scTooSmall},
		{"bad-signature-rejected", scBadSignature},
		{"stale-timestamp-retryable", scStale},
		{"rate-limited-retryable", scRateLimited},
		{"5xx-after-accept-unknown", sc5xx},
		{"response-dropped-unknown", scDropped},
		{"stream-fills", scStreamFills},
		{"stream-reconnect-fills", scStreamReconnect},
		{"positions", scPositions},
		{"order-fills-one-order", scOrderFills},
		{"amend-price", scAmendPrice},
		{"amend-quantity", scAmendQuantity},
		{"amend-price-crossing-executes", scAmendCrossing},
		{"amend-filled-rejected", scAmendFilled},
		{"amend-unknown-not-found", scAmendUnknown},
		{"amend-stream-update", scAmendStream},
	}
}

// Run runs every scenario against fresh harnesses from newHarness.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	for _, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			sc.Run(t, newHarness(t))
		})
	}
}

func cctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// idSeq is a fresh client order id: "ct", the scenario's letter and 12 random hex digits (alphanumeric and short
// enough for every venue).
func idSeq(p string) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return fmt.Sprintf("ct%s%x", p, b)
}

func rules(t *testing.T, h Harness) venues.Rules {
	t.Helper()
	r, err := h.Venue().Rules(cctx(t), h.Instrument())
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	return r
}

// lots is n lots of the venue, at least its minimum quantity and notional at price.
func lots(t *testing.T, h Harness, n int64, price decimal.Decimal) decimal.Decimal {
	r := rules(t, h)
	q := r.LotSize.Mul(decimal.NewFromInt(n))
	for q.LessThan(r.MinQty) || q.Mul(price).LessThan(r.MinNotional) {
		q = q.Add(r.LotSize)
	}
	return q
}

func ioc(id, inst string, side venues.Side, qty, price decimal.Decimal) venues.OrderRequest {
	return venues.OrderRequest{ClientOrderID: id, Instrument: inst, Side: side, Type: venues.Limit,
		TimeInForce: venues.IOC, Quantity: qty, Price: price}
}

// through is a price a few ticks through the touch, so an IOC takes liquidity.
func through(t *testing.T, h Harness, side venues.Side) decimal.Decimal {
	r := rules(t, h)
	if side == venues.Buy {
		a, _ := h.Ask()
		return r.PriceCeil(a.Mul(decimal.RequireFromString("1.002")))
	}
	b, _ := h.Bid()
	return r.PriceFloor(b.Mul(decimal.RequireFromString("0.998")))
}

func wantClass(t *testing.T, err error, want venues.Class) *venues.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", want)
	}
	var ve *venues.Error
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *venues.Error", err)
	}
	if ve.Class != want {
		t.Fatalf("class %s, want %s: %v", ve.Class, want, err)
	}
	return ve
}

func wantExecuted(t *testing.T, h Harness, id string, want decimal.Decimal) {
	t.Helper()
	got, ok := h.Executed(id)
	if !ok && !want.IsZero() {
		t.Fatalf("venue does not know %s", id)
	}
	if !got.Equal(want) {
		t.Fatalf("venue executed %s for %s, want %s", got, id, want)
	}
}

func scRules(t *testing.T, h Harness) {
	r := rules(t, h)
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if r.Instrument != h.Instrument() || r.Symbol == "" || !r.MinQty.IsPositive() {
		t.Fatalf("rules %+v", r)
	}
	if !r.OnLot(r.MinQty) {
		t.Fatalf("min qty %s off the lot grid %s", r.MinQty, r.LotSize)
	}
	if _, err := h.Venue().Rules(cctx(t), "NOPE-USDT-PERP"); venues.ClassOf(err) != venues.Rejected {
		t.Fatalf("unknown instrument: %v", err)
	}
}

func scStats(t *testing.T, h Harness) {
	s, err := h.Venue().Stats(cctx(t), h.Instrument())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := h.Ask()
	if !s.MarkPrice.IsPositive() || !s.Volume24h.IsPositive() ||
		s.MarkPrice.Sub(a).Abs().GreaterThan(a.Mul(decimal.RequireFromString("0.01"))) {
		t.Fatalf("stats %+v (ask %s)", s, a)
	}
}

// scQuote: a Quoter reads the mark (and the touch, where it gives one) in exactly one request once the rules are
// known.
func scQuote(t *testing.T, h Harness) {
	qv, ok := h.Venue().(venues.Quoter)
	if !ok {
		t.Skip("not a venues.Quoter")
	}
	rules(t, h) // the instrument list is cached: what follows is the quote's own request
	before := h.Requests()
	q, err := qv.Quote(cctx(t), h.Instrument())
	if err != nil {
		t.Fatal(err)
	}
	if n := h.Requests() - before; n != 1 {
		t.Fatalf("quote sent %d requests, want 1", n)
	}
	a, _ := h.Ask()
	b, _ := h.Bid()
	if q.Instrument != h.Instrument() || q.Time.IsZero() || !q.Mark.IsPositive() ||
		q.Mark.Sub(a).Abs().GreaterThan(a.Mul(decimal.RequireFromString("0.01"))) {
		t.Fatalf("quote %+v (ask %s)", q, a)
	}
	if q.Bid.IsZero() != q.Ask.IsZero() || !q.Bid.IsZero() && (!q.Bid.LessThan(q.Ask) || !q.Bid.Equal(b) || !q.Ask.Equal(a)) {
		t.Fatalf("quote %+v: want both sides or neither, at the touch (bid %s, ask %s)", q, b, a)
	}
	if _, err := qv.Quote(cctx(t), "NOPE-USDT-PERP"); venues.ClassOf(err) != venues.Rejected {
		t.Fatalf("unknown instrument: %v", err)
	}
}

func scIOCFill(t *testing.T, h Harness) {
	px := through(t, h, venues.Buy)
	q := lots(t, h, 2, px)
	id := idSeq("f")
	o, err := h.Venue().Place(cctx(t), ioc(id, h.Instrument(), venues.Buy, q, px))
	if err != nil {
		t.Fatal(err)
	}
	if o.ClientOrderID != id || o.Status != venues.StatusFilled || !o.FilledQty.Equal(q) || !o.AvgPrice.IsPositive() {
		t.Fatalf("order %+v", o)
	}
	wantExecuted(t, h, id, q)
}

func scPartial(t *testing.T, h Harness) {
	a, aq := h.Ask()
	q := aq.Mul(decimal.NewFromInt(3)) // more than rests at the touch
	id := idSeq("p")
	o, err := h.Venue().Place(cctx(t), ioc(id, h.Instrument(), venues.Buy, q, a))
	if err != nil {
		t.Fatal(err)
	}
	if !o.Status.Terminal() || !o.FilledQty.IsPositive() || !o.FilledQty.LessThan(q) {
		t.Fatalf("want a partial fill that ends: %+v", o)
	}
	wantExecuted(t, h, id, o.FilledQty)
}

func scIOCExpiry(t *testing.T, h Harness) {
	b, _ := h.Bid()
	q := lots(t, h, 1, b)
	id := idSeq("x")
	o, err := h.Venue().Place(cctx(t), ioc(id, h.Instrument(), venues.Buy, q, b)) // a buy at the bid takes nothing
	if err != nil {
		t.Fatal(err)
	}
	if !o.Status.Terminal() || !o.FilledQty.IsZero() {
		t.Fatalf("want an IOC that ends unfilled: %+v", o)
	}
}

// resting is a GTC buy 5% under the bid, which rests.
func resting(t *testing.T, h Harness, prefix string) venues.OrderRequest {
	b, _ := h.Bid()
	px := rules(t, h).PriceFloor(b.Mul(decimal.RequireFromString("0.95")))
	req := ioc(idSeq(prefix), h.Instrument(), venues.Buy, lots(t, h, 1, px), px)
	req.TimeInForce = venues.GTC
	return req
}

func scGTCCancel(t *testing.T, h Harness) {
	req := resting(t, h, "g")
	id := req.ClientOrderID
	o, err := h.Venue().Place(cctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status.Terminal() {
		t.Fatalf("a GTC far from the touch should rest: %+v", o)
	}
	open, err := h.Venue().OpenOrders(cctx(t), h.Instrument())
	if err != nil || !containsID(open, id) {
		t.Fatalf("open orders %v %v", open, err)
	}
	c, err := h.Venue().Cancel(cctx(t), h.Instrument(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != venues.StatusCanceled || !c.FilledQty.IsZero() {
		t.Fatalf("cancelled order %+v", c)
	}
	if _, err := h.Venue().Cancel(cctx(t), h.Instrument(), "ctneverplaced1"); !venues.IsNotFound(err) {
		t.Fatalf("cancel of an unknown id: %v", err)
	}
}

func containsID(os []venues.Order, id string) bool {
	for _, o := range os {
		if o.ClientOrderID == id {
			return true
		}
	}
	return false
}

func scQueryFound(t *testing.T, h Harness) {
	px := through(t, h, venues.Buy)
	q := lots(t, h, 1, px)
	id := idSeq("q")
	if _, err := h.Venue().Place(cctx(t), ioc(id, h.Instrument(), venues.Buy, q, px)); err != nil {
		t.Fatal(err)
	}
	o, err := h.Venue().Query(cctx(t), h.Instrument(), id)
	if err != nil {
		t.Fatal(err)
	}
	if o.ClientOrderID != id || o.Side != venues.Buy || !o.Quantity.Equal(q) || !o.FilledQty.Equal(q) || o.Status != venues.StatusFilled {
		t.Fatalf("queried %+v", o)
	}
}

func scQueryNotFound(t *testing.T, h Harness) {
	_, err := h.Venue().Query(cctx(t), h.Instrument(), "ctneverplaced2")
	if !venues.IsNotFound(err) || venues.ClassOf(err) != venues.Rejected {
		t.Fatalf("want a Rejected not-found error, got %v", err)
	}
}

func scDuplicate(t *testing.T, h Harness) {
	req := resting(t, h, "d")
	id := req.ClientOrderID
	if _, err := h.Venue().Place(cctx(t), req); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = h.Venue().Cancel(context.Background(), h.Instrument(), id) })
	_, err := h.Venue().Place(cctx(t), req)
	wantClass(t, err, venues.Rejected)
	wantExecuted(t, h, id, decimal.Zero)
}

func scReduceOnly(t *testing.T, h Harness) {
	r := rules(t, h)
	h.SetPosition(r.LotSize.Mul(decimal.NewFromInt(100))) // long
	px := through(t, h, venues.Buy)
	req := ioc(idSeq("r"), h.Instrument(), venues.Buy, lots(t, h, 1, px), px)
	req.ReduceOnly = true // a buy cannot reduce a long
	_, err := h.Venue().Place(cctx(t), req)
	wantClass(t, err, venues.Rejected)
	wantExecuted(t, h, req.ClientOrderID, decimal.Zero)
}

func scTooSmall(t *testing.T, h Harness) {
	px := through(t, h, venues.Buy)
	req := ioc(idSeq("s"), h.Instrument(), venues.Buy, h.TooSmall(), px)
	_, err := h.Venue().Place(cctx(t), req)
	wantClass(t, err, venues.Rejected)
	wantExecuted(t, h, req.ClientOrderID, decimal.Zero)
}

func scBadSignature(t *testing.T, h Harness) {
	px := through(t, h, venues.Buy)
	req := ioc(idSeq("b"), h.Instrument(), venues.Buy, lots(t, h, 1, px), px)
	_, err := h.BadSecret().Place(cctx(t), req)
	ve := wantClass(t, err, venues.Rejected)
	if strings.Contains(err.Error(), "signature=") || ve.Code == "" {
		t.Fatalf("error %q: want the venue's code and no signature", err)
	}
	wantExecuted(t, h, req.ClientOrderID, decimal.Zero)
}

func scStale(t *testing.T, h Harness) {
	px := through(t, h, venues.Buy)
	req := ioc(idSeq("t"), h.Instrument(), venues.Buy, lots(t, h, 1, px), px)
	_, err := h.StaleClock().Place(cctx(t), req)
	wantClass(t, err, venues.Retryable)
	wantExecuted(t, h, req.ClientOrderID, decimal.Zero)
}

func scRateLimited(t *testing.T, h Harness) {
	px := through(t, h, venues.Buy)
	req := ioc(idSeq("l"), h.Instrument(), venues.Buy, lots(t, h, 1, px), px)
	h.RateLimitNext(1)
	_, err := h.Venue().Place(cctx(t), req)
	wantClass(t, err, venues.Retryable)
	wantExecuted(t, h, req.ClientOrderID, decimal.Zero)
	if _, err := h.Venue().Place(cctx(t), req); err != nil { // the same id again is safe after a retryable error
		t.Fatalf("retry: %v", err)
	}
}

func sc5xx(t *testing.T, h Harness) {
	px := through(t, h, venues.Buy)
	q := lots(t, h, 1, px)
	req := ioc(idSeq("u"), h.Instrument(), venues.Buy, q, px)
	h.Fail5xxAfterAccept(1)
	_, err := h.Venue().Place(cctx(t), req)
	wantClass(t, err, venues.Unknown)
	o, err := h.Venue().Query(cctx(t), h.Instrument(), req.ClientOrderID)
	if err != nil || !o.FilledQty.Equal(q) {
		t.Fatalf("the order the venue accepted must be found: %+v %v", o, err)
	}
	wantExecuted(t, h, req.ClientOrderID, q)
}

func scDropped(t *testing.T, h Harness) {
	px := through(t, h, venues.Buy)
	q := lots(t, h, 1, px)
	req := ioc(idSeq("o"), h.Instrument(), venues.Buy, q, px)
	h.DropResponseAfterAccept(1)
	_, err := h.Venue().Place(cctx(t), req)
	wantClass(t, err, venues.Unknown)
	if o, err := h.Venue().Query(cctx(t), h.Instrument(), req.ClientOrderID); err != nil || !o.FilledQty.Equal(q) {
		t.Fatalf("query after a dropped answer: %+v %v", o, err)
	}
}

// streamed starts the adapter's stream, waits until the mock has it subscribed, and returns its events; the
// stream ends with the test.
func streamed(t *testing.T, h Harness) <-chan venues.Event {
	t.Helper()
	events := Stream(t, h.Venue(), 256)
	waitSubscribed(t, h)
	return events
}

// waitSubscribed waits until one private-stream connection of the mock is subscribed; the test fails if none is
// within 10 s (a bound on a broken stream, not a pace).
func waitSubscribed(t *testing.T, h Harness) {
	t.Helper()
	if err := h.WaitSubscribed(cctx(t), 1); err != nil {
		t.Fatalf("the private stream was not subscribed at the venue: %v", err)
	}
}

// Stream starts v's private stream with an event buffer of size buf and returns its events. When the test ends the
// stream's context is cancelled, and the test fails unless Stream then returns context.Canceled within 5 s.
func Stream(t testing.TB, v venues.Venue, buf int) <-chan venues.Event {
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan venues.Event, buf)
	done := make(chan error, 1)
	go func() { done <- v.Stream(ctx, events) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("stream ended with %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("stream did not end with its context")
		}
	})
	return events
}

// NextEvent reads events until one satisfies pred and returns it; the test fails if none arrives within timeout.
func NextEvent(t testing.TB, ch <-chan venues.Event, timeout time.Duration, pred func(venues.Event) bool) venues.Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-ch:
			if pred(ev) {
				return ev
			}
		case <-deadline:
			t.Fatal("timed out waiting for a stream event")
		}
	}
}

// fillOf places one IOC through the ask and returns the first fill the stream delivers for it; the test fails if
// none arrives within 10 s. The stream must be subscribed at the mock already (streamed, or WaitSubscribed after a
// reconnect), so the order's events cannot be missed.
func fillOf(t *testing.T, h Harness, events <-chan venues.Event, prefix string) venues.Fill {
	t.Helper()
	px := through(t, h, venues.Buy)
	id := idSeq(prefix)
	if _, err := h.Venue().Place(cctx(t), ioc(id, h.Instrument(), venues.Buy, lots(t, h, 1, px), px)); err != nil {
		t.Fatal(err)
	}
	ev := NextEvent(t, events, 10*time.Second, func(ev venues.Event) bool {
		return ev.Fill != nil && ev.Fill.ClientOrderID == id
	})
	return *ev.Fill
}

func scStreamFills(t *testing.T, h Harness) {
	events := streamed(t, h)
	f := fillOf(t, h, events, "w")
	if f.TradeID == "" || f.Instrument != h.Instrument() || f.Side != venues.Buy || !f.Quantity.IsPositive() ||
		!f.Price.IsPositive() || f.Fee.IsNegative() || f.Venue != h.Venue().Name() {
		t.Fatalf("fill %+v", f)
	}
	got, _ := h.Executed(f.ClientOrderID)
	if f.Quantity.GreaterThan(got) {
		t.Fatalf("fill of %s above what the venue executed (%s)", f.Quantity, got)
	}
}

func scStreamReconnect(t *testing.T, h Harness) {
	events := streamed(t, h)
	fillOf(t, h, events, "y")
	h.DropStreams()
	deadline := time.After(10 * time.Second)
	for reconnected := false; !reconnected; {
		select {
		case ev := <-events:
			reconnected = ev.Reconnected
		case <-deadline:
			t.Fatal("no Reconnected event after the stream was dropped")
		}
	}
	waitSubscribed(t, h) // Reconnected follows the adapter's own open; this is the venue's side of it
	fillOf(t, h, events, "z")
}

func scPositions(t *testing.T, h Harness) {
	r := rules(t, h)
	h.SetPosition(r.LotSize.Mul(decimal.NewFromInt(-300)))
	px := through(t, h, venues.Buy)
	q := lots(t, h, 2, px)
	req := ioc(idSeq("n"), h.Instrument(), venues.Buy, q, px)
	req.ReduceOnly = true
	if _, err := h.Venue().Place(cctx(t), req); err != nil {
		t.Fatal(err)
	}
	ps, err := h.Venue().Positions(cctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := r.LotSize.Mul(decimal.NewFromInt(-300)).Add(q)
	for _, p := range ps {
		if p.Instrument == h.Instrument() {
			if !p.Quantity.Equal(want) || !p.MarkPrice.IsPositive() || p.Venue != h.Venue().Name() {
				t.Fatalf("position %+v, want %s", p, want)
			}
			return
		}
	}
	t.Fatalf("no %s position in %+v", h.Instrument(), ps)
}

// scOrderFills: an OrderFiller returns the fills of the one order asked for, by either of its ids or both, and
// none of another order's on the same account.
func scOrderFills(t *testing.T, h Harness) {
	of, ok := h.Venue().(venues.OrderFiller)
	if !ok {
		t.Skip("not a venues.OrderFiller")
	}
	px := through(t, h, venues.Buy)
	var orders []venues.Order
	for i, n := range []int64{2, 3} {
		o, err := h.Venue().Place(cctx(t), ioc(idSeq(fmt.Sprint("g", i)), h.Instrument(), venues.Buy, lots(t, h, n, px), px))
		if err != nil {
			t.Fatal(err)
		}
		if !o.FilledQty.IsPositive() || o.VenueOrderID == "" {
			t.Fatalf("order %+v: want a fill and a venue order id", o)
		}
		orders = append(orders, o)
	}
	trades := map[string]string{} // trade id → client order id
	for _, o := range orders {
		executed, _ := h.Executed(o.ClientOrderID)
		for _, ids := range [][2]string{{o.ClientOrderID, o.VenueOrderID}, {o.ClientOrderID, ""}, {"", o.VenueOrderID}} {
			fills, err := of.OrderFills(cctx(t), h.Instrument(), ids[0], ids[1], 0)
			if err != nil {
				t.Fatalf("order fills of %q/%q: %v", ids[0], ids[1], err)
			}
			sum := decimal.Zero
			for _, f := range fills {
				if f.ClientOrderID != o.ClientOrderID || f.VenueOrderID != o.VenueOrderID || f.TradeID == "" ||
					f.Venue != h.Venue().Name() || f.Instrument != h.Instrument() || f.Side != venues.Buy {
					t.Fatalf("order fills of %q/%q: fill %+v", ids[0], ids[1], f)
				}
				if other, seen := trades[f.TradeID]; seen && other != o.ClientOrderID {
					t.Fatalf("trade %s reported for %s and %s", f.TradeID, other, o.ClientOrderID)
				}
				trades[f.TradeID] = o.ClientOrderID
				sum = sum.Add(f.Quantity)
			}
			if !sum.Equal(executed) || !sum.Equal(o.FilledQty) {
				t.Fatalf("order fills of %q/%q sum to %s; the venue executed %s", ids[0], ids[1], sum, executed)
			}
		}
	}
}

// amender is the venue as a venues.Amender; the scenario is skipped for an adapter that is not one.
func amender(t *testing.T, h Harness) venues.Amender {
	am, ok := h.Venue().(venues.Amender)
	if !ok {
		t.Skip("not a venues.Amender")
	}
	return am
}

// placeResting places a GTC buy 5% under the bid, checks it rests, and cancels it when the test ends.
func placeResting(t *testing.T, h Harness, prefix string) venues.OrderRequest {
	t.Helper()
	req := resting(t, h, prefix)
	o, err := h.Venue().Place(cctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status.Terminal() {
		t.Fatalf("a GTC far from the touch should rest: %+v", o)
	}
	t.Cleanup(func() { _, _ = h.Venue().Cancel(context.Background(), h.Instrument(), req.ClientOrderID) })
	return req
}

// wantAmended checks the order the amendment returned, and the same order as Query and OpenOrders report it.
func wantAmended(t *testing.T, h Harness, o venues.Order, req venues.OrderRequest, qty, price decimal.Decimal) {
	t.Helper()
	check := func(what string, o venues.Order) {
		t.Helper()
		if o.ClientOrderID != req.ClientOrderID || o.Side != req.Side || o.Type != venues.Limit || o.TimeInForce != venues.GTC ||
			!o.Quantity.Equal(qty) || !o.Price.Equal(price) || o.Status != venues.StatusNew || !o.FilledQty.IsZero() {
			t.Fatalf("%s: %+v, want %s at %s resting", what, o, qty, price)
		}
	}
	check("amended", o)
	q, err := h.Venue().Query(cctx(t), h.Instrument(), req.ClientOrderID)
	if err != nil {
		t.Fatal(err)
	}
	check("queried", q)
	open, err := h.Venue().OpenOrders(cctx(t), h.Instrument())
	if err != nil {
		t.Fatal(err)
	}
	for _, oo := range open {
		if oo.ClientOrderID == req.ClientOrderID {
			check("open", oo)
			return
		}
	}
	t.Fatalf("%s not among the open orders %+v", req.ClientOrderID, open)
}

// scAmendPrice: a resting order moved to another price that does not cross keeps its id and quantity and rests
// there.
func scAmendPrice(t *testing.T, h Harness) {
	am := amender(t, h)
	req := placeResting(t, h, "ap")
	px := req.Price.Sub(rules(t, h).TickSize.Mul(decimal.NewFromInt(10)))
	o, err := am.Amend(cctx(t), venues.AmendRequest{Instrument: h.Instrument(), ClientOrderID: req.ClientOrderID, Price: px})
	if err != nil {
		t.Fatal(err)
	}
	wantAmended(t, h, o, req, req.Quantity, px)
	wantExecuted(t, h, req.ClientOrderID, decimal.Zero)
}

// scAmendQuantity: a resting order's quantity raised, then lowered, at an unchanged price.
func scAmendQuantity(t *testing.T, h Harness) {
	am := amender(t, h)
	req := placeResting(t, h, "aq")
	lot := rules(t, h).LotSize
	for _, qty := range []decimal.Decimal{req.Quantity.Add(lot.Mul(decimal.NewFromInt(3))), req.Quantity.Add(lot)} {
		o, err := am.Amend(cctx(t), venues.AmendRequest{Instrument: h.Instrument(), ClientOrderID: req.ClientOrderID, Quantity: qty})
		if err != nil {
			t.Fatalf("amend to %s: %v", qty, err)
		}
		wantAmended(t, h, o, req, qty, req.Price)
	}
}

// scAmendCrossing: a resting buy repriced through the ask takes liquidity at once.
func scAmendCrossing(t *testing.T, h Harness) {
	am := amender(t, h)
	req := placeResting(t, h, "ax")
	o, err := am.Amend(cctx(t), venues.AmendRequest{Instrument: h.Instrument(), ClientOrderID: req.ClientOrderID,
		Price: through(t, h, venues.Buy)})
	if err != nil {
		t.Fatal(err)
	}
	if !o.FilledQty.IsPositive() {
		t.Fatalf("a buy repriced through the ask should execute: %+v", o)
	}
	q, err := h.Venue().Query(cctx(t), h.Instrument(), req.ClientOrderID)
	if err != nil {
		t.Fatal(err)
	}
	wantExecuted(t, h, req.ClientOrderID, q.FilledQty)
}

// scAmendFilled: an amendment of a filled order is Rejected, and is not a not-found (the order exists).
func scAmendFilled(t *testing.T, h Harness) {
	am := amender(t, h)
	px := through(t, h, venues.Buy)
	q := lots(t, h, 1, px)
	id := idSeq("af")
	if o, err := h.Venue().Place(cctx(t), ioc(id, h.Instrument(), venues.Buy, q, px)); err != nil || o.Status != venues.StatusFilled {
		t.Fatalf("place: %+v %v", o, err)
	}
	_, err := am.Amend(cctx(t), venues.AmendRequest{Instrument: h.Instrument(), ClientOrderID: id,
		Price: px.Add(rules(t, h).TickSize)})
	wantClass(t, err, venues.Rejected)
	if venues.IsNotFound(err) {
		t.Fatalf("a filled order exists: %v", err)
	}
	wantExecuted(t, h, id, q)
}

// scAmendUnknown: an amendment of an order the venue does not know is Rejected and wraps venues.ErrNotFound.
func scAmendUnknown(t *testing.T, h Harness) {
	am := amender(t, h)
	b, _ := h.Bid()
	px := rules(t, h).PriceFloor(b.Mul(decimal.RequireFromString("0.95")))
	_, err := am.Amend(cctx(t), venues.AmendRequest{Instrument: h.Instrument(), ClientOrderID: "ctneverplaced3", Price: px})
	wantClass(t, err, venues.Rejected)
	if !venues.IsNotFound(err) {
		t.Fatalf("want a not-found error, got %v", err)
	}
}

// scAmendStream: the private stream reports the amended order, at its new price and still working.
func scAmendStream(t *testing.T, h Harness) {
	am := amender(t, h)
	events := streamed(t, h)
	fillOf(t, h, events, "as") // the stream delivers
	req := placeResting(t, h, "as")
	px := req.Price.Sub(rules(t, h).TickSize.Mul(decimal.NewFromInt(10)))
	if _, err := am.Amend(cctx(t), venues.AmendRequest{Instrument: h.Instrument(), ClientOrderID: req.ClientOrderID, Price: px}); err != nil {
		t.Fatal(err)
	}
	NextEvent(t, events, 10*time.Second, func(ev venues.Event) bool {
		return ev.Order != nil && ev.Order.ClientOrderID == req.ClientOrderID && ev.Order.Price.Equal(px) &&
			ev.Order.Status == venues.StatusNew && ev.Order.Quantity.Equal(req.Quantity)
	})
}
