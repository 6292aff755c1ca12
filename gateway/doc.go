// Package gateway is the one owner of a (venue, instrument) pair (invariant 14): a goroutine that alone places,
// cancels, amends and queries orders there, so limits, the breaker, reservations and open orders have one owner.
// Parents send it requests through a mailbox and hear back through their Sink; its venue calls run on goroutines
// of their own whose results come back to its loop. It prices an order from its cached mark inside the parent's
// band, runs the pre-trade check, holds reduce-only capacity across parents (an order is cut to the room left or
// refused, so two parents never size against the same position), journals the intent before the send, retries by
// one table (Retry), resolves unknown outcomes by client order id, journals each fill once, books it in the ledger
// (the gateway is the only writer of its key) and routes it to its parent, reads by REST only the fills of an
// order the stream did not deliver, and reports the venue's health from its breaker.
package gateway
