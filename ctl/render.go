package ctl

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/api"
)

// writeCSV writes rows under header as CSV.
func writeCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// bars draws a parent order's progress: a bar per venue (filled of allocated) and one for the whole order. On a
// terminal it redraws them in place; otherwise it prints one line per update that changed something.
type bars struct {
	w     io.Writer
	tty   bool
	lines int    // lines drawn last time (tty)
	last  string // the last line printed (not tty)
}

const barWidth = 30

func newBars(w io.Writer, tty bool) *bars { return &bars{w: w, tty: tty} }

func (b *bars) draw(o api.Order) {
	elapsed := o.UpdatedAt.Sub(o.CreatedAt)
	if o.StartAt != nil {
		elapsed = o.UpdatedAt.Sub(*o.StartAt) // set ahead: the time into its window
	}
	if elapsed < 0 {
		elapsed = 0
	}
	if !b.tty {
		parts := []string{fmt.Sprintf("%s %s t+%s", o.ID, o.State, elapsed.Truncate(1e9))}
		for _, v := range o.Venues {
			parts = append(parts, fmt.Sprintf("%s %s/%s %s%% (%d)", v.Venue, v.Filled, v.Allocated, pct(v.Filled, v.Allocated), v.ChildOrders))
		}
		parts = append(parts, fmt.Sprintf("total %s/%s %s%%", o.Filled, o.Quantity, pct(o.Filled, o.Quantity)))
		line := strings.Join(parts, " · ")
		if line != b.last {
			fmt.Fprintln(b.w, line)
			b.last = line
		}
		return
	}
	var sb strings.Builder
	if b.lines > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", b.lines) // back to the first bar
	}
	name := 5
	for _, v := range o.Venues {
		name = max(name, len(v.Venue))
	}
	row := func(label string, filled, of decimal.Decimal, extra string) {
		fmt.Fprintf(&sb, "\x1b[2K%-*s [%s] %6s%%  %s/%s%s\n", name, label, bar(filled, of), pct(filled, of), filled, of, extra)
	}
	fmt.Fprintf(&sb, "\x1b[2K%s %s  t+%s  children %d\n", o.ID, o.State, elapsed.Truncate(1e9), o.ChildOrders)
	for _, v := range o.Venues {
		extra := fmt.Sprintf("  children %d", v.ChildOrders)
		if v.Out != "" {
			extra += "  out: " + v.Out
		}
		row(v.Venue, v.Filled, v.Allocated, extra)
	}
	row("total", o.Filled, o.Quantity, "")
	b.lines = len(o.Venues) + 2
	_, _ = io.WriteString(b.w, sb.String())
}

// done leaves the last drawing in place and a blank line after it.
func (b *bars) done() { fmt.Fprintln(b.w) }

func bar(filled, of decimal.Decimal) string {
	n := 0
	if of.IsPositive() {
		n = int(filled.Div(of).Mul(decimal.NewFromInt(barWidth)).IntPart())
	}
	n = min(max(n, 0), barWidth)
	return strings.Repeat("█", n) + strings.Repeat("░", barWidth-n)
}

func pct(filled, of decimal.Decimal) string {
	if !of.IsPositive() {
		return "—"
	}
	return filled.Div(of).Mul(decimal.NewFromInt(100)).StringFixed(1)
}

func decStr(d *decimal.Decimal) string {
	if d == nil {
		return "—"
	}
	return d.String()
}

func timeStr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format(time.RFC3339)
}
