package engine

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/lifecycle"
)

// Publisher receives the engine's events (invariant 16). Publish must not block and must be safe for concurrent
// use; it returns the event's sequence number. events.Bus implements it.
type Publisher interface {
	Publish(kind, key string, data any) uint64
}

// Event kinds the engine publishes, with the type of their data. The key is the parent's id for order, child,
// fill and report events, the venue's name for venue events.
const (
	EventOrder   = "order"        // Report: a parent changed (state, fills, allocation, children)
	EventChild   = "child"        // ChildEvent: a child order changed state
	EventFill    = "fill"         // FillEvent: a fill was booked for a parent
	EventVenue   = "venue"        // VenueEvent: a venue's health changed for an instrument
	EventReport  = "report"       // Report: a parent ended; its final report
	EventRealloc = "reallocation" // ReallocEvent: a running parent moved its unsent remainder between venues
)

// ReallocEvent is a running parent's re-allocation.
type ReallocEvent struct {
	Parent     string
	Instrument string
	Reallocation
}

// ChildEvent is a child order's change of state.
type ChildEvent struct {
	Parent        string          `json:"parent"`
	Venue         string          `json:"venue"`
	Instrument    string          `json:"instrument"`
	ClientOrderID string          `json:"client_order_id"`
	Seq           int             `json:"seq"`
	State         lifecycle.State `json:"state"`
	Side          string          `json:"side"`
	Quantity      decimal.Decimal `json:"quantity"`
	Price         decimal.Decimal `json:"price"`
	Filled        decimal.Decimal `json:"filled"`
	Reason        string          `json:"reason,omitempty"`
	Time          time.Time       `json:"time"`
}

// FillEvent is a fill booked for a parent.
type FillEvent struct {
	Parent        string          `json:"parent"`
	Venue         string          `json:"venue"`
	Instrument    string          `json:"instrument"`
	ClientOrderID string          `json:"client_order_id"`
	TradeID       string          `json:"trade_id"`
	Side          string          `json:"side"`
	Quantity      decimal.Decimal `json:"quantity"`
	Price         decimal.Decimal `json:"price"`
	Fee           decimal.Decimal `json:"fee"`
	FeeAsset      string          `json:"fee_asset"`
	Time          time.Time       `json:"time"`
}

// Health is a venue's health for one instrument, as its gateway sees it.
type Health string

const (
	HealthUp       Health = "up"       // orders go out
	HealthDegraded Health = "degraded" // breaker half-open: probes only
	HealthDown     Health = "down"     // nothing goes out: breaker open
)

// VenueEvent is a change of a venue's health.
type VenueEvent struct {
	Venue      string    `json:"venue"`
	Instrument string    `json:"instrument"`
	Health     Health    `json:"health"`
	Reason     string    `json:"reason,omitempty"`
	Time       time.Time `json:"time"`
}
