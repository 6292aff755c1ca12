// Package engine owns the lifecycle of parent orders. Submit plans a parent once (router allocation over the
// venues' volume shares × ops weights, read through the gateways; a randomized TWAP schedule per venue) and
// journals it. From then on its decisions are a pure state machine (machine.Step: state, event, now → state,
// commands; no clock, goroutine, logger or I/O inside) and one runner goroutine owns it (invariant 7): the runner
// feeds the machine the gateways' updates (accepted, refused, unknown, resolved, fills, health), its timer on the
// simulated clock, cancels and ops changes, and carries out the commands — requests to the gateway of a venue and
// instrument, journal writes, events on the bus, snapshots for readers. A child whose outcome is unknown blocks
// its venue for that parent until its gateway resolves it (invariant 4); a venue whose breaker opens, that keeps
// rejecting, or that ops disable is taken out of the parent and its unsent remainder moved to the healthy
// venues. Start recovers the journal (ended parents as their summaries, working ones as machines), prepares each
// gateway (fills made while down, stray orders, the ledger's positions) and resumes; Stop stops new children,
// cancels resting ones, waits for those being placed and those cancels, then stops the gateways.
package engine
