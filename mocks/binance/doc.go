// Package binance is a loopback mock of the Binance USDⓈ-M futures API: the REST subset and the user-data
// websocket that go-binance's futures client and execd's Binance adapter use. Each Server is one venue with one
// account (one API key), trading against its own book in the simulated market (mocks/market) through the small
// Book interface. It signs, rate-limits and rejects the way the real venue does — the same error codes, messages,
// HTTP statuses and X-MBX-* headers — so the adapter's error classification is tested against the wire, not
// against assumptions. Order and trade times come from the simulated clock; signature timestamps, recvWindow and
// listenKey expiry run on the wall clock, as at the real venue.
//
// Orders match immediately against the book (MARKET and IOC take what they can, the rest expires; GTC rests and
// is re-checked on every request and on a short wall-clock ticker). Every execution updates the position, the
// wallet and pushes ORDER_TRADE_UPDATE and ACCOUNT_UPDATE to every open user-data stream of the account.
//
// Faults injects the failures crash tests need: responses dropped or delayed after the order was executed, 5xx
// before or after acceptance, user streams cut, and 429s.
package binance
