package api

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/engine"
)

// The API's own bodies (invariant 17): the engine's snapshots are mapped onto these, so the engine's types can
// change without changing what clients read. Decimals marshal as strings.

// Order is a parent order's state: the body of POST /v1/orders, GET /v1/orders/{id}, DELETE /v1/orders/{id}, an
// element of GET /v1/orders, and the data of "order" and "report" events.
type Order struct {
	ID             string          `json:"id"`
	State          string          `json:"state"` // scheduled | working | done | cancelled | failed
	Instrument     string          `json:"instrument"`
	Side           string          `json:"side"`
	Quantity       decimal.Decimal `json:"quantity"`
	ReduceOnly     bool            `json:"reduce_only"`
	Duration       string          `json:"duration"`
	MaxSlippageBps int             `json:"max_slippage_bps"`
	LimitPrice     *string         `json:"limit_price"`
	Filled         decimal.Decimal `json:"filled"`
	Residual       decimal.Decimal `json:"residual"` // the part below one lot that no venue can trade
	Unfilled       decimal.Decimal `json:"unfilled"` // allocated but not filled (band, cancel, venue failures)
	AvgPrice       *string         `json:"avg_price"`
	ArrivalPrice   decimal.Decimal `json:"arrival_price"`
	ShortfallBps   *string         `json:"shortfall_bps"`
	Fees           decimal.Decimal `json:"fees"`
	Execution      string          `json:"execution"`
	// MakerFilled is the part of Filled that rested and was filled as maker.
	MakerFilled decimal.Decimal `json:"maker_filled"`
	// Funding is what the order's fills paid in funding, USDT (negative: received): on each venue whose funding
	// time passed while the order worked, the position its fills made by then × the period's rate × the mark.
	Funding decimal.Decimal `json:"funding"`
	// Markouts are the fills' fill-weighted markouts by horizon (1s, 10s, 60s), as far as they have matured:
	// the venue's mark that long after each fill against its price, in bps, positive when the price moved the
	// order's way. They keep coming for a minute after the last fill.
	Markouts    []Markout    `json:"markouts"`
	ChildOrders int          `json:"child_orders"`
	CreatedAt   time.Time    `json:"created_at"`
	StartAt     *time.Time   `json:"start_at,omitempty"` // set ahead: the requested start
	Deadline    time.Time    `json:"deadline"`
	UpdatedAt   time.Time    `json:"updated_at"`
	EndedAt     *time.Time   `json:"ended_at"`
	Reason      string       `json:"reason,omitempty"`
	Venues      []OrderVenue `json:"venues"`
	// Reallocations are the latest moves of the unsent remainder between venues (at most 50), oldest first;
	// ReallocationCount counts them all.
	Reallocations     []Reallocation `json:"reallocations"`
	ReallocationCount int            `json:"reallocation_count"`
}

// Reallocation is one move of a running parent's unsent remainder between its venues: a venue parked (breaker
// open, disabled by ops, taken out after rejections in a row) or available again, a weight changed, trading paused
// or resumed, a restart. It is also the data of a "reallocation" event (with Parent and Instrument set).
type Reallocation struct {
	Parent     string          `json:"parent,omitempty"`
	Instrument string          `json:"instrument,omitempty"`
	At         time.Time       `json:"at"`
	Reason     string          `json:"reason"`
	Venues     []VenueMove     `json:"venues"`
	Stranded   decimal.Decimal `json:"stranded"` // what no venue could take after the move
}

// VenueMove is one venue's unsent remainder before and after a Reallocation.
type VenueMove struct {
	Venue     string          `json:"venue"`
	Before    decimal.Decimal `json:"before"`
	After     decimal.Decimal `json:"after"`
	Available bool            `json:"available"`     // the venue takes work from the parent after the move
	Why       string          `json:"why,omitempty"` // why not, when it does not
}

// Order states.
const (
	StateScheduled = "scheduled"
	StateWorking   = "working"
	StateDone      = "done"
	StateCancelled = "cancelled"
	StateFailed    = "failed"
)

// OrderVenue is one venue's part of a parent order.
type OrderVenue struct {
	Venue       string          `json:"venue"`
	VolumeShare decimal.Decimal `json:"volume_share"`
	Weight      decimal.Decimal `json:"weight"`
	Allocated   decimal.Decimal `json:"allocated"`
	Filled      decimal.Decimal `json:"filled"`
	MakerFilled decimal.Decimal `json:"maker_filled"` // of filled, as maker
	Funding     decimal.Decimal `json:"funding"`
	FundingAt   *time.Time      `json:"funding_at,omitempty"`   // the venue's funding time that passed while it worked
	NextFunding *time.Time      `json:"next_funding,omitempty"` // the venue's funding time when the order was planned
	AvgPrice    *string         `json:"avg_price"`
	ChildOrders int             `json:"child_orders"`
	Rejected    int             `json:"rejected"`
	Out         string          `json:"out,omitempty"` // why the venue takes no new work from this parent now
}

// ChildEvent is the data of a "child" event: a child order changed state.
type ChildEvent struct {
	Parent        string          `json:"parent"`
	Venue         string          `json:"venue"`
	Instrument    string          `json:"instrument"`
	ClientOrderID string          `json:"client_order_id"`
	Seq           int             `json:"seq"` // the child's sequence within its parent
	State         string          `json:"state"`
	Side          string          `json:"side"`
	Quantity      decimal.Decimal `json:"quantity"`
	Price         decimal.Decimal `json:"price"`
	Filled        decimal.Decimal `json:"filled"`
	Reason        string          `json:"reason,omitempty"`
	Time          time.Time       `json:"time"`
}

// Fill is the data of a "fill" event: a fill booked for a parent.
type Fill struct {
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

// VenueHealthEvent is the data of a "venue" event: a venue's health for an instrument changed.
type VenueHealthEvent struct {
	Venue      string    `json:"venue"`
	Instrument string    `json:"instrument"`
	Health     string    `json:"health"` // up | degraded | down
	Reason     string    `json:"reason,omitempty"`
	Time       time.Time `json:"time"`
}

// BreakerEvent is the data of a "breaker" event: a venue's circuit breaker changed state (closed, open,
// half-open). Keyed by venue.
type BreakerEvent struct {
	Venue string    `json:"venue"`
	From  string    `json:"from"`
	To    string    `json:"to"`
	Time  time.Time `json:"time"` // wall clock: breakers run on wall time
}

// OpsEvent is the data of an "ops" event: ops changed a venue's settings or the trading state. The daemon
// publishes it as it is (it is the API's own type), keyed by Actor.
type OpsEvent struct {
	Actor   string           `json:"actor"`
	Change  string           `json:"change"` // OpsVenue or OpsTradingState
	Venue   string           `json:"venue,omitempty"`
	Weight  *decimal.Decimal `json:"weight,omitempty"`  // the venue's weight after the change
	Enabled *bool            `json:"enabled,omitempty"` // the venue's enabled flag after the change
	State   string           `json:"state,omitempty"`   // the trading state after the change
	Reset   bool             `json:"reset,omitempty"`   // the venue was returned to the config file's values
	Time    time.Time        `json:"time"`
}

// Changes an OpsEvent reports.
const (
	OpsVenue        = "venue"
	OpsTradingState = "trading_state"
)

// Event kinds on GET /v1/events. The engine's kinds are the engine.Event* constants; "ops" is the daemon's; "target"
// and "reconcile" are reserved for the target and reconcile loops.
const (
	KindOrder     = engine.EventOrder
	KindChild     = engine.EventChild
	KindFill      = engine.EventFill
	KindVenue     = engine.EventVenue
	KindReport    = engine.EventReport
	KindRealloc   = engine.EventRealloc
	KindBreaker   = "breaker"
	KindOps       = "ops"
	KindTarget    = "target"
	KindReconcile = "reconcile"
)

// knownKind reports whether a client may filter on kind k.
func knownKind(k string) bool {
	switch k {
	case KindOrder, KindChild, KindFill, KindVenue, KindReport, KindRealloc, KindBreaker, KindOps, KindTarget, KindReconcile:
		return true
	}
	return false
}

// Markout is the fill-weighted markout of an order's fills at one horizon; Quantity is how much of the filled
// quantity it covers so far.
type Markout struct {
	Horizon  string          `json:"horizon"`
	Bps      decimal.Decimal `json:"bps"`
	Quantity decimal.Decimal `json:"quantity"`
}

func orderFromReport(r engine.Report) Order {
	o := Order{
		ID: r.ID, State: string(r.State), Instrument: r.Instrument, Side: string(r.Side), Quantity: r.Quantity,
		ReduceOnly: r.ReduceOnly, Duration: r.Duration, MaxSlippageBps: r.MaxSlippageBps, LimitPrice: r.LimitPrice,
		Filled: r.Filled, Residual: r.Residual, Unfilled: r.Unfilled, AvgPrice: r.AvgPrice, ArrivalPrice: r.ArrivalPrice,
		ShortfallBps: r.ShortfallBps, Fees: r.Fees, Execution: string(r.Execution), MakerFilled: r.MakerFilled, Funding: r.Funding,
		ChildOrders: r.ChildOrders, CreatedAt: r.CreatedAt, StartAt: r.StartAt,
		Deadline: r.Deadline, UpdatedAt: r.UpdatedAt, EndedAt: r.EndedAt, Reason: r.Reason,
		Venues: make([]OrderVenue, 0, len(r.Venues)),
	}
	for _, v := range r.Venues {
		o.Venues = append(o.Venues, OrderVenue{
			Venue: v.Venue, VolumeShare: v.VolumeShare, Weight: v.Weight, Allocated: v.Allocated, Filled: v.Filled,
			AvgPrice: v.AvgPrice, ChildOrders: v.ChildOrders, Rejected: v.Rejected, Out: v.Out, MakerFilled: v.MakerFilled,
			Funding: v.Funding, FundingAt: v.FundingAt, NextFunding: v.NextFunding,
		})
	}
	o.Markouts = make([]Markout, 0, len(r.Markouts))
	for _, m := range r.Markouts {
		o.Markouts = append(o.Markouts, Markout{Horizon: m.Horizon.String(), Bps: decimal.NewFromFloat(m.Bps).Round(3), Quantity: m.Qty})
	}
	o.Reallocations, o.ReallocationCount = make([]Reallocation, 0, len(r.Reallocations)), r.ReallocationCount
	for _, x := range r.Reallocations {
		o.Reallocations = append(o.Reallocations, reallocFromEngine("", "", x))
	}
	return o
}

func reallocFromEngine(parent, instrument string, r engine.Reallocation) Reallocation {
	out := Reallocation{Parent: parent, Instrument: instrument, At: r.At, Reason: r.Reason, Stranded: r.Stranded,
		Venues: make([]VenueMove, 0, len(r.Venues))}
	for _, v := range r.Venues {
		out.Venues = append(out.Venues, VenueMove{Venue: v.Venue, Before: v.Before, After: v.After, Available: v.Available, Why: v.Why})
	}
	return out
}

func ordersFromReports(rs []engine.Report) []Order {
	out := make([]Order, 0, len(rs))
	for _, r := range rs {
		out = append(out, orderFromReport(r))
	}
	return out
}

func childFromEngine(c engine.ChildEvent) ChildEvent {
	return ChildEvent{
		Parent: c.Parent, Venue: c.Venue, Instrument: c.Instrument, ClientOrderID: c.ClientOrderID, Seq: c.Seq,
		State: string(c.State), Side: c.Side, Quantity: c.Quantity, Price: c.Price, Filled: c.Filled, Reason: c.Reason,
		Time: c.Time,
	}
}

func fillFromEngine(f engine.FillEvent) Fill {
	return Fill{
		Parent: f.Parent, Venue: f.Venue, Instrument: f.Instrument, ClientOrderID: f.ClientOrderID, TradeID: f.TradeID,
		Side: f.Side, Quantity: f.Quantity, Price: f.Price, Fee: f.Fee, FeeAsset: f.FeeAsset, Time: f.Time,
	}
}

func venueFromEngine(v engine.VenueEvent) VenueHealthEvent {
	return VenueHealthEvent{Venue: v.Venue, Instrument: v.Instrument, Health: string(v.Health), Reason: v.Reason, Time: v.Time}
}

// eventData maps a published payload onto the API's type; ok is false for a payload the API does not know.
func eventData(data any) (v any, ok bool) {
	switch d := data.(type) {
	case engine.Report:
		return orderFromReport(d), true
	case *engine.Report:
		if d == nil {
			return nil, false
		}
		return orderFromReport(*d), true
	case engine.ChildEvent:
		return childFromEngine(d), true
	case engine.FillEvent:
		return fillFromEngine(d), true
	case engine.VenueEvent:
		return venueFromEngine(d), true
	case engine.ReallocEvent:
		return reallocFromEngine(d.Parent, d.Instrument, d.Reallocation), true
	case OpsEvent, TargetEvent, ReconcileEvent, BreakerEvent:
		return d, true
	}
	return nil, false
}
