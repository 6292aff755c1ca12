package venues

import "context"

// Venue is one trading venue as execd uses it. Implementations are safe for concurrent use by several goroutines;
// every method honours ctx and returns a classified *Error on failure.
//
// Quantities cross this interface in base units (BTC), prices in quote units per base unit; an adapter converts to
// the venue's own units (contracts, for OKX) and returns an error, never a rounded value, for a quantity it cannot
// express exactly.
type Venue interface {
	// Name is the venue's configured name ("a", "binance", ...).
	Name() string
	// Rules returns the trading rules of a canonical instrument.
	Rules(ctx context.Context, instrument string) (Rules, error)
	// Stats returns mark price, 24 h volume and funding for a canonical instrument.
	Stats(ctx context.Context, instrument string) (Stats, error)
	// Place sends a new order. On an Unknown error the order may exist; resolve with Query.
	Place(ctx context.Context, req OrderRequest) (Order, error)
	// Query returns the order with the given client order id; an error wrapping ErrNotFound if the venue does not
	// know it.
	Query(ctx context.Context, instrument, clientOrderID string) (Order, error)
	// Cancel cancels an open order by client order id and returns its final state as the venue reports it.
	Cancel(ctx context.Context, instrument, clientOrderID string) (Order, error)
	// OpenOrders lists the orders still working on an instrument.
	OpenOrders(ctx context.Context, instrument string) ([]Order, error)
	// Fills returns the account's fills on an instrument since the given time (for recovery after a stream gap).
	Fills(ctx context.Context, instrument string, sinceMillis int64) ([]Fill, error)
	// Positions returns the account's non-zero positions.
	Positions(ctx context.Context) ([]Position, error)
	// Stream delivers private events (order updates and fills) on out until ctx is done, reconnecting on its own;
	// after a reconnect it sends an Event with Reconnected set. It returns ctx.Err() when ctx ends, or an error
	// if the stream cannot be set up at all (bad credentials).
	Stream(ctx context.Context, out chan<- Event) error
}
