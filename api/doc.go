// Package api is execd's internal HTTP API v1 (DESIGN.md): JSON over HTTP with bearer tokens and roles
// (rebalancer: orders; ops: venues and trading state; viewer: reads). It validates every request whole before it
// acts, answers bad input with a 4xx and a JSON body {"error": {"code", "message"}} and changes nothing (invariant
// 13) — unknown routes (404) and wrong methods (405, with Allow) included — and knows nothing about venues'
// protocols: it talks to the engine and the app through the small interfaces declared here, and does not import
// the venues packages.
//
// Its bodies are its own types (invariant 17): Order, OrderVenue, ChildEvent, Fill, VenueHealthEvent, OpsEvent,
// mapped from the engine's snapshots by the functions in types.go, so the engine can change its types without
// changing what clients read.
//
// GET /v1/events is a websocket stream of the daemon's event bus (package events): one JSON object per message,
// {"seq", "time", "type", "key", "data"}, filtered by kinds and key. A client that reconnects with since=<the last
// seq it read> gets exactly what it missed, if the bus still holds it (else 410 too_old before the upgrade). A
// client too slow to keep its buffer from filling is closed (1013) with the seq to resume from; so is every
// stream when the server shuts down (1001, via Server.Close). Client is the Go client of all of this.
package api
