// Package ctl is execctl: a command line over execd's internal API v1 for the rebalancer and ops, in the shape
// kubectl made familiar — submit, get, list, watch, cancel, report, target, positions, venues, halt / reduce /
// resume, audit, reload. It owns no state: every command is one or a few API calls, rendered as a table for people
// or as JSON (-o json; CSV where a table is data) for programs. The address and token come from flags or the
// environment (EXECD_ADDR, EXECD_TOKEN). Exit codes say what happened without parsing text: 0 done, 1 the daemon
// refused or failed the request, 2 bad usage, 3 the daemon could not be reached, 4 a watched order ended other than
// done. cmd/execctl is its thin main.
package ctl
