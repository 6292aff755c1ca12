package market

import (
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// queueConfig is a one-venue noise-free market whose book stands still (no takes, no price noise), on a 2-dollar tick
// so that the bid shows a few BTC: a queue the background flow needs seconds to work through.
func queueConfig(seed int64) Config {
	cfg := testConfig(seed)
	cfg.NoiseFree = true
	cfg.Venues = cfg.Venues[:1]
	cfg.Venues[0].TickSize = decimal.RequireFromString("2")
	return cfg
}

// TestQueueFillTime: an order joining the bid (or the ask) waits for the background flow against its side to work
// through the displayed depth ahead of it. With exponential trade sizes of mean s arriving at rate λ per side, the
// number of trades that first exceed a queue of a is 1+Poisson(a/s), so the mean wait is (1+a/s)/λ, plus half a step
// (a step's trades are stamped at its end); a/(λ·s), the queue over the flow rate, is the same without the trade that
// crosses it. An order one tick under the bid never fills from the flow, and one inside the spread has nothing ahead.
func TestQueueFillTime(t *testing.T) {
	cfg := queueConfig(5)
	m, clk := newMarket(t, cfg)
	v := venue(t, m, "binance")
	bids, asks := v.Depth(2)
	lot := cfg.Venues[0].LotSize
	mk := v.NewMaker()
	mk.Rest(1, Buy, bids[1].Price, lot) // one tick deeper
	a, left, ok := mk.Ahead(1)
	if !ok || !a.Equal(bids[1].Qty) || !left.Equal(lot) {
		t.Fatalf("deeper order: ahead %s left %s, want the level's %s", a, left, bids[1].Qty)
	}
	const want = 1000 // fills per side
	type side struct {
		id    int64
		price decimal.Decimal
		since time.Time
		waits []float64
	}
	sides := map[Side]*side{Buy: {id: 2, price: bids[0].Price}, Sell: {id: 3, price: asks[0].Price}}
	next := int64(10)
	var ahead float64
	for s, st := range sides {
		mk.Rest(st.id, s, st.price, lot)
		st.since = clk.Now()
		a, _, _ := mk.Ahead(st.id)
		ahead = f(a)
		if want := bids[0].Qty; s == Buy && !a.Equal(want) || s == Sell && !a.Equal(asks[0].Qty) {
			t.Fatalf("%v: queue ahead %s, want the touch's displayed %s / %s", s, a, bids[0].Qty, asks[0].Qty)
		}
	}
	for len(sides[Buy].waits) < want || len(sides[Sell].waits) < want {
		clk.Advance(DefaultStep)
		for _, fl := range mk.Drain() {
			if fl.ID == 1 {
				t.Fatalf("the order under the bid filled from the flow: %+v", fl)
			}
			st := sides[fl.Side]
			if fl.ID != st.id || !fl.Price.Equal(st.price) || !fl.Qty.Equal(lot) {
				t.Fatalf("fill %+v, want order %d of one lot at %s", fl, st.id, st.price)
			}
			st.waits = append(st.waits, fl.Time.Sub(st.since).Seconds())
			next++
			st.id, st.since = next, clk.Now()
			mk.Rest(st.id, fl.Side, st.price, lot) // joins the back again
		}
	}
	if _, left, ok := mk.Ahead(1); !ok || !left.Equal(lot) {
		t.Fatalf("the order under the bid: left %s, resting %v", left, ok)
	}
	lambda := bgTradeRate / 2
	mean := v.meanSize
	expect := (1+ahead/mean)/lambda + DefaultStep.Seconds()/2
	naive := ahead / (lambda * mean)
	for s, st := range sides {
		var sum float64
		for _, w := range st.waits[:want] {
			sum += w
		}
		got := sum / want
		t.Logf("%s: %d fills, mean wait %.3fs; expected (1+a/s)/λ+step/2 = %.3fs, queue/flow a/(λs) = %.3fs (a %.3f BTC, s %.4f BTC, λ %.0f/s)",
			sideName(s), want, got, expect, naive, ahead, mean, lambda)
		if math.Abs(got/expect-1) > 0.05 {
			t.Errorf("%s: mean wait %.3fs, want %.3fs ±5%%", sideName(s), got, expect)
		}
	}
}

// TestQueueInsideSpread: an order better than the touch is the touch for the flow: nothing is ahead of it, the first
// trade against its side fills it, and that trade prints at its price.
func TestQueueInsideSpread(t *testing.T) {
	cfg := queueConfig(6)
	m, clk := newMarket(t, cfg)
	v := venue(t, m, "binance")
	q := v.Quote()
	inside := q.Bid.Add(cfg.Venues[0].TickSize) // bid 10488, ask 10492
	if !inside.LessThan(q.Ask) {
		t.Fatalf("no room inside %s/%s", q.Bid, q.Ask)
	}
	mk := v.NewMaker()
	qty := decimal.RequireFromString("0.005")
	mk.Rest(1, Buy, inside, qty)
	if a, _, _ := mk.Ahead(1); !a.IsZero() {
		t.Fatalf("ahead of an order inside the spread: %s", a)
	}
	var fills []MakerFill
	for range 600 {
		clk.Advance(DefaultStep)
		if fills = append(fills, mk.Drain()...); len(fills) > 0 {
			break
		}
	}
	if len(fills) != 1 || !fills[0].Qty.Equal(qty) || !fills[0].Price.Equal(inside) {
		t.Fatalf("fills %+v", fills)
	}
	if _, _, ok := mk.Ahead(1); ok {
		t.Fatal("a filled order still rests")
	}
	var printed bool
	for _, tr := range v.Trades(10) {
		if tr.Price.Equal(inside) && tr.Qty.Equal(qty) && tr.BuyerMaker && tr.Time.Equal(fills[0].Time) {
			printed = true
		}
		if !tr.Price.Equal(inside) && !tr.Price.Equal(q.Bid) && !tr.Price.Equal(q.Ask) {
			t.Fatalf("print %+v off the touch and the order", tr)
		}
	}
	if !printed {
		t.Fatalf("the fill is not on the tape: %+v", v.Trades(10))
	}
}

// TestQueueResizeCancelRequeue: Resize keeps the place, Rest again goes to the back (the displayed depth ahead
// again), Cancel leaves the queue; a fill never exceeds what is left.
func TestQueueResizeCancelRequeue(t *testing.T) {
	cfg := queueConfig(9)
	m, clk := newMarket(t, cfg)
	v := venue(t, m, "binance")
	bid := v.Quote().Bid
	mk := v.NewMaker()
	d := decimal.RequireFromString
	mk.Rest(1, Buy, bid, d("10"))
	full, _, _ := mk.Ahead(1)
	for {
		clk.Advance(DefaultStep)
		if fl := mk.Drain(); len(fl) > 0 {
			t.Fatalf("filled before the queue ahead was through: %+v", fl)
		}
		if a, _, _ := mk.Ahead(1); a.LessThan(full) {
			break
		}
	}
	a, _, _ := mk.Ahead(1)
	mk.Resize(1, d("0.5"))
	if a2, left, ok := mk.Ahead(1); !ok || !a2.Equal(a) || !left.Equal(d("0.5")) {
		t.Fatalf("resize: ahead %s (was %s) left %s", a2, a, left)
	}
	mk.Rest(1, Buy, bid, d("0.5"))
	if a2, _, _ := mk.Ahead(1); !a2.Equal(full) {
		t.Fatalf("requeued: ahead %s, want %s", a2, full)
	}
	var got decimal.Decimal
	for range 3000 {
		clk.Advance(DefaultStep)
		for _, fl := range mk.Drain() {
			got = got.Add(fl.Qty)
		}
		if _, _, ok := mk.Ahead(1); !ok {
			break
		}
	}
	if !got.Equal(d("0.5")) {
		t.Fatalf("filled %s of 0.5", got)
	}
	mk.Rest(2, Buy, bid, d("1"))
	mk.Cancel(2)
	for range 600 {
		clk.Advance(DefaultStep)
		if fl := mk.Drain(); len(fl) > 0 {
			t.Fatalf("a cancelled order filled: %+v", fl)
		}
	}
}

// restingRun is a seeded run of a day's first ten minutes with takes every 7 s and, per the with flags, resting
// orders far from the touch (5% away) or at it; it returns the take records, the executions' prices and the fills.
func restingRun(t *testing.T, far, near bool) ([]TakeRecord, []Exec, []MakerFill, []PublicTrade) {
	t.Helper()
	cfg := testConfig(21)
	m, clk := newMarket(t, cfg)
	m.RecordTakes()
	v := venue(t, m, "binance")
	mk := v.NewMaker()
	d := decimal.RequireFromString
	q := v.Quote()
	if far {
		mk.Rest(1, Buy, q.Bid.Mul(d("0.95")).Round(1), d("1"))
		mk.Rest(2, Sell, q.Ask.Mul(d("1.05")).Round(1), d("1"))
	}
	var execs []Exec
	var fills []MakerFill
	id := int64(10)
	for i := range 6000 {
		clk.Advance(DefaultStep)
		if near && i%20 == 0 { // join both touches every 2 s
			q := v.Quote()
			id += 2
			mk.Rest(id, Buy, q.Bid, d("0.05"))
			mk.Rest(id+1, Sell, q.Ask, d("0.05"))
		}
		if i%70 == 0 {
			side := Buy
			if i%140 == 0 {
				side = Sell
			}
			execs = append(execs, v.Take(side, d("0.3"), decimal.Zero)...)
		}
		fills = append(fills, mk.Drain()...)
	}
	return m.Takes(), execs, fills, v.Trades(1000)
}

// TestRestingOrdersLeaveTakersAlone: resting orders do not change the price path, the impact or the takes: the
// take records and executions of a seeded run are the same with no resting order, with orders far from the touch
// and with orders at it. Orders far away leave the tape as it was too.
func TestRestingOrdersLeaveTakersAlone(t *testing.T) {
	base, baseEx, _, baseTape := restingRun(t, false, false)
	far, farEx, farFills, farTape := restingRun(t, true, false)
	near, nearEx, nearFills, _ := restingRun(t, true, true)
	if len(base) == 0 || len(farFills) != 0 || len(nearFills) == 0 {
		t.Fatalf("takes %d, fills far %d near %d", len(base), len(farFills), len(nearFills))
	}
	for _, run := range []struct {
		name string
		recs []TakeRecord
		ex   []Exec
	}{{"far", far, farEx}, {"near", near, nearEx}} {
		if len(run.recs) != len(base) || len(run.ex) != len(baseEx) {
			t.Fatalf("%s: %d takes %d execs, want %d %d", run.name, len(run.recs), len(run.ex), len(base), len(baseEx))
		}
		for i := range base {
			a, b := base[i], run.recs[i]
			if a.Time != b.Time || a.Side != b.Side || !a.Filled.Equal(b.Filled) || !a.Notional.Equal(b.Notional) ||
				a.Fair != b.Fair || a.Mid != b.Mid {
				t.Fatalf("%s: take %d differs: %+v vs %+v", run.name, i, a, b)
			}
		}
		for i := range baseEx {
			if !baseEx[i].Price.Equal(run.ex[i].Price) || !baseEx[i].Qty.Equal(run.ex[i].Qty) {
				t.Fatalf("%s: exec %d differs: %+v vs %+v", run.name, i, baseEx[i], run.ex[i])
			}
		}
	}
	if len(farTape) != len(baseTape) {
		t.Fatalf("tape: %d trades, want %d", len(farTape), len(baseTape))
	}
	for i := range baseTape {
		a, b := baseTape[i], farTape[i]
		if a.ID != b.ID || !a.Price.Equal(b.Price) || !a.Qty.Equal(b.Qty) || a.BuyerMaker != b.BuyerMaker || !a.Time.Equal(b.Time) {
			t.Fatalf("tape %d differs: %+v vs %+v", i, baseTape[i], farTape[i])
		}
	}
	t.Logf("%d takes identical; %d fills of the orders at the touch", len(base), len(nearFills))
}

// TestQueueDeterministic: the same seed and the same calls give the same fills.
func TestQueueDeterministic(t *testing.T) {
	_, _, a, _ := restingRun(t, true, true)
	_, _, b, _ := restingRun(t, true, true)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("fills %d vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Side != b[i].Side || !a[i].Price.Equal(b[i].Price) || !a[i].Qty.Equal(b[i].Qty) ||
			!a[i].Time.Equal(b[i].Time) {
			t.Fatalf("fill %d differs: %+v vs %+v", i, a[i], b[i])
		}
	}
}

func TestQueueShareValidated(t *testing.T) {
	cfg := testConfig(1)
	cfg.Venues[0].QueueShare = 1.5
	if err := cfg.withDefaults().Validate(); err == nil {
		t.Fatal("queue share 1.5 accepted")
	}
	cfg.Venues[0].QueueShare = 0
	if got := cfg.withDefaults().Venues[0].QueueShare; got != DefaultQueueShare {
		t.Fatalf("default queue share %v", got)
	}
}

func sideName(s Side) string {
	if s == Buy {
		return "buy"
	}
	return "sell"
}
