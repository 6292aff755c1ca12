package bybit

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	mock "github.com/execd-dev/execd/mocks/bybit"
	"github.com/execd-dev/execd/mocks/market"
	"github.com/execd-dev/execd/secret"
	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/venuetesting"
	"github.com/execd-dev/execd/venues/venuetest"
)

const (
	inst    = venuetesting.Instrument
	testKey = "bybit-test-key"
	testSec = "bybit-test-secret-value"
)

type fixture struct {
	srv  *mock.Server
	book *market.Venue
	ad   *Adapter
	sent *venuetesting.Counter // the requests ad sent
}

var (
	d       = venuetesting.D
	ioc     = venuetesting.IOC
	wantErr = venuetesting.WantErrCode
)

// newFixture is the mock on a market with the one venue "c" (taker 5.5 bps), rate limits off.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	m := venuetesting.Market{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Volume24h: 100000,
		Venues: []market.VenueConfig{venuetesting.Venue("c", 1, 5.5, 2, "0.1", "0.001")}}.New(t)
	book := venuetesting.Book(t, m, "c")
	srv, err := mock.New(mock.Config{Name: "c", Book: book, TakerFeeBps: 5.5, MakerFeeBps: 2, APIKey: testKey,
		APISecret: testSec, Clock: m.Clock(), DisableRateLimits: true})
	srv = venuetesting.Serve(t, srv, err)
	sent := &venuetesting.Counter{}
	return &fixture{srv: srv, book: book, ad: newAdapterWith(t, srv, testSec, sent.Client()), sent: sent}
}

func newAdapter(t *testing.T, srv *mock.Server, sec string) *Adapter {
	return newAdapterWith(t, srv, sec, nil)
}

func newAdapterWith(t *testing.T, srv *mock.Server, sec string, hc *http.Client) *Adapter {
	t.Helper()
	ad, err := New(Config{Name: "c", BaseURL: srv.URL(), WSURL: srv.WSURL(), APIKey: testKey, Secret: secret.New(sec),
		HTTPClient: hc})
	return venuetesting.Must(t, ad, err)
}

// aggressive is a limit price that crosses the book by 1% on side.
func (f *fixture) aggressive(t *testing.T, side venues.Side) decimal.Decimal {
	r, err := f.ad.Rules(context.Background(), inst)
	if err != nil {
		t.Fatal(err)
	}
	q := f.book.Quote()
	if side == venues.Buy {
		return r.PriceCeil(q.Ask.Mul(d("1.01")))
	}
	return r.PriceFloor(q.Bid.Mul(d("0.99")))
}

func TestRules(t *testing.T) {
	f := newFixture(t)
	r, err := f.ad.Rules(context.Background(), inst)
	if err != nil {
		t.Fatal(err)
	}
	if r.Symbol != "BTCUSDT" || !r.TickSize.Equal(d("0.1")) || !r.LotSize.Equal(d("0.001")) || !r.MinQty.Equal(d("0.001")) ||
		!r.MaxQty.Equal(d("1190")) || !r.MinNotional.Equal(d("5")) {
		t.Fatalf("rules %+v", r)
	}
	if _, err := f.ad.Rules(context.Background(), "ETH-USDT-PERP"); venues.ClassOf(err) != venues.Rejected {
		t.Fatalf("unlisted instrument: %v", err)
	}
	st, err := f.ad.Stats(context.Background(), inst)
	if err != nil || !st.MarkPrice.IsPositive() || st.Volume24h.IsNegative() {
		t.Fatalf("stats %+v %v", st, err)
	}
	if next := f.book.Quote().NextFunding; !st.NextFunding.Equal(next) || next.IsZero() {
		t.Fatalf("next funding %v, the venue's %v", st.NextFunding, next)
	}
}

func TestPlaceIOCFullFill(t *testing.T) {
	f := newFixture(t)
	o, err := f.ad.Place(context.Background(), ioc("iocfull1", venues.Buy, d("0.01"), f.aggressive(t, venues.Buy)))
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != venues.StatusFilled || !o.FilledQty.Equal(d("0.01")) || !o.AvgPrice.IsPositive() || o.ClientOrderID != "iocfull1" {
		t.Fatalf("order %+v", o)
	}
	if p := f.srv.Position("BTCUSDT"); !p.Equal(d("0.01")) {
		t.Fatalf("position %s", p)
	}
}

func TestPartialFillIOCRemainder(t *testing.T) {
	f := newFixture(t)
	_, asks := f.book.Depth(1)
	if len(asks) == 0 {
		t.Fatal("no asks")
	}
	qty := asks[0].Qty.Add(d("0.5"))
	o, err := f.ad.Place(context.Background(), ioc("iocpart1", venues.Buy, qty, asks[0].Price))
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != venues.StatusExpired || !o.FilledQty.IsPositive() || !o.FilledQty.LessThan(qty) {
		t.Fatalf("order %+v (asked %s)", o, qty)
	}
	recs := f.srv.Orders()
	if last := recs[len(recs)-1]; last.OrderStatus != "Cancelled" || !last.CumExecQty.Equal(o.FilledQty) {
		t.Fatalf("venue record %+v", last)
	}
}

func TestGTCRestAndCancel(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, _ := f.ad.Rules(ctx, inst)
	px := r.PriceFloor(f.book.Quote().Bid.Mul(d("0.9")))
	o, err := f.ad.Place(ctx, venues.OrderRequest{ClientOrderID: "gtcrest1", Instrument: inst, Side: venues.Buy,
		Type: venues.Limit, TimeInForce: venues.GTC, Quantity: d("0.01"), Price: px})
	if err != nil || o.Status != venues.StatusNew {
		t.Fatalf("place %+v %v", o, err)
	}
	open, err := f.ad.OpenOrders(ctx, inst)
	if err != nil || len(open) != 1 || open[0].ClientOrderID != "gtcrest1" {
		t.Fatalf("open orders %+v %v", open, err)
	}
	c, err := f.ad.Cancel(ctx, inst, "gtcrest1")
	if err != nil || c.Status != venues.StatusCanceled {
		t.Fatalf("cancel %+v %v", c, err)
	}
	if open, _ := f.ad.OpenOrders(ctx, inst); len(open) != 0 {
		t.Fatalf("still open %+v", open)
	}
	// Cancelling again: the venue says 110001, the adapter returns the final state.
	if c, err := f.ad.Cancel(ctx, inst, "gtcrest1"); err != nil || c.Status != venues.StatusCanceled {
		t.Fatalf("second cancel %+v %v", c, err)
	}
	if _, err := f.ad.Cancel(ctx, inst, "neverplaced"); !venues.IsNotFound(err) {
		t.Fatalf("cancel unknown: %v", err)
	}
}

func TestQueryFoundAndNotFound(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.ad.Place(ctx, ioc("query1", venues.Sell, d("0.002"), f.aggressive(t, venues.Sell))); err != nil {
		t.Fatal(err)
	}
	o, err := f.ad.Query(ctx, inst, "query1")
	if err != nil || o.Side != venues.Sell || !o.Quantity.Equal(d("0.002")) {
		t.Fatalf("query %+v %v", o, err)
	}
	_, err = f.ad.Query(ctx, inst, "missing1")
	if !venues.IsNotFound(err) || venues.ClassOf(err) != venues.Rejected {
		t.Fatalf("query missing: %v", err)
	}
}

func TestRejections(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	px := f.aggressive(t, venues.Buy)
	if _, err := f.ad.Place(ctx, ioc("dup1", venues.Buy, d("0.001"), px)); err != nil {
		t.Fatal(err)
	}
	_, err := f.ad.Place(ctx, ioc("dup1", venues.Buy, d("0.001"), px))
	wantErr(t, err, venues.Rejected, "110072")

	f.srv.SetPosition("BTCUSDT", d("1"), d("10490"))
	ro := ioc("reduce1", venues.Buy, d("0.1"), px)
	ro.ReduceOnly = true
	_, err = f.ad.Place(ctx, ro)
	wantErr(t, err, venues.Rejected, "110017")

	_, err = f.ad.Place(ctx, venues.OrderRequest{ClientOrderID: "minval1", Instrument: inst, Side: venues.Buy,
		Type: venues.Limit, TimeInForce: venues.GTC, Quantity: d("0.001"), Price: d("1000")})
	wantErr(t, err, venues.Rejected, "110094")

	// Quantities the venue cannot express are refused before sending.
	_, err = f.ad.Place(ctx, ioc("offlot1", venues.Buy, d("0.0015"), px))
	wantErr(t, err, venues.Rejected, "")
	if n := len(f.srv.Orders()); n != 1 {
		t.Fatalf("venue has %d orders, want 1", n)
	}
}

func TestBadSignature(t *testing.T) {
	f := newFixture(t)
	bad := newAdapter(t, f.srv, "wrong-secret-xyz")
	_, err := bad.Place(context.Background(), ioc("badsig1", venues.Buy, d("0.001"), f.aggressive(t, venues.Buy)))
	wantErr(t, err, venues.Rejected, "10004")
	if strings.Contains(err.Error(), "wrong-secret-xyz") || strings.Contains(err.Error(), testKey) {
		t.Fatalf("secret in error: %v", err)
	}
}

func TestStaleTimestampRetryableThenResynced(t *testing.T) {
	f := newFixture(t)
	f.ad.offset.Store(60_000) // the local clock reads a minute behind... the venue sees a stale timestamp
	_, err := f.ad.Positions(context.Background())
	wantErr(t, err, venues.Retryable, "10002")
	if _, err := f.ad.Positions(context.Background()); err != nil {
		t.Fatalf("after resync: %v", err)
	}
}

func TestRateLimitRetryable(t *testing.T) {
	f := newFixture(t)
	px := f.aggressive(t, venues.Buy)
	f.srv.Faults().RateLimitNext(1)
	_, err := f.ad.Place(context.Background(), ioc("rl1", venues.Buy, d("0.001"), px))
	wantErr(t, err, venues.Retryable, "10006")
	if len(f.srv.Orders()) != 0 {
		t.Fatal("rate-limited order was executed")
	}
	if _, err := f.ad.Place(context.Background(), ioc("rl1", venues.Buy, d("0.001"), px)); err != nil {
		t.Fatalf("retry: %v", err)
	}
}

func TestFail5xxBeforeAcceptIsUnknownButAbsent(t *testing.T) {
	f := newFixture(t)
	px := f.aggressive(t, venues.Buy)
	f.srv.Faults().Fail5xxBeforeAccept(1)
	_, err := f.ad.Place(context.Background(), ioc("b5xx1", venues.Buy, d("0.001"), px))
	wantErr(t, err, venues.Unknown, "10016")
	if _, err := f.ad.Query(context.Background(), inst, "b5xx1"); !venues.IsNotFound(err) {
		t.Fatalf("query: %v", err)
	}
}

func TestFail5xxAfterAcceptIsUnknownAndOrderExists(t *testing.T) {
	f := newFixture(t)
	px := f.aggressive(t, venues.Buy)
	f.srv.Faults().Fail5xxAfterAccept(1)
	_, err := f.ad.Place(context.Background(), ioc("a5xx1", venues.Buy, d("0.001"), px))
	ve := wantErr(t, err, venues.Unknown, "10016")
	if ve.Status != 503 {
		t.Fatalf("status %d", ve.Status)
	}
	o, err := f.ad.Query(context.Background(), inst, "a5xx1")
	if err != nil || o.Status != venues.StatusFilled {
		t.Fatalf("resolve by query: %+v %v", o, err)
	}
}

func TestDropResponseAfterAcceptIsUnknown(t *testing.T) {
	f := newFixture(t)
	px := f.aggressive(t, venues.Buy)
	f.srv.Faults().DropResponseAfterAccept(1)
	_, err := f.ad.Place(context.Background(), ioc("drop1", venues.Buy, d("0.001"), px))
	wantErr(t, err, venues.Unknown, "")
	if _, err := f.ad.Query(context.Background(), inst, "drop1"); err != nil {
		t.Fatalf("order should exist: %v", err)
	}
}

func TestPositions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ps, err := f.ad.Positions(ctx)
	if err != nil || len(ps) != 0 {
		t.Fatalf("flat: %+v %v", ps, err)
	}
	f.srv.SetPosition("BTCUSDT", d("-1.5"), d("10500"))
	ps, err = f.ad.Positions(ctx)
	if err != nil || len(ps) != 1 || !ps[0].Quantity.Equal(d("-1.5")) || !ps[0].EntryPrice.Equal(d("10500")) ||
		ps[0].Instrument != inst {
		t.Fatalf("short: %+v %v", ps, err)
	}
}

// streamFixture starts Stream and returns the events channel and a channel signalled on every subscribe.
func streamFixture(t *testing.T, f *fixture) (<-chan venues.Event, <-chan struct{}) {
	t.Helper()
	subscribed := make(chan struct{}, 8)
	f.ad.subscribed = func() { subscribed <- struct{}{} }
	return venuetest.Stream(t, f.ad, 64), subscribed
}

func wait[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// nextFill reads events until a fill of clientID arrives; it reports whether a Reconnected event came first.
func nextFill(t *testing.T, out <-chan venues.Event, clientID string) (venues.Fill, bool) {
	t.Helper()
	reconnected := false
	for {
		ev := wait(t, out, "fill of "+clientID)
		if ev.Reconnected {
			reconnected = true
		}
		if ev.Fill != nil && ev.Fill.ClientOrderID == clientID {
			return *ev.Fill, reconnected
		}
	}
}

func TestStreamFills(t *testing.T) {
	f := newFixture(t)
	out, subscribed := streamFixture(t, f)
	wait(t, subscribed, "subscribe")
	if _, err := f.ad.Place(context.Background(), ioc("stream1", venues.Buy, d("0.003"), f.aggressive(t, venues.Buy))); err != nil {
		t.Fatal(err)
	}
	fill, _ := nextFill(t, out, "stream1")
	if fill.TradeID == "" || !fill.Quantity.IsPositive() || fill.Side != venues.Buy || fill.Venue != "c" ||
		fill.Instrument != inst || fill.FeeAsset != "USDT" || !fill.Fee.IsPositive() {
		t.Fatalf("fill %+v", fill)
	}
	fills, err := f.ad.Fills(context.Background(), inst, fill.Time.Add(-time.Second).UnixMilli()) // venue (simulated) time
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rf := range fills {
		found = found || rf.TradeID == fill.TradeID && rf.Quantity.Equal(fill.Quantity)
	}
	if !found {
		t.Fatalf("stream fill %s not in REST fills %+v", fill.TradeID, fills)
	}
}

func TestStreamReconnect(t *testing.T) {
	f := newFixture(t)
	out, subscribed := streamFixture(t, f)
	wait(t, subscribed, "first subscribe")
	f.srv.Faults().DropUserStreams()
	wait(t, subscribed, "resubscribe")
	if _, err := f.ad.Place(context.Background(), ioc("after1", venues.Sell, d("0.002"), f.aggressive(t, venues.Sell))); err != nil {
		t.Fatal(err)
	}
	if _, reconnected := nextFill(t, out, "after1"); !reconnected {
		t.Fatal("no Reconnected event before the later fill")
	}
}

func TestStreamBadCredentialsEnds(t *testing.T) {
	f := newFixture(t)
	bad := newAdapter(t, f.srv, "wrong-secret-xyz")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := bad.Stream(ctx, make(chan venues.Event, 1))
	if venues.ClassOf(err) != venues.Rejected || strings.Contains(err.Error(), "wrong-secret-xyz") {
		t.Fatalf("Stream with a bad secret: %v", err)
	}
}

func TestClassTable(t *testing.T) {
	venuetest.RunClassTable(t, "bybit", func(status int, code string) venues.Class {
		n := 0
		if code != "" {
			var err error
			if n, err = strconv.Atoi(code); err != nil {
				t.Fatalf("code %q", code)
			}
		}
		return Classify(status, n)
	})
}

// TestQuoteOneRequest: mark, bid and ask from one tickers request.
func TestQuoteOneRequest(t *testing.T) {
	f := newFixture(t)
	if _, err := f.ad.Rules(context.Background(), inst); err != nil {
		t.Fatal(err)
	}
	before := f.sent.Sent()
	q, err := f.ad.Quote(context.Background(), inst)
	if err != nil {
		t.Fatal(err)
	}
	want := f.book.Quote()
	if n := f.sent.Sent() - before; n != 1 {
		t.Fatalf("%d requests", n)
	}
	if q.Instrument != inst || !q.Mark.Equal(want.Mark.Round(2)) || !q.Bid.Equal(want.Bid) || !q.Ask.Equal(want.Ask) {
		t.Fatalf("quote %+v, book %+v", q, want)
	}
}

// TestAmendSemantics: Bybit refuses an amendment to no more than has filled (110064) and one that changes
// nothing (10001); an amendment of a cancelled order (110001) is resolved by query to a Rejected error that is not
// a not-found.
func TestAmendSemantics(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, asks := f.book.Depth(1)
	o, err := f.ad.Place(ctx, venues.OrderRequest{ClientOrderID: "amy1", Instrument: inst, Side: venues.Buy,
		Type: venues.Limit, TimeInForce: venues.GTC, Quantity: asks[0].Qty.Mul(d("3")), Price: asks[0].Price})
	if err != nil || o.Status != venues.StatusPartiallyFilled {
		t.Fatalf("place %+v %v", o, err)
	}
	_, err = f.ad.Amend(ctx, venues.AmendRequest{Instrument: inst, ClientOrderID: "amy1", Quantity: o.FilledQty})
	wantErr(t, err, venues.Rejected, "110064")
	_, err = f.ad.Amend(ctx, venues.AmendRequest{Instrument: inst, ClientOrderID: "amy1", Price: o.Price})
	wantErr(t, err, venues.Rejected, "10001")
	if q, err := f.ad.Query(ctx, inst, "amy1"); err != nil || !q.Quantity.Equal(o.Quantity) || q.Status != venues.StatusPartiallyFilled {
		t.Fatalf("a refused amendment changes nothing: %+v %v", q, err)
	}
	if _, err := f.ad.Cancel(ctx, inst, "amy1"); err != nil {
		t.Fatal(err)
	}
	_, err = f.ad.Amend(ctx, venues.AmendRequest{Instrument: inst, ClientOrderID: "amy1", Price: o.Price.Sub(d("1"))})
	if ve := wantErr(t, err, venues.Rejected, "110001"); venues.IsNotFound(ve) {
		t.Fatalf("a cancelled order exists: %v", err)
	}
}
