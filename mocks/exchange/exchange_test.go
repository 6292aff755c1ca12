package exchange

import (
	"errors"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/mocks/market"
)

var d = decimal.RequireFromString

// book is a fixed book: bid 99, ask 101, depth per side, mark 100.
type book struct {
	mu         sync.Mutex
	bid, ask   decimal.Decimal
	depth      decimal.Decimal
	takenTotal decimal.Decimal
}

func (b *book) Quote() market.Quote {
	b.mu.Lock()
	defer b.mu.Unlock()
	return market.Quote{Bid: b.bid, Ask: b.ask, Mark: d("100")}
}

func (b *book) Take(side market.Side, qty, limit decimal.Decimal) []market.Exec {
	b.mu.Lock()
	defer b.mu.Unlock()
	px := b.ask
	if side == market.Sell {
		px = b.bid
	}
	if !limit.IsZero() && (side == market.Buy && px.GreaterThan(limit) || side == market.Sell && px.LessThan(limit)) {
		return nil
	}
	q := decimal.Min(qty, b.depth)
	b.takenTotal = b.takenTotal.Add(q)
	return []market.Exec{{Price: px, Qty: q}}
}

func newTest(t *testing.T, cfg Config) (*Account, *book, *[]Event) {
	t.Helper()
	b := &book{bid: d("99"), ask: d("101"), depth: d("1")}
	var events []Event
	cfg.Book, cfg.Leverage, cfg.TakerFeeBps, cfg.MakerFeeBps = b, 10, 5, 2
	if cfg.Balance.IsZero() {
		cfg.Balance = d("1000")
	}
	var a *Account
	cfg.OnEvents = func(ev []Event) {
		if !a.mu.TryLock() {
			t.Error("OnEvents called with the account locked")
		} else {
			a.mu.Unlock()
		}
		events = append(events, ev...)
	}
	a = NewAccount(cfg)
	return a, b, &events
}

func TestPlaceFillsAndExpiresIOCRemainder(t *testing.T) {
	a, _, events := newTest(t, Config{})
	acc, o, err := a.Place(Request{ClientID: "x", Symbol: "S", Side: market.Buy, Qty: d("1.5"), Price: d("102")})
	if err != nil {
		t.Fatal(err)
	}
	if acc.Status != New || !acc.Filled.IsZero() {
		t.Fatalf("accepted %+v", acc)
	}
	if o.Status != Expired || !o.Filled.Equal(d("1")) || !o.AvgPrice().Equal(d("101")) {
		t.Fatalf("final %+v", o)
	}
	p, w := a.Position("S")
	fee := d("101").Mul(d("0.0005"))
	if !p.Qty.Equal(d("1")) || !p.Entry.Equal(d("101")) || !w.Equal(d("1000").Sub(fee)) || !p.Fees.Equal(fee) {
		t.Fatalf("position %+v wallet %s", p, w)
	}
	kinds := []EventKind{}
	for _, e := range *events {
		kinds = append(kinds, e.Kind)
	}
	if len(kinds) != 3 || kinds[0] != Accepted || kinds[1] != Executed || kinds[2] != Ended {
		t.Fatalf("events %v", kinds)
	}
	if f := a.Fills(); len(f) != 1 || f[0].Seq != 1 || f[0].Order.Seq != 1 || f[0].Maker {
		t.Fatalf("fills %+v", f)
	}
}

func TestRestingOrderSweepAndCancel(t *testing.T) {
	a, b, _ := newTest(t, Config{})
	_, o, err := a.Place(Request{ClientID: "r", Symbol: "S", Side: market.Buy, Qty: d("1"), Price: d("100"), Rest: true})
	if err != nil || o.Status != New {
		t.Fatalf("%+v %v", o, err)
	}
	if _, _, err := a.Place(Request{ClientID: "r", Symbol: "S", Side: market.Buy, Qty: d("1"), Price: d("100"), Rest: true}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	b.mu.Lock()
	b.ask = d("100")
	b.mu.Unlock()
	a.Sweep()
	got, ok := a.Find(func(o *Order) bool { return o.ClientID == "r" })
	if !ok || got.Status != Filled {
		t.Fatalf("after sweep %+v", got)
	}
	if f := a.Fills(); len(f) != 1 || !f[0].Maker || !f[0].Fee.Equal(d("0.02")) {
		t.Fatalf("fills %+v", f)
	}
	if _, err := a.Cancel(func(o *Order) bool { return o.ClientID == "r" }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancel filled: %v", err)
	}
	// A client id may be reused once its order is closed, unless UniqueClientIDs.
	_, o, err = a.Place(Request{ClientID: "r", Symbol: "S", Side: market.Buy, Qty: d("1"), Price: d("90"), Rest: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Cancel(func(x *Order) bool { return x.Seq == o.Seq })
	if err != nil || c.Status != Canceled {
		t.Fatalf("cancel: %+v %v", c, err)
	}
}

func TestRejections(t *testing.T) {
	a, _, _ := newTest(t, Config{MinNotional: d("50"), UniqueClientIDs: true})
	cases := []struct {
		r   Request
		err error
	}{
		{Request{Symbol: "S", Side: market.Sell, Qty: d("1"), ReduceOnly: true}, ErrReduceOnly},
		{Request{Symbol: "S", Side: market.Buy, Qty: d("0.1"), Price: d("100"), Rest: true}, ErrMinNotional},
		{Request{Symbol: "S", Side: market.Buy, Qty: d("200"), Price: d("100"), Rest: true}, ErrInsufficientMargin},
	}
	for _, c := range cases {
		if _, _, err := a.Place(c.r); !errors.Is(err, c.err) {
			t.Errorf("%+v: %v, want %v", c.r, err, c.err)
		}
	}
	if len(a.Orders()) != 0 {
		t.Fatal("rejected orders recorded")
	}
}

func TestReduceOnlyCapsAtPositionAndRealizes(t *testing.T) {
	a, _, events := newTest(t, Config{})
	a.SetPosition("S", d("0.5"), d("90"))
	_, o, err := a.Place(Request{Symbol: "S", Side: market.Sell, Qty: d("1"), ReduceOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if !o.Filled.Equal(d("0.5")) || o.Status != Expired {
		t.Fatalf("order %+v", o)
	}
	p, _ := a.Position("S")
	if !p.Qty.IsZero() || !p.Realized.Equal(d("4.5")) || !p.Entry.IsZero() {
		t.Fatalf("position %+v", p)
	}
	if (*events)[0].Kind != PositionSet || !(*events)[0].Position.Qty.Equal(d("0.5")) {
		t.Fatalf("first event %+v", (*events)[0])
	}
}

func TestLotGridSkipsOffGridExecutions(t *testing.T) {
	a, b, _ := newTest(t, Config{Lot: d("0.01")})
	b.depth = d("0.005")
	_, o, err := a.Place(Request{Symbol: "S", Side: market.Buy, Qty: d("0.02"), Price: d("200")})
	if err != nil {
		t.Fatal(err)
	}
	if !o.Filled.IsZero() || o.Status != Expired {
		t.Fatalf("order %+v", o)
	}
}
