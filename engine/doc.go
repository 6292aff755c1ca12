// Package engine owns the lifecycle of parent orders. Each parent has one owner goroutine (invariant 7): it plans
// the parent once (router allocation over the venues' volume shares × ops weights, a randomized TWAP schedule per
// venue), then reacts to timers, child results, fills and cancels arriving on channels, and publishes an immutable
// Report snapshot after every change for readers. Venue I/O for a child runs in a short-lived goroutine the owner
// starts and waits for; its outcome comes back on a channel. A child whose outcome is unknown is resolved by
// querying the venue by its client order id and is resent, with the same id, only if the venue says it does not
// exist (invariant 4); until then nothing else is sent for that parent on that venue. A venue that keeps failing
// (breaker open, or rejections in a row) is taken out of the parent and its remainder is reallocated to the
// healthy venues. Fills from the venues' private streams are booked once in the positions ledger and routed to
// their parent by client order id.
package engine
