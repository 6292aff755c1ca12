package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/api"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func sample() api.Order {
	avg, sf, va, vb := "10010", "5.5", "10008", "10013"
	t0 := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
	end := t0.Add(10 * time.Minute)
	return api.Order{ID: "rb-1", State: "done", Instrument: "BTC-USDT-PERP", Side: "buy", Quantity: d("2.2166"),
		Duration: "10m0s", Filled: d("2.216"), Residual: d("0.0006"), AvgPrice: &avg, ArrivalPrice: d("10000"),
		ShortfallBps: &sf, Fees: d("4.432"), MakerFilled: d("1.108"), ChildOrders: 12, CreatedAt: t0, EndedAt: &end,
		Venues: []api.OrderVenue{
			{Venue: "a", Weight: d("1"), Allocated: d("1.33"), Filled: d("1.33"), MakerFilled: d("0.665"), AvgPrice: &va, ChildOrders: 7},
			{Venue: "b", Weight: d("1"), Allocated: d("0.886"), Filled: d("0.886"), MakerFilled: d("0.443"), AvgPrice: &vb, ChildOrders: 5, Out: "breaker open"},
		},
		ReallocationCount: 1,
		Reallocations: []api.Reallocation{{At: t0.Add(time.Minute), Reason: "breaker open on b",
			Venues: []api.VenueMove{{Venue: "b", Before: d("0.5"), After: d("0"), Why: "breaker open"}, {Venue: "a", Before: d("0.8"), After: d("1.3"), Available: true}}}},
	}
}

// TestCostLine: shortfall and fees side by side in bps of the filled notional at arrival, and their sum.
func TestCostLine(t *testing.T) {
	// fees 4.432 USDT on 2.216 × 10000 = 22160 USDT: 2 bps; shortfall 5.5; total 7.5; maker 1.108/2.216 = 50%.
	want := "shortfall 5.50 bps + fees 2.00 bps (4.432 USDT) = total cost 7.50 bps   maker share 50.0%"
	if got := CostLine(sample()); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	o := sample()
	o.Filled, o.ShortfallBps = decimal.Zero, nil
	if got := CostLine(o); got != "fees 4.432 USDT" {
		t.Fatalf("nothing filled: %q", got)
	}
}

// TestCSV: a row per venue and a total row whose figures are the order's own.
func TestCSV(t *testing.T) {
	var b bytes.Buffer
	if err := CSV(&b, sample()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("rows: %v", rows)
	}
	get := func(r []string, col string) string {
		for i, h := range CSVHeader {
			if h == col {
				return r[i]
			}
		}
		t.Fatalf("no column %s", col)
		return ""
	}
	if get(rows[2], "venue") != "b" || get(rows[2], "out") != "breaker open" || get(rows[2], "vwap") != "10013" {
		t.Fatalf("venue b row: %v", rows[2])
	}
	tot := rows[3]
	if get(tot, "venue") != "total" || get(tot, "filled") != "2.216" || get(tot, "allocated") != "2.216" ||
		get(tot, "fees_bps") != "2.0000" || get(tot, "shortfall_bps") != "5.5" || get(tot, "residual") != "0.0006" {
		t.Fatalf("total row: %v", tot)
	}
}

// TestText: the report names each venue, the total, the re-routing with its reason, and why a venue is out.
func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, sample()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"order rb-1: done (ran 10m0s)", "total cost 7.50 bps", "b takes no new work: breaker open",
		"re-routings: 1", "breaker open on b: b 0.5→0 (breaker open), a 0.8→1.3", "total"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
