package engine

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/twap"
	"github.com/execd-dev/execd/venues"
)

// TestFundingTilt: the schedule moves across the funding time the way that pays less funding, by the shift at
// the last slice before it, back to nothing at the end; it stays on the lot grid, nondecreasing, with its total.
func TestFundingTilt(t *testing.T) {
	lot := dec("0.001")
	var slices []twap.Slice
	for i := range 10 {
		slices = append(slices, twap.Slice{Seq: i, At: t0.Add(time.Duration(i+1) * 10 * time.Second), Quantity: dec("0.1")})
	}
	cum := twap.Cumulative(slices)
	fund := t0.Add(55 * time.Second) // five slices before it (the guard is 2 s), five after
	cases := []struct {
		name  string
		at    time.Time
		rate  string
		side  venues.Side
		shift float64
		want  string // the change at the last slice before the funding time (index 4, or 3 in the guard case); "0": unchanged
	}{
		{"buy, longs pay: later", fund, "0.0001", venues.Buy, 0.05, "-0.05"},
		{"sell, longs pay (shorts receive): earlier", fund, "0.0001", venues.Sell, 0.05, "0.05"},
		{"buy, shorts pay (longs receive): earlier", fund, "-0.0003", venues.Buy, 0.05, "0.05"},
		{"sell, shorts pay: later", fund, "-0.0003", venues.Sell, 0.05, "-0.05"},
		{"no rate", fund, "0", venues.Buy, 0.05, "0"},
		{"no shift", fund, "0.0001", venues.Buy, 0, "0"},
		{"unknown funding time", time.Time{}, "0.0001", venues.Buy, 0.05, "0"},
		{"funding before every slice", t0.Add(5 * time.Second), "0.0001", venues.Buy, 0.05, "0"},
		{"funding after every slice", t0.Add(time.Hour), "0.0001", venues.Buy, 0.05, "0"},
		{"within the guard of a slice: it counts as after", t0.Add(51 * time.Second), "0.0001", venues.Buy, 0.05, "-0.05"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := fundingTilt(cum, slices, tc.at, dec(tc.rate), tc.side, tc.shift, venues.Rules{LotSize: lot})
			if len(got) != len(cum) || !got[len(got)-1].Equal(cum[len(cum)-1]) {
				t.Fatalf("tilted %v: the total changed", got)
			}
			prev := decimal.Zero
			for i, c := range got {
				if c.LessThan(prev) || !c.Mod(lot).IsZero() || c.IsNegative() {
					t.Fatalf("slice %d: %s after %s (not nondecreasing on the lot grid)", i, c, prev)
				}
				prev = c
			}
			last := 4
			if tc.at.Equal(t0.Add(51 * time.Second)) {
				last = 3 // the slice at 50 s is within the guard: after
			}
			if d := got[last].Sub(cum[last]); !d.Equal(dec(tc.want)) {
				t.Fatalf("change before the funding time %s, want %s (%v)", d, tc.want, got)
			}
			// The move fades to nothing at the end, and is never larger than the shift.
			for i := range got {
				if got[i].Sub(cum[i]).Abs().GreaterThan(dec("0.05")) {
					t.Fatalf("slice %d moved by %s", i, got[i].Sub(cum[i]))
				}
			}
		})
	}
}

// TestMachineFundingShift: a buy whose venue's longs pay funding at a time inside the parent has filled there, by
// that time, the shift less than its even schedule owes; by the end, all of it.
func TestMachineFundingShift(t *testing.T) {
	filledBy := func(shift float64) (atFunding, end decimal.Decimal, alloc decimal.Decimal) {
		m := newTestMachine(t, "2.2166", true)
		m.pl.params.FundingShift = shift
		a := m.pl.work[0]
		a.fundRate, a.nextFunding = dec("0.0003"), t0.Add(150*time.Second)
		if err := a.reschedule(m.pl, m.req, t0, decimal.Zero); err != nil {
			t.Fatal(err)
		}
		h := &reallocHarness{t: t, m: m, now: t0, sent: map[string]decimal.Decimal{}}
		h.step(Event{Kind: EvStart})
		h.until(a.nextFunding.Add(-fundingGuard-time.Millisecond), 100*time.Millisecond)
		atFunding = a.filled
		h.until(m.pl.deadline.Add(time.Minute), time.Second)
		return atFunding, a.filled, a.allocated
	}
	even, evenEnd, alloc := filledBy(0)
	tilted, tiltedEnd, _ := filledBy(0.05)
	want := alloc.Mul(dec("0.05")).Div(dec("0.001")).Floor().Mul(dec("0.001"))
	if d := even.Sub(tilted); !d.Equal(want) {
		t.Fatalf("filled by the funding time: %s even, %s tilted; want %s less", even, tilted, want)
	}
	if !evenEnd.Equal(alloc) || !tiltedEnd.Equal(alloc) {
		t.Fatalf("filled at the end: %s even, %s tilted, of %s", evenEnd, tiltedEnd, alloc)
	}
}
