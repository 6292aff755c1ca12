package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/api"
)

var tenThousand = decimal.NewFromInt(10000)

// Deref is a pointer's string, or "—" when it is nil.
func Deref(s *string) string {
	if s == nil {
		return "—"
	}
	return *s
}

// FeesBps is the fees in bps of the filled notional at the arrival price; false when nothing filled.
func FeesBps(o api.Order) (decimal.Decimal, bool) {
	if !o.Filled.IsPositive() || !o.ArrivalPrice.IsPositive() {
		return decimal.Zero, false
	}
	return o.Fees.Div(o.Filled.Mul(o.ArrivalPrice)).Mul(tenThousand), true
}

// MakerShare is the part of the filled quantity that rested and filled as maker; false when nothing filled.
func MakerShare(filled, maker decimal.Decimal) (decimal.Decimal, bool) {
	if !filled.IsPositive() {
		return decimal.Zero, false
	}
	return maker.Div(filled), true
}

// CostLine is what the rebalance cost, as the user pays it: the implementation shortfall against the arrival mid
// and the fees, each in bps of the filled notional at the arrival price, and their sum; and the maker share.
func CostLine(o api.Order) string {
	feeBps, ok := FeesBps(o)
	if !ok || o.ShortfallBps == nil {
		return fmt.Sprintf("fees %s USDT", o.Fees.Round(4))
	}
	sf, err := decimal.NewFromString(*o.ShortfallBps)
	if err != nil {
		return fmt.Sprintf("shortfall %s bps   fees %s USDT", *o.ShortfallBps, o.Fees.Round(4))
	}
	ms, _ := MakerShare(o.Filled, o.MakerFilled)
	return fmt.Sprintf("shortfall %s bps + fees %s bps (%s USDT) = total cost %s bps   maker share %s%%",
		sf.StringFixed(2), feeBps.StringFixed(2), o.Fees.Round(4), sf.Add(feeBps).StringFixed(2),
		ms.Mul(decimal.NewFromInt(100)).StringFixed(1))
}

// FundingLine gives what the rebalance's fills paid in funding (negative: received), at the venues whose funding
// time passed while it worked.
func FundingLine(o api.Order) string {
	var at []string
	for _, v := range o.Venues {
		if v.FundingAt != nil {
			at = append(at, fmt.Sprintf("%s %s USDT at %s", v.Venue, v.Funding.Round(4), v.FundingAt.UTC().Format("15:04 MST")))
		}
	}
	if len(at) == 0 {
		next := ""
		for _, v := range o.Venues {
			if v.NextFunding != nil {
				next = " (the next: " + v.NextFunding.UTC().Format("Jan 2 15:04 MST") + ")"
			}
		}
		return "funding 0 USDT: no venue's funding time passed while it worked" + next
	}
	return fmt.Sprintf("funding %s USDT paid by its fills (%s)", o.Funding.Round(4), strings.Join(at, ", "))
}

// MarkoutLine gives the fills' markouts by horizon: the venue's mark that long after each fill against its price,
// fill-weighted, positive when the price moved the rebalance's way (negative: adverse selection); "" before any.
func MarkoutLine(o api.Order) string {
	if len(o.Markouts) == 0 {
		return ""
	}
	parts := make([]string, 0, len(o.Markouts))
	for _, m := range o.Markouts {
		part := fmt.Sprintf("%s %s bps", m.Horizon, m.Bps.StringFixed(2))
		if m.Quantity.LessThan(o.Filled) {
			part += fmt.Sprintf(" (of %s)", m.Quantity)
		}
		parts = append(parts, part)
	}
	return "markouts (mark after each fill vs its price, fill-weighted): " + strings.Join(parts, " · ")
}

// Text writes the report for people: what was asked, what filled, the cost lines, a row per venue and a total,
// the re-routings, and why anything was left.
func Text(w io.Writer, o api.Order) error {
	ew := &errWriter{w: w}
	ran := "—"
	if o.EndedAt != nil {
		ran = o.EndedAt.Sub(o.CreatedAt).Truncate(time.Second).String()
	}
	fmt.Fprintf(ew, "order %s: %s (ran %s)\n", o.ID, o.State, ran)
	fmt.Fprintf(ew, "  %s %s %s over %s, reduce-only %v, band %d bps, execution %s\n", o.Side, o.Quantity, o.Instrument,
		o.Duration, o.ReduceOnly, o.MaxSlippageBps, o.Execution)
	fmt.Fprintf(ew, "  filled %s   residual %s (below one lot)   unfilled %s\n", o.Filled, o.Residual, o.Unfilled)
	fmt.Fprintf(ew, "  arrival %s   average %s   child orders %d\n", o.ArrivalPrice, Deref(o.AvgPrice), o.ChildOrders)
	fmt.Fprintf(ew, "  %s\n  %s\n", CostLine(o), FundingLine(o))
	if line := MarkoutLine(o); line != "" {
		fmt.Fprintf(ew, "  %s\n", line)
	}
	fmt.Fprintln(ew)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "venue\tweight\tvolume share\tallocated\tfilled\tfilled share\tmaker share\tvwap\tchildren\trejected\tfunding\t")
	for _, v := range o.Venues {
		share := "—"
		if o.Filled.IsPositive() {
			share = v.Filled.Div(o.Filled).Round(4).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t\n", v.Venue, v.Weight, v.VolumeShare, v.Allocated,
			v.Filled, share, ratio(v.Filled, v.MakerFilled), Deref(v.AvgPrice), v.ChildOrders, v.Rejected, v.Funding.Round(4))
	}
	fmt.Fprintf(tw, "total\t\t\t%s\t%s\t\t%s\t%s\t%d\t\t%s\t\n", o.Quantity.Sub(o.Residual), o.Filled,
		ratio(o.Filled, o.MakerFilled), Deref(o.AvgPrice), o.ChildOrders, o.Funding.Round(4))
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, v := range o.Venues {
		if v.Out != "" {
			fmt.Fprintf(ew, "  %s takes no new work: %s\n", v.Venue, v.Out)
		}
	}
	if o.ReallocationCount > 0 {
		fmt.Fprintf(ew, "\nre-routings: %d", o.ReallocationCount)
		if n := len(o.Reallocations); n < o.ReallocationCount {
			fmt.Fprintf(ew, " (the latest %d)", n)
		}
		fmt.Fprintln(ew)
		for _, r := range o.Reallocations {
			moves := make([]string, 0, len(r.Venues))
			for _, m := range r.Venues {
				mv := fmt.Sprintf("%s %s→%s", m.Venue, m.Before, m.After)
				if m.Why != "" {
					mv += " (" + m.Why + ")"
				}
				moves = append(moves, mv)
			}
			fmt.Fprintf(ew, "  %s  %s: %s\n", r.At.UTC().Format("15:04:05"), r.Reason, strings.Join(moves, ", "))
		}
	}
	if o.Reason != "" {
		fmt.Fprintf(ew, "\nnote: %s\n", o.Reason)
	}
	return ew.err
}

// CSVHeader is the header row CSV writes.
var CSVHeader = []string{"order", "instrument", "side", "state", "venue", "allocated", "filled", "maker_filled", "vwap",
	"children", "rejected", "funding", "arrival_price", "shortfall_bps", "fees", "fees_bps", "residual", "unfilled", "out"}

// CSV writes the report as one row per venue and a "total" row, under CSVHeader: the order's own figures
// (arrival, shortfall, fees, residual, unfilled) on the total row only.
func CSV(w io.Writer, o api.Order) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, v := range o.Venues {
		if err := cw.Write([]string{o.ID, o.Instrument, o.Side, o.State, v.Venue, v.Allocated.String(), v.Filled.String(),
			v.MakerFilled.String(), orEmpty(v.AvgPrice), strconv.Itoa(v.ChildOrders), strconv.Itoa(v.Rejected),
			v.Funding.String(), "", "", "", "", "", "", v.Out}); err != nil {
			return err
		}
	}
	feeBps := ""
	if f, ok := FeesBps(o); ok {
		feeBps = f.StringFixed(4)
	}
	if err := cw.Write([]string{o.ID, o.Instrument, o.Side, o.State, "total", o.Quantity.Sub(o.Residual).String(),
		o.Filled.String(), o.MakerFilled.String(), orEmpty(o.AvgPrice), strconv.Itoa(o.ChildOrders), "",
		o.Funding.String(), o.ArrivalPrice.String(), orEmpty(o.ShortfallBps), o.Fees.String(), feeBps,
		o.Residual.String(), o.Unfilled.String(), o.Reason}); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func ratio(total, part decimal.Decimal) string {
	if r, ok := MakerShare(total, part); ok {
		return r.Round(4).String()
	}
	return "—"
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// errWriter keeps the first write error, so a report's many prints are checked once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
