package twap

import (
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
		want           string // "" : an error
	}{
		{"buy, one-tick spread: at the bid", venues.Buy, "100.0", "100.1", "101", "100.0"},
		{"buy, wide spread: one tick inside", venues.Buy, "100.0", "100.5", "101", "100.1"},
		{"buy, band below the bid", venues.Buy, "100.0", "100.5", "99.8", "99.8"},
		{"sell, one-tick spread: at the ask", venues.Sell, "100.0", "100.1", "99", "100.1"},
		{"sell, wide spread: one tick inside", venues.Sell, "100.0", "100.5", "99", "100.4"},
		{"sell, band above the ask", venues.Sell, "100.0", "100.5", "100.9", "100.9"},
		{"buy, off-grid quote", venues.Buy, "100.03", "100.12", "101", "100.0"},
		{"sell, off-grid quote", venues.Sell, "100.03", "100.12", "99", "100.2"},
		{"crossed quote", venues.Buy, "100.1", "100.0", "101", ""},
		{"no bid", venues.Sell, "0", "100.0", "99", ""},
		{"no band", venues.Buy, "100.0", "100.1", "0", ""},
		{"bad side", venues.Side("x"), "100.0", "100.1", "101", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PegPrice(tc.side, d(tc.bid), d(tc.ask), d(tc.band), rules)
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
