package exchange

import (
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/mocks/market"
)

var queueStart = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// takeLog is a simulated-market venue that remembers the executions of its takes (the sweep's), so a test can tell
// the fills the book made from those the queue's flow made.
type takeLog struct {
	*market.Venue
	mu    sync.Mutex
	execs map[string]bool
}

func execKey(t time.Time, p, q decimal.Decimal) string {
	return t.String() + "|" + p.String() + "|" + q.String()
}

func (b *takeLog) Take(side market.Side, qty, limit decimal.Decimal) []market.Exec {
	return b.log(b.Venue.Take(side, qty, limit))
}

func (b *takeLog) TakeResting(side market.Side, qty, limit decimal.Decimal) []market.Exec {
	return b.log(b.Venue.TakeResting(side, qty, limit))
}

func (b *takeLog) log(ex []market.Exec) []market.Exec {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range ex {
		b.execs[execKey(e.Time, e.Price, e.Qty)] = true
	}
	return ex
}

func (b *takeLog) swept(f Fill) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.execs[execKey(f.Time, f.Price, f.Qty)]
}

// queueMarket is a one-venue simulated market (Binance-like: 0.1 tick, 0.001 lot, 55% of 200,000 BTC a day, 60%
// volatility) and an account trading on it with a manual clock. noiseFree and tick select the still book the queue
// tests measure on.
func queueMarket(t testing.TB, seed int64, noiseFree bool, tick string) (*Account, *market.Market, *takeLog, *clock.Manual) {
	return queueMarketInformed(t, seed, noiseFree, tick, 0)
}

// queueMarketInformed is queueMarket with the given informed share of the price variance.
func queueMarketInformed(t testing.TB, seed int64, noiseFree bool, tick string, informed float64, halfLives ...time.Duration) (*Account, *market.Market, *takeLog, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(queueStart)
	m, err := market.New(market.Config{Seed: seed, StartPrice: 10490, AnnualVolatility: 0.6, TotalVolume24h: 200000,
		BasisNoiseBps: 0.3, NoiseFree: noiseFree, Venues: []market.VenueConfig{{Name: "binance", VolumeShare: 0.55,
			TakerFeeBps: 5, MakerFeeBps: 2, TickSize: d(tick), LotSize: d("0.001")}}, InformedShare: informed, InformedHalfLives: halfLives}, clk)
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.Venue("binance")
	if err != nil {
		t.Fatal(err)
	}
	b := &takeLog{Venue: v, execs: map[string]bool{}}
	a := NewAccount(Config{Book: b, Clock: clk, Balance: d("1000000000"), Leverage: 10, TakerFeeBps: 5, MakerFeeBps: 2,
		Lot: d("0.001")})
	return a, m, b, clk
}

// TestQueueFillsThroughTheAccount: an order resting at the bid of a still book is filled by the background flow once
// the depth ahead of it has traded, as maker at its price with the maker fee; a cancel after the flow filled it finds
// it filled; an amendment to a smaller quantity keeps its place, one to a new price queues it behind that price's
// depth; a reduce-only order fills at most the position.
func TestQueueFillsThroughTheAccount(t *testing.T) {
	a, _, b, clk := queueMarket(t, 3, true, "2")
	q := b.Quote()
	_, o, err := a.Place(Request{ClientID: "q", Symbol: "S", Side: market.Buy, Qty: d("0.01"), Price: q.Bid, Rest: true, PostOnly: true})
	if err != nil || o.Status != New {
		t.Fatalf("place %+v %v", o, err)
	}
	mk := a.makers["S"]
	ahead, left, ok := mk.Ahead(o.Seq)
	bids, _ := b.Depth(2)
	if !ok || !ahead.Equal(bids[0].Qty) || !left.Equal(d("0.01")) {
		t.Fatalf("queued: ahead %s left %s (%v), want ahead %s", ahead, left, ok, bids[0].Qty)
	}
	// The queue ahead shrinks as the flow sells at the bid; a smaller quantity keeps the place.
	for {
		clk.Advance(market.DefaultStep)
		a.Sweep()
		if now, _, _ := mk.Ahead(o.Seq); now.LessThan(ahead) && now.IsPositive() {
			ahead = now
			break
		}
	}
	if o, err = a.Amend(Amend{Ref: Ref{ClientID: "q"}, Qty: d("0.005")}); err != nil {
		t.Fatal(err)
	}
	if now, left, _ := mk.Ahead(o.Seq); !now.Equal(ahead) || !left.Equal(d("0.005")) {
		t.Fatalf("after a smaller quantity: ahead %s left %s, want %s", now, left, ahead)
	}
	// A new price (one tick under) queues it behind that level's depth.
	if o, err = a.Amend(Amend{Ref: Ref{ClientID: "q"}, Price: bids[1].Price}); err != nil {
		t.Fatal(err)
	}
	if now, _, _ := mk.Ahead(o.Seq); !now.Equal(bids[1].Qty) {
		t.Fatalf("after a new price: ahead %s, want %s", now, bids[1].Qty)
	}
	if o, err = a.Amend(Amend{Ref: Ref{ClientID: "q"}, Price: q.Bid}); err != nil {
		t.Fatal(err)
	}
	// The flow fills it while nobody looks; the cancel finds it filled, as maker at its price.
	clk.Advance(5 * time.Minute)
	if _, err := a.Cancel(Ref{ClientID: "q"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancel after the flow filled it: %v", err)
	}
	got, _ := a.Find(Ref{ClientID: "q"})
	fills := a.OrderFills(got.Seq)
	if got.Status != Filled || len(fills) == 0 {
		t.Fatalf("order %+v fills %+v", got, fills)
	}
	for _, f := range fills {
		if !f.Maker || !f.Price.Equal(q.Bid) || !f.Fee.Equal(f.Price.Mul(f.Qty).Mul(d("0.0002")).Round(8)) || b.swept(f) {
			t.Fatalf("fill %+v: want a maker fill at %s with the maker fee, from the flow", f, q.Bid)
		}
	}
	if _, _, ok := mk.Ahead(got.Seq); ok {
		t.Fatal("a filled order is still queued")
	}
	// A reduce-only sell at the ask fills the long 0.005 and no more, then ends.
	_, o, err = a.Place(Request{ClientID: "r", Symbol: "S", Side: market.Sell, Qty: d("0.02"), Price: q.Ask, Rest: true,
		PostOnly: true, ReduceOnly: true})
	if err != nil || o.Status != New {
		t.Fatalf("reduce-only %+v %v", o, err)
	}
	clk.Advance(5 * time.Minute)
	a.Sweep()
	if r, _ := a.Find(Ref{ClientID: "r"}); !r.Filled.Equal(d("0.005")) || r.Open() || !a.Qty("S").IsZero() {
		t.Fatalf("reduce-only %+v, position %s", r, a.Qty("S"))
	}
	// A cancelled order leaves the queue.
	_, o, _ = a.Place(Request{ClientID: "c", Symbol: "S", Side: market.Buy, Qty: d("0.01"), Price: q.Bid, Rest: true})
	if _, err := a.Cancel(Ref{Seq: o.Seq}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := mk.Ahead(o.Seq); ok {
		t.Fatal("a cancelled order is still queued")
	}
}

// quoteTouches runs a passive strategy for the simulated time span on a seeded market: a post-only buy at the bid
// and a post-only sell at the ask, each re-placed at the touch when it fills and cancel-replaced after ttl, the
// account swept every step. It returns the account, the book, and the common price and the venue mid at every step.
func quoteTouches(t testing.TB, seed int64, span, ttl time.Duration, informed bool) (*Account, *takeLog, []float64, []float64) {
	share, halfLives := 0.0, []time.Duration(nil)
	if informed { // the configs' calibration (configs/execd.yaml)
		share, halfLives = 0.5, []time.Duration{1500 * time.Millisecond}
	}
	a, m, b, clk := queueMarketInformed(t, seed, false, "0.1", share, halfLives...)
	steps := int(span / market.DefaultStep)
	fair, mid := make([]float64, 0, steps+1), make([]float64, 0, steps+1)
	record := func() {
		q := b.Quote()
		fair, mid = append(fair, q.Index.InexactFloat64()), append(mid, q.Mid.InexactFloat64())
	}
	record()
	type working struct {
		seq    int64
		placed time.Time
	}
	sides := map[market.Side]*working{market.Buy: {}, market.Sell: {}}
	for i := 0; i < steps; i++ {
		clk.Advance(market.DefaultStep)
		a.Sweep()
		record()
		for _, s := range []market.Side{market.Buy, market.Sell} {
			w := sides[s]
			if w.seq != 0 {
				o, _ := a.Find(Ref{Seq: w.seq})
				if o.Open() && clk.Now().Sub(w.placed) < ttl {
					continue
				}
				if o.Open() {
					_, _ = a.Cancel(Ref{Seq: w.seq})
				}
			}
			q := b.Quote()
			price := q.Bid
			if s == market.Sell {
				price = q.Ask
			}
			_, o, err := a.Place(Request{Symbol: "S", Side: s, Qty: d("0.01"), Price: price, Rest: true, PostOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			w.seq, w.placed = o.Seq, clk.Now()
		}
	}
	_ = m
	return a, b, fair, mid
}

// TestPassiveFillMarkouts measures the markout of passive fills — the common price F (and the venue mid) 0 s, 1 s,
// 10 s and 60 s after the fill against the fill price, in bps, positive when good for the order — for an hour of
// quoting both touches, on two markets that differ only in what the background flow knows.
//
// Uninformed flow (InformedShare 0): the fills the sweep makes (the price ran through the order) are adverse, about
// minus the half-spread; the fills the flow makes at the queue are not, since that flow is independent of the price
// path (about +0.2 bps); together they come out near zero.
//
// Informed flow (InformedShare 0.5, the configs' value): half the price variance is the flow's imbalance, so the
// sells that fill a resting buy are the sells that push the price down, and the order is filled when it is about to
// be worth less. The flow's fills turn adverse and so does the average of all passive fills, at every horizon: the
// issue's "negative average markout", from the model and not from a constant.
func TestPassiveFillMarkouts(t *testing.T) {
	horizons := []time.Duration{0, time.Second, 10 * time.Second, time.Minute}
	type acc struct {
		n              int
		qty            float64
		sum, sq, onMid []float64
	}
	newAcc := func() *acc {
		return &acc{sum: make([]float64, len(horizons)), sq: make([]float64, len(horizons)), onMid: make([]float64, len(horizons))}
	}
	mean := func(c *acc, h int) (m, se, onMid float64) {
		n := float64(c.n)
		m = c.sum[h] / n
		return m, math.Sqrt((c.sq[h]/n - m*m) / n), c.onMid[h] / n
	}
	measure := func(t *testing.T, span time.Duration, informed bool) (all, flow, swept *acc) {
		a, b, fair, mid := quoteTouches(t, 17, span, 10*time.Second, informed)
		all, flow, swept = newAcc(), newAcc(), newAcc()
		for _, f := range a.Fills() {
			if !f.Maker {
				t.Fatalf("a taker fill %+v", f)
			}
			i := int(f.Time.Sub(queueStart) / market.DefaultStep)
			if i+int(time.Minute/market.DefaultStep) >= len(fair) {
				continue
			}
			s := 1.0
			if f.Order.Side == market.Sell {
				s = -1
			}
			p := f.Price.InexactFloat64()
			kind := flow
			if b.swept(f) {
				kind = swept
			}
			for _, c := range []*acc{all, kind} {
				c.n++
				c.qty += f.Qty.InexactFloat64()
				for h, d := range horizons {
					j := i + int(d/market.DefaultStep)
					x := s * (fair[j] - p) / p * 1e4
					c.sum[h] += x
					c.sq[h] += x * x
					c.onMid[h] += s * (mid[j] - p) / p * 1e4
				}
			}
		}
		if all.n < 500 || flow.n < 100 || swept.n < 100 {
			t.Fatalf("fills: %d (flow %d, swept %d)", all.n, flow.n, swept.n)
		}
		for _, c := range []struct {
			name string
			a    *acc
		}{{"all", all}, {"flow", flow}, {"swept", swept}} {
			line := ""
			for h, d := range horizons {
				m, se, onMid := mean(c.a, h)
				line += " " + d.String() + ": " + fmtBps(m) + "±" + fmtBps(se) + " (mid " + fmtBps(onMid) + ")"
			}
			t.Logf("%-5s %4d fills, %.2f BTC; markout vs F, bps:%s", c.name, c.a.n, c.a.qty, line)
		}
		return all, flow, swept
	}
	t.Run("uninformed", func(t *testing.T) {
		_, flow, swept := measure(t, time.Hour, false)
		for h, d := range horizons[:2] {
			if m, _, onMid := mean(swept, h); !(m < 0 && onMid < 0) {
				t.Errorf("swept fills after %v: %.3f bps vs F, %.3f vs mid; want both negative", d, m, onMid)
			}
			if m, _, onMid := mean(flow, h); !(m > 0 && onMid > 0) {
				t.Errorf("flow fills after %v: %.3f bps vs F, %.3f vs mid; want both positive", d, m, onMid)
			}
		}
	})
	t.Run("informed", func(t *testing.T) {
		all, flow, _ := measure(t, 4*time.Hour, true)
		for h, d := range horizons[1:] {
			m, se, onMid := mean(all, h+1)
			if !(m+se < 0 && onMid < 0) {
				t.Errorf("all passive fills after %v: %.3f±%.3f bps vs F, %.3f vs mid; want negative by more than its standard error", d, m, se, onMid)
			}
			if m, _, _ := mean(flow, h+1); !(m < 0) {
				t.Errorf("flow fills after %v: %.3f bps vs F; want negative", d, m)
			}
		}
	})
}

func fmtBps(x float64) string { return decimal.NewFromFloat(x).StringFixed(3) }

// TestQueueFillsDeterministic: the same seed and the same strategy give the same fills.
func TestQueueFillsDeterministic(t *testing.T) {
	a1, _, _, _ := quoteTouches(t, 23, 5*time.Minute, 5*time.Second, true)
	a2, _, _, _ := quoteTouches(t, 23, 5*time.Minute, 5*time.Second, true)
	f1, f2 := a1.Fills(), a2.Fills()
	if len(f1) == 0 || len(f1) != len(f2) {
		t.Fatalf("fills %d vs %d", len(f1), len(f2))
	}
	for i := range f1 {
		x, y := f1[i], f2[i]
		if x.Order.Seq != y.Order.Seq || !x.Price.Equal(y.Price) || !x.Qty.Equal(y.Qty) || !x.Time.Equal(y.Time) {
			t.Fatalf("fill %d differs: %+v vs %+v", i, x, y)
		}
	}
}
