package exchange

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
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
	got, ok := a.Find(Ref{ClientID: "r"})
	if !ok || got.Status != Filled {
		t.Fatalf("after sweep %+v", got)
	}
	if f := a.Fills(); len(f) != 1 || !f[0].Maker || !f[0].Fee.Equal(d("0.02")) {
		t.Fatalf("fills %+v", f)
	}
	if _, err := a.Cancel(Ref{ClientID: "r"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancel filled: %v", err)
	}
	// A client id may be reused once its order is closed, unless UniqueClientIDs.
	_, o, err = a.Place(Request{ClientID: "r", Symbol: "S", Side: market.Buy, Qty: d("1"), Price: d("90"), Rest: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Cancel(Ref{Seq: o.Seq})
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

func TestIndexLookups(t *testing.T) {
	a, _, _ := newTest(t, Config{Balance: d("1000000")})
	var seqs []int64
	for _, id := range []string{"a", "b", "c"} {
		_, o, err := a.Place(Request{ClientID: id, Symbol: "S", Side: market.Buy, Qty: d("0.5"), Price: d("102")})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, o.Seq)
	}
	_, r1, err := a.Place(Request{ClientID: "r1", Symbol: "S", Side: market.Buy, Qty: d("1"), Price: d("90"), Rest: true})
	if err != nil {
		t.Fatal(err)
	}
	_, r2, err := a.Place(Request{ClientID: "r2", Symbol: "S", Side: market.Sell, Qty: d("1"), Price: d("110"), Rest: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ref  Ref
		want string
	}{
		{Ref{ClientID: "b"}, "b"}, {Ref{Seq: seqs[2]}, "c"}, {Ref{Seq: seqs[0], ClientID: "a"}, "a"},
		{Ref{Seq: seqs[0], ClientID: "b"}, ""}, {Ref{Seq: 99}, ""}, {Ref{Seq: -1}, ""}, {Ref{}, ""}, {Ref{ClientID: "zz"}, ""},
	} {
		o, ok := a.Find(c.ref)
		if ok != (c.want != "") || ok && o.ClientID != c.want {
			t.Errorf("Find(%+v) = %q %v, want %q", c.ref, o.ClientID, ok, c.want)
		}
	}
	open := a.OpenOrders()
	if len(open) != 2 || open[0].Seq != r1.Seq || open[1].Seq != r2.Seq {
		t.Fatalf("open %+v", open)
	}
	if f := a.OrderFills(seqs[1]); len(f) != 1 || f[0].Order.ClientID != "b" {
		t.Fatalf("fills of b %+v", f)
	}
	if f := a.OrderFills(r1.Seq); len(f) != 0 {
		t.Fatalf("fills of a resting order %+v", f)
	}
	if f, ok := a.LastFill(seqs[2]); !ok || f.Order.ClientID != "c" {
		t.Fatalf("last fill of c %+v %v", f, ok)
	}
	if _, err := a.Cancel(Ref{ClientID: "r1"}); err != nil {
		t.Fatal(err)
	}
	if open := a.OpenOrders(); len(open) != 1 || open[0].ClientID != "r2" {
		t.Fatalf("open after cancel %+v", open)
	}
	page, more := a.Recent(1, 2)
	if len(page) != 2 || page[0].ClientID != "r1" || page[1].ClientID != "c" || !more {
		t.Fatalf("recent %+v %v", page, more)
	}
	if page, more := a.Recent(3, 10); len(page) != 2 || page[1].ClientID != "a" || more {
		t.Fatalf("last page %+v %v", page, more)
	}
}

// TestDuplicateAfterManyOrders: duplicate detection reads the index, so it holds whatever the order's age and
// whether client ids are unique for ever or only among open orders.
func TestDuplicateAfterManyOrders(t *testing.T) {
	for _, unique := range []bool{false, true} {
		a, _, _ := newTest(t, Config{Balance: d("1000000"), UniqueClientIDs: unique})
		if _, _, err := a.Place(Request{ClientID: "old", Symbol: "S", Side: market.Buy, Qty: d("0.5"), Price: d("102")}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Place(Request{ClientID: "rest", Symbol: "S", Side: market.Buy, Qty: d("1"), Price: d("90"), Rest: true}); err != nil {
			t.Fatal(err)
		}
		for i := range 200 {
			side := market.Buy
			if i%2 == 1 {
				side = market.Sell
			}
			if _, _, err := a.Place(Request{ClientID: fmt.Sprint("x", i), Symbol: "S", Side: side, Qty: d("0.5")}); err != nil {
				t.Fatal(err)
			}
		}
		_, _, err := a.Place(Request{ClientID: "rest", Symbol: "S", Side: market.Buy, Qty: d("1"), Price: d("90"), Rest: true})
		if !errors.Is(err, ErrDuplicate) {
			t.Fatalf("unique=%v: open duplicate: %v", unique, err)
		}
		_, _, err = a.Place(Request{ClientID: "old", Symbol: "S", Side: market.Buy, Qty: d("0.5"), Price: d("102")})
		if unique != errors.Is(err, ErrDuplicate) {
			t.Fatalf("unique=%v: reuse of a closed order's id: %v", unique, err)
		}
		if !unique {
			if o, ok := a.Find(Ref{ClientID: "old"}); !ok || o.Seq != 203 {
				t.Fatalf("the latest order with a reused id: %+v", o)
			}
		}
		// An empty client id is never a duplicate.
		for range 2 {
			if _, _, err := a.Place(Request{Symbol: "S", Side: market.Buy, Qty: d("0.5"), Price: d("102")}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// BenchmarkPlace places an IOC that fills, with a client id, after past orders have been taken: the cost per Place
// is flat in the number of past orders (they are indexed, never scanned).
func BenchmarkPlace(b *testing.B) {
	for _, past := range []int{0, 1000, 10000, 100000} {
		b.Run(fmt.Sprintf("past=%d", past), func(b *testing.B) {
			bk := &book{bid: d("99"), ask: d("101"), depth: d("1000000000")}
			a := NewAccount(Config{Book: bk, Leverage: 10, TakerFeeBps: 5, MakerFeeBps: 2, Balance: d("1000000000"),
				UniqueClientIDs: true})
			qty := d("0.5")
			n := 0
			place := func() {
				side := market.Buy
				if n%2 == 1 {
					side = market.Sell // keeps the position flat
				}
				if _, _, err := a.Place(Request{ClientID: "c" + strconv.Itoa(n), Symbol: "S", Side: side, Qty: qty}); err != nil {
					b.Fatal(err)
				}
				n++
			}
			for range past {
				place()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				place()
			}
		})
	}
}

// queue is the client ids of the open orders in matching order.
func queue(a *Account) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ids []string
	for _, o := range a.open {
		ids = append(ids, o.ClientID)
	}
	return ids
}

func TestAmendRestingOrder(t *testing.T) {
	for _, requeues := range []bool{false, true} {
		a, b, events := newTest(t, Config{Balance: d("100000"), AmendRequeues: requeues})
		for _, id := range []string{"r1", "r2"} {
			if _, _, err := a.Place(Request{ClientID: id, Symbol: "S", Side: market.Buy, Qty: d("1"), Price: d("95"), Rest: true}); err != nil {
				t.Fatal(err)
			}
		}
		*events = nil
		// A smaller quantity keeps the order's place unless every amend requeues.
		o, err := a.Amend(Amend{Ref: Ref{ClientID: "r1"}, Qty: d("0.5")})
		if err != nil || !o.Qty.Equal(d("0.5")) || !o.Price.Equal(d("95")) || o.Status != New {
			t.Fatalf("amend qty: %+v %v", o, err)
		}
		if got, want := queue(a), map[bool][]string{false: {"r1", "r2"}, true: {"r2", "r1"}}[requeues]; !slices.Equal(got, want) {
			t.Fatalf("requeues=%v: queue %v, want %v", requeues, got, want)
		}
		if len(*events) != 1 || (*events)[0].Kind != Amended || !(*events)[0].Order.Qty.Equal(d("0.5")) {
			t.Fatalf("events %+v", *events)
		}
		// A price change goes to the back of the queue.
		if _, err := a.Amend(Amend{Ref: Ref{ClientID: "r2"}, Price: d("96")}); err != nil {
			t.Fatal(err)
		}
		if got := queue(a); got[len(got)-1] != "r2" {
			t.Fatalf("queue %v after r2's price change", got)
		}
		if o, _ := a.Find(Ref{ClientID: "r2"}); !o.Price.Equal(d("96")) || !o.Qty.Equal(d("1")) {
			t.Fatalf("r2 %+v", o)
		}
		// The market reaches the amended price: the order fills there as maker, and is then final.
		b.mu.Lock()
		b.ask = d("96")
		b.mu.Unlock()
		a.Sweep()
		if o, _ := a.Find(Ref{ClientID: "r2"}); o.Status != Filled {
			t.Fatalf("r2 after the sweep %+v", o)
		}
		if o, _ := a.Find(Ref{ClientID: "r1"}); o.Status != New {
			t.Fatalf("r1 (at 95) after the sweep %+v", o)
		}
		if o, err := a.Amend(Amend{Ref: Ref{ClientID: "r2"}, Price: d("97")}); !errors.Is(err, ErrNotOpen) || o.Status != Filled {
			t.Fatalf("amend of a filled order: %+v %v", o, err)
		}
		if _, err := a.Amend(Amend{Ref: Ref{ClientID: "nope"}, Price: d("97")}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("amend of an unknown order: %v", err)
		}
	}
}

func TestAmendCrossingPriceExecutes(t *testing.T) {
	a, _, _ := newTest(t, Config{Balance: d("100000")})
	if _, _, err := a.Place(Request{ClientID: "r", Symbol: "S", Side: market.Buy, Qty: d("0.5"), Price: d("95"), Rest: true}); err != nil {
		t.Fatal(err)
	}
	o, err := a.Amend(Amend{Ref: Ref{ClientID: "r"}, Price: d("101")})
	if err != nil || o.Status != Filled || !o.AvgPrice().Equal(d("101")) {
		t.Fatalf("%+v %v", o, err)
	}
	if f := a.Fills(); len(f) != 1 || f[0].Maker {
		t.Fatalf("a crossing amend takes liquidity: %+v", f)
	}
	if len(a.OpenOrders()) != 0 {
		t.Fatal("filled order still open")
	}
}

func TestAmendBelowFilled(t *testing.T) {
	for _, cancel := range []bool{false, true} {
		a, b, _ := newTest(t, Config{Balance: d("100000")})
		if _, _, err := a.Place(Request{ClientID: "r", Symbol: "S", Side: market.Buy, Qty: d("2"), Price: d("100"), Rest: true}); err != nil {
			t.Fatal(err)
		}
		b.mu.Lock()
		b.ask, b.depth = d("100"), d("0.5")
		b.mu.Unlock()
		a.Sweep()
		b.mu.Lock()
		b.ask = d("101")
		b.mu.Unlock()
		o, err := a.Amend(Amend{Ref: Ref{ClientID: "r"}, Qty: d("0.5"), CancelAtOrBelowFilled: cancel})
		switch {
		case cancel && (err != nil || o.Status != Canceled || !o.Filled.Equal(d("0.5"))):
			t.Fatalf("cancel at filled: %+v %v", o, err)
		case !cancel && (!errors.Is(err, ErrBelowFilled) || o.Status != PartiallyFilled || !o.Qty.Equal(d("2"))):
			t.Fatalf("below filled: %+v %v", o, err)
		}
	}
}

func TestAmendMargin(t *testing.T) {
	a, _, _ := newTest(t, Config{Balance: d("100")}) // 1,000 of notional at 10x
	if _, _, err := a.Place(Request{ClientID: "r", Symbol: "S", Side: market.Buy, Qty: d("5"), Price: d("90"), Rest: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Amend(Amend{Ref: Ref{ClientID: "r"}, Qty: d("20")}); !errors.Is(err, ErrInsufficientMargin) {
		t.Fatalf("amend beyond the margin: %v", err)
	}
	if o, err := a.Amend(Amend{Ref: Ref{ClientID: "r"}, Qty: d("11")}); err != nil || !o.Qty.Equal(d("11")) {
		t.Fatalf("amend within the margin (the order's own margin is freed): %+v %v", o, err)
	}
}

// TestPostOnlyPlace: a post-only order that does not cross rests unmatched and later fills as maker; one at or
// through the touch either ends at once, Expired with WouldTake and nothing executed, or (RefuseWouldTake) is
// refused and not recorded, the client id left free.
func TestPostOnlyPlace(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		t.Run(fmt.Sprint("refuse=", refuse), func(t *testing.T) {
			a, b, events := newTest(t, Config{RefuseWouldTake: refuse})
			if !a.WouldTake("S", market.Buy, d("101")) || a.WouldTake("S", market.Buy, d("100.9")) ||
				!a.WouldTake("S", market.Sell, d("99")) || a.WouldTake("S", market.Sell, d("99.1")) {
				t.Fatal("WouldTake: a buy crosses at or above the ask, a sell at or below the bid")
			}
			_, rest, err := a.Place(Request{ClientID: "r", Symbol: "S", Side: market.Buy, Qty: d("0.5"), Price: d("100"),
				Rest: true, PostOnly: true})
			if err != nil || rest.Status != New || !rest.PostOnly || rest.WouldTake {
				t.Fatalf("resting post-only %+v %v", rest, err)
			}
			for i, side := range []market.Side{market.Buy, market.Sell} {
				px := map[market.Side]decimal.Decimal{market.Buy: d("101"), market.Sell: d("99")}[side]
				id := fmt.Sprint("x", i)
				n := len(*events)
				_, o, err := a.Place(Request{ClientID: id, Symbol: "S", Side: side, Qty: d("0.5"), Price: px, Rest: true,
					PostOnly: true})
				if refuse {
					if !errors.Is(err, ErrWouldTake) || len(*events) != n {
						t.Fatalf("refused: %+v %v, %d events", o, err, len(*events)-n)
					}
					if _, ok := a.Find(Ref{ClientID: id}); ok {
						t.Fatal("a refused post-only order must not be recorded")
					}
					continue
				}
				if err != nil || o.Status != Expired || !o.WouldTake || !o.Filled.IsZero() {
					t.Fatalf("crossing post-only %+v %v", o, err)
				}
				if kinds := []EventKind{(*events)[n].Kind, (*events)[n+1].Kind}; len(*events) != n+2 || kinds[0] != Accepted || kinds[1] != Ended {
					t.Fatalf("events %+v", (*events)[n:])
				}
			}
			if !b.takenTotal.IsZero() || len(a.Fills()) != 0 {
				t.Fatalf("nothing may execute: taken %s, fills %d", b.takenTotal, len(a.Fills()))
			}
			b.mu.Lock()
			b.ask = d("100") // the market comes down to the resting buy
			b.mu.Unlock()
			a.Sweep()
			if f := a.Fills(); len(f) != 1 || !f[0].Maker || f[0].Order.ClientID != "r" {
				t.Fatalf("resting post-only fills as maker: %+v", f)
			}
		})
	}
}

// TestPostOnlyAmend: a new price that would cross is refused (RefuseWouldTake), the order as it was, or cancels the
// order; a new price that does not cross, or a quantity change, amends it; nothing executes.
func TestPostOnlyAmend(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		t.Run(fmt.Sprint("refuse=", refuse), func(t *testing.T) {
			a, b, _ := newTest(t, Config{})
			_, o, err := a.Place(Request{ClientID: "p", Symbol: "S", Side: market.Sell, Qty: d("0.5"), Price: d("102"),
				Rest: true, PostOnly: true})
			if err != nil || o.Status != New {
				t.Fatalf("%+v %v", o, err)
			}
			if o, err = a.Amend(Amend{Ref: Ref{ClientID: "p"}, Price: d("101.5"), Qty: d("0.7")}); err != nil ||
				!o.Price.Equal(d("101.5")) || !o.Qty.Equal(d("0.7")) || o.Status != New {
				t.Fatalf("amend away from the touch: %+v %v", o, err)
			}
			o, err = a.Amend(Amend{Ref: Ref{ClientID: "p"}, Price: d("99"), RefuseWouldTake: refuse})
			switch {
			case refuse && (!errors.Is(err, ErrWouldTake) || o.Status != New || !o.Price.Equal(d("101.5"))):
				t.Fatalf("refused amendment: %+v %v", o, err)
			case !refuse && (err != nil || o.Status != Canceled || !o.WouldTake):
				t.Fatalf("cancelling amendment: %+v %v", o, err)
			}
			if !b.takenTotal.IsZero() || len(a.Fills()) != 0 {
				t.Fatalf("nothing may execute: taken %s", b.takenTotal)
			}
		})
	}
}

// TestFillResting: the control fills part, then the rest, of a resting order as maker at its price; it refuses an
// order that has ended or does not exist.
func TestFillResting(t *testing.T) {
	a, b, events := newTest(t, Config{})
	if _, _, err := a.Place(Request{ClientID: "g", Symbol: "S", Side: market.Buy, Qty: d("0.6"), Price: d("95"), Rest: true}); err != nil {
		t.Fatal(err)
	}
	o, err := a.FillResting(Ref{ClientID: "g"}, d("0.2"))
	if err != nil || o.Status != PartiallyFilled || !o.Filled.Equal(d("0.2")) {
		t.Fatalf("partial %+v %v", o, err)
	}
	if o, err = a.FillResting(Ref{ClientID: "g"}, decimal.Zero); err != nil || o.Status != Filled || !o.Filled.Equal(d("0.6")) ||
		!o.AvgPrice().Equal(d("95")) {
		t.Fatalf("rest %+v %v", o, err)
	}
	if f := a.Fills(); len(f) != 2 || !f[0].Maker || !f[1].Maker || !b.takenTotal.IsZero() {
		t.Fatalf("fills %+v (the book is not touched: %s)", f, b.takenTotal)
	}
	if last := (*events)[len(*events)-1]; last.Kind != Executed || last.Order.Status != Filled {
		t.Fatalf("last event %+v", last)
	}
	if _, err := a.FillResting(Ref{ClientID: "g"}, decimal.Zero); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("filled order: %v", err)
	}
	if _, err := a.FillResting(Ref{ClientID: "none"}, decimal.Zero); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown order: %v", err)
	}
}
