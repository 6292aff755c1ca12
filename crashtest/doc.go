// Package crashtest kills the real execd binary at random moments of a rebalance and checks that a restart on
// the same journal finishes the order exactly: the filled quantity is the request on the lot grid, no client
// order id is used twice at a venue, no order is left open, and the daemon's positions equal the venues'. The
// mock venues run in the test process, so they outlive every daemon they serve.
package crashtest
