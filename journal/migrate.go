package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/lifecycle"
)

// Migrations of older record versions, applied by Decode on read. A record is not rewritten in place: it is
// stored in the current version the next time its owner writes it (an ended parent, never written again, is
// migrated on every read). Each older version is described by its own frozen type below, which must never change:
// it is what the bytes on disk say. Old payloads are decoded as strictly as current ones (no unknown field, one
// JSON value), so migration never papers over a damaged record.

// childV1 is a child record as version 1 wrote it.
type childV1 struct {
	Parent   string          `json:"parent"`
	Venue    string          `json:"venue"`
	Seq      int             `json:"seq"`
	ClientID string          `json:"client_id"`
	Quantity decimal.Decimal `json:"quantity"`
	Price    decimal.Decimal `json:"price"`
	State    string          `json:"state"`    // "intent", "sent", "unknown", "final", "not_sent"
	Status   string          `json:"status"`   // the venue's status once "final"
	Reported decimal.Decimal `json:"reported"` // filled quantity as the venue reported it
	Updated  time.Time       `json:"updated"`
}

func (c *Child) migrate(version byte, decode func(into any) error) error {
	if version != 1 {
		return fmt.Errorf("%w: no migration from child version %d", ErrVersion, version)
	}
	var old childV1
	if err := decode(&old); err != nil {
		return err
	}
	st, err := childStateV1(old.State, old.Status)
	if err != nil {
		return err
	}
	*c = Child{
		Parent: old.Parent, Venue: old.Venue, Seq: old.Seq, ClientID: old.ClientID, Quantity: old.Quantity,
		Price: old.Price, State: st, Filled: old.Reported, Updated: old.Updated,
		// VenueOrderID, TimeInForce, PostOnly: version 1 did not record them.
	}
	return nil
}

// childStateV1 maps a version 1 child state, and the venue status that came with "final", onto the lifecycle.
func childStateV1(state, status string) (lifecycle.State, error) {
	switch state {
	case "intent":
		return lifecycle.Intent, nil
	case "sent":
		return lifecycle.Sent, nil
	case "unknown":
		return lifecycle.Unknown, nil
	case "not_sent":
		return lifecycle.NotSent, nil
	case "final":
		if st, ended := lifecycle.Ended(status); ended {
			return st, nil
		}
		switch status {
		case "cancelled": // not a status venues.OrderStatus has; accepted as the spelling it means
			return lifecycle.Cancelled, nil
		case "new", "partially_filled":
			// Version 1 called a child "final" once the engine stopped working it, and it worked only IOC orders,
			// so it never expected this. But the venue's last word was that the order was still working: it may
			// rest there and fill. Open is the state that says so, and makes a recovering engine ask the venue
			// (by client order id) instead of taking it as over and missing its fills.
			return lifecycle.Open, nil
		default:
			// A "final" without a status the journal knows: the outcome is not known, so it is resolved with the
			// venue by query (invariant 4), never guessed.
			return lifecycle.Unknown, nil
		}
	}
	return "", fmt.Errorf("child state %q (status %q) was never a version 1 state", state, status)
}

// parentV1 is a parent record as version 1 wrote it: the final report was the engine's API report as raw JSON.
// (Request, Params and Venue are shared with version 2; freeze a copy here before changing them.)
type parentV1 struct {
	ID          string          `json:"id"`
	Request     Request         `json:"request"`
	State       string          `json:"state"`
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
	Cancelled   bool            `json:"cancelled"`
	Report      json.RawMessage `json:"report"`
	Updated     time.Time       `json:"updated"`
}

// reportV1 is the engine's API report (engine.Report) as version 1 parent records hold it: every field it has had,
// under its JSON names. Decimals and times are as encoding/json wrote them; prices and basis points were decimal
// strings or null.
type reportV1 struct {
	ID             string          `json:"id"`
	State          string          `json:"state"`
	Instrument     string          `json:"instrument"`
	Side           string          `json:"side"`
	Quantity       decimal.Decimal `json:"quantity"`
	ReduceOnly     bool            `json:"reduce_only"`
	Duration       string          `json:"duration"`
	MaxSlippageBps int             `json:"max_slippage_bps"`
	LimitPrice     *string         `json:"limit_price"`
	Filled         decimal.Decimal `json:"filled"`
	Residual       decimal.Decimal `json:"residual"`
	Unfilled       decimal.Decimal `json:"unfilled"`
	AvgPrice       *string         `json:"avg_price"`
	ArrivalPrice   decimal.Decimal `json:"arrival_price"`
	ShortfallBps   *string         `json:"shortfall_bps"`
	Fees           decimal.Decimal `json:"fees"`
	ChildOrders    int             `json:"child_orders"`
	CreatedAt      time.Time       `json:"created_at"`
	Deadline       time.Time       `json:"deadline"`
	UpdatedAt      time.Time       `json:"updated_at"`
	EndedAt        *time.Time      `json:"ended_at"`
	Reason         string          `json:"reason"`
	Venues         []venueReportV1 `json:"venues"`
}

type venueReportV1 struct {
	Venue       string          `json:"venue"`
	VolumeShare decimal.Decimal `json:"volume_share"`
	Weight      decimal.Decimal `json:"weight"`
	Allocated   decimal.Decimal `json:"allocated"`
	Filled      decimal.Decimal `json:"filled"`
	AvgPrice    *string         `json:"avg_price"`
	ChildOrders int             `json:"child_orders"`
	Rejected    int             `json:"rejected"`
	Out         string          `json:"out"`
}

func (p *Parent) migrate(version byte, decode func(into any) error) error {
	if version != 1 {
		return fmt.Errorf("%w: no migration from parent version %d", ErrVersion, version)
	}
	var old parentV1
	if err := decode(&old); err != nil {
		return err
	}
	summary, err := summaryV1(old.Report)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	*p = Parent{
		ID: old.ID, Request: old.Request, State: old.State, Reason: old.Reason, Created: old.Created,
		Deadline: old.Deadline, Arrival: old.Arrival, Residual: old.Residual, SlippageBps: old.SlippageBps,
		Seed: old.Seed, Params: old.Params, Venues: old.Venues, Stranded: old.Stranded, Fees: old.Fees,
		Ended: old.Ended, Cancelled: old.Cancelled, Summary: summary, Updated: old.Updated,
	}
	return nil
}

// summaryV1 turns a version 1 report (absent or null while the parent worked) into a Summary. The request's own
// figures in it (id, instrument, side, quantity, reduce-only, duration, slippage, limit price) are dropped: the
// parent record holds them.
func summaryV1(raw json.RawMessage) (*Summary, error) {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var r reportV1
	if err := decodeStrict(raw, &r); err != nil {
		return nil, err
	}
	s := &Summary{
		State: r.State, Reason: r.Reason, Filled: r.Filled, Residual: r.Residual, Unfilled: r.Unfilled, Fees: r.Fees,
		Arrival: r.ArrivalPrice, ChildOrders: r.ChildOrders, Created: r.CreatedAt, Deadline: r.Deadline,
		Updated: r.UpdatedAt, Ended: r.EndedAt,
	}
	var err error
	if s.AvgPrice, err = decimalV1("avg_price", r.AvgPrice); err != nil {
		return nil, err
	}
	if s.ShortfallBps, err = decimalV1("shortfall_bps", r.ShortfallBps); err != nil {
		return nil, err
	}
	if r.Venues != nil {
		s.Venues = make([]SummaryVenue, 0, len(r.Venues))
	}
	for _, v := range r.Venues {
		sv := SummaryVenue{
			Venue: v.Venue, Share: v.VolumeShare, Weight: v.Weight, Allocated: v.Allocated, Filled: v.Filled,
			ChildOrders: v.ChildOrders, Rejected: v.Rejected, Out: v.Out,
		}
		if sv.AvgPrice, err = decimalV1("venue "+v.Venue+" avg_price", v.AvgPrice); err != nil {
			return nil, err
		}
		s.Venues = append(s.Venues, sv)
	}
	return s, nil
}

// decimalV1 parses a version 1 report's decimal string; nil stays nil.
func decimalV1(what string, s *string) (*decimal.Decimal, error) {
	if s == nil {
		return nil, nil
	}
	d, err := decimal.NewFromString(*s)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", what, *s, err)
	}
	return &d, nil
}

// opsV1 is an ops record as version 1 wrote it.
type opsV1 struct {
	Seq     uint64           `json:"seq"`
	Time    time.Time        `json:"time"`
	Kind    string           `json:"kind"`
	Venue   string           `json:"venue"`
	Weight  *decimal.Decimal `json:"weight"`
	Enabled *bool            `json:"enabled"`
	State   string           `json:"state"`
	Actor   string           `json:"actor"`
}

func (o *Ops) migrate(version byte, decode func(into any) error) error {
	if version != 1 {
		return fmt.Errorf("%w: no migration from ops version %d", ErrVersion, version)
	}
	var old opsV1
	if err := decode(&old); err != nil {
		return err
	}
	// Version 1 had no reset, no reload records: the same record, with those fields empty.
	*o = Ops{Seq: old.Seq, Time: old.Time, Kind: old.Kind, Venue: old.Venue, Weight: old.Weight, Enabled: old.Enabled,
		State: old.State, Actor: old.Actor}
	return nil
}
