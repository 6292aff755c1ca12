// Package venuetesting builds the test fixtures the adapters' tests share: the simulated market with the adapter's
// venue, the mock server's life cycle, error assertions and a venuetest.Harness assembled from a few closures, so
// each adapter's tests keep only what is its own (mock config, credentials, units, id fields).
package venuetesting

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/mocks/market"
	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/venuetest"
)

// Instrument is the canonical instrument every adapter test trades.
const Instrument = "BTC-USDT-PERP"

// D parses a decimal literal; it panics on a malformed one.
var D = decimal.RequireFromString

// Market is the simulated market the adapter tests run on: seed 7, BTC starting at 10490 with 60 % annual
// volatility, a manual clock at start, and the given venues.
type Market struct {
	Start         time.Time
	Volume24h     float64 // total over the venues
	FundingRate8h float64
	Venues        []market.VenueConfig
}

// Venue is a market venue with the given volume share, fees (bps), tick and lot.
func Venue(name string, share, takerBps, makerBps float64, tick, lot string) market.VenueConfig {
	return market.VenueConfig{Name: name, VolumeShare: share, TakerFeeBps: takerBps, MakerFeeBps: makerBps,
		TickSize: D(tick), LotSize: D(lot)}
}

// New builds the market; a failure ends the test.
func (c Market) New(t testing.TB) *market.Market {
	t.Helper()
	m, err := market.New(market.Config{Seed: 7, StartPrice: 10490, AnnualVolatility: 0.6, TotalVolume24h: c.Volume24h,
		FundingRate8h: c.FundingRate8h, Venues: c.Venues}, clock.NewManual(c.Start))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Book is the named venue's book in m; a failure ends the test.
func Book(t testing.TB, m *market.Market, name string) *market.Venue {
	t.Helper()
	book, err := m.Venue(name)
	if err != nil {
		t.Fatal(err)
	}
	return book
}

// Server is a mock venue server.
type Server interface {
	Start(addr string) error
	Close() error
}

// Serve checks the mock's constructor error, starts srv on a loopback port and closes it when the test ends.
func Serve[S Server](t testing.TB, srv S, err error) S {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// Must returns v, ending the test if err is not nil (for adapter constructors).
func Must[T any](t testing.TB, v T, err error) T {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Ctx is a context that ends after 10 s or with the test.
func Ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// WantErr asserts err is a *venues.Error of class and, unless code is "", of code.
func WantErr(t testing.TB, err error, class venues.Class, code string) *venues.Error {
	t.Helper()
	var ve *venues.Error
	if !errors.As(err, &ve) {
		t.Fatalf("want *venues.Error %s %s, got %v", class, code, err)
	}
	if ve.Class != class || (code != "" && ve.Code != code) {
		t.Fatalf("want %s code %s, got %v", class, code, err)
	}
	return ve
}

// WantErrCode asserts err is a *venues.Error of class and of exactly code ("": no code).
func WantErrCode(t testing.TB, err error, class venues.Class, code string) *venues.Error {
	t.Helper()
	var ve *venues.Error
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *venues.Error", err)
	}
	if ve.Class != class || ve.Code != code {
		t.Fatalf("got %v (class %s code %q), want class %s code %q", err, ve.Class, ve.Code, class, code)
	}
	return ve
}

// IOC is a limit IOC request on Instrument.
func IOC(cid string, side venues.Side, qty, price decimal.Decimal) venues.OrderRequest {
	return venues.OrderRequest{ClientOrderID: cid, Instrument: Instrument, Side: side, Type: venues.Limit,
		TimeInForce: venues.IOC, Quantity: qty, Price: price}
}

// CheckFilledLong asserts that, after one buy of qty by clientID filled in full from a flat account, v reports a
// single position of qty on Instrument and fills of clientID (with a positive USDT fee) summing to qty. It returns
// the fills.
func CheckFilledLong(t testing.TB, v venues.Venue, clientID string, qty decimal.Decimal) []venues.Fill {
	t.Helper()
	pos, err := v.Positions(Ctx(t))
	if err != nil || len(pos) != 1 || !pos[0].Quantity.Equal(qty) || pos[0].Instrument != Instrument {
		t.Fatalf("positions %+v %v", pos, err)
	}
	fills, err := v.Fills(Ctx(t), Instrument, 0)
	if err != nil || len(fills) == 0 {
		t.Fatalf("fills %+v %v", fills, err)
	}
	sum := decimal.Zero
	for _, f := range fills {
		if f.ClientOrderID != clientID || !f.Fee.IsPositive() || f.FeeAsset != "USDT" {
			t.Fatalf("fill %+v", f)
		}
		sum = sum.Add(f.Quantity)
	}
	if !sum.Equal(qty) {
		t.Fatalf("fills sum %s", sum)
	}
	return fills
}

// Counter is an http.RoundTripper that counts the requests an adapter sends (its Client is what the adapter's
// Config.HTTPClient takes). Safe for concurrent use.
type Counter struct {
	n atomic.Int64
}

// RoundTrip counts req and sends it with http.DefaultTransport.
func (c *Counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(req)
}

// Client is an HTTP client sending through c.
func (c *Counter) Client() *http.Client { return &http.Client{Transport: c, Timeout: 10 * time.Second} }

// Sent is the number of requests sent so far.
func (c *Counter) Sent() int64 { return c.n.Load() }

// Faults is the fault injection every mock offers.
type Faults interface {
	RateLimitNext(n int)
	Fail5xxAfterAccept(n int)
	DropResponseAfterAccept(n int)
	DropUserStreams()
	FillBeforeNextChange(clientID string, qty decimal.Decimal)
}

// Streams is what every mock server offers to wait for its private-stream connections: WaitSubscribed blocks until
// at least n are subscribed to the account's pushes, or ctx ends.
type Streams interface {
	WaitSubscribed(ctx context.Context, n int) error
}

// WaitSubscribed waits until at least n private-stream connections of s are subscribed; the test fails if they are
// not within 10 s (a bound on a broken stream, not a pace).
func WaitSubscribed(t testing.TB, s Streams, n int) {
	t.Helper()
	if err := s.WaitSubscribed(Ctx(t), n); err != nil {
		t.Fatalf("waiting for %d subscribed private stream(s) at the mock: %v", n, err)
	}
}

// Harness is a venuetest.Harness from the parts each adapter supplies.
type Harness struct {
	Adapter venues.Venue
	Book    *market.Venue
	Faults  Faults
	// Streams is the mock server, for WaitSubscribed.
	Streams Streams
	// SetPos sets the account's position in base units; Bad and Stale build adapters on the same mock with a
	// wrong secret and a clock outside the venue's window; Exec reads the mock's executed base quantity.
	SetPos func(qty decimal.Decimal)
	Bad    func() venues.Venue
	Stale  func() venues.Venue
	Exec   func(clientID string) (decimal.Decimal, bool)
	// Small is a quantity the venue refuses as below its minimum.
	Small decimal.Decimal
	// Sent counts the requests Adapter has sent (a Counter it sends through).
	Sent *Counter
}

var _ venuetest.Harness = (*Harness)(nil)

func (h *Harness) Venue() venues.Venue { return h.Adapter }
func (h *Harness) Instrument() string  { return Instrument }
func (h *Harness) Ask() (decimal.Decimal, decimal.Decimal) {
	_, asks := h.Book.Depth(1)
	return asks[0].Price, asks[0].Qty
}
func (h *Harness) Bid() (decimal.Decimal, decimal.Decimal) {
	bids, _ := h.Book.Depth(1)
	return bids[0].Price, bids[0].Qty
}
func (h *Harness) SetPosition(q decimal.Decimal) { h.SetPos(q) }
func (h *Harness) BadSecret() venues.Venue       { return h.Bad() }
func (h *Harness) StaleClock() venues.Venue      { return h.Stale() }
func (h *Harness) TooSmall() decimal.Decimal     { return h.Small }
func (h *Harness) RateLimitNext(n int)           { h.Faults.RateLimitNext(n) }
func (h *Harness) Fail5xxAfterAccept(n int)      { h.Faults.Fail5xxAfterAccept(n) }
func (h *Harness) DropResponseAfterAccept(n int) { h.Faults.DropResponseAfterAccept(n) }
func (h *Harness) DropStreams()                  { h.Faults.DropUserStreams() }
func (h *Harness) FillBeforeNextChange(id string, qty decimal.Decimal) {
	h.Faults.FillBeforeNextChange(id, qty)
}
func (h *Harness) Executed(id string) (decimal.Decimal, bool) { return h.Exec(id) }
func (h *Harness) Requests() int64                            { return h.Sent.Sent() }

// WaitSubscribed waits on the mock (Streams) for n subscribed private-stream connections.
func (h *Harness) WaitSubscribed(ctx context.Context, n int) error {
	return h.Streams.WaitSubscribed(ctx, n)
}
