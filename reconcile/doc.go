// Package reconcile keeps what execd believes in line with what the venues hold, level-triggered (invariant 8).
//
// The Loop runs one goroutine per (venue, instrument) pair. Each pass asks the pair's gateway for an
// Observation: the gateway reads the venue's fills, open orders and position through its breaker, books the
// fills of execd's own orders the stream lost, and — only when nothing of execd's was in flight at the pair during
// the reads — books any remaining difference between the venue's position and the ledger as an external change
// (journaled first). Passes run on an interval of the market clock, at once when triggered (a stream reconnect,
// a start), and never two at once for one pair: the pair's goroutine runs them one after the other and a trigger
// while one runs asks for one more. A failed pass leaves the ledger as it was, flags the pair and is retried with
// a doubling back-off; a pair whose position could not be read is never taken as flat.
//
// The Keeper holds the targets: desired aggregate positions per instrument. It is level-triggered too: on a new
// target, when a parent it started ends, and after every reconcile pass it compares the target with the
// reconciled aggregate net of what working parents still have to trade, and acts on the difference — cancel the
// parents of a superseded target, start a parent for the difference, or, once the target's own parent has ended,
// open a corrective parent (auto-correct) or raise an alert when the aggregate is beyond tolerance.
package reconcile
