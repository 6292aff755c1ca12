package bybit

import (
	"testing"

	"github.com/shopspring/decimal"

	mock "execd/mocks/bybit"
	"execd/mocks/market"
	"execd/venues"
	"execd/venues/venuetest"
)

// harness runs the shared conformance scenarios against the Bybit v5 mock.
type harness struct {
	t    *testing.T
	srv  *mock.Server
	ad   *Adapter
	book *market.Venue
}

var _ venuetest.Harness = (*harness)(nil)

func (h *harness) Venue() venues.Venue { return h.ad }
func (h *harness) Instrument() string  { return inst }
func (h *harness) Ask() (decimal.Decimal, decimal.Decimal) {
	_, asks := h.book.Depth(1)
	return asks[0].Price, asks[0].Qty
}
func (h *harness) Bid() (decimal.Decimal, decimal.Decimal) {
	bids, _ := h.book.Depth(1)
	return bids[0].Price, bids[0].Qty
}
func (h *harness) SetPosition(q decimal.Decimal) {
	h.srv.SetPosition("BTCUSDT", q, decimal.NewFromInt(10490))
}
func (h *harness) BadSecret() venues.Venue { return newAdapter(h.t, h.srv, "wrong-secret") }
func (h *harness) StaleClock() venues.Venue {
	ad := newAdapter(h.t, h.srv, testSec)
	ad.offset.Store(60_000)
	return ad
}

// TooSmall is below Bybit's minimum order quantity (0.001 BTC); quantities are floored by nobody, so the venue
// (or the adapter, before sending) refuses it.
func (h *harness) TooSmall() decimal.Decimal     { return decimal.RequireFromString("0.0005") }
func (h *harness) RateLimitNext(n int)           { h.srv.Faults().RateLimitNext(n) }
func (h *harness) Fail5xxAfterAccept(n int)      { h.srv.Faults().Fail5xxAfterAccept(n) }
func (h *harness) DropResponseAfterAccept(n int) { h.srv.Faults().DropResponseAfterAccept(n) }
func (h *harness) DropStreams()                  { h.srv.Faults().DropUserStreams() }
func (h *harness) Executed(id string) (decimal.Decimal, bool) {
	for _, o := range h.srv.Orders() {
		if o.OrderLinkID == id {
			return o.CumExecQty, true
		}
	}
	return decimal.Zero, false
}

func TestConformance(t *testing.T) {
	venuetest.Run(t, func(t *testing.T) venuetest.Harness {
		f := newFixture(t)
		return &harness{t: t, srv: f.srv, ad: f.ad, book: f.book}
	})
}
