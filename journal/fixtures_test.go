package journal

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/lifecycle"
	"github.com/execd-dev/execd/venues"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func t0() time.Time { return time.Date(2026, 11, 22, 9, 30, 0, 123456789, time.UTC) }

func sampleParent(id string) Parent {
	ended := t0().Add(10 * time.Minute)
	return Parent{
		ID: id,
		Request: Request{
			Instrument: "BTC-USDT-PERP", Side: "buy", Quantity: dec("2.2166"), Duration: 10 * time.Minute,
			ReduceOnly: true, MaxSlippageBps: 50, Venues: []string{"a", "b"}, LimitPrice: dec("10600.5"),
		},
		State:       ParentDone,
		Reason:      "filled",
		Created:     t0(),
		Deadline:    t0().Add(10 * time.Minute),
		Arrival:     dec("10490.12"),
		Residual:    dec("0.0006"),
		SlippageBps: 50,
		Seed:        1<<63 + 7, // above int64 and float64 precision
		Params: Params{
			MeanInterval: 20 * time.Second, EndBuffer: 30 * time.Second, Catchup: time.Minute,
			RetryInterval: 2 * time.Second, TimeJitter: 0.3, SizeJitter: 0.25,
			MaxChildNotional: dec("50000"), MaxOrderNotional: dec("2000000"),
			DefaultSlippageBps: 30, MaxSlippageBps: 100, MaxConsecutiveRejects: 5,
		},
		Venues: []Venue{{
			Name: "a", Symbol: "BTCUSDT", TickSize: dec("0.1"), LotSize: dec("0.001"), MinQty: dec("0.001"),
			MaxQty: dec("1000"), MinNotional: dec("5"), Mark: dec("10490.1"), Share: dec("0.4"), Weight: dec("1"),
			Allocated: dec("0.886"), Base: dec("-11.988"),
			Slices: []Slice{{Seq: 0, At: t0(), Quantity: dec("0.443")}, {Seq: 1, At: t0().Add(time.Minute), Quantity: dec("0.443")}},
			Next:   2, Seq: 2, Out: "", Rejected: 1, Dust: false,
		}},
		Stranded: dec("0"),
		Fees:     dec("-11.988"),
		Ended:    &ended,
		Summary:  sampleSummary(ended),
		Updated:  ended,
	}
}

func decp(s string) *decimal.Decimal { d := dec(s); return &d }

func sampleSummary(ended time.Time) *Summary {
	return &Summary{
		State: ParentDone, Reason: "filled", Filled: dec("2.216"), Residual: dec("0.0006"), Unfilled: dec("0"),
		Fees: dec("-0.00011988"), Arrival: dec("10490.12"), AvgPrice: decp("10490.5"), ShortfallBps: decp("-0.36"),
		ChildOrders: 4, Created: t0(), Deadline: t0().Add(10 * time.Minute), Updated: ended, Ended: &ended,
		Venues: []SummaryVenue{
			{Venue: "a", Share: dec("0.4"), Weight: dec("1"), Allocated: dec("0.886"), Filled: dec("0.886"),
				AvgPrice: decp("10490.1"), ChildOrders: 2, Rejected: 1},
			{Venue: "b", Share: dec("0.6"), Weight: dec("0.5"), Allocated: dec("1.33"), Filled: dec("0"),
				ChildOrders: 0, Out: "circuit breaker open"},
		},
	}
}

func sampleChild(parent, clientID, venue string, seq int) Child {
	return Child{
		Parent: parent, Venue: venue, Seq: seq, ClientID: clientID,
		Quantity: dec("0.443"), Price: dec("10495.3"), State: lifecycle.Intent, Updated: t0(),
	}
}

func sampleFill(venue, tradeID, clientID string) venues.Fill {
	return venues.Fill{
		Venue: venue, Instrument: "BTC-USDT-PERP", ClientOrderID: clientID, VenueOrderID: "v-" + clientID,
		TradeID: tradeID, Side: venues.Buy, Quantity: dec("0.2166"), Price: dec("10490.7"),
		Fee: dec("-0.00011988"), FeeAsset: "USDT", Maker: true, Time: t0().Add(3 * time.Second),
	}
}

func sampleOps() Ops {
	w := dec("0.5")
	on := true
	return Ops{Time: t0(), Kind: OpsVenue, Venue: "a", Weight: &w, Enabled: &on, Actor: "ops@example"}
}

// sameEncoding fails unless a and b encode to the same bytes: the canonical comparison for records holding decimals
// (whose internal big.Int may differ while the values are equal).
func sameEncoding(t *testing.T, what string, want, got any) {
	t.Helper()
	w, err := Encode(want)
	if err != nil {
		t.Fatalf("%s: encode want: %v", what, err)
	}
	g, err := Encode(got)
	if err != nil {
		t.Fatalf("%s: encode got: %v", what, err)
	}
	if string(w) != string(g) {
		t.Fatalf("%s: round trip differs\nwant %s\ngot  %s", what, w[headerLen:], g[headerLen:])
	}
}

func openT(t testing.TB, dir string) *Bolt {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}
