// Package bybit is execd's adapter for Bybit v5 USDT linear perpetuals (category=linear). It implements
// venues.Venue with a few hand-written REST calls (signed with X-BAPI-* headers: hex HMAC-SHA256 over
// timestamp+apiKey+recvWindow+payload) and the private websocket (auth, subscribe to order/execution/position,
// ping every 20 s), through the shared venues/internal/httpx transport and venues/internal/wsstream reconnect loop.
//
// Canonical BASE-QUOTE-PERP instruments map to Bybit symbols (BTC-USDT-PERP ↔ BTCUSDT); quantities are in base
// units as on Bybit. Orders are placed, queried and cancelled by orderLinkId (the client order id). Every failure is a
// classified *venues.Error (see Classify); payloads the adapter cannot translate are errors, never guesses.
//
// Beyond venues.Venue it is a venues.Quoter (tickers: mark, bid1 and ask1 in one request), a venues.OrderFiller
// (/v5/execution/list by orderLinkId) and a venues.Amender (/v5/order/amend by orderLinkId, the order read back).
//
// Time in force: GTC, IOC, and venues.PostOnly as timeInForce PostOnly. Bybit acknowledges a PostOnly order that
// would take liquidity and then cancels it (rejectReason EC_PostOnlyWillTakeLiquidity); the adapter reports it as an
// order in StatusRejected with nothing filled, not as an error.
package bybit
