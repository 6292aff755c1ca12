package okx

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/mocks/market"
	mockokx "github.com/execd-dev/execd/mocks/okx"
	"github.com/execd-dev/execd/secret"
	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/venuetesting"
	"github.com/execd-dev/execd/venues/venuetest"
)

const (
	inst   = venuetesting.Instrument
	instID = "BTC-USDT-SWAP"
	key    = "test-key"
	secKey = "test-secret"
	pass   = "test-pass"
)

var (
	d       = venuetesting.D
	ctx     = venuetesting.Ctx
	wantErr = venuetesting.WantErr
	ioc     = venuetesting.IOC
)

// newMarket is a market with the one venue "okx", lots of 0.01 BTC (one contract).
func newMarket(t *testing.T) *market.Market {
	return venuetesting.Market{Start: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), Volume24h: 200000,
		FundingRate8h: 0.0001, Venues: []market.VenueConfig{venuetesting.Venue("okx", 1, 5, 2, "0.1", "0.01")}}.New(t)
}

type env struct {
	srv  *mockokx.Server
	ad   *Adapter
	book *market.Venue
	sent *venuetesting.Counter // the requests ad sent
}

func newEnv(t *testing.T, tweak func(*mockokx.Config)) env {
	t.Helper()
	m := newMarket(t)
	book := venuetesting.Book(t, m, "okx")
	cfg := mockokx.Config{Name: "okx", Book: book, TakerFeeBps: 5, MakerFeeBps: 2, APIKey: key, APISecret: secKey,
		Passphrase: pass, Clock: m.Clock()}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := mockokx.New(cfg)
	srv = venuetesting.Serve(t, srv, err)
	sent := &venuetesting.Counter{}
	return env{srv: srv, ad: newAdapter(t, srv, secKey, pass, sent.Client()), book: book, sent: sent}
}

func newAdapter(t *testing.T, srv *mockokx.Server, sec, passphrase string, hc *http.Client) *Adapter {
	t.Helper()
	ad, err := New(Config{Name: "okx", BaseURL: srv.URL(), WSURL: srv.WSURL(), APIKey: key, Secret: secret.New(sec),
		Passphrase: secret.New(passphrase), HTTPClient: hc})
	return venuetesting.Must(t, ad, err)
}

func TestRulesInBaseUnits(t *testing.T) {
	e := newEnv(t, nil)
	r, err := e.ad.Rules(ctx(t), inst)
	if err != nil {
		t.Fatal(err)
	}
	if r.Symbol != instID || !r.LotSize.Equal(d("0.01")) || !r.MinQty.Equal(d("0.01")) || !r.TickSize.Equal(d("0.1")) {
		t.Fatalf("rules %+v", r)
	}
	st, err := e.ad.Stats(ctx(t), inst)
	if err != nil || !st.MarkPrice.IsPositive() || !st.Volume24h.IsPositive() || !st.FundingRate.Equal(d("0.0001")) {
		t.Fatalf("stats %+v %v", st, err)
	}
	if next := e.book.Quote().NextFunding; !st.NextFunding.Equal(next) || next.IsZero() {
		t.Fatalf("next funding %v, the venue's %v", st.NextFunding, next)
	}
	if !st.Volume24h.Equal(e.book.Volume24h().Base) {
		t.Fatalf("24h volume %s BTC, book says %s", st.Volume24h, e.book.Volume24h().Base)
	}
}

// countingTransport counts the requests that reach the wire.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestContractsExactAndNonWholeRejectedUnsent(t *testing.T) {
	in := instrument{ctVal: d("0.01"), lotSz: d("1"), rules: venues.Rules{LotSize: d("0.01")}}
	for q, want := range map[string]string{"0.01": "1", "2.2166": "", "0.88": "88", "1.33": "133", "0.015": "", "0": ""} {
		c, err := in.toContracts(d(q))
		if want == "" {
			if err == nil {
				t.Errorf("%s BTC: want an error, got %s contracts", q, c)
			}
			continue
		}
		if err != nil || !c.Equal(d(want)) {
			t.Errorf("%s BTC: %s contracts, %v; want %s", q, c, err, want)
		}
		if !in.toBase(c).Equal(d(q)) {
			t.Errorf("%s BTC round trip: %s", q, in.toBase(c))
		}
	}
	e := newEnv(t, nil)
	ct := &countingTransport{}
	ad := newAdapter(t, e.srv, secKey, pass, &http.Client{Transport: ct})
	if _, err := ad.Rules(ctx(t), inst); err != nil {
		t.Fatal(err)
	}
	before := ct.n.Load()
	_, err := ad.Place(ctx(t), ioc("frac1", venues.Buy, d("0.015"), e.book.Quote().Ask))
	wantErr(t, err, venues.Rejected, "")
	if ct.n.Load() != before || len(e.srv.Orders()) != 0 {
		t.Fatalf("a request was sent for a non-whole contract quantity")
	}
}

func TestPlaceIOCFullFillInBTC(t *testing.T) {
	e := newEnv(t, nil)
	o, err := e.ad.Place(ctx(t), ioc("full1", venues.Buy, d("0.05"), e.book.Quote().Ask.Add(d("50"))))
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != venues.StatusFilled || !o.FilledQty.Equal(d("0.05")) || !o.Quantity.Equal(d("0.05")) || !o.AvgPrice.IsPositive() {
		t.Fatalf("order %+v", o)
	}
	if p := e.srv.Position(instID); !p.Equal(d("5")) {
		t.Fatalf("venue position %s contracts, want 5", p)
	}
	rec := e.srv.Orders()
	if len(rec) != 1 || !rec[0].Sz.Equal(d("5")) || rec[0].OrdType != "ioc" {
		t.Fatalf("records %+v", rec)
	}
	for _, f := range venuetesting.CheckFilledLong(t, e.ad, "full1", d("0.05")) {
		want := f.Price.Mul(f.Quantity).Mul(d("0.0005")).Round(8)
		if !f.Fee.Equal(want) {
			t.Fatalf("fee %s, want %s (5 bps of %s × %s BTC)", f.Fee, want, f.Price, f.Quantity)
		}
	}
}

func TestPartialIOCAndGTCCancel(t *testing.T) {
	e := newEnv(t, nil)
	_, asks := e.book.Depth(1)
	q := asks[0].Qty.Mul(d("3"))
	o, err := e.ad.Place(ctx(t), ioc("part1", venues.Buy, q, asks[0].Price))
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != venues.StatusExpired || !o.FilledQty.IsPositive() || !o.FilledQty.LessThan(q) {
		t.Fatalf("partial %+v", o)
	}
	if r := e.srv.Orders()[0]; r.State != "canceled" {
		t.Fatalf("venue state %q, want canceled", r.State)
	}
	req := ioc("gtc1", venues.Buy, d("0.01"), e.book.Quote().Bid.Mul(d("0.9")).Round(1))
	req.TimeInForce = venues.GTC
	if o, err = e.ad.Place(ctx(t), req); err != nil || o.Status != venues.StatusNew {
		t.Fatalf("gtc %+v %v", o, err)
	}
	open, err := e.ad.OpenOrders(ctx(t), inst)
	if err != nil || len(open) != 1 || open[0].ClientOrderID != "gtc1" {
		t.Fatalf("open %+v %v", open, err)
	}
	if o, err = e.ad.Cancel(ctx(t), inst, "gtc1"); err != nil || o.Status != venues.StatusCanceled {
		t.Fatalf("cancel %+v %v", o, err)
	}
	if o, err = e.ad.Cancel(ctx(t), inst, "gtc1"); err != nil || o.Status != venues.StatusCanceled {
		t.Fatalf("second cancel returns the final state: %+v %v", o, err)
	}
	_, err = e.ad.Cancel(ctx(t), inst, "nosuch1")
	if !venues.IsNotFound(err) {
		t.Fatalf("cancel unknown: %v", err)
	}
	_, err = e.ad.Query(ctx(t), inst, "nosuch1")
	wantErr(t, err, venues.Rejected, "51603")
}

func TestVenueRejections(t *testing.T) {
	e := newEnv(t, func(c *mockokx.Config) { c.MinSz = d("2") })
	px := e.book.Quote().Ask.Add(d("50"))
	_, err := e.ad.Place(ctx(t), ioc("min1", venues.Buy, d("0.01"), px))
	wantErr(t, err, venues.Rejected, "51020")

	req := ioc("dup1", venues.Buy, d("0.02"), e.book.Quote().Bid.Mul(d("0.9")).Round(1))
	req.TimeInForce = venues.GTC
	if _, err := e.ad.Place(ctx(t), req); err != nil {
		t.Fatal(err)
	}
	_, err = e.ad.Place(ctx(t), req)
	wantErr(t, err, venues.Rejected, "51016")

	e.srv.SetPosition(instID, d("10"))
	ro := ioc("ro1", venues.Buy, d("0.02"), px)
	ro.ReduceOnly = true
	_, err = e.ad.Place(ctx(t), ro)
	wantErr(t, err, venues.Rejected, "51169")

	sell := ioc("ro2", venues.Sell, d("0.5"), e.book.Quote().Bid.Sub(d("50")))
	sell.ReduceOnly = true
	o, err := e.ad.Place(ctx(t), sell)
	if err != nil || !o.FilledQty.Equal(d("0.1")) || !e.srv.Position(instID).IsZero() {
		t.Fatalf("reduce-only capped at the position: %+v %v, position %s", o, err, e.srv.Position(instID))
	}
}

func TestAuthAndFaults(t *testing.T) {
	e := newEnv(t, nil)
	px := e.book.Quote().Ask.Add(d("50"))
	_, err := newAdapter(t, e.srv, "wrong", pass, nil).Place(ctx(t), ioc("bad1", venues.Buy, d("0.01"), px))
	ve := wantErr(t, err, venues.Rejected, "50113")
	if strings.Contains(err.Error(), "wrong") || strings.Contains(err.Error(), secKey) || strings.Contains(err.Error(), pass) {
		t.Fatalf("error leaks a secret: %v", ve)
	}
	_, err = newAdapter(t, e.srv, secKey, "nope", nil).Place(ctx(t), ioc("bad2", venues.Buy, d("0.01"), px))
	wantErr(t, err, venues.Rejected, "50105")

	stale := newAdapter(t, e.srv, secKey, pass, nil)
	stale.now = func() time.Time { return time.Now().Add(-time.Minute) }
	_, err = stale.Place(ctx(t), ioc("stale1", venues.Buy, d("0.01"), px))
	wantErr(t, err, venues.Retryable, "50102")
	if _, err := stale.Place(ctx(t), ioc("stale1", venues.Buy, d("0.01"), px)); err != nil {
		t.Fatalf("after resync: %v", err)
	}

	e.srv.Faults().RateLimitNext(1)
	_, err = e.ad.Place(ctx(t), ioc("rl1", venues.Buy, d("0.01"), px))
	wantErr(t, err, venues.Retryable, "50011")

	e.srv.Faults().Fail5xxAfterAccept(1)
	_, err = e.ad.Place(ctx(t), ioc("u1", venues.Buy, d("0.02"), px))
	wantErr(t, err, venues.Unknown, "50001")
	if o, err := e.ad.Query(ctx(t), inst, "u1"); err != nil || !o.FilledQty.Equal(d("0.02")) {
		t.Fatalf("accepted order: %+v %v", o, err)
	}

	e.srv.Faults().DropResponseAfterAccept(1)
	_, err = e.ad.Place(ctx(t), ioc("drop1", venues.Buy, d("0.03"), px))
	wantErr(t, err, venues.Unknown, "")
	if o, err := e.ad.Query(ctx(t), inst, "drop1"); err != nil || !o.FilledQty.Equal(d("0.03")) {
		t.Fatalf("dropped answer: %+v %v", o, err)
	}
}

func TestConnectionRefusedRetryable(t *testing.T) {
	e := newEnv(t, nil)
	ad := newAdapter(t, e.srv, secKey, pass, nil)
	_ = e.srv.Close()
	_, err := ad.Positions(ctx(t))
	wantErr(t, err, venues.Retryable, "")
}

func nextEvent(t *testing.T, ch <-chan venues.Event, pred func(venues.Event) bool) venues.Event {
	t.Helper()
	return venuetest.NextEvent(t, ch, 10*time.Second, pred)
}

func TestStreamFillsInBTCAndReconnect(t *testing.T) {
	e := newEnv(t, nil)
	events := venuetest.Stream(t, e.ad, 256)
	// Logged in and the subscribe answered at the mock: every event of the order below reaches the stream.
	venuetesting.WaitSubscribed(t, e.srv, 1)
	if _, err := e.ad.Place(ctx(t), ioc("sa", venues.Buy, d("0.03"), e.book.Quote().Ask.Add(d("20")))); err != nil {
		t.Fatal(err)
	}
	f := *nextEvent(t, events, func(ev venues.Event) bool { return ev.Fill != nil && ev.Fill.ClientOrderID == "sa" }).Fill
	if f.TradeID == "" || f.Instrument != inst || !f.Fee.IsPositive() || f.FeeAsset != "USDT" || f.Venue != "okx" ||
		!f.Quantity.IsPositive() || f.Quantity.GreaterThan(d("0.03")) || !f.Quantity.Mod(d("0.01")).IsZero() {
		t.Fatalf("fill %+v", f)
	}
	e.srv.Faults().DropUserStreams()
	nextEvent(t, events, func(ev venues.Event) bool { return ev.Reconnected })
	venuetesting.WaitSubscribed(t, e.srv, 1) // the new connection, as the mock sees it
	if _, err := e.ad.Place(ctx(t), ioc("after1", venues.Buy, d("0.01"), e.book.Quote().Ask.Add(d("20")))); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, events, func(ev venues.Event) bool { return ev.Fill != nil && ev.Fill.ClientOrderID == "after1" })
	if !ev.Fill.Quantity.Equal(d("0.01")) || ev.Order == nil || ev.Order.Status != venues.StatusFilled {
		t.Fatalf("event after reconnect %+v", ev)
	}
}

func TestStreamBadCredentialsFatal(t *testing.T) {
	e := newEnv(t, nil)
	err := newAdapter(t, e.srv, secKey, "wrong-pass", nil).Stream(ctx(t), make(chan venues.Event))
	ve := wantErr(t, err, venues.Rejected, "60024")
	if strings.Contains(ve.Error(), "wrong-pass") {
		t.Fatalf("passphrase in error: %v", ve)
	}
}

func TestClassifyTable(t *testing.T) {
	venuetest.RunClassTable(t, "okx", Classify)
	for _, c := range venuetest.ErrorTable() {
		if c.Venue == "okx" && c.Code != "" && notFound(c.Code) != c.NotFound {
			t.Errorf("code %s: notFound %v, want %v", c.Code, notFound(c.Code), c.NotFound)
		}
	}
}

// TestConformance runs the shared conformance scenarios against the OKX mock (positions and executions in
// contracts of 0.01 BTC).
func TestConformance(t *testing.T) {
	venuetest.Run(t, func(t *testing.T) venuetest.Harness {
		e := newEnv(t, nil)
		return &venuetesting.Harness{Adapter: e.ad, Book: e.book, Faults: e.srv.Faults(), Streams: e.srv, Sent: e.sent,
			SetPos: func(q decimal.Decimal) { e.srv.SetPosition(instID, q.Div(d("0.01"))) },
			Bad:    func() venues.Venue { return newAdapter(t, e.srv, "wrong-secret", pass, nil) },
			Stale: func() venues.Venue {
				ad := newAdapter(t, e.srv, secKey, pass, nil)
				ad.now = func() time.Time { return time.Now().Add(-time.Minute) }
				return ad
			},
			Small: d("0.005"), // half a contract
			Exec: func(id string) (decimal.Decimal, bool) {
				for _, o := range e.srv.Orders() {
					if o.ClOrdID == id {
						return o.AccFillSz.Mul(d("0.01")), true
					}
				}
				return decimal.Zero, false
			},
		}
	})
}

// TestQuoteOneRequest: the mark from one mark-price request (Stats needs three), no bid or ask.
func TestQuoteOneRequest(t *testing.T) {
	e := newEnv(t, nil)
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
}

// TestAmendSemantics: a quantity that is not a whole number of contracts is refused before anything is sent; OKX
// refuses a size not above what has filled (51000) and an amendment of a cancelled order (51509, resolved by query
// to a Rejected error that is not a not-found); newSz goes out in contracts.
func TestAmendSemantics(t *testing.T) {
	e := newEnv(t, nil)
	_, asks := e.book.Depth(1)
	o, err := e.ad.Place(ctx(t), venues.OrderRequest{ClientOrderID: "amo1", Instrument: inst, Side: venues.Buy,
		Type: venues.Limit, TimeInForce: venues.GTC, Quantity: asks[0].Qty.Mul(d("3")), Price: asks[0].Price})
	if err != nil || o.Status != venues.StatusPartiallyFilled {
		t.Fatalf("place %+v %v", o, err)
	}
	before := e.sent.Sent()
	_, err = e.ad.Amend(ctx(t), venues.AmendRequest{Instrument: inst, ClientOrderID: "amo1", Quantity: o.Quantity.Add(d("0.005"))})
	wantErr(t, err, venues.Rejected, "")
	if n := e.sent.Sent() - before; n != 0 {
		t.Fatalf("%d requests sent for half a contract", n)
	}
	_, err = e.ad.Amend(ctx(t), venues.AmendRequest{Instrument: inst, ClientOrderID: "amo1", Quantity: o.FilledQty})
	wantErr(t, err, venues.Rejected, "51000")

	bigger := o.Quantity.Add(d("0.02"))
	a, err := e.ad.Amend(ctx(t), venues.AmendRequest{Instrument: inst, ClientOrderID: "amo1", Quantity: bigger})
	if err != nil || !a.Quantity.Equal(bigger) || a.Status != venues.StatusPartiallyFilled {
		t.Fatalf("amend to %s: %+v %v", bigger, a, err)
	}
	if r := e.srv.Orders()[0]; !r.Sz.Equal(bigger.Div(d("0.01"))) {
		t.Fatalf("venue size %s contracts, want %s BTC", r.Sz, bigger)
	}
	if _, err := e.ad.Cancel(ctx(t), inst, "amo1"); err != nil {
		t.Fatal(err)
	}
	_, err = e.ad.Amend(ctx(t), venues.AmendRequest{Instrument: inst, ClientOrderID: "amo1", Price: o.Price.Sub(d("1"))})
	if ve := wantErr(t, err, venues.Rejected, "51509"); venues.IsNotFound(ve) {
		t.Fatalf("a cancelled order exists: %v", err)
	}
}
