// Package okx is a loopback mock of the OKX v5 API for USDT-margined perpetual swaps on one account: Config.InstID
// (BTC-USDT-SWAP by default) trading against Config.Book, and any further swaps of Config.More (e.g. ETH-USDT-SWAP),
// each trading against its own simulated-market venue (mocks/market) with its own contract terms (ctVal, lotSz,
// minSz, tickSz).
//
// Every endpoint that takes an instId accepts any listed swap and serves that swap's book, contract value, lot,
// tick and price precision; an unlisted instId is refused as before (51001). Listings without an instId
// (public/instruments, public/mark-price, account/positions, the order and fill lists) cover every listed swap;
// with one they keep that swap's rows alone, and an order queried, cancelled or amended under another swap's instId
// does not exist for it. The stream pushes each order and position with its own instId, in its own contracts.
//
// It speaks the real wire protocol: the {"code","msg","data"} envelope with string numbers; per-order results with
// sCode/sMsg (a failed place answers code "1" and the reason in data[0].sCode); OKX's own error codes; signed
// requests with OK-ACCESS-KEY, OK-ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp+method+requestPath+body)),
// OK-ACCESS-TIMESTAMP (ISO 8601 with milliseconds, within 30 s of the venue's clock: the wall clock, moved by an
// injected ClockSkew) and OK-ACCESS-PASSPHRASE; per endpoint rate limits over 2 s windows; and the private
// websocket (/ws/v5/private) with login, subscribe to the orders and positions channels, and pushes.
//
// Quantities on the wire are in contracts: one contract is CtVal (0.01) BTC, or a More swap's own CtVal (0.1 ETH).
// The simulated-market venue behind each swap must be configured with LotSize equal to its CtVal×LotSz, so every
// execution of Book.Take is a whole number of contracts. The shared engine (mocks/exchange) trades in base units,
// one symbol per instId, each against its own book — this package converts sizes at its edges with each swap's
// CtVal (sz and positions in contracts = base / CtVal) and reports fees negative (a cost), as OKX does. It keeps what is OKX's:
// routes, signing, limits, codes (the engine's sentinel errors mapped to sCode 51016, 51169, 51008, 51400), ids and
// fields, and the orders and positions channels the engine's events become. Server lifecycle is
// mockutil.Lifecycle.
//
// /api/v5/trade/amend-order changes a live order's newSz (contracts, fills included) and/or newPx by ordId or
// clOrdId: an unknown order is sCode 51503, a canceled one 51509, a filled one 51510, neither newSz nor newPx
// 51500, a size not above what has filled 51000, too little margin 51502 (cxlOnFail then cancels the order); a
// repriced or larger order loses its queue place, a smaller one keeps it; the orders channel pushes the amended
// order with amendResult "0". /api/v5/trade/fills honours ordId; /api/v5/public/mark-price gives the mark alone.
//
// ordType post_only: an order whose px would take liquidity (a buy at or above the best ask, a sell at or below the
// best bid) is placed (sCode "0") and canceled by the venue at once, nothing filled: state "canceled", cancelSource
// "31" (with its cancelSourceReason on the order queries); one that does not cross rests and fills as maker. An
// amendment whose newPx would make a post_only order cross is refused with sCode 51511, the order left as it was.
//
// Faults (mockutil.Faults) inject failures, each answered as OKX answers it:
//   - 5xx (503, 50001) before or after an accepted order, dropped or delayed answers, cut private streams and lost
//     stream fills;
//   - RateLimitNext and Ban: HTTP 429 {"msg":"Too Many Requests","code":"50011"} (no data, no Retry-After), for
//     the next requests or, banned, every request until the ban ends;
//   - Maintenance: every request answers HTTP 503, code 50001 "Service temporarily unavailable. Try again later"
//     until it ends, nothing executed;
//   - InsufficientMargin: the next order places (that pass the contract checks) fail with code "1" and data[0]
//     sCode 51008, nothing executed;
//   - Latency: every REST request waits the extra time before the venue looks at it;
//   - FillBeforeNextChange: the market takes a resting order just before the venue handles the next cancel or
//     amendment, which then meets the order filled (51400, 51510) or partly filled;
//   - ClockSkew: the venue's clock runs ahead or behind: the 30 s timestamp check (HTTP 401, 50102), the private
//     websocket's login (60006) and /api/v5/public/time use it, so a client that corrects its offset from the
//     public time gets through.
//
// The private websocket answers a text "ping" with a text "pong", so a client can tell a live idle connection
// from a dead one.
package okx
