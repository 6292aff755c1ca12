// Package binance is a loopback mock of the Binance USDⓈ-M futures API: the REST subset and the user-data
// websocket that go-binance's futures client and execd's Binance adapter use. Each Server is one venue with one
// account (one API key), trading against its own book (one per listed symbol) in the simulated market
// (mocks/market) through the small Book interface. It signs, rate-limits and rejects the way the real venue does —
// the same error codes, messages, HTTP statuses and X-MBX-* headers — so the adapter's error classification is
// tested against the wire, not against assumptions. Order and trade times come from the simulated clock; signature timestamps, recvWindow and
// listenKey expiry run on the wall clock (moved by an injected ClockSkew for the timestamps), as at the real venue.
//
// The trading is the shared engine (mocks/exchange): orders match immediately against the book (MARKET and IOC
// take what they can, the rest expires; GTC rests and is re-checked on every request and on a short wall-clock
// ticker), and every execution updates the position and the wallet. This package keeps what is Binance's: the
// routes and filters, signing, weights and order limits, the error codes (the engine's sentinel errors mapped to
// -4116, -2022, -4164, -2019, -2011/-2013), the order and trade ids and fields, and the user-data streams — the
// engine's events become ORDER_TRADE_UPDATE and ACCOUNT_UPDATE on every open stream of the account. Server
// lifecycle is mockutil.Lifecycle.
//
// Order modify (PUT /fapi/v1/order) takes a LIMIT order's side, quantity and price (all required); orderId prevails
// over origClientOrderId. A quantity or price outside the filters is refused and the order stays as it is; nothing
// changed is -5027; a modify of an order that is not open, or unknown, is -2013; a quantity at or below what has
// filled cancels the order; every modified order goes to the back of the match queue (AMENDMENT on the stream).
// userTrades with orderId returns that order's trades only.
//
// Post-only is timeInForce GTX. A GTX order whose price would take liquidity (a buy at or above the best ask, a sell
// at or below the best bid) is refused with HTTP 400, -5022, and leaves no trace: no order id, no stream event, not
// found by GET /fapi/v1/order; one that does not cross rests and fills as maker. A modify that would make a GTX order
// cross cancels it (the answer is the CANCELED order).
//
// One Server lists Config.Symbol and, with Config.More, other symbols, each trading against its own book with its
// own filters and precision on the one account: the public endpoints answer for any listed symbol (without a symbol,
// for all of them), the account endpoints show every listed symbol's position, orders and trades are per symbol,
// and an unlisted symbol is -1121.
//
// Faults (mockutil.Faults) injects the failures crash tests need, each answered as Binance answers it:
//   - responses dropped or delayed after the order was executed, 5xx before (503 -1001) or after (503 -1007)
//     acceptance, user streams cut and stream fills lost;
//   - RateLimitNext: HTTP 429, -1003, with Retry-After; a client that keeps sending inside it is banned;
//   - Ban: HTTP 418, -1003 "Way too many requests; IP banned until <ms>. …", Retry-After the seconds left, on
//     every request;
//   - Maintenance: every request answers HTTP 503, -1001 "Internal error; unable to process your request. Please
//     try again." (a failure, nothing executed) until it ends;
//   - InsufficientMargin: the next order creates (that pass the filters) are HTTP 400, -2019 "Margin is
//     insufficient.", nothing executed;
//   - Latency: every REST request waits the extra time before the venue looks at it (a long one arrives outside
//     its recvWindow: -1021);
//   - FillBeforeNextChange: the market takes a resting order just before the venue handles the next cancel or
//     modify, which then meets the order filled (-2011 or -2013) or partly filled;
//   - ClockSkew: the venue's clock runs ahead or behind: the timestamp check (-1021, outside the recvWindow or
//     1000ms ahead of the server's time) and serverTime (/fapi/v1/time, exchangeInfo) use it, so a client that
//     corrects its offset from /fapi/v1/time gets through.
package binance
