// Package okx is execd's adapter for OKX v5 USDT-margined perpetual swaps (and for the protocol mock in mocks/okx).
// It speaks the REST API directly (net/http, about ten calls) and opens the private websocket itself with
// gorilla/websocket through venues/internal/wsstream: login, subscribe to orders and positions, a text ping every
// 25 s, reconnect with backoff and Event{Reconnected} after each reconnect.
//
// Units: OKX trades swaps in contracts (BTC-USDT-SWAP: ctVal 0.01 BTC). execd speaks base units, so Rules report
// LotSize = lotSz×ctVal and MinQty = minSz×ctVal, Place converts BTC to contracts exactly and refuses (Rejected,
// nothing sent) a quantity that is not a whole number of lots, and orders, fills and positions come back in BTC
// (contracts×ctVal). OKX reports fees negative when charged; execd's Fill.Fee is positive for a cost, so the sign
// is flipped. Canonical BTC-USDT-PERP is OKX's BTC-USDT-SWAP.
//
// Failures come back as classified *venues.Error (Classify holds the code table): rate limits and timestamp
// errors are Retryable; 5xx, 50001/50004/50013/50026 are Unknown (the order may exist); every other venue code is
// Rejected; 51603 wraps venues.ErrNotFound. Transport failures are classified by venues/internal/httpx: not sent is
// Retryable, sent without an answer Unknown. A place answer is followed by a query of the order (OKX's place
// answer carries no state), so Place returns the order's state after matching.
//
// Beyond venues.Venue it is a venues.Quoter (public/mark-price: the mark, one request), a venues.OrderFiller
// (trade/fills by ordId) and a venues.Amender (amend-order by clOrdId, newSz in contracts converted exactly or
// refused, the order read back).
//
// Order types: market, limit (GTC), ioc, and venues.PostOnly as ordType post_only. OKX places a post_only order that
// would take liquidity and then cancels it (cancelSource 31); the adapter reports it as an order in StatusRejected
// with nothing filled. An amendment that would make a post_only order cross is refused (51511, Rejected).
//
// Translation between OKX payloads and canonical types lives in convert.go and fails loudly: an unknown state,
// order type or position mode, or a malformed decimal, is an error, never a default. The secret and passphrase
// never reach a log line or an error string.
package okx
