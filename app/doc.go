// Package app wires execd from a config: the simulated market and mock venues when the config asks for them,
// one adapter per venue, the positions ledger seeded from the venues' own reports, the engine, and the HTTP API.
// It is the embeddable daemon: Start, Stop(ctx) and Addr() let tests run the whole thing on 127.0.0.1:0, and
// Reload applies a new config's reloadable part atomically or not at all.
package app
