// Package wsstream is the private-stream loop every venue adapter uses: open a connection (dial plus the venue's own
// open step: a listenKey for Binance, login and subscribe for Bybit and OKX), read it on a goroutine, run a
// keepalive hook on a ticker, decode each message into venues.Events, and reconnect with capped exponential
// backoff until ctx ends.
//
// Rules the loop keeps for every venue:
//   - after every reconnect (not the first connect) it sends venues.Event{Venue, Reconnected: true}, so the
//     consumer recovers what happened while the stream was down by query;
//   - a message Decode cannot translate breaks the connection on purpose (never dropped silently): the consumer
//     gets Reconnected and the same payload surfaces as an error on the query path;
//   - an error of class venues.Rejected from Open or Keepalive (bad credentials) is returned at once;
//   - when ctx ends it returns ctx.Err() and never blocks on out.
//
// The hooks are called only from the goroutine running Run, one at a time, so they may share unguarded state.
package wsstream
