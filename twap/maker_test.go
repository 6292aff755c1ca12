package twap

import (
	"math"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
)

func TestPegPrice(t *testing.T) {
	d := decimal.RequireFromString
	rules := venues.Rules{TickSize: d("0.1"), LotSize: d("0.001")}
	cases := []struct {
		name           string
		side           venues.Side
		bid, ask, band string
		urgency        float64
		want           string // "" : an error
	}{
		{"buy, one-tick spread: at the bid", venues.Buy, "100.0", "100.1", "101", 0, "100.0"},
		{"buy, wide spread: one tick inside", venues.Buy, "100.0", "100.5", "101", 0, "100.1"},
		{"buy, band below the bid", venues.Buy, "100.0", "100.5", "99.8", 0, "99.8"},
		{"sell, one-tick spread: at the ask", venues.Sell, "100.0", "100.1", "99", 0, "100.1"},
		{"sell, wide spread: one tick inside", venues.Sell, "100.0", "100.5", "99", 0, "100.4"},
		{"sell, band above the ask", venues.Sell, "100.0", "100.5", "100.9", 0, "100.9"},
		{"buy, off-grid quote", venues.Buy, "100.03", "100.12", "101", 0, "100.0"},
		{"sell, off-grid quote", venues.Sell, "100.03", "100.12", "99", 0, "100.2"},
		{"crossed quote", venues.Buy, "100.1", "100.0", "101", 0, ""},
		{"no bid", venues.Sell, "0", "100.0", "99", 0, ""},
		{"no band", venues.Buy, "100.0", "100.1", "0", 0, ""},
		{"bad side", venues.Side("x"), "100.0", "100.1", "101", 0, ""},
		{"buy, urgent: one tick below the ask", venues.Buy, "100.0", "101.0", "102", 1, "100.9"},
		{"buy, half urgent: half the way from one tick inside", venues.Buy, "100.0", "101.0", "102", 0.5, "100.5"},
		{"sell, urgent: one tick above the bid", venues.Sell, "100.0", "101.0", "99", 1, "100.1"},
		{"sell, half urgent", venues.Sell, "100.0", "101.0", "99", 0.5, "100.5"},
		{"buy, a third urgent: the step floored to the tick", venues.Buy, "100.0", "100.5", "102", 0.34, "100.2"},
		{"sell, a third urgent: the step floored to the tick", venues.Sell, "100.0", "100.5", "99", 0.34, "100.3"},
		{"buy, urgent, off-grid ask: below it on the grid", venues.Buy, "100.0", "100.45", "102", 1, "100.4"},
		{"buy, urgent, one-tick spread: at the bid", venues.Buy, "100.0", "100.1", "102", 1, "100.0"},
		{"buy, urgent, band first", venues.Buy, "100.0", "101.0", "100.2", 1, "100.2"},
		{"urgency above 1", venues.Buy, "100.0", "101.0", "102", 1.5, ""},
		{"urgency NaN", venues.Buy, "100.0", "101.0", "102", math.NaN(), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PegPrice(tc.side, d(tc.bid), d(tc.ask), d(tc.band), rules, tc.urgency)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("got %s, want an error", got)
				}
				return
			}
			if err != nil || !got.Equal(d(tc.want)) {
				t.Fatalf("got %s, %v; want %s", got, err, tc.want)
			}
			if !rules.OnTick(got) {
				t.Fatalf("%s is off the tick", got)
			}
		})
	}
}
