package binance

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	mockbinance "execd/mocks/binance"
	"execd/mocks/market"
	"execd/venues"
	"execd/venues/venuetest"
)

// harness runs the shared conformance scenarios against the Binance USDⓈ-M mock.
type harness struct {
	t    *testing.T
	srv  *mockbinance.Server
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
func (h *harness) BadSecret() venues.Venue { return newAdapter(h.t, "a", h.srv, "wrong-secret") }
func (h *harness) StaleClock() venues.Venue {
	ad := newAdapter(h.t, "a", h.srv, secKey)
	ad.offset.Store(int64(time.Minute / time.Millisecond))
	return ad
}
func (h *harness) TooSmall() decimal.Decimal     { return d("0.005") } // 52 USDT, under the 100 USDT minimum notional
func (h *harness) RateLimitNext(n int)           { h.srv.Faults().RateLimitNext(n) }
func (h *harness) Fail5xxAfterAccept(n int)      { h.srv.Faults().Fail5xxAfterAccept(n) }
func (h *harness) DropResponseAfterAccept(n int) { h.srv.Faults().DropResponseAfterAccept(n) }
func (h *harness) DropStreams()                  { h.srv.Faults().DropUserStreams() }
func (h *harness) Executed(id string) (decimal.Decimal, bool) {
	for _, o := range h.srv.Orders() {
		if o.ClientOrderID == id {
			return o.ExecutedQty, true
		}
	}
	return decimal.Zero, false
}

func TestConformance(t *testing.T) {
	venuetest.Run(t, func(t *testing.T) venuetest.Harness {
		e := newEnv(t, newMarket(t), "a")
		return &harness{t: t, srv: e.srv, ad: e.ad, book: e.book}
	})
}
