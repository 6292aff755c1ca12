// Package api is execd's internal HTTP API v1 (DESIGN.md): JSON over HTTP with bearer tokens and roles
// (rebalancer: orders; ops: venues and trading state; viewer: reads). It validates every request whole before it
// acts, answers bad input with a 4xx and a JSON body {"error": {"code", "message"}} and changes nothing (invariant
// 13), and knows nothing about venues' protocols: it talks to the engine and the app through the small interfaces
// declared here.
package api
