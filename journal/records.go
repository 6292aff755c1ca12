package journal

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/lifecycle"
	"github.com/execd-dev/execd/venues"
)

// Parent states.
const (
	ParentScheduled = "scheduled" // set ahead: no plan yet, waiting for its start
	ParentWorking   = "working"
	ParentDone      = "done"
	ParentCancelled = "cancelled"
	ParentFailed    = "failed"
)

// Ops kinds.
const (
	OpsVenue        = "venue"
	OpsTradingState = "trading_state"
	// OpsReload is a config reload asked for (by SIGHUP or POST /v1/config/reload): a record for the audit, not
	// replayed (the file is its own record).
	OpsReload = "config_reload"
)

// maxIDLen bounds every id that is part of a key.
const maxIDLen = 512

// Parent is a parent order's durable state.
type Parent struct {
	ID          string          `json:"id"`
	Request     Request         `json:"request"`
	State       string          `json:"state"` // ParentWorking, ParentDone, ParentCancelled, ParentFailed
	Reason      string          `json:"reason"`
	Created     time.Time       `json:"created"`
	Deadline    time.Time       `json:"deadline"`
	Arrival     decimal.Decimal `json:"arrival"`
	Residual    decimal.Decimal `json:"residual"`
	SlippageBps int             `json:"slippage_bps"`
	Seed        uint64          `json:"seed"`
	Params      Params          `json:"params"`
	Venues      []Venue         `json:"venues"`
	Stranded    decimal.Decimal `json:"stranded"`
	Fees        decimal.Decimal `json:"fees"`
	Ended       *time.Time      `json:"ended"`
	Cancelled   bool            `json:"cancelled"` // a cancel was requested; a restart does not resume slicing
	Summary     *Summary        `json:"summary"`   // the final report, once the parent ended; nil while working
	Updated     time.Time       `json:"updated"`
	// Reallocations are the latest moves of the unsent remainder between venues; ReallocationCount counts all.
	Reallocations     []Reallocation `json:"reallocations,omitempty"`
	ReallocationCount int            `json:"reallocation_count,omitempty"`
}

// Reallocation is one move of a running parent's unsent remainder between its venues, with its reason.
type Reallocation struct {
	At       time.Time       `json:"at"`
	Reason   string          `json:"reason"`
	Venues   []VenueMove     `json:"venues"`
	Stranded decimal.Decimal `json:"stranded"`
}

// VenueMove is a venue's unsent remainder before and after a Reallocation.
type VenueMove struct {
	Venue     string          `json:"venue"`
	Before    decimal.Decimal `json:"before"`
	After     decimal.Decimal `json:"after"`
	Available bool            `json:"available"`
	Why       string          `json:"why,omitempty"`
}

// Summary is a parent's final report as the journal keeps it: the journal's own type, versioned with the parent
// record (invariant 17), so that renaming a field of the API's report never breaks recovery. The figures of the
// request itself (instrument, side, quantity, duration, reduce-only, limit price) are the parent's Request, and
// the slippage band it ran with is the parent's SlippageBps.
type Summary struct {
	State        string           `json:"state"` // ParentDone, ParentCancelled or ParentFailed
	Reason       string           `json:"reason"`
	Filled       decimal.Decimal  `json:"filled"`
	Residual     decimal.Decimal  `json:"residual"` // below one lot: no venue can trade it
	Unfilled     decimal.Decimal  `json:"unfilled"` // neither filled nor residual
	Fees         decimal.Decimal  `json:"fees"`     // negative: a rebate
	Arrival      decimal.Decimal  `json:"arrival"`
	AvgPrice     *decimal.Decimal `json:"avg_price"`     // nil: nothing filled
	ShortfallBps *decimal.Decimal `json:"shortfall_bps"` // nil: not measured (nothing filled, or no arrival price)
	ChildOrders  int              `json:"child_orders"`
	MakerFilled  decimal.Decimal  `json:"maker_filled"` // of Filled, as maker
	Funding      decimal.Decimal  `json:"funding"`      // paid by the fills at funding times (negative: received)
	Created      time.Time        `json:"created"`
	Deadline     time.Time        `json:"deadline"`
	Updated      time.Time        `json:"updated"`
	Ended        *time.Time       `json:"ended"`
	Venues       []SummaryVenue   `json:"venues"`
	// Reallocations and ReallocationCount are the parent's (see Parent).
	Reallocations     []Reallocation `json:"reallocations,omitempty"`
	ReallocationCount int            `json:"reallocation_count,omitempty"`
}

// SummaryVenue is one venue's part of a Summary.
type SummaryVenue struct {
	Venue       string           `json:"venue"`
	Share       decimal.Decimal  `json:"share"` // volume share
	Weight      decimal.Decimal  `json:"weight"`
	Allocated   decimal.Decimal  `json:"allocated"`
	Filled      decimal.Decimal  `json:"filled"`
	AvgPrice    *decimal.Decimal `json:"avg_price"` // nil: nothing filled here
	ChildOrders int              `json:"child_orders"`
	MakerFilled decimal.Decimal  `json:"maker_filled"`
	Rejected    int              `json:"rejected"`
	Out         string           `json:"out"` // why the venue was taken out of the parent; "" if it was not
	Funding     decimal.Decimal  `json:"funding"`
	FundingAt   *time.Time       `json:"funding_at,omitempty"` // nil: no funding time passed while it worked
}

// Request is the parent order as it was asked for.
type Request struct {
	Instrument     string          `json:"instrument"`
	Side           string          `json:"side"`
	Quantity       decimal.Decimal `json:"quantity"`
	Duration       time.Duration   `json:"duration"` // nanoseconds
	ReduceOnly     bool            `json:"reduce_only"`
	MaxSlippageBps int             `json:"max_slippage_bps"`
	Venues         []string        `json:"venues"`
	LimitPrice     decimal.Decimal `json:"limit_price"`
	StartAt        *time.Time      `json:"start_at,omitempty"`  // set ahead: planned and started then
	EndAt          *time.Time      `json:"end_at,omitempty"`    // a hard end instead of the duration's
	Execution      string          `json:"execution,omitempty"` // maker_first or taker; empty before it existed: taker
}

// Params are the execution parameters a parent was started with, so a restart continues with the same ones.
type Params struct {
	MeanInterval          time.Duration   `json:"mean_interval"`
	EndBuffer             time.Duration   `json:"end_buffer"`
	Catchup               time.Duration   `json:"catchup"`
	RetryInterval         time.Duration   `json:"retry_interval"`
	TimeJitter            float64         `json:"time_jitter"`
	IntervalCV            float64         `json:"interval_cv,omitempty"`
	SizeJitter            float64         `json:"size_jitter"`
	MaxChildNotional      decimal.Decimal `json:"max_child_notional"`
	MaxOrderNotional      decimal.Decimal `json:"max_order_notional"`
	DefaultSlippageBps    int             `json:"default_slippage_bps"`
	MaxSlippageBps        int             `json:"max_slippage_bps"`
	MaxConsecutiveRejects int             `json:"max_consecutive_rejects"`
	FundingShift          float64         `json:"funding_shift,omitempty"`
}

// Venue is one venue's share of a parent: its rules, allocation and slice schedule, and where execution stands.
type Venue struct {
	Name        string          `json:"name"`
	Symbol      string          `json:"symbol"`
	TickSize    decimal.Decimal `json:"tick_size"`
	LotSize     decimal.Decimal `json:"lot_size"`
	MinQty      decimal.Decimal `json:"min_qty"`
	MaxQty      decimal.Decimal `json:"max_qty"`
	MinNotional decimal.Decimal `json:"min_notional"`
	Mark        decimal.Decimal `json:"mark"`
	Share       decimal.Decimal `json:"share"`
	Weight      decimal.Decimal `json:"weight"`
	Allocated   decimal.Decimal `json:"allocated"`
	Base        decimal.Decimal `json:"base"`
	Slices      []Slice         `json:"slices"`
	Next        int             `json:"next"`
	Seq         int             `json:"seq"`
	Out         string          `json:"out"`
	Rejected    int             `json:"rejected"`
	Dust        bool            `json:"dust"`
	// Funding: the period's rate and its time as planned (zero: unknown); Funded once that time has passed while
	// the parent worked, with the parent's part of the position then and what it paid (negative: received).
	FundingRate decimal.Decimal `json:"funding_rate"`
	NextFunding *time.Time      `json:"next_funding,omitempty"`
	Funded      bool            `json:"funded,omitempty"`
	FundingQty  decimal.Decimal `json:"funding_qty"`
	Funding     decimal.Decimal `json:"funding"`
}

// Slice is one scheduled slice of a venue's allocation.
type Slice struct {
	Seq      int             `json:"seq"`
	At       time.Time       `json:"at"`
	Quantity decimal.Decimal `json:"quantity"`
}

// Child is a child order: journaled as an intent before it is sent, then updated as its lifecycle moves on.
type Child struct {
	Parent       string          `json:"parent"`
	Venue        string          `json:"venue"`
	Seq          int             `json:"seq"`
	ClientID     string          `json:"client_id"`
	VenueOrderID string          `json:"venue_order_id"` // the venue's id for the order; "" until known
	Quantity     decimal.Decimal `json:"quantity"`
	Price        decimal.Decimal `json:"price"`         // zero until known
	TimeInForce  string          `json:"time_in_force"` // as sent ("gtc", "ioc", ...); "" if not recorded
	PostOnly     bool            `json:"post_only"`
	State        lifecycle.State `json:"state"`
	Filled       decimal.Decimal `json:"filled"` // filled quantity as the venue reported it on the order
	Updated      time.Time       `json:"updated"`
}

// Ops is one operator change: a venue's weight or enablement, or the trading state.
type Ops struct {
	Seq     uint64           `json:"seq"`
	Time    time.Time        `json:"time"`
	Kind    string           `json:"kind"` // OpsVenue, OpsTradingState or OpsReload
	Venue   string           `json:"venue"`
	Weight  *decimal.Decimal `json:"weight"`
	Enabled *bool            `json:"enabled"`
	State   string           `json:"state"`
	// Actor is who asked: an API token's name, or "signal" for a SIGHUP.
	Actor string `json:"actor"`
	// Reset (OpsVenue): the venue returns to the config file's weight and enabled flag; Weight and Enabled are nil.
	Reset bool `json:"reset,omitempty"`
	// ConfigHash (OpsReload) is the SHA-256 of the file read; Refused why the reload changed nothing ("" if it
	// was applied).
	ConfigHash string `json:"config_hash,omitempty"`
	Refused    string `json:"refused,omitempty"`
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// checkID accepts a non-empty, valid UTF-8 string without NUL bytes, short enough to be part of a key.
// (Invalid UTF-8 would not survive JSON, so the record would no longer match its key.)
func checkID(what, s string) error {
	switch {
	case s == "":
		return invalid("empty %s", what)
	case len(s) > maxIDLen:
		return invalid("%s of %d bytes, longer than %d", what, len(s), maxIDLen)
	case strings.IndexByte(s, 0) >= 0:
		return invalid("%s %q contains a NUL byte", what, s)
	case !utf8.ValidString(s):
		return invalid("%s %q is not valid UTF-8", what, s)
	}
	return nil
}

func checkNotNegative(what string, d decimal.Decimal) error {
	if d.IsNegative() {
		return invalid("%s %s is negative", what, d)
	}
	return nil
}

func checkNotNegativePtr(what string, d *decimal.Decimal) error {
	if d == nil {
		return nil
	}
	return checkNotNegative(what, *d)
}

func checkAll(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (p Parent) validate() error {
	if err := checkID("parent id", p.ID); err != nil {
		return err
	}
	switch p.State {
	case ParentScheduled, ParentWorking, ParentDone, ParentCancelled, ParentFailed:
	default:
		return invalid("parent %s: unknown state %q", p.ID, p.State)
	}
	if _, err := venues.ParseSide(p.Request.Side); err != nil {
		return invalid("parent %s: %v", p.ID, err)
	}
	if err := checkAll(
		checkNotNegative("request quantity", p.Request.Quantity),
		checkNotNegative("limit price", p.Request.LimitPrice),
		checkNotNegative("arrival price", p.Arrival),
		checkNotNegative("residual", p.Residual),
		checkNotNegative("stranded", p.Stranded),
	); err != nil {
		return fmt.Errorf("parent %s: %w", p.ID, err)
	}
	for _, v := range p.Venues {
		if err := checkID("venue name", v.Name); err != nil {
			return fmt.Errorf("parent %s: %w", p.ID, err)
		}
		if err := checkAll(
			checkNotNegative("tick size", v.TickSize),
			checkNotNegative("lot size", v.LotSize),
			checkNotNegative("min qty", v.MinQty),
			checkNotNegative("max qty", v.MaxQty),
			checkNotNegative("min notional", v.MinNotional),
			checkNotNegative("mark", v.Mark),
			checkNotNegative("share", v.Share),
			checkNotNegative("weight", v.Weight),
			checkNotNegative("allocated", v.Allocated),
		); err != nil {
			return fmt.Errorf("parent %s venue %s: %w", p.ID, v.Name, err)
		}
		for _, s := range v.Slices {
			if err := checkNotNegative(fmt.Sprintf("slice %d quantity", s.Seq), s.Quantity); err != nil {
				return fmt.Errorf("parent %s venue %s: %w", p.ID, v.Name, err)
			}
		}
	}
	if p.Summary != nil {
		if err := p.Summary.validate(); err != nil {
			return fmt.Errorf("parent %s summary: %w", p.ID, err)
		}
	}
	return nil
}

func (s Summary) validate() error {
	switch s.State {
	case ParentDone, ParentCancelled, ParentFailed:
	default:
		return invalid("state %q is not a final parent state", s.State)
	}
	if s.ChildOrders < 0 {
		return invalid("negative child order count %d", s.ChildOrders)
	}
	if err := checkAll(
		checkNotNegative("filled", s.Filled),
		checkNotNegative("residual", s.Residual),
		checkNotNegative("unfilled", s.Unfilled),
		checkNotNegative("arrival price", s.Arrival),
		checkNotNegativePtr("average price", s.AvgPrice),
	); err != nil {
		return err
	}
	for _, v := range s.Venues {
		if err := checkID("venue name", v.Venue); err != nil {
			return err
		}
		if v.ChildOrders < 0 || v.Rejected < 0 {
			return invalid("venue %s: negative count", v.Venue)
		}
		if err := checkAll(
			checkNotNegative("share", v.Share),
			checkNotNegative("weight", v.Weight),
			checkNotNegative("allocated", v.Allocated),
			checkNotNegative("filled", v.Filled),
			checkNotNegativePtr("average price", v.AvgPrice),
		); err != nil {
			return fmt.Errorf("venue %s: %w", v.Venue, err)
		}
	}
	return nil
}

func (c Child) validate() error {
	if err := checkAll(
		checkID("child parent id", c.Parent),
		checkID("child client id", c.ClientID),
		checkID("child venue", c.Venue),
	); err != nil {
		return err
	}
	if c.Seq < 0 {
		return invalid("child %s: negative seq %d", c.ClientID, c.Seq)
	}
	if _, err := lifecycle.Parse(string(c.State)); err != nil {
		return invalid("child %s: %v", c.ClientID, err)
	}
	if err := checkAll(
		checkNotNegative("quantity", c.Quantity),
		checkNotNegative("price", c.Price),
		checkNotNegative("filled quantity", c.Filled),
	); err != nil {
		return fmt.Errorf("child %s: %w", c.ClientID, err)
	}
	return nil
}

func validateFill(f venues.Fill) error {
	if err := checkAll(
		checkID("fill venue", f.Venue),
		checkID("fill trade id", f.TradeID),
		checkID("fill client order id", f.ClientOrderID),
	); err != nil {
		return err
	}
	if !f.Quantity.IsPositive() {
		return invalid("fill %s/%s: quantity %s is not positive", f.Venue, f.TradeID, f.Quantity)
	}
	if _, err := venues.ParseSide(string(f.Side)); err != nil {
		return invalid("fill %s/%s: %v", f.Venue, f.TradeID, err)
	}
	if err := checkNotNegative("price", f.Price); err != nil {
		return fmt.Errorf("fill %s/%s: %w", f.Venue, f.TradeID, err)
	}
	return nil
}

func (o Ops) validate() error {
	switch o.Kind {
	case OpsVenue:
		if err := checkID("ops venue", o.Venue); err != nil {
			return err
		}
		if o.Weight != nil {
			if err := checkNotNegative("ops weight", *o.Weight); err != nil {
				return err
			}
		}
		if o.Reset && (o.Weight != nil || o.Enabled != nil) {
			return invalid("ops: venue %s reset with a weight or enabled flag", o.Venue)
		}
		if !o.Reset && o.Weight == nil && o.Enabled == nil {
			return invalid("ops: venue %s change without a weight, enabled flag or reset", o.Venue)
		}
	case OpsReload:
	case OpsTradingState:
		if o.State == "" {
			return invalid("ops: trading_state change without a state")
		}
	default:
		return invalid("ops: unknown kind %q", o.Kind)
	}
	return nil
}

// Markouts are a parent's fill markouts so far, by horizon: Σ bps × quantity and the quantity, over Samples
// samples in all (a snapshot with more samples is newer).
type Markouts struct {
	Parent  string       `json:"parent"`
	Samples int          `json:"samples"`
	By      []MarkoutSum `json:"by"` // ascending horizon
}

// MarkoutSum is one horizon's running sum.
type MarkoutSum struct {
	Horizon time.Duration   `json:"horizon"`
	Sum     float64         `json:"sum"` // Σ bps × quantity
	Qty     decimal.Decimal `json:"qty"`
}

func (m Markouts) validate() error {
	if err := checkID("markouts parent", m.Parent); err != nil {
		return err
	}
	if m.Samples < 0 {
		return invalid("markouts of %s: %d samples", m.Parent, m.Samples)
	}
	for i, x := range m.By {
		if x.Horizon <= 0 || (i > 0 && x.Horizon <= m.By[i-1].Horizon) || x.Qty.IsNegative() ||
			math.IsNaN(x.Sum) || math.IsInf(x.Sum, 0) {
			return invalid("markouts of %s: horizon %d (%v) out of order or not finite", m.Parent, i, x.Horizon)
		}
	}
	return nil
}
