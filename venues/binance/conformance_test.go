package binance

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/venuetesting"
	"github.com/execd-dev/execd/venues/venuetest"
)

// TestConformance runs the shared conformance scenarios against the Binance USDⓈ-M mock.
func TestConformance(t *testing.T) {
	venuetest.Run(t, func(t *testing.T) venuetest.Harness {
		e := newEnv(t, newMarket(t), "a")
		return &venuetesting.Harness{Adapter: e.ad, Book: e.book, Faults: e.srv.Faults(), Streams: e.srv, Sent: e.sent,
			SetPos: func(q decimal.Decimal) { e.srv.SetPosition("BTCUSDT", q, decimal.NewFromInt(10490)) },
			Bad:    func() venues.Venue { return newAdapter(t, "a", e.srv, "wrong-secret") },
			Stale: func() venues.Venue {
				ad := newAdapter(t, "a", e.srv, secKey)
				ad.offset.Store(int64(time.Minute / time.Millisecond))
				return ad
			},
			Small: d("0.005"), // 52 USDT, under the 100 USDT minimum notional
			Exec: func(id string) (decimal.Decimal, bool) {
				for _, o := range e.srv.Orders() {
					if o.ClientOrderID == id {
						return o.ExecutedQty, true
					}
				}
				return decimal.Zero, false
			},
		}
	})
}
