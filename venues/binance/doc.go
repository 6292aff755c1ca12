// Package binance is execd's adapter for Binance USDⓈ-M futures (and for the protocol mock in mocks/binance). It
// drives the REST API through go-binance's futures client and opens the user-data stream itself with gorilla/
// websocket at the venue's own URL (go-binance's stream base URL is a package variable; DESIGN invariant 10),
// decoding into go-binance's exported event types.
//
// Its main job is safety: every failure comes back as a classified *venues.Error. go-binance does not report the
// HTTP status or whether a request reached the wire, so the adapter wraps the HTTP transport (venues/internal/httpx) and
// records both, per call, in a holder carried in the request context. A request that never left is Retryable; one that left and
// got no usable answer is Unknown (the order may exist and must be resolved by client order id); a definite
// refusal is Rejected. A 2xx answer the adapter cannot interpret is Unknown for the mutating calls (place, cancel:
// the venue did act) and Rejected for reads (retrying a read the adapter cannot parse would loop). Classify holds
// the status/code table.
//
// Beyond venues.Venue it is a venues.Quoter (premiumIndex: the mark, one request), a venues.OrderFiller
// (userTrades by orderId) and a venues.Amender (order modify, which needs side, quantity and price: the adapter
// reads the order first and sends what does not change as it is).
//
// Time in force: GTC, IOC, and venues.PostOnly as GTX. A GTX order that would take liquidity is refused by the venue
// (-5022, Rejected) and never recorded; a modify that would make one cross cancels it, and the cancelled order is
// returned.
//
// Translation between venue and canonical types lives in convert.go and fails loudly: an unknown status, type,
// time in force or a malformed decimal is an error, never a default. Signed URLs, signatures and the secret never
// reach a log line or an error string: transport errors are stripped of their query. The user-data stream runs on
// venues/internal/wsstream's reconnect loop.
package binance
