package venues

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// The optional capabilities below are what some adapters can do beyond Venue. A caller finds one by type
// assertion (v.(venues.Quoter)) and falls back to the Venue methods when the adapter lacks it; each adapter that
// has one says so with a compile-time check (var _ venues.Quoter = (*Adapter)(nil)). Like Venue's methods they
// honour ctx and return a classified *Error on failure.

// Quote is an instrument's mark price at one venue and, where the one request that reads the mark gives them, its
// best bid and ask.
type Quote struct {
	Instrument     string
	Mark, Bid, Ask decimal.Decimal // Bid and Ask are zero when the venue's request does not give them
	Time           time.Time       // the venue's time of the quote
}

// Quoter reads a quote in exactly one venue request (Stats may need several), besides the instrument list the
// adapter caches and refreshes every few minutes.
type Quoter interface {
	Quote(ctx context.Context, instrument string) (Quote, error)
}

// OrderFiller reads one order's fills, and only that order's, since sinceMillis (0: as far back as the venue keeps
// them), oldest first. The order is named by its client order id, its venue order id, or both; an adapter that needs
// the one it was not given learns it from the venue first (one more request).
type OrderFiller interface {
	OrderFills(ctx context.Context, instrument, clientOrderID, venueOrderID string, sinceMillis int64) ([]Fill, error)
}

// AmendRequest changes an open limit order in place, keeping its client order id.
type AmendRequest struct {
	Instrument, ClientOrderID string
	// Quantity is the order's new total quantity in base units, what has filled included, on the lot grid; Price is
	// its new limit price, on the tick grid. Zero leaves either unchanged; at least one must change.
	Quantity, Price decimal.Decimal
}

// Amender changes the quantity and/or price of an open GTC or post-only limit order (Binance order modify, Bybit
// /v5/order/amend, OKX /api/v5/trade/amend-order). A price change loses the order's place in the queue. It
// returns the order as it stands after the amendment; a new price that crosses the book executes a GTC order at
// once, while a post-only order never executes so: Binance cancels it (returned, StatusCanceled, nothing more
// filled), Bybit ends it (as the mock has it: the order returned ended, rejectReason EC_PostOnlyWillTakeLiquidity),
// OKX refuses the amendment (Rejected, code 51511) and the order rests as it was. A
// quantity not above what has filled is the venue's to handle: Binance cancels the order, Bybit and OKX refuse
// (Rejected). An amendment of an order that has ended (filled, cancelled, expired) is Rejected; of an order the
// venue does not know, Rejected wrapping ErrNotFound.
type Amender interface {
	Amend(ctx context.Context, req AmendRequest) (Order, error)
}

// Toucher is the optional capability of a venue to read its best bid and ask in one request, for a venue whose
// Quote gives none (Quote's Bid and Ask set, Mark zero). Safe for concurrent use.
type Toucher interface {
	Touch(ctx context.Context, instrument string) (Quote, error)
}
