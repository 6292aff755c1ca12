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
	// FillBeforeNextChange arms a fill that races the adapter: just before the venue handles its next cancel or
	// amend request, the market takes qty (zero: all that is left) of the resting order with client id clientID,
	// that order the maker, at its price. The adapter's request then meets the order filled or partly filled.
	FillBeforeNextChange(clientID string, qty decimal.Decimal)
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
		{"post-only-rests-and-cancels", scPostOnlyRests},
		{"post-only-crossing-not-executed", scPostOnlyCrossing},
		{"post-only-stream", scPostOnlyStream},
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
		{"amend-price-post-only", scAmendPricePostOnly},
		{"amend-quantity-post-only", scAmendQuantityPostOnly},
		{"amend-post-only-crossing-not-executed", scAmendPostOnlyCrossing},
		{"fill-races-cancel", scFillRacesCancel},
		{"partial-fill-races-cancel", scPartialFillRacesCancel},
		{"fill-races-amend", scFillRacesAmend},
		{"partial-fill-races-amend", scPartialFillRacesAmend},
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
	return restingTIF(t, h, prefix, venues.GTC, 0)
}

// restingTIF is a limit buy 5% under the bid with time in force tif, which rests: the venue's smallest order plus
// extra lots.
func restingTIF(t *testing.T, h Harness, prefix string, tif venues.TimeInForce, extra int64) venues.OrderRequest {
	b, _ := h.Bid()
	r := rules(t, h)
	px := r.PriceFloor(b.Mul(decimal.RequireFromString("0.95")))
	req := ioc(idSeq(prefix), h.Instrument(), venues.Buy, lots(t, h, 1, px).Add(r.LotSize.Mul(decimal.NewFromInt(extra))), px)
	req.TimeInForce = tif
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
	return placeRestingTIF(t, h, prefix, venues.GTC, 0)
}

// placeRestingTIF places restingTIF's order, checks it rests with its time in force, and cancels it when the test
// ends.
func placeRestingTIF(t *testing.T, h Harness, prefix string, tif venues.TimeInForce, extra int64) venues.OrderRequest {
	t.Helper()
	req := restingTIF(t, h, prefix, tif, extra)
	o, err := h.Venue().Place(cctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status.Terminal() || o.TimeInForce != tif || !o.FilledQty.IsZero() {
		t.Fatalf("a %s buy far from the touch should rest: %+v", tif, o)
	}
	t.Cleanup(func() { _, _ = h.Venue().Cancel(context.Background(), h.Instrument(), req.ClientOrderID) })
	return req
}

// wantAmended checks the order the amendment returned, and the same order as Query and OpenOrders report it.
func wantAmended(t *testing.T, h Harness, o venues.Order, req venues.OrderRequest, qty, price decimal.Decimal) {
	t.Helper()
	check := func(what string, o venues.Order) {
		t.Helper()
		if o.ClientOrderID != req.ClientOrderID || o.Side != req.Side || o.Type != venues.Limit || o.TimeInForce != req.TimeInForce ||
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
func scAmendPrice(t *testing.T, h Harness) { amendPrice(t, h, venues.GTC, "ap") }

// scAmendPricePostOnly: scAmendPrice for a post-only order, which stays post-only.
func scAmendPricePostOnly(t *testing.T, h Harness) { amendPrice(t, h, venues.PostOnly, "bp") }

func amendPrice(t *testing.T, h Harness, tif venues.TimeInForce, prefix string) {
	am := amender(t, h)
	req := placeRestingTIF(t, h, prefix, tif, 0)
	px := req.Price.Sub(rules(t, h).TickSize.Mul(decimal.NewFromInt(10)))
	o, err := am.Amend(cctx(t), venues.AmendRequest{Instrument: h.Instrument(), ClientOrderID: req.ClientOrderID, Price: px})
	if err != nil {
		t.Fatal(err)
	}
	wantAmended(t, h, o, req, req.Quantity, px)
	wantExecuted(t, h, req.ClientOrderID, decimal.Zero)
}

// scAmendQuantity: a resting order's quantity raised, then lowered, at an unchanged price.
func scAmendQuantity(t *testing.T, h Harness) { amendQuantity(t, h, venues.GTC, "aq") }

// scAmendQuantityPostOnly: scAmendQuantity for a post-only order, which stays post-only.
func scAmendQuantityPostOnly(t *testing.T, h Harness) { amendQuantity(t, h, venues.PostOnly, "bq") }

func amendQuantity(t *testing.T, h Harness, tif venues.TimeInForce, prefix string) {
	am := amender(t, h)
	req := placeRestingTIF(t, h, prefix, tif, 0)
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

func postOnly(id, inst string, side venues.Side, qty, price decimal.Decimal) venues.OrderRequest {
	req := ioc(id, inst, side, qty, price)
	req.TimeInForce = venues.PostOnly
	return req
}

// scPostOnlyRests: post-only orders that do not cross — a buy 5% under the bid, a buy at the bid, a sell at the ask —
// rest as post-only, show as such among the open orders and by query, and cancel; nothing executes.
func scPostOnlyRests(t *testing.T, h Harness) {
	r := rules(t, h)
	b, _ := h.Bid()
	a, _ := h.Ask()
	far := r.PriceFloor(b.Mul(decimal.RequireFromString("0.95")))
	reqs := []venues.OrderRequest{
		postOnly(idSeq("pa"), h.Instrument(), venues.Buy, lots(t, h, 1, far), far),
		postOnly(idSeq("pb"), h.Instrument(), venues.Buy, lots(t, h, 1, b), b),
		postOnly(idSeq("pc"), h.Instrument(), venues.Sell, lots(t, h, 1, a), a),
	}
	resting := func(what string, o venues.Order, req venues.OrderRequest) {
		t.Helper()
		if o.ClientOrderID != req.ClientOrderID || o.Side != req.Side || o.Type != venues.Limit ||
			o.TimeInForce != venues.PostOnly || o.Status != venues.StatusNew || !o.FilledQty.IsZero() ||
			!o.Price.Equal(req.Price) || !o.Quantity.Equal(req.Quantity) {
			t.Fatalf("%s: %+v, want a resting post-only %s of %s at %s", what, o, req.Side, req.Quantity, req.Price)
		}
	}
	for _, req := range reqs {
		o, err := h.Venue().Place(cctx(t), req)
		if err != nil {
			t.Fatalf("post-only %s at %s: %v", req.Side, req.Price, err)
		}
		resting("placed", o, req)
		q, err := h.Venue().Query(cctx(t), h.Instrument(), req.ClientOrderID)
		if err != nil {
			t.Fatal(err)
		}
		resting("queried", q, req)
	}
	open, err := h.Venue().OpenOrders(cctx(t), h.Instrument())
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range reqs {
		found := false
		for _, o := range open {
			if o.ClientOrderID == req.ClientOrderID {
				resting("open", o, req)
				found = true
			}
		}
		if !found {
			t.Fatalf("%s not among the open orders %+v", req.ClientOrderID, open)
		}
	}
	for _, req := range reqs {
		c, err := h.Venue().Cancel(cctx(t), h.Instrument(), req.ClientOrderID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != venues.StatusCanceled || !c.FilledQty.IsZero() || c.TimeInForce != venues.PostOnly {
			t.Fatalf("cancelled post-only order %+v", c)
		}
		wantExecuted(t, h, req.ClientOrderID, decimal.Zero)
	}
}

// scPostOnlyCrossing: post-only orders that would take liquidity — a buy at the ask, a buy through it, a sell at the
// bid — never execute, whichever way the venue says so: a refusal, a Rejected error that is not a not-found (Binance,
// -5022: it keeps no record, a query finds nothing or an ended order), or an order the venue accepted and then
// ended, reported with no error as StatusRejected, post-only, nothing filled (Bybit, OKX), which a query confirms.
// None of them is left open, and the venue's record shows nothing executed.
func scPostOnlyCrossing(t *testing.T, h Harness) {
	a, _ := h.Ask()
	b, _ := h.Bid()
	through := through(t, h, venues.Buy)
	reqs := []venues.OrderRequest{
		postOnly(idSeq("ka"), h.Instrument(), venues.Buy, lots(t, h, 1, a), a),
		postOnly(idSeq("kb"), h.Instrument(), venues.Buy, lots(t, h, 1, through), through),
		postOnly(idSeq("kc"), h.Instrument(), venues.Sell, lots(t, h, 1, b), b),
	}
	for _, req := range reqs {
		o, err := h.Venue().Place(cctx(t), req)
		if err != nil {
			wantClass(t, err, venues.Rejected)
			if venues.IsNotFound(err) {
				t.Fatalf("a refused post-only order is not a not-found: %v", err)
			}
			q, qerr := h.Venue().Query(cctx(t), h.Instrument(), req.ClientOrderID)
			if qerr == nil && (!q.Status.Terminal() || !q.FilledQty.IsZero()) || qerr != nil && !venues.IsNotFound(qerr) {
				t.Fatalf("after the refusal the venue has %+v %v", q, qerr)
			}
		} else {
			if o.Status != venues.StatusRejected || !o.FilledQty.IsZero() || o.TimeInForce != venues.PostOnly ||
				o.ClientOrderID != req.ClientOrderID {
				t.Fatalf("post-only %s at %s: %+v, want it ended (StatusRejected) with nothing filled", req.Side, req.Price, o)
			}
			q, err := h.Venue().Query(cctx(t), h.Instrument(), req.ClientOrderID)
			if err != nil || q.Status != venues.StatusRejected || !q.FilledQty.IsZero() {
				t.Fatalf("queried %+v %v", q, err)
			}
		}
		wantExecuted(t, h, req.ClientOrderID, decimal.Zero)
	}
	open, err := h.Venue().OpenOrders(cctx(t), h.Instrument())
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range reqs {
		if containsID(open, req.ClientOrderID) {
			t.Fatalf("%s left open: %+v", req.ClientOrderID, open)
		}
	}
}

// scAmendPostOnlyCrossing: a resting post-only buy repriced through the ask never executes, whichever way the venue
// handles it: the amendment refused (Rejected, not a not-found; OKX 51511) with the order resting as it was, or the
// order ended by it with nothing filled (Binance cancels it; Bybit, as its mock has it, too).
func scAmendPostOnlyCrossing(t *testing.T, h Harness) {
	am := amender(t, h)
	req := placeRestingTIF(t, h, "ac", venues.PostOnly, 0)
	o, err := am.Amend(cctx(t), venues.AmendRequest{Instrument: h.Instrument(), ClientOrderID: req.ClientOrderID,
		Price: through(t, h, venues.Buy)})
	q, qerr := h.Venue().Query(cctx(t), h.Instrument(), req.ClientOrderID)
	if qerr != nil {
		t.Fatal(qerr)
	}
	if err != nil {
		wantClass(t, err, venues.Rejected)
		if venues.IsNotFound(err) {
			t.Fatalf("the order exists: %v", err)
		}
		if q.Status != venues.StatusNew || !q.Price.Equal(req.Price) || !q.FilledQty.IsZero() || q.TimeInForce != venues.PostOnly {
			t.Fatalf("after a refused amendment the order must rest as it was: %+v", q)
		}
	} else {
		if !o.Status.Terminal() || !o.FilledQty.IsZero() || !q.Status.Terminal() || !q.FilledQty.IsZero() {
			t.Fatalf("an accepted crossing amendment must end the post-only order unfilled: %+v, queried %+v", o, q)
		}
	}
	wantExecuted(t, h, req.ClientOrderID, decimal.Zero)
}

// wantEnded checks an order as the adapter reports it after a race: its status, how much filled, at what price.
func wantEnded(t *testing.T, what string, o venues.Order, req venues.OrderRequest, status venues.OrderStatus, filled, price decimal.Decimal) {
	t.Helper()
	if o.ClientOrderID != req.ClientOrderID || o.Status != status || !o.FilledQty.Equal(filled) ||
		!o.Quantity.Equal(req.Quantity) || !o.Price.Equal(price) || o.TimeInForce != req.TimeInForce ||
		filled.IsPositive() && !o.AvgPrice.Equal(req.Price) {
		t.Fatalf("%s: %+v, want %s with %s filled at %s, limit %s", what, o, status, filled, req.Price, price)
	}
}

// scFillRacesCancel: the market fills a resting order (GTC, then post-only) just as the cancel reaches the venue. The
// cancel cannot undo the fill: with no error (the venue's "unknown order" or "too late" answer resolved by a query)
// the adapter reports the order as it really ended, filled in full at its price, and so does a query and the
// venue's record.
func scFillRacesCancel(t *testing.T, h Harness) {
	for _, tif := range []venues.TimeInForce{venues.GTC, venues.PostOnly} {
		req := placeRestingTIF(t, h, "fc", tif, 0)
		h.FillBeforeNextChange(req.ClientOrderID, decimal.Zero)
		o, err := h.Venue().Cancel(cctx(t), h.Instrument(), req.ClientOrderID)
		if err != nil {
			t.Fatalf("cancel of a %s order filled as it arrived: %v", tif, err)
		}
		wantEnded(t, "cancelled", o, req, venues.StatusFilled, req.Quantity, req.Price)
		q, err := h.Venue().Query(cctx(t), h.Instrument(), req.ClientOrderID)
		if err != nil {
			t.Fatal(err)
		}
		wantEnded(t, "queried", q, req, venues.StatusFilled, req.Quantity, req.Price)
		wantExecuted(t, h, req.ClientOrderID, req.Quantity)
	}
}

// scPartialFillRacesCancel: the market takes one lot of a resting order just as the cancel reaches the venue; the
// cancel ends the rest, and the adapter reports the order cancelled with that lot filled.
func scPartialFillRacesCancel(t *testing.T, h Harness) {
	lot := rules(t, h).LotSize
	for _, tif := range []venues.TimeInForce{venues.GTC, venues.PostOnly} {
		req := placeRestingTIF(t, h, "gc", tif, 2)
		h.FillBeforeNextChange(req.ClientOrderID, lot)
		o, err := h.Venue().Cancel(cctx(t), h.Instrument(), req.ClientOrderID)
		if err != nil {
			t.Fatal(err)
		}
		wantEnded(t, "cancelled", o, req, venues.StatusCanceled, lot, req.Price)
		q, err := h.Venue().Query(cctx(t), h.Instrument(), req.ClientOrderID)
		if err != nil {
			t.Fatal(err)
		}
		wantEnded(t, "queried", q, req, venues.StatusCanceled, lot, req.Price)
		wantExecuted(t, h, req.ClientOrderID, lot)
	}
}

// scFillRacesAmend: the market fills a resting order (GTC, then post-only) just as an amendment of its price
// reaches the venue. The amendment is Rejected — too late, the order has ended; not a not-found, it exists — and the
// order is reported as it really ended, filled in full at its old price, by query and by the venue's record.
func scFillRacesAmend(t *testing.T, h Harness) {
	am := amender(t, h)
	tick := rules(t, h).TickSize
	for _, tif := range []venues.TimeInForce{venues.GTC, venues.PostOnly} {
		req := placeRestingTIF(t, h, "fa", tif, 0)
		h.FillBeforeNextChange(req.ClientOrderID, decimal.Zero)
		_, err := am.Amend(cctx(t), venues.AmendRequest{Instrument: h.Instrument(), ClientOrderID: req.ClientOrderID,
			Price: req.Price.Sub(tick.Mul(decimal.NewFromInt(10)))})
		wantClass(t, err, venues.Rejected)
		if venues.IsNotFound(err) {
			t.Fatalf("a filled order exists: %v", err)
		}
		q, err := h.Venue().Query(cctx(t), h.Instrument(), req.ClientOrderID)
		if err != nil {
			t.Fatal(err)
		}
		wantEnded(t, "queried", q, req, venues.StatusFilled, req.Quantity, req.Price)
		wantExecuted(t, h, req.ClientOrderID, req.Quantity)
	}
}

// scPartialFillRacesAmend: the market takes one lot of a resting order just as an amendment of its price reaches the
// venue; the amendment applies to what is left, and the order comes back partly filled (the lot at the old price),
// working at the new price.
func scPartialFillRacesAmend(t *testing.T, h Harness) {
	am := amender(t, h)
	r := rules(t, h)
	for _, tif := range []venues.TimeInForce{venues.GTC, venues.PostOnly} {
		req := placeRestingTIF(t, h, "ga", tif, 2)
		px := req.Price.Sub(r.TickSize.Mul(decimal.NewFromInt(10)))
		h.FillBeforeNextChange(req.ClientOrderID, r.LotSize)
		o, err := am.Amend(cctx(t), venues.AmendRequest{Instrument: h.Instrument(), ClientOrderID: req.ClientOrderID,
			Price: px})
		if err != nil {
			t.Fatalf("amend of a partly filled %s order: %v", tif, err)
		}
		wantEnded(t, "amended", o, req, venues.StatusPartiallyFilled, r.LotSize, px)
		q, err := h.Venue().Query(cctx(t), h.Instrument(), req.ClientOrderID)
		if err != nil {
			t.Fatal(err)
		}
		wantEnded(t, "queried", q, req, venues.StatusPartiallyFilled, r.LotSize, px)
		wantExecuted(t, h, req.ClientOrderID, r.LotSize)
	}
}

// scPostOnlyStream: the private stream reports post-only orders as such: one that rests (new, then cancelled), and
// one that would cross, when the venue accepted it rather than refusing the request (ended, StatusRejected, nothing
// filled).
func scPostOnlyStream(t *testing.T, h Harness) {
	events := streamed(t, h)
	fillOf(t, h, events, "ps") // the stream delivers
	event := func(id string, status venues.OrderStatus) {
		t.Helper()
		NextEvent(t, events, 10*time.Second, func(ev venues.Event) bool {
			return ev.Order != nil && ev.Order.ClientOrderID == id && ev.Order.Status == status &&
				ev.Order.TimeInForce == venues.PostOnly && ev.Order.FilledQty.IsZero()
		})
	}
	rest := restingTIF(t, h, "ps", venues.PostOnly, 0)
	if _, err := h.Venue().Place(cctx(t), rest); err != nil {
		t.Fatal(err)
	}
	event(rest.ClientOrderID, venues.StatusNew)
	a, _ := h.Ask()
	cross := postOnly(idSeq("ps"), h.Instrument(), venues.Buy, lots(t, h, 1, a), a)
	if _, err := h.Venue().Place(cctx(t), cross); err == nil {
		event(cross.ClientOrderID, venues.StatusRejected)
	} else {
		wantClass(t, err, venues.Rejected)
	}
	if _, err := h.Venue().Cancel(cctx(t), h.Instrument(), rest.ClientOrderID); err != nil {
		t.Fatal(err)
	}
	event(rest.ClientOrderID, venues.StatusCanceled)
}
