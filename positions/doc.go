// Package positions owns execd's view of what it holds: a ledger of signed positions per (venue, instrument),
// seeded from the venues' own reports at start and moved by fills, each fill booked once by (venue, trade id)
// (invariant 5). Readers get copies; the ledger never calls out while it holds its lock. Targets and the
// level-triggered reconcile loop that compares the ledger with the venues build on it.
package positions
