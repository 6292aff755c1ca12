// Package config loads execd's configuration: strict YAML (unknown keys are errors), validated whole before anything
// uses it (invariant 11). It separates what a reload may change (venue weights and enabled flags, TWAP and risk
// parameters) from what it may not (listen address, venues' endpoints and credentials, the simulated market), and
// Reloadable reports which of the two a new file touches. It holds no secrets: credentials are read from the
// environment variables the file names, and API tokens are stored as SHA-256 hashes.
package config
