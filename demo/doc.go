// Package demo runs execd end to end on the simulated market: it starts the market and the mock venues of a
// scenario, starts the whole daemon on loopback, submits the scenario's rebalance through the HTTP API as the
// rebalancer would, shows progress per venue while the parent works, and prints the report (or, with JSON, one
// object holding the final order and the positions).
package demo
