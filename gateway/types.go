package gateway

import (
	"context"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/journal"
	"github.com/execd-dev/execd/venues"
)

// Venue is what a gateway needs of a venue adapter. Implementations are safe for concurrent use and return
// classified *venues.Error failures; every venues.Venue is one. Optional capabilities (venues.Quoter,
// venues.OrderFiller, venues.Amender) are found by type assertion.
type Venue interface {
	Name() string
	Rules(ctx context.Context, instrument string) (venues.Rules, error)
	Stats(ctx context.Context, instrument string) (venues.Stats, error)
	Place(ctx context.Context, req venues.OrderRequest) (venues.Order, error)
	Query(ctx context.Context, instrument, clientOrderID string) (venues.Order, error)
	Cancel(ctx context.Context, instrument, clientOrderID string) (venues.Order, error)
	OpenOrders(ctx context.Context, instrument string) ([]venues.Order, error)
	Fills(ctx context.Context, instrument string, sinceMillis int64) ([]venues.Fill, error)
	Positions(ctx context.Context) ([]venues.Position, error)
}

// Journal is what a gateway records. PutChild and AddFill must be durable when they return and safe for
// concurrent use (the bbolt journal group-commits concurrent writers).
type Journal interface {
	PutChild(c journal.Child) error
	AddFill(f venues.Fill) (fresh bool, err error)
	// AppendAdjustment records an external change of a position that reconciliation books.
	AppendAdjustment(a journal.Adjustment) (seq uint64, err error)
}

// asyncJournal is the optional capability of a journal to take a record without waiting for it to be durable
// (it joins the next group commit); done is called once it is, or has failed.
type asyncJournal interface {
	PutChildAsync(c journal.Child, done func(error))
}

// asyncFillJournal is the optional capability of a journal to store a fill without waiting (it joins a group
// commit); done is called once with fresh as AddFill would return it, or with the error.
type asyncFillJournal interface {
	AddFillAsync(f venues.Fill, done func(fresh bool, err error))
}

// Sink receives a parent's updates from a gateway. Deliver must not block (a mailbox).
type Sink interface {
	Deliver(u Update)
}

// UpdateKind says what an Update reports.
type UpdateKind int

const (
	// Accepted: the venue took the order (Order holds its state; it may already be final, as an IOC is).
	Accepted UpdateKind = iota + 1
	// Refused: the order did not leave, or the venue refused it (see Refusal); nothing traded.
	Refused
	// Unknown: the outcome of a request could not be known; the gateway keeps resolving it by query and reports
	// Resolved when it knows. Nothing new should go to this venue for the parent until then (invariant 4).
	Unknown
	// Resolved: the order's final state is known (Order), or, with NotFound, the venue says it never had it.
	Resolved
	// OrderUpdate: the venue reported a change of the order (stream or query); Order may or may not be final.
	OrderUpdate
	// Filled: a fill of the order, journaled and booked in the ledger (Fill).
	Filled
	// Settled: the gateway gave up looking for fills the venue reported on the order but never delivered;
	// whatever was booked is all there will be.
	Settled
	// HealthChanged: the venue's health for this instrument changed (Health, Reason).
	HealthChanged
	// Amended: an amend was applied (Order: the order as the venue now has it, new price and quantity).
	Amended
	// AmendRefused: an amend did not happen (Reason); the order is as it was (or ended meanwhile).
	AmendRefused
	// Markout: one of the order's fills marked out at one horizon (Markout). It may come after the parent has
	// ended: a sink takes it without its owner's run loop.
	Markout
)

// MarkoutSample is a fill's markout at one of Retry.MarkoutHorizons: the venue's mark read at least Horizon of
// market time after the fill, against the fill price, side-signed (positive: the price moved the order's way), in
// bps of the fill price; Qty is the fill's quantity, for weighting.
type MarkoutSample struct {
	Horizon time.Duration
	Bps     float64
	Qty     decimal.Decimal
	Maker   bool
}

// Refusal says why an order was refused.
type Refusal int

const (
	RefusedRisk     Refusal = iota + 1 // a pre-trade check (trading state, notional, band)
	RefusedBreaker                     // the venue's breaker is open
	RefusedCapacity                    // reduce-only: nothing left to reduce once other parents' orders are counted
	RefusedNotSent                     // a failure that proves nothing reached the venue (retryable, before sending)
	RefusedVenue                       // the venue refused it (business rejection)
	RefusedStopping                    // the gateway is stopping
)

func (r Refusal) String() string {
	switch r {
	case RefusedRisk:
		return "risk"
	case RefusedBreaker:
		return "breaker"
	case RefusedCapacity:
		return "capacity"
	case RefusedNotSent:
		return "not sent"
	case RefusedVenue:
		return "venue"
	case RefusedStopping:
		return "stopping"
	}
	return "unknown refusal"
}

// Health is the venue's state for one instrument as the gateway sees it.
type Health string

const (
	Up       Health = "up"       // orders go out
	Degraded Health = "degraded" // breaker half-open: probes only
	Down     Health = "down"     // breaker open: nothing goes out
)

// Update is what a gateway tells a parent about one of its orders, or about the venue.
type Update struct {
	Kind          UpdateKind
	Venue         string
	ClientOrderID string
	Order         venues.Order    // Accepted, Resolved, OrderUpdate
	Fill          venues.Fill     // Filled
	Price         decimal.Decimal // the limit price the order was (or would have been) sent at
	Quantity      decimal.Decimal // the quantity sent (a reduce-only order may be cut to the capacity left)
	NotFound      bool            // Resolved: the venue does not know the order
	Refusal       Refusal         // Refused
	Reason        string          // Refused, Unknown, HealthChanged
	Health        Health          // HealthChanged; on Refused with RefusedBreaker, the gateway's health after the refusal
	Markout       MarkoutSample   // Markout
}

// RequestKind is what a parent asks of a gateway.
type RequestKind int

const (
	// Place prices (from the gateway's mark, inside the band), checks, journals and sends a new order.
	Place RequestKind = iota + 1
	// Cancel cancels an open order; its final state comes back as Resolved.
	Cancel
	// Resolve asks the venue what became of an order whose outcome the journal does not hold (after a restart):
	// Resolved with its final state (cancelling it first if it still works), or NotFound. Never resent.
	Resolve
	// Amend changes an open order's price and/or quantity (Order.Price, Order.Quantity: zero unchanged; the
	// quantity is the new total including what has filled) on a venue that can (venues.Amender).
	Amend
	// Attach registers a parent for health updates and for updates of orders it did not place in this process
	// (restored ones); Detach removes it.
	Attach
	Detach

	reconcile // a reconcile pass (Gateway.Reconcile)
)

// Request is one parent's request to a gateway.
type Request struct {
	Kind   RequestKind
	Parent string
	Sink   Sink
	// Place
	Seq              int
	Order            venues.OrderRequest // Price zero: priced from the mark within SlippageBps and LimitPrice
	SlippageBps      int
	LimitPrice       decimal.Decimal // zero: none
	MaxChildNotional decimal.Decimal // zero: none
	// Peg makes a Place a maker child: post-only, priced at the touch from the gateway's quote (twap.PegPrice,
	// never through the band), re-pegged by amend while it rests. When the venue's quote has no touch, or maker
	// children are off here (adverse selection, see MakerStats), it is sent as an IOC taker instead.
	Peg bool
	// Urgency (0..1) prices a Peg further inside the spread: how far its venue is behind its schedule, as a share
	// of what it may fall behind before it crosses (twap.PegPrice). NaN or out of range is clamped.
	Urgency float64
	// Cancel, Resolve: Order.ClientOrderID. Resolve also takes Seq and Order.Quantity for the journal.
	// Decided is the wall time the parent decided to send (benchmarks: decision to wire); zero if unknown.
	Decided time.Time
	// Booked is, for Resolve, the quantity of the order's fills its parent already holds from the journal, so the
	// gateway looks only for the fills beyond it.
	Booked decimal.Decimal

	recon chan<- reconReply // reconcile
}

// Retry is the one table of retries, back-offs and waits for every call a gateway makes. Durations are wall
// time, they pace requests to a venue whatever the simulated clock does, except QuoteMaxAge, which is market
// time (Options.Clock).
type Retry struct {
	PlaceAttempts    int           // attempts of a retryable place failure, same client order id
	PlaceBackoff     time.Duration // before the second attempt; doubles
	ResolveBackoff   time.Duration // first pause between queries resolving an unknown outcome; doubles
	ResolveMax       time.Duration // longest pause between those queries
	NotFoundConfirms int           // "does not exist" answers believed only after this many in a row
	FinishWait       time.Duration // an accepted order that is still working after this is cancelled (IOC)
	FillWait         time.Duration // fills the venue reported but the stream did not deliver are read after this
	FillReads        int           // REST reads of one order's missing fills before giving up (Settled)
	QuoteMaxAge      time.Duration // a mark older than this (on Options.Clock) is read again before pricing an order
	HealthPoll       time.Duration // how often the breaker's state is looked at between calls
	CallTimeout      time.Duration // one venue call
	StartAttempts    int           // attempts of a start-up read (Prepare) that failed retryably (a rate limit)
	StartBackoff     time.Duration // before the second attempt; doubles
	// Maker children, all market time (Options.Clock): how often a resting pegged order's place is checked against
	// the quote, the least time between two re-pegs of one order, how long after a maker fill its markout is
	// taken, and how long pegged places go out as takers once markouts eat the fee saving.
	PegInterval      time.Duration
	MinAmendInterval time.Duration
	MarkoutHorizon   time.Duration
	MakerFallback    time.Duration
	// MarkoutHorizons are the horizons every own fill's markout is reported to its parent at (Update Markout),
	// ascending; the mark is read when each falls due. NoMarkouts turns that off (a benchmark of the order path
	// alone, on a clock so fast that the reads would be most of its work).
	MarkoutHorizons []time.Duration
	NoMarkouts      bool
}

// DefaultRetry is the table the engine runs with unless configured otherwise.
func DefaultRetry() Retry {
	return Retry{
		PlaceAttempts: 3, PlaceBackoff: 100 * time.Millisecond, ResolveBackoff: 200 * time.Millisecond,
		ResolveMax: 5 * time.Second, NotFoundConfirms: 3, FinishWait: time.Second, FillWait: 2 * time.Second,
		FillReads: 5, QuoteMaxAge: 500 * time.Millisecond, HealthPoll: time.Second, CallTimeout: 10 * time.Second,
		StartAttempts: 5, StartBackoff: 200 * time.Millisecond,
		PegInterval: time.Second, MinAmendInterval: 2 * time.Second, MarkoutHorizon: 10 * time.Second,
		MakerFallback: 10 * time.Minute, MarkoutHorizons: []time.Duration{time.Second, 10 * time.Second, time.Minute},
	}
}

func (r Retry) withDefaults() Retry {
	d := DefaultRetry()
	if r.PlaceAttempts <= 0 {
		r.PlaceAttempts = d.PlaceAttempts
	}
	if r.PlaceBackoff <= 0 {
		r.PlaceBackoff = d.PlaceBackoff
	}
	if r.ResolveBackoff <= 0 {
		r.ResolveBackoff = d.ResolveBackoff
	}
	if r.ResolveMax <= 0 {
		r.ResolveMax = d.ResolveMax
	}
	if r.NotFoundConfirms <= 0 {
		r.NotFoundConfirms = d.NotFoundConfirms
	}
	if r.FinishWait <= 0 {
		r.FinishWait = d.FinishWait
	}
	if r.FillWait <= 0 {
		r.FillWait = d.FillWait
	}
	if r.FillReads <= 0 {
		r.FillReads = d.FillReads
	}
	if r.QuoteMaxAge <= 0 {
		r.QuoteMaxAge = d.QuoteMaxAge
	}
	if r.HealthPoll <= 0 {
		r.HealthPoll = d.HealthPoll
	}
	if r.CallTimeout <= 0 {
		r.CallTimeout = d.CallTimeout
	}
	if r.StartAttempts <= 0 {
		r.StartAttempts = d.StartAttempts
	}
	if r.StartBackoff <= 0 {
		r.StartBackoff = d.StartBackoff
	}
	if r.PegInterval <= 0 {
		r.PegInterval = d.PegInterval
	}
	if r.MinAmendInterval <= 0 {
		r.MinAmendInterval = d.MinAmendInterval
	}
	if len(r.MarkoutHorizons) == 0 || !slices.IsSorted(r.MarkoutHorizons) || r.MarkoutHorizons[0] <= 0 {
		r.MarkoutHorizons = d.MarkoutHorizons
	}
	if r.MarkoutHorizon <= 0 {
		r.MarkoutHorizon = d.MarkoutHorizon
	}
	if r.MakerFallback <= 0 {
		r.MakerFallback = d.MakerFallback
	}
	return r
}
