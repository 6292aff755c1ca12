package binance

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	mockbinance "github.com/execd-dev/execd/mocks/binance"
	"github.com/execd-dev/execd/mocks/market"
	"github.com/execd-dev/execd/secret"
	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/venuetesting"
	"github.com/execd-dev/execd/venues/venuetest"
)

const (
	inst   = venuetesting.Instrument
	key    = "test-key"
	secKey = "test-secret"
)

var (
	d       = venuetesting.D
	ctx     = venuetesting.Ctx
	wantErr = venuetesting.WantErr
	ioc     = venuetesting.IOC
)

// newMarket is a market with venues "a" and "b", 40 % and 60 % of the volume.
func newMarket(t *testing.T) *market.Market {
	return venuetesting.Market{Start: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), Volume24h: 200000,
		FundingRate8h: 0.0001, Venues: []market.VenueConfig{venuetesting.Venue("a", 0.4, 5, 2, "0.1", "0.001"),
			venuetesting.Venue("b", 0.6, 5, 2, "0.1", "0.001")}}.New(t)
}

type env struct {
	srv  *mockbinance.Server
	ad   *Adapter
	book *market.Venue
	sent *venuetesting.Counter // the requests ad sent
}

func newEnv(t *testing.T, m *market.Market, name string) env {
	t.Helper()
	book := venuetesting.Book(t, m, name)
	srv, err := mockbinance.New(mockbinance.Config{Name: name, Book: book, TakerFeeBps: 5, MakerFeeBps: 2,
		APIKey: key, APISecret: secKey, Clock: m.Clock()})
	srv = venuetesting.Serve(t, srv, err)
	sent := &venuetesting.Counter{}
	return env{srv: srv, ad: newAdapterWith(t, name, srv, secKey, sent.Client()), book: book, sent: sent}
}

func newAdapter(t *testing.T, name string, srv *mockbinance.Server, sec string) *Adapter {
	return newAdapterWith(t, name, srv, sec, nil)
}

func newAdapterWith(t *testing.T, name string, srv *mockbinance.Server, sec string, hc *http.Client) *Adapter {
	t.Helper()
	ad, err := New(Config{Name: name, BaseURL: srv.URL(), WSURL: srv.WSURL(), APIKey: key, Secret: secret.New(sec),
		HTTPClient: hc})
	return venuetesting.Must(t, ad, err)
}

func TestRules(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	r, err := e.ad.Rules(ctx(t), inst)
	if err != nil {
		t.Fatal(err)
	}
	if r.Symbol != "BTCUSDT" || !r.TickSize.Equal(d("0.1")) || !r.LotSize.Equal(d("0.001")) ||
		!r.MinQty.Equal(d("0.001")) || !r.MinNotional.Equal(d("100")) || !r.MaxQty.Equal(d("1000")) {
		t.Fatalf("rules %+v", r)
	}
	_, err = e.ad.Rules(ctx(t), "ETH-USDT-PERP")
	wantErr(t, err, venues.Rejected, "")
	st, err := e.ad.Stats(ctx(t), inst)
	if err != nil || !st.MarkPrice.IsPositive() || !st.FundingRate.Equal(d("0.0001")) {
		t.Fatalf("stats %+v %v", st, err)
	}
	if next := e.book.Quote().NextFunding; !st.NextFunding.Equal(next) || next.IsZero() {
		t.Fatalf("next funding %v, the venue's %v", st.NextFunding, next)
	}
}

func TestPlaceIOCFullFill(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	q := e.book.Quote()
	o, err := e.ad.Place(ctx(t), ioc("full1", venues.Buy, d("0.05"), q.Ask.Add(d("50"))))
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != venues.StatusFilled || !o.FilledQty.Equal(d("0.05")) || !o.AvgPrice.IsPositive() || o.ClientOrderID != "full1" {
		t.Fatalf("order %+v", o)
	}
	if p := e.srv.Position("BTCUSDT"); !p.Equal(d("0.05")) {
		t.Fatalf("position %s", p)
	}
	venuetesting.CheckFilledLong(t, e.ad, "full1", d("0.05"))
}

func TestPlaceIOCPartialFillExpires(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	_, asks := e.book.Depth(3)
	if len(asks) < 3 {
		t.Fatalf("depth %v", asks)
	}
	inside := asks[0].Qty.Add(asks[1].Qty)
	qty := inside.Add(asks[2].Qty)
	o, err := e.ad.Place(ctx(t), ioc("part1", venues.Buy, qty, asks[1].Price))
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != venues.StatusExpired || !o.FilledQty.Equal(inside) {
		t.Fatalf("want expired with %s filled, got %+v", inside, o)
	}
	q, err := e.ad.Query(ctx(t), inst, "part1")
	if err != nil || q.Status != venues.StatusExpired || !q.FilledQty.Equal(inside) {
		t.Fatalf("query %+v %v", q, err)
	}
}

func TestGTCRestAndCancel(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	price := e.book.Quote().Bid.Sub(d("100")).Truncate(1)
	req := venues.OrderRequest{ClientOrderID: "gtc1", Instrument: inst, Side: venues.Buy, Type: venues.Limit,
		TimeInForce: venues.GTC, Quantity: d("0.01"), Price: price}
	o, err := e.ad.Place(ctx(t), req)
	if err != nil || o.Status != venues.StatusNew {
		t.Fatalf("place %+v %v", o, err)
	}
	open, err := e.ad.OpenOrders(ctx(t), inst)
	if err != nil || len(open) != 1 || open[0].ClientOrderID != "gtc1" || !open[0].Price.Equal(price) {
		t.Fatalf("open %+v %v", open, err)
	}
	// Duplicate client id of an open order.
	_, err = e.ad.Place(ctx(t), req)
	wantErr(t, err, venues.Rejected, "-4116")

	c, err := e.ad.Cancel(ctx(t), inst, "gtc1")
	if err != nil || c.Status != venues.StatusCanceled {
		t.Fatalf("cancel %+v %v", c, err)
	}
	// Cancel again: -2011, resolved by query to the final state.
	c, err = e.ad.Cancel(ctx(t), inst, "gtc1")
	if err != nil || c.Status != venues.StatusCanceled {
		t.Fatalf("second cancel %+v %v", c, err)
	}
	_, err = e.ad.Cancel(ctx(t), inst, "nosuch")
	if !venues.IsNotFound(err) {
		t.Fatalf("cancel unknown: %v", err)
	}
}

func TestQueryNotFound(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	_, err := e.ad.Query(ctx(t), inst, "missing1")
	ve := wantErr(t, err, venues.Rejected, "-2013")
	if !venues.IsNotFound(ve) {
		t.Fatalf("not ErrNotFound: %v", err)
	}
}

func TestBadSignature(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	bad := newAdapter(t, "a", e.srv, "wrong-secret")
	_, err := bad.Place(ctx(t), ioc("sig1", venues.Buy, d("0.01"), e.book.Quote().Ask))
	ve := wantErr(t, err, venues.Rejected, "-1022")
	if ve.Status != 400 || strings.Contains(err.Error(), "signature=") || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("error %v", err)
	}
	if len(e.srv.Orders()) != 0 {
		t.Fatal("order accepted with a bad signature")
	}
	// A bad key cannot open a stream: Stream fails at once.
	wrongKey, err := New(Config{Name: "a", BaseURL: e.srv.URL(), WSURL: e.srv.WSURL(), APIKey: "other", Secret: secret.New(secKey)})
	if err != nil {
		t.Fatal(err)
	}
	err = wrongKey.Stream(ctx(t), make(chan venues.Event))
	wantErr(t, err, venues.Rejected, "-2015")
}

func TestStaleTimestampRetryableAndResync(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	e.ad.offset.Store(int64(time.Minute / time.Millisecond)) // local clock looks a minute behind the venue's idea
	_, err := e.ad.Place(ctx(t), ioc("ts1", venues.Buy, d("0.01"), e.book.Quote().Ask.Add(d("10"))))
	wantErr(t, err, venues.Retryable, "-1021")
	if off := e.ad.offset.Load(); off > 1000 || off < -1000 {
		t.Fatalf("offset not resynced: %d", off)
	}
	if _, err := e.ad.Place(ctx(t), ioc("ts1", venues.Buy, d("0.01"), e.book.Quote().Ask.Add(d("10")))); err != nil {
		t.Fatalf("after resync: %v", err)
	}
}

func TestReduceOnlyAndMinNotional(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	ask := e.book.Quote().Ask.Add(d("10"))
	req := ioc("ro1", venues.Buy, d("0.01"), ask)
	req.ReduceOnly = true
	_, err := e.ad.Place(ctx(t), req) // flat: reduce-only would open
	wantErr(t, err, venues.Rejected, "-2022")

	_, err = e.ad.Place(ctx(t), ioc("mn1", venues.Buy, d("0.001"), ask)) // ~10 USDT < 100
	ve := wantErr(t, err, venues.Rejected, "-4164")
	if !strings.Contains(ve.Msg, "no smaller than 100") {
		t.Fatalf("msg %q", ve.Msg)
	}

	// Short 0.005: a reduce-only buy of 0.001 (below min notional) is exempt; one of 0.01 fills only 0.004 more.
	e.srv.SetPosition("BTCUSDT", d("-0.005"), d("10490"))
	req = ioc("ro2", venues.Buy, d("0.001"), ask)
	req.ReduceOnly = true
	if o, err := e.ad.Place(ctx(t), req); err != nil || !o.FilledQty.Equal(d("0.001")) {
		t.Fatalf("reduce-only small %+v %v", o, err)
	}
	req = ioc("ro3", venues.Buy, d("0.01"), ask)
	req.ReduceOnly = true
	o, err := e.ad.Place(ctx(t), req)
	if err != nil || !o.FilledQty.Equal(d("0.004")) || o.Status != venues.StatusExpired {
		t.Fatalf("reduce-only capped %+v %v", o, err)
	}
	if p := e.srv.Position("BTCUSDT"); !p.IsZero() {
		t.Fatalf("position %s", p)
	}
	if pos, err := e.ad.Positions(ctx(t)); err != nil || len(pos) != 0 {
		t.Fatalf("positions %+v %v", pos, err)
	}
}

func TestFaultRateLimit(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	if _, err := e.ad.Rules(ctx(t), inst); err != nil {
		t.Fatal(err)
	}
	e.srv.Faults().RateLimitNext(1)
	_, err := e.ad.Place(ctx(t), ioc("rl1", venues.Buy, d("0.01"), e.book.Quote().Ask.Add(d("10"))))
	ve := wantErr(t, err, venues.Retryable, "-1003")
	if ve.Status != 429 || len(e.srv.Orders()) != 0 {
		t.Fatalf("%v, orders %d", err, len(e.srv.Orders()))
	}
}

func TestFault5xx(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	if _, err := e.ad.Rules(ctx(t), inst); err != nil {
		t.Fatal(err)
	}
	ask := e.book.Quote().Ask.Add(d("10"))
	e.srv.Faults().Fail5xxAfterAccept(1)
	_, err := e.ad.Place(ctx(t), ioc("f5a", venues.Buy, d("0.01"), ask))
	wantErr(t, err, venues.Unknown, "")
	o, err := e.ad.Query(ctx(t), inst, "f5a")
	if err != nil || o.Status != venues.StatusFilled {
		t.Fatalf("order after 5xx: %+v %v", o, err)
	}
	e.srv.Faults().Fail5xxBeforeAccept(1)
	_, err = e.ad.Place(ctx(t), ioc("f5b", venues.Buy, d("0.01"), ask))
	wantErr(t, err, venues.Unknown, "")
	if _, err := e.ad.Query(ctx(t), inst, "f5b"); !venues.IsNotFound(err) {
		t.Fatalf("before-accept fault executed the order: %v", err)
	}
}

func TestFaultDropAndDelay(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	if _, err := e.ad.Rules(ctx(t), inst); err != nil {
		t.Fatal(err)
	}
	ask := e.book.Quote().Ask.Add(d("10"))
	e.srv.Faults().DropResponseAfterAccept(1)
	_, err := e.ad.Place(ctx(t), ioc("drop1", venues.Buy, d("0.01"), ask))
	wantErr(t, err, venues.Unknown, "")
	if strings.Contains(err.Error(), "signature") || strings.Contains(err.Error(), "timestamp=") {
		t.Fatalf("error leaks the signed URL: %v", err)
	}
	if o, err := e.ad.Query(ctx(t), inst, "drop1"); err != nil || o.Status != venues.StatusFilled {
		t.Fatalf("dropped order: %+v %v", o, err)
	}
	// A response delayed past the caller's deadline: sent, no answer → Unknown; the order exists.
	e.srv.Faults().DelayResponse(2*time.Second, 1)
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = e.ad.Place(short, ioc("delay1", venues.Buy, d("0.01"), ask))
	wantErr(t, err, venues.Unknown, "")
	if o, err := e.ad.Query(ctx(t), inst, "delay1"); err != nil || o.Status != venues.StatusFilled {
		t.Fatalf("delayed order: %+v %v", o, err)
	}
}

func TestConnectionRefusedRetryable(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	url := e.srv.URL()
	_ = e.srv.Close()
	ad, err := New(Config{Name: "a", BaseURL: url, WSURL: "ws://127.0.0.1:1/ws", APIKey: key, Secret: secret.New(secKey)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ad.Positions(ctx(t))
	wantErr(t, err, venues.Retryable, "")
}

func nextEvent(t *testing.T, ch <-chan venues.Event, pred func(venues.Event) bool) venues.Event {
	t.Helper()
	return venuetest.NextEvent(t, ch, 5*time.Second, pred)
}

func TestStreamFillsAndReconnect(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	events := venuetest.Stream(t, e.ad, 64)
	// The user-data websocket is connected at the mock: every event of the order below reaches the stream.
	venuetesting.WaitSubscribed(t, e.srv, 1)
	if _, err := e.ad.Place(ctx(t), ioc("s0", venues.Buy, d("0.01"), e.book.Quote().Ask.Add(d("10")))); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, events, func(ev venues.Event) bool { return ev.Fill != nil })
	f := ev.Fill
	if f.TradeID == "" || !f.Quantity.IsPositive() || !f.Price.IsPositive() || !f.Fee.IsPositive() ||
		f.FeeAsset != "USDT" || f.Instrument != inst || ev.Order == nil || f.ClientOrderID != "s0" {
		t.Fatalf("fill %+v", f)
	}
	e.srv.Faults().DropUserStreams()
	nextEvent(t, events, func(ev venues.Event) bool { return ev.Reconnected })
	venuetesting.WaitSubscribed(t, e.srv, 1) // the new connection, as the mock sees it
	if _, err := e.ad.Place(ctx(t), ioc("after1", venues.Buy, d("0.01"), e.book.Quote().Ask.Add(d("10")))); err != nil {
		t.Fatal(err)
	}
	ev = nextEvent(t, events, func(ev venues.Event) bool { return ev.Fill != nil && ev.Fill.ClientOrderID == "after1" })
	if ev.Order.ClientOrderID != "after1" {
		t.Fatalf("event %+v", ev)
	}
}

func TestTwoServersIndependent(t *testing.T) {
	m := newMarket(t)
	a, b := newEnv(t, m, "a"), newEnv(t, m, "b")
	if _, err := a.ad.Place(ctx(t), ioc("x1", venues.Buy, d("0.02"), a.book.Quote().Ask.Add(d("10")))); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ad.Place(ctx(t), ioc("x1", venues.Sell, d("0.03"), b.book.Quote().Bid.Sub(d("10")))); err != nil {
		t.Fatal(err)
	}
	if pa, pb := a.srv.Position("BTCUSDT"), b.srv.Position("BTCUSDT"); !pa.Equal(d("0.02")) || !pb.Equal(d("-0.03")) {
		t.Fatalf("positions a %s b %s", pa, pb)
	}
	if len(a.srv.Orders()) != 1 || len(b.srv.Orders()) != 1 {
		t.Fatal("orders leaked between servers")
	}
}

func TestClassifyTable(t *testing.T) {
	venuetest.RunClassTable(t, "binance", func(status int, code string) venues.Class {
		var c int64
		if code != "" {
			var err error
			if c, err = strconv.ParseInt(code, 10, 64); err != nil {
				t.Fatalf("code %q: %v", code, err)
			}
		}
		return Classify(status, c)
	})
	for _, c := range venuetest.ErrorTable() {
		if c.Venue == "binance" && c.Code != "" {
			n, _ := strconv.ParseInt(c.Code, 10, 64)
			if notFound(n) != c.NotFound {
				t.Errorf("code %s: notFound %v, want %v", c.Code, notFound(n), c.NotFound)
			}
		}
	}
}

// TestQuoteOneRequest: the mark from premiumIndex alone (one request; Stats needs two), no bid or ask.
func TestQuoteOneRequest(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	if _, err := e.ad.Rules(ctx(t), inst); err != nil {
		t.Fatal(err)
	}
	before := e.sent.Sent()
	q, err := e.ad.Quote(ctx(t), inst)
	if err != nil {
		t.Fatal(err)
	}
	want := e.book.Quote()
	if n := e.sent.Sent() - before; n != 1 {
		t.Fatalf("%d requests", n)
	}
	if q.Instrument != inst || !q.Mark.Equal(want.Mark) || !q.Bid.IsZero() || !q.Ask.IsZero() || !q.Time.Equal(want.Time) {
		t.Fatalf("quote %+v, book %+v", q, want)
	}
	_, err = e.ad.Quote(ctx(t), "ETH-USDT-PERP")
	wantErr(t, err, venues.Rejected, "")
}

// partiallyFilledGTC places a GTC buy of three times the best ask's quantity at the best ask: it takes that level
// and rests the rest, partially filled.
func partiallyFilledGTC(t *testing.T, v venues.Venue, book *market.Venue, id string) venues.Order {
	t.Helper()
	_, asks := book.Depth(1)
	o, err := v.Place(ctx(t), venues.OrderRequest{ClientOrderID: id, Instrument: inst, Side: venues.Buy, Type: venues.Limit,
		TimeInForce: venues.GTC, Quantity: asks[0].Qty.Mul(d("3")), Price: asks[0].Price})
	if err != nil || o.Status != venues.StatusPartiallyFilled || !o.FilledQty.Equal(asks[0].Qty) {
		t.Fatalf("place %+v %v", o, err)
	}
	return o
}

// TestAmendModifySemantics: Binance's modify refuses an unchanged order (-5027), and cancels an order amended to
// no more than it has filled; what the adapter cannot express is refused before anything is sent.
func TestAmendModifySemantics(t *testing.T) {
	e := newEnv(t, newMarket(t), "a")
	o := partiallyFilledGTC(t, e.ad, e.book, "amb1")
	_, err := e.ad.Amend(ctx(t), venues.AmendRequest{Instrument: inst, ClientOrderID: "amb1", Quantity: o.Quantity})
	wantErr(t, err, venues.Rejected, "-5027")

	before := e.sent.Sent()
	for _, bad := range []venues.AmendRequest{
		{Instrument: inst, ClientOrderID: "amb1", Quantity: d("0.0005")},
		{Instrument: inst, ClientOrderID: "amb1", Price: d("10000.05")},
		{Instrument: inst, ClientOrderID: "amb1"},
		{Instrument: inst, ClientOrderID: "", Price: d("10000")},
	} {
		_, err := e.ad.Amend(ctx(t), bad)
		wantErr(t, err, venues.Rejected, "")
	}
	if n := e.sent.Sent() - before; n != 0 {
		t.Fatalf("%d requests sent for amendments the adapter cannot express", n)
	}

	c, err := e.ad.Amend(ctx(t), venues.AmendRequest{Instrument: inst, ClientOrderID: "amb1", Quantity: o.FilledQty})
	if err != nil || c.Status != venues.StatusCanceled || !c.FilledQty.Equal(o.FilledQty) {
		t.Fatalf("amend to the filled quantity: %+v %v", c, err)
	}
	_, err = e.ad.Amend(ctx(t), venues.AmendRequest{Instrument: inst, ClientOrderID: "amb1", Price: o.Price.Sub(d("1"))})
	if ve := wantErr(t, err, venues.Rejected, ""); venues.IsNotFound(ve) {
		t.Fatalf("a cancelled order exists: %v", err)
	}
}
