// Package exchange is the venue-neutral account engine the loopback venue mocks (mocks/binance, mocks/bybit,
// mocks/okx) share: one Account in base units (BTC quantities, USDT prices and money) trading against a book of the
// simulated market (mocks/market).
//
// Place checks a new order the way the venues do once its wire fields are valid — a duplicate client order id
// (ErrDuplicate), a reduce-only order that would not reduce (ErrReduceOnly), the minimum notional (ErrMinNotional),
// the initial margin at the configured leverage against the wallet (ErrInsufficientMargin) — then accepts it and
// executes it at once through Book.Take: a market or IOC remainder expires, a GTC limit order rests and Sweep
// re-checks it (as maker). On a book that queues resting orders (Queue: the simulated market's venues do), a resting
// order also waits in the venue's queue behind the depth shown at its price, and the background flow that reaches it
// fills it as maker at its price: the account pulls those fills before each change it makes and in every Sweep. A reduce-only order executes at most the opposite position and expires when there is
// none left. Every fill updates the signed position (entry price, realized PnL), the wallet (realized PnL less the
// fee) and the order. Amend changes an open order's quantity and price in place (ErrNotOpen, ErrBelowFilled or a
// cancel, ErrInsufficientMargin), requeueing it on a price change or a larger quantity (on every change with
// Config.AmendRequeues) and executing it at once if the new price crosses.
//
// A post-only order (Request.PostOnly) never takes liquidity. WouldTake is the check: a buy at or above the best
// ask, a sell at or below the best bid. One that would cross on arrival is refused with ErrWouldTake and not
// recorded (Config.RefuseWouldTake, Binance's -5022) or accepted and ended at once, Expired with Order.WouldTake set
// (Bybit and OKX cancel it); one that does not rests unmatched and fills as maker when the sweep finds the book
// through it. An amendment whose new price would cross is refused with ErrWouldTake, the order as it was
// (Amend.RefuseWouldTake, OKX's 51511), or cancels the order, WouldTake set (Binance). FillResting is the control
// for a fill the book did not cause: another participant taking a resting order, as maker at its price, which tests
// use to race a fill against a cancel or an amendment (mockutil.Faults.FillBeforeNextChange).
//
// Orders are indexed by sequence number (from which each mock derives its order id) and by client id, and the open
// orders and each order's fills are kept apart, so Place, Find, Cancel, Amend, OpenOrders and OrderFills cost the
// same however many orders the account has taken; a Ref names the order by either id or both. Orders, Recent,
// Fills, Position and Positions are snapshots.
//
// The account does not speak any protocol: errors are sentinels each mock maps to its codes and messages, ids are
// sequence numbers each mock formats, and state changes are reported as Events (snapshots) to Config.OnEvents, which
// the mock turns into its private-stream pushes. The events of a change are collected under the account's lock and
// delivered after it is released, in order, one batch at a time; Serialize lets a mock order its own pushes (a
// subscription ack) with them.
//
// Small helpers the mocks share around the engine: Venue, the simulated-market venue a mock serves (its Book type);
// Settings.Defaults and Default, the venue-neutral Config defaults (book, credentials, balance, leverage, clock,
// sweep interval, logger); Reject, a sentinel error to the protocol's answer; Convert, engine records or book levels
// to the protocol's rows; OnGrid, the tick and step check. The server lifecycle (listen, serve, sweep ticker,
// Close) and the request pipeline's fault handling are mockutil.Lifecycle and mockutil.Tail.
package exchange
