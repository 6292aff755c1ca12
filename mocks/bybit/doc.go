// Package bybit is a loopback mock of the Bybit v5 API for USDT linear perpetuals (category=linear): the REST subset
// execd's Bybit adapter uses and the private websocket (auth, subscribe, ping; order, execution and position topics).
// Each Server is one venue with one account (one API key), trading each listed symbol against its own book in the
// simulated market (mocks/market) through the Book interface. It signs, rate-limits and rejects the way the real venue
// does — the {"retCode","retMsg","result","retExtInfo","time"} envelope, Bybit's retCodes and messages, HTTP 200 for
// business errors and the per-UID API limit (10006), HTTP 403 for the IP limit, the X-Bapi-Limit* headers — so the
// adapter's classification is tested against the wire. Event times come from the simulated clock; signature timestamps
// and recv windows run on the wall clock (moved by an injected ClockSkew), as at the real venue.
//
// The trading is the shared engine (mocks/exchange): orders match at once against the book: Market and IOC take
// what they can and the rest is cancelled (orderStatus "Cancelled", as Bybit reports an IOC remainder on
// derivatives); GTC rests and is re-checked on every request and on a short wall-clock ticker. Reduce-only orders
// execute at most the opposite position; an orderLinkId is never reused. Every execution updates the position and
// wallet. This package keeps what is Bybit's: routes, signing, limits, retCodes (the engine's sentinel errors mapped
// to 110072, 110017, 110094, 110007, 110001), ids and fields, and the private topics the engine's events become
// (order, execution, position). Server lifecycle is mockutil.Lifecycle.
//
// /v5/order/amend changes a New or PartiallyFilled order's qty (its new total) and/or price, by orderId or
// orderLinkId: an order that has ended or does not exist is 110001 ("too late to replace"), a qty at or below what
// has filled 110064, an amendment that changes nothing 10001; a repriced or larger order loses its queue place, a
// smaller one keeps it. /v5/execution/list and the order lists honour orderId and orderLinkId.
//
// timeInForce PostOnly: an order whose price would take liquidity (a Buy at or above the best ask, a Sell at or below
// the best bid) is acknowledged like any create, then cancelled at once with nothing executed: orderStatus
// "Cancelled", cancelType "UNKNOWN", rejectReason "EC_PostOnlyWillTakeLiquidity". One that does not cross rests and
// fills as maker. An amend that reprices a PostOnly order through the book cancels it the same way.
//
// Config.More lists further linear symbols on the same account (say ETHUSDT beside BTCUSDT), each an Instrument
// with its own book and rules. Every symbol-taking endpoint serves the symbol named with that symbol's book, rules
// and precision (prices at its tick's decimals, at least 2, quantities at its step's), and answers a symbol the
// mock does not list with 10001 "symbol invalid"; instruments-info, tickers and position/list without a symbol list
// every symbol, Config.Symbol first; the order and execution lists without a symbol show every symbol's. An order
// is cancelled or amended only under its own symbol (110001 otherwise). Stream pushes carry the order's or
// position's own symbol and precision.
//
// Faults (mocks/mockutil) injects the failures crash tests need, each answered as Bybit answers it:
//   - responses dropped or delayed after the order was executed, 5xx (503, 10016) before or after acceptance,
//     private streams cut and stream executions lost;
//   - RateLimitNext: HTTP 200, retCode 10006, with X-Bapi-Limit, X-Bapi-Limit-Status 0 and
//     X-Bapi-Limit-Reset-Timestamp (ms);
//   - Ban: the IP ban, HTTP 403 with the plain-text body "access too frequent", on every request;
//   - Maintenance: every request answers HTTP 200, retCode 10016 "Server error." until it ends, nothing executed;
//   - InsufficientMargin: the next order creates (that pass the instrument rules) are retCode 110007, nothing
//     executed;
//   - Latency: every REST request waits the extra time before the venue looks at it;
//   - FillBeforeNextChange: the market takes a resting order just before the venue handles the next cancel or
//     amend, which then meets the order filled (110001, too late) or partly filled;
//   - ClockSkew: the venue's clock runs ahead or behind: the timestamp rule (10002, naming req_timestamp,
//     server_timestamp and recv_window), /v5/market/time, the envelope's time, the limit reset timestamps and the
//     private stream's auth expiry use it, so a client that corrects its offset from /v5/market/time gets through.
package bybit
