package positions

import (
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestBookDedupAndSign(t *testing.T) {
	l := NewLedger()
	k := Key{"a", "BTC-USDT-PERP"}
	l.Set(k, d("-4.795"))
	f := venues.Fill{Venue: "a", Instrument: k.Instrument, TradeID: "1", Side: venues.Buy, Quantity: d("0.5"), Price: d("10490")}
	if ok, err := l.Book(f); !ok || err != nil {
		t.Fatalf("book: %v %v", ok, err)
	}
	if ok, _ := l.Book(f); ok {
		t.Fatal("the same trade id was booked twice")
	}
	f2 := f
	f2.TradeID, f2.Side, f2.Quantity = "2", venues.Sell, d("0.1")
	if _, err := l.Book(f2); err != nil {
		t.Fatal(err)
	}
	f3 := f
	f3.Venue = "b" // same trade id at another venue is another trade
	if ok, _ := l.Book(f3); !ok {
		t.Fatal("trade ids are per venue")
	}
	if got := l.Position(k); !got.Equal(d("-4.395")) {
		t.Fatalf("position = %s, want -4.395", got)
	}
	agg := Aggregates(l.Snapshot())
	if len(agg) != 1 || !agg[0].Quantity.Equal(d("-3.895")) {
		t.Fatalf("aggregate = %+v", agg)
	}
}

func TestBookRejectsBadFills(t *testing.T) {
	l := NewLedger()
	bad := []venues.Fill{
		{Venue: "a", Instrument: "X", Side: venues.Buy, Quantity: d("1")},
		{Venue: "a", Instrument: "X", TradeID: "1", Side: venues.Buy, Quantity: d("0")},
		{Venue: "a", Instrument: "X", TradeID: "1", Side: "long", Quantity: d("1")},
	}
	for _, f := range bad {
		if _, err := l.Book(f); err == nil {
			t.Fatalf("fill %+v was accepted", f)
		}
	}
	if len(l.Snapshot()) != 0 {
		t.Fatal("a rejected fill changed the ledger")
	}
}

func TestConcurrentBooking(t *testing.T) {
	l := NewLedger()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				l.Book(venues.Fill{Venue: "a", Instrument: "X", TradeID: decimal.NewFromInt(int64(i)).String(), Side: venues.Buy, Quantity: d("0.001")})
			}
		}()
	}
	wg.Wait()
	if got := l.Position(Key{"a", "X"}); !got.Equal(d("0.2")) {
		t.Fatalf("position = %s, want 0.2 (each trade once)", got)
	}
}
