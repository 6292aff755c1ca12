package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
)

// Request is a parent order as the rebalancer asks for it.
type Request struct {
	ID             string
	Instrument     string
	Side           venues.Side
	Quantity       decimal.Decimal
	Duration       time.Duration
	ReduceOnly     bool
	MaxSlippageBps int
	Venues         []string        // empty: every enabled venue
	LimitPrice     decimal.Decimal // zero: none
	// StartAt, when set and in the future, schedules the parent: accepted now, planned and started at StartAt
	// plus a jitter drawn within Params.StartJitter (so the first child is not at a predictable second), nothing
	// sent before. EndAt, when set, is the hard end instead of Duration: nothing is sent after it (no catch-up).
	StartAt, EndAt time.Time
	// Execution is how children are worked: maker-first (post-only at the touch, crossed when behind) or taker
	// (IOC within the band). Empty: Params.DefaultExecution.
	Execution Execution
}

// Execution is how a parent's children are worked.
type Execution string

const (
	// ExecMakerFirst posts each slice post-only at the touch (one tick inside a wider spread), re-pegged by the
	// gateway while it rests, pulled when the next slice falls due, and crosses with an IOC within the band when the
	// venue is behind its schedule by more than Params.MakerTolerance of its allocation, for the last slice, and in
	// the catch-up. Nothing rests past the parent's end.
	ExecMakerFirst Execution = "maker_first"
	// ExecTaker sends every child as an IOC within the band.
	ExecTaker Execution = "taker"
)

// ParseExecution checks an execution name; empty is allowed (the default).
func ParseExecution(s string) (Execution, error) {
	switch e := Execution(s); e {
	case "", ExecMakerFirst, ExecTaker:
		return e, nil
	}
	return "", fmt.Errorf("execution %q: want %q or %q", s, ExecMakerFirst, ExecTaker)
}

// Same reports whether two requests ask for the same thing (the idempotency rule of POST /v1/orders).
func (r Request) Same(o Request) bool {
	if r.ID != o.ID || r.Instrument != o.Instrument || r.Side != o.Side || !r.Quantity.Equal(o.Quantity) ||
		r.Duration != o.Duration || r.ReduceOnly != o.ReduceOnly || r.MaxSlippageBps != o.MaxSlippageBps ||
		!r.LimitPrice.Equal(o.LimitPrice) || len(r.Venues) != len(o.Venues) || !r.StartAt.Equal(o.StartAt) ||
		!r.EndAt.Equal(o.EndAt) || r.Execution != o.Execution {
		return false
	}
	for i := range r.Venues {
		if r.Venues[i] != o.Venues[i] {
			return false
		}
	}
	return true
}

// State is a parent order's state.
type State string

const (
	Scheduled State = "scheduled" // accepted, waiting for its start_at
	Working   State = "working"
	Done      State = "done"
	Cancelled State = "cancelled"
	Failed    State = "failed"
)

// Report is an immutable snapshot of a parent order, in memory: the engine's bus events carry it as a Go value,
// the API maps it onto its own api.Order and the journal keeps journal.Summary (invariant 17). Nothing marshals it,
// so it has no JSON tags.
type Report struct {
	ID             string
	State          State
	Instrument     string
	Side           venues.Side
	Quantity       decimal.Decimal
	ReduceOnly     bool
	Duration       string
	MaxSlippageBps int
	LimitPrice     *string
	Filled         decimal.Decimal
	Residual       decimal.Decimal
	Unfilled       decimal.Decimal // allocated but not filled (band, cancel, venue failures)
	AvgPrice       *string
	ArrivalPrice   decimal.Decimal
	ShortfallBps   *string
	Fees           decimal.Decimal
	Execution      Execution
	MakerFilled    decimal.Decimal // of Filled, as maker (resting orders filled)
	// Funding is what the parent's fills paid in funding (USDT; negative: received): on each venue whose funding
	// time passed while the parent worked, its part of the position then × the period's rate × the mark.
	Funding decimal.Decimal
	// Markouts are the fills' markouts, one per horizon (gateway.Retry.MarkoutHorizons), as far as they have
	// matured: they keep coming for a minute after the last fill, also after the parent has ended. Kept in
	// memory: after a restart only the fills booked since are in them.
	Markouts    []Markout
	ChildOrders int
	CreatedAt   time.Time
	StartAt     *time.Time // the requested start, for a parent set ahead
	Deadline    time.Time
	UpdatedAt   time.Time
	EndedAt     *time.Time
	Reason      string
	Venues      []VenueReport
	// Reallocations are the latest re-allocations of the unsent remainder (at most 50; shared, never modified);
	// ReallocationCount counts them all.
	Reallocations     []Reallocation
	ReallocationCount int
}

// Markout is the fill-weighted average markout of a parent's fills at one horizon: the venue's mark Horizon after
// each fill against its price, side-signed (positive: the price moved the parent's way), in bps of the fill price.
// Qty is how much of the filled quantity it covers so far.
type Markout struct {
	Horizon time.Duration
	Bps     float64
	Qty     decimal.Decimal
}

// Reallocation is one move of a running parent's unsent remainder between its venues: a venue parked (breaker
// open, disabled by ops, taken out after rejections) or back, a weight changed, trading paused or resumed, or a
// restart (what fell behind is re-spread over the time left).
type Reallocation struct {
	At       time.Time
	Reason   string
	Venues   []VenueMove
	Stranded decimal.Decimal // what no venue could take, after the move
}

// VenueMove is a venue's unsent remainder before and after a Reallocation.
type VenueMove struct {
	Venue         string
	Before, After decimal.Decimal
	Available     bool   // the venue may take work after the move
	Why           string // why not, when it may not
}

// VenueReport is one venue's part of a parent.
type VenueReport struct {
	Venue       string
	VolumeShare decimal.Decimal
	Weight      decimal.Decimal
	Allocated   decimal.Decimal
	Filled      decimal.Decimal
	MakerFilled decimal.Decimal
	// Funding is what the parent's fills here paid at FundingAt (nil: no funding time passed while it worked).
	Funding   decimal.Decimal
	FundingAt *time.Time
	// NextFunding is the venue\'s funding time as planned (nil: unknown), whether or not it passed.
	NextFunding *time.Time
	AvgPrice    *string
	ChildOrders int
	Rejected    int
	Out         string // why the venue takes no new work from this parent now ("" when it does)
}

// ErrorKind says what went wrong with a request, for the API's status codes.
type ErrorKind int

const (
	KindInvalid     ErrorKind = iota + 1 // the request cannot be executed as asked (422)
	KindConflict                         // same id, different body (409)
	KindNotFound                         // no such parent (404)
	KindHalted                           // trading halted (409)
	KindUnavailable                      // the venues could not be read to plan it (503)
)

// Error is an engine refusal.
type Error struct {
	Kind ErrorKind
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Msg, e.Err)
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of an engine error, 0 if err is not one.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func errorf(k ErrorKind, format string, a ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, a...)}
}

// Params are the engine's reloadable parameters.
type Params struct {
	MeanInterval          time.Duration
	TimeJitter            float64
	IntervalCV            float64 // > 0: gamma intervals of this coefficient of variation (twap.Params.IntervalCV)
	SizeJitter            float64
	EndBuffer             time.Duration
	StartJitter           time.Duration // a parent set ahead starts within this after its start_at
	Catchup               time.Duration
	RetryInterval         time.Duration
	MaxChildNotional      decimal.Decimal
	MaxOrderNotional      decimal.Decimal
	DefaultSlippageBps    int
	MaxSlippageBps        int
	MaxConsecutiveRejects int
	// DefaultExecution is the execution of a request that names none; MakerTolerance is how far behind its
	// schedule (a share of its allocation) a venue may fall before a maker-first parent crosses there.
	DefaultExecution Execution
	MakerTolerance   float64
	// MakerAhead is how far ahead of its schedule (a share of its allocation) a venue's maker child may take it:
	// what it offers beyond what is due. Zero: exactly what is due.
	MakerAhead float64
	// FundingShift is the most of a venue's allocation a parent moves across the venue's funding time, the way that
	// pays less funding (see fundingTilt). Zero: none.
	FundingShift float64
	Venues       map[string]VenueParams
	// Caps bound what the router gives a venue in an instrument; a pair without an entry has none.
	Caps map[CapKey]Caps
}

// CapKey names a (venue, instrument) pair's caps.
type CapKey struct{ Venue, Instrument string }

// Caps bound one venue's part of any parent in one instrument. Zero fields are no bound.
type Caps struct {
	// MaxPosition is the largest absolute position (base units) a parent may leave at the venue.
	MaxPosition decimal.Decimal
	// MaxParticipation is the largest share of the venue's volume over the parent's horizon (its 24 h volume ×
	// horizon / 24 h) a parent may trade there.
	MaxParticipation decimal.Decimal
}

// VenueParams are a venue's ops settings.
type VenueParams struct {
	Weight  decimal.Decimal
	Enabled bool
}

func (p Params) clone() Params {
	c := p
	c.Venues = make(map[string]VenueParams, len(p.Venues))
	for k, v := range p.Venues {
		c.Venues[k] = v
	}
	c.Caps = make(map[CapKey]Caps, len(p.Caps))
	for k, v := range p.Caps {
		c.Caps[k] = v
	}
	return c
}

// positionRoom is how much an order on side may trade at a venue before the position there passes cap (the
// absolute bound), never negative.
func positionRoom(pos decimal.Decimal, side venues.Side, maxPos decimal.Decimal) decimal.Decimal {
	return decimal.Max(maxPos.Sub(side.Sign().Mul(pos)), decimal.Zero)
}
