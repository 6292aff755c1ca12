// Package lifecycle defines the one child-order lifecycle that the engine, the gateways and the journal share:
// intent → sent → open (resting) → cancel-pending / amend-pending → a final state (filled, cancelled, expired,
// rejected, not sent), with unknown → resolved by query. It is a leaf package: the states, which moves between them
// are allowed, and which final venue statuses end an order in which state (Ended). Nothing here does I/O.
package lifecycle
