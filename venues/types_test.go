package venues

import (
	"errors"
	"fmt"
	"testing"

	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestParseInstrument(t *testing.T) {
	b, q, err := ParseInstrument("BTC-USDT-PERP")
	if err != nil || b != "BTC" || q != "USDT" {
		t.Fatalf("%s %s %v", b, q, err)
	}
	for _, bad := range []string{"BTCUSDT", "btc-usdt-perp", "BTC-USDT-SWAP", "", "BTC--PERP"} {
		if _, _, err := ParseInstrument(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRulesGrid(t *testing.T) {
	r := Rules{Instrument: "X", TickSize: d("0.1"), LotSize: d("0.001")}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := r.FloorQty(d("2.2166")); !got.Equal(d("2.216")) {
		t.Fatalf("floor %s", got)
	}
	if !r.OnLot(d("2.216")) || r.OnLot(d("2.2166")) || !r.OnTick(d("10490.1")) || r.OnTick(d("10490.15")) {
		t.Fatal("grid checks")
	}
	if !r.PriceFloor(d("10490.19")).Equal(d("10490.1")) || !r.PriceCeil(d("10490.11")).Equal(d("10490.2")) {
		t.Fatal("price rounding")
	}
	if (Rules{TickSize: d("0"), LotSize: d("1")}).Validate() == nil {
		t.Fatal("zero tick accepted")
	}
}

func TestErrorClasses(t *testing.T) {
	nf := &Error{Venue: "a", Op: "query", Class: Rejected, Code: "-2013", Err: ErrNotFound}
	wrapped := fmt.Errorf("context: %w", nf)
	if ClassOf(wrapped) != Rejected || !IsNotFound(wrapped) {
		t.Fatal("class or not-found lost through wrapping")
	}
	if ClassOf(errors.New("eof")) != Unknown || ClassOf(nil) != 0 {
		t.Fatal("an unclassified error must count as unknown, nil as none")
	}
}
