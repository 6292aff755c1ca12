package gateway

import (
	"context"

	"github.com/execd-dev/execd/venues"
)

// quoter is the optional capability of a venue to read the mark (and the top of book where it can) in one
// request; without it the gateway reads Stats.
type quoter interface {
	Quote(ctx context.Context, instrument string) (venues.Quote, error)
}

// orderFiller is the optional capability of a venue to read one order's fills; without it the gateway reads the
// instrument's fills since the order was sent and keeps the order's own.
type orderFiller interface {
	OrderFills(ctx context.Context, instrument, clientOrderID, venueOrderID string, sinceMillis int64) ([]venues.Fill, error)
}

// amender is the optional capability of a venue to change an open order's price or quantity in place.
type amender interface {
	Amend(ctx context.Context, req venues.AmendRequest) (venues.Order, error)
}
