// Package mockutil is the plumbing the loopback venue mocks (mocks/binance, mocks/bybit, mocks/okx) share and that
// is not specific to any venue's wire protocol:
//
//   - Faults, the fault injector a test drives (dropped, delayed or 5xx responses around an accepted order, rate
//     limits, bans, user streams cut, and at run time Latency, ClockSkew, Maintenance, InsufficientMargin and
//     FillBeforeNextChange, a fill of a resting order that races the next cancel or amendment), and the calls a
//     server makes to consume and carry out those faults (TakeRateLimit, TakeBeforeAccept, TakeAfterAccept,
//     AfterAccept.Apply, Banned, HoldRequest, Now and Skew, UnderMaintenance, TakeInsufficientMargin, TakeRaceFill);
//   - Window, a fixed-interval request counter on the wall clock, as venues count their rate limits;
//   - Hub, the set of a server's open private websocket connections: upgrade, per-connection tags (listen key,
//     authenticated, subscribed topics), JSON publish, cut or drain, and WaitTagged, which blocks until enough
//     connections carry a tag (TagSubscribed: a server's private connections ready for pushes) — what tests
//     synchronize on instead of sleeping;
//   - HMACHex and HMACBase64 for request signatures, and WriteJSON for answers;
//   - Lifecycle, a server's listener, HTTP server and wall-clock ticker (the resting-order sweep): Start, Addr,
//     Done (for the after-accept delays), Hold (for handler goroutines Close waits for) and Close.
//
// The venue-neutral trading itself — orders, fills, positions, wallet — is mocks/exchange.
//
// Venue-specific details — error bodies, status codes, header names — stay in each mock and are passed in.
package mockutil
