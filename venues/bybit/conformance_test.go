package bybit

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/venuetesting"
	"github.com/execd-dev/execd/venues/venuetest"
)

// TestConformance runs the shared conformance scenarios against the Bybit v5 mock.
func TestConformance(t *testing.T) {
	venuetest.Run(t, func(t *testing.T) venuetest.Harness {
		f := newFixture(t)
		return &venuetesting.Harness{Adapter: f.ad, Book: f.book, Faults: f.srv.Faults(), Streams: f.srv, Sent: f.sent,
			SetPos: func(q decimal.Decimal) { f.srv.SetPosition("BTCUSDT", q, decimal.NewFromInt(10490)) },
			Bad:    func() venues.Venue { return newAdapter(t, f.srv, "wrong-secret") },
			Stale: func() venues.Venue {
				ad := newAdapter(t, f.srv, testSec)
				ad.offset.Store(60_000)
				return ad
			},
			// Below Bybit's minimum order quantity (0.001 BTC); quantities are floored by nobody, so the venue (or
			// the adapter, before sending) refuses it.
			Small: d("0.0005"),
			Exec: func(id string) (decimal.Decimal, bool) {
				for _, o := range f.srv.Orders() {
					if o.OrderLinkID == id {
						return o.CumExecQty, true
					}
				}
				return decimal.Zero, false
			},
		}
	})
}
