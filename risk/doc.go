// Package risk holds the pre-trade checks, the trading state and the per-venue circuit breakers.
//
// Check is pure: given the limits, the trading state and one child order (with the venue's ledger position
// and its other open reduce-only orders), it returns nil or a *Violation with a stable code. Halted refuses
// everything; Reducing lets through only children that shrink |position|, the same test a reduce-only child
// must pass; then come the child notional cap and the price band around the mark.
//
// Switch holds the trading state for concurrent readers. Breakers keeps one gobreaker TwoStepCircuitBreaker
// per venue: only failures where the venue may not have answered (venues.Retryable, venues.Unknown) count
// towards tripping; a rejection is the venue working. State-change notifications never run under a lock:
// gobreaker's own OnStateChange hook, which runs under gobreaker's mutex, only appends the transition to a
// per-venue queue under a leaf mutex; the queue is drained by whichever call (Allow, done, State, Healthy)
// saw it grow, outside every lock, one drainer per venue at a time so a venue's transitions reach onChange
// once each and in order.
package risk
