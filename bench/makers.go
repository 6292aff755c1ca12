package bench

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/mocks/market"
)

// The two maker peers, simulated from their documented behaviour on the largest venue, as a user of either would
// run them there (both trade one session). Neither randomizes anything.
//
// bbgo (pkg/twap/v2 stream executor, CLI `execute-order` defaults): one post-only (LimitMaker) order at a time of
// min(slice, what is left), priced at the best price of its own side (numOfTicks 0); when the best bid/ask changes
// and the order is no longer at the best price, it is cancelled and, after the delay (3 s, also before every new
// order), re-posted at the new best; updates are limited to one a second; at the deadline what is left goes as a
// market order. The slice is the parent over the plain TWAP's slot count; the deadline is the horizon less execd's
// end buffer.
//
// Hummingbot (strategy_v2 TWAPExecutor, MAKER mode): N = ⌊total_duration / order_interval⌋ + 1 plain LIMIT orders at
// start + i·order_interval, each of (total − executed − open) / (slots left), at mid × (1 ∓ limit_order_buffer);
// an order older than order_resubmission_time is cancelled and re-posted at the new mid. It never crosses at the
// end: what is left rests. Here order_interval is the plain TWAP's slot length, total_duration (N−1) intervals, the
// buffer 0 (at the mid: on this market, whose spread is about ten ticks, the closest to the touch its pricing goes;
// a buffer of half a spread or more puts it behind the touch), and an order is re-posted after one interval, with
// what it had left (the executor recomputes the size pro rata; modelled as the remainder). At the horizon the
// benchmark cancels what rests and crosses the remainder with a market order (Execution.Cleanup): a rebalance
// must finish.
const (
	bbgoDelay       = 3 * time.Second
	bbgoUpdateEvery = time.Second
	hbotTick        = time.Second // the executor's update_interval
	makerPoll       = 100 * time.Millisecond
)

// restingOrder is one post-only or limit order resting on a simulated venue, with the exchange's sweep emulated:
// a resting order the book has moved through executes at once (as the mock exchange's Sweep does). Each order is a
// Maker of its own, so that draining its fills drains no other order's.
type restingOrder struct {
	v     *market.Venue
	mk    *market.Maker
	id    int64
	side  market.Side
	price decimal.Decimal
	left  decimal.Decimal
}

// poll books the flow's fills of the order and sweeps it if the book has moved through it; it returns what filled.
func (o *restingOrder) poll() decimal.Decimal {
	got := decimal.Zero
	for _, f := range o.mk.Drain() {
		if f.ID == o.id {
			got = got.Add(f.Qty)
		}
	}
	o.left = o.left.Sub(got)
	if o.left.IsPositive() {
		q := o.v.Quote()
		if (o.side == market.Buy && o.price.GreaterThanOrEqual(q.Ask)) || (o.side == market.Sell && o.price.LessThanOrEqual(q.Bid)) {
			for _, e := range o.v.TakeResting(o.side, o.left, o.price) {
				got, o.left = got.Add(e.Qty), o.left.Sub(e.Qty)
			}
			o.mk.Resize(o.id, o.left)
		}
	}
	return got
}

func (o *restingOrder) cancel() { o.mk.Cancel(o.id) }

// peerRun is a maker peer's run: a fresh market of the seed with the arrival observed and recording on, and the
// largest venue where the peer trades.
type peerRun struct {
	m   *market.Market
	clk *clock.Manual
	v   *market.Venue
	a   arrival
	lot decimal.Decimal
	sd  market.Side
}

func (s *Setup) peerMarket(seed int64, side int) (peerRun, error) {
	if side != 1 && side != -1 {
		return peerRun{}, fmt.Errorf("bench: side %d", side)
	}
	m, clk, a, err := s.recordedMarket(seed, false)
	if err != nil {
		return peerRun{}, err
	}
	v, err := m.Venue(s.Largest)
	if err != nil {
		return peerRun{}, err
	}
	info, _ := s.venue(s.Largest)
	return peerRun{m: m, clk: clk, v: v, a: a, lot: info.Lot, sd: market.Side(side)}, nil
}

// BBGOMaker works qty (side +1 buy, −1 sell) as bbgo's maker TWAP would on the largest venue of seed's market.
func (s *Setup) BBGOMaker(seed int64, side int, qty decimal.Decimal) (Execution, error) {
	pr, err := s.peerMarket(seed, side)
	if err != nil {
		return Execution{}, err
	}
	m, clk, v, a, lot, sd := pr.m, pr.clk, pr.v, pr.a, pr.lot, pr.sd
	slice := qty.Div(decimal.NewFromInt(int64(s.Slots()))).Div(lot).Floor().Mul(lot)
	if !slice.IsPositive() {
		slice = lot
	}
	deadline := s.Epoch.Add(s.Horizon - s.EndBuffer)
	var (
		o                *restingOrder
		filled           decimal.Decimal
		seq              int64
		nextPlace        = s.Epoch.Add(bbgoDelay) // the delay comes before every new order, the first too
		lastUpdate       time.Time
		lastBid, lastAsk decimal.Decimal
	)
	best := func(q market.Quote) decimal.Decimal { // the best price of the order's own side
		if sd == market.Buy {
			return q.Bid
		}
		return q.Ask
	}
	behind := func(p, b decimal.Decimal) bool {
		return (sd == market.Buy && p.LessThan(b)) || (sd == market.Sell && p.GreaterThan(b))
	}
	for now := s.Epoch; ; now = now.Add(makerPoll) {
		clk.Set(now)
		if o != nil {
			filled = filled.Add(o.poll())
			if !o.left.IsPositive() {
				o, nextPlace = nil, now.Add(bbgoDelay)
			}
		}
		left := qty.Sub(filled)
		if left.LessThan(lot) {
			break
		}
		if !now.Before(deadline) {
			if o != nil {
				o.cancel()
				o = nil
			}
			v.Take(sd, left, decimal.Zero)
			break
		}
		q := v.Quote()
		changed := !q.Bid.Equal(lastBid) || !q.Ask.Equal(lastAsk)
		lastBid, lastAsk = q.Bid, q.Ask
		switch {
		case o == nil && !now.Before(nextPlace):
			seq++
			o = &restingOrder{v: v, mk: v.NewMaker(), id: seq, side: sd, price: best(q), left: decimal.Min(slice, left)}
			o.mk.Rest(o.id, sd, o.price, o.left)
		case o != nil && changed && now.Sub(lastUpdate) >= bbgoUpdateEvery && behind(o.price, best(q)):
			lastUpdate = now
			o.cancel()
			o, nextPlace = nil, now.Add(bbgoDelay)
		}
	}
	s.settleMarket(m, clk)
	e, err := s.measure(m, m.Takes(), m.Makes(), a, side, qty.InexactFloat64())
	if err != nil {
		return Execution{}, fmt.Errorf("bench: bbgo maker: %w", err)
	}
	return e, nil
}

// HummingbotMaker works qty (side +1 buy, −1 sell) as Hummingbot's TWAP executor in MAKER mode would on the
// largest venue of seed's market, with the benchmark's cleanup at the horizon.
func (s *Setup) HummingbotMaker(seed int64, side int, qty decimal.Decimal) (Execution, error) {
	pr, err := s.peerMarket(seed, side)
	if err != nil {
		return Execution{}, err
	}
	m, clk, v, a, lot, sd := pr.m, pr.clk, pr.v, pr.a, pr.lot, pr.sd
	n := s.Slots()
	interval := s.Horizon / time.Duration(n)
	type slot struct {
		o    *restingOrder
		born time.Time
	}
	var (
		orders []*slot
		filled decimal.Decimal
		seq    int64
		placed int
	)
	var tick decimal.Decimal
	for _, vc := range s.Market.Venues {
		if vc.Name == s.Largest {
			tick = vc.TickSize
		}
	}
	if !tick.IsPositive() {
		return Execution{}, fmt.Errorf("bench: %s has no tick size", s.Largest)
	}
	price := func() decimal.Decimal { // mid × (1 ∓ 0), on the tick grid away from the spread
		q := v.Quote()
		if sd == market.Buy {
			return q.Mid.Div(tick).Floor().Mul(tick)
		}
		return q.Mid.Div(tick).Ceil().Mul(tick)
	}
	post := func(now time.Time, amount decimal.Decimal) *slot {
		seq++
		o := &restingOrder{v: v, mk: v.NewMaker(), id: seq, side: sd, price: price(), left: amount}
		o.mk.Rest(o.id, sd, o.price, o.left)
		return &slot{o: o, born: now}
	}
	end := s.Epoch.Add(s.Horizon)
	for now := s.Epoch; now.Before(end); now = now.Add(hbotTick) {
		clk.Set(now)
		open := decimal.Zero
		for _, sl := range orders {
			if sl.o != nil {
				filled = filled.Add(sl.o.poll())
				if !sl.o.left.IsPositive() {
					sl.o = nil
				} else {
					open = open.Add(sl.o.left)
				}
			}
		}
		for _, sl := range orders { // refresh: older than the resubmission time
			if sl.o != nil && now.Sub(sl.born) >= interval {
				sl.o.cancel()
				left := sl.o.left
				*sl = *post(now, left)
			}
		}
		if placed < n && !now.Before(s.Epoch.Add(time.Duration(placed)*interval)) {
			amount := qty.Sub(filled).Sub(open).Div(decimal.NewFromInt(int64(n - placed))).Div(lot).Floor().Mul(lot)
			placed++
			if amount.IsPositive() {
				orders = append(orders, post(now, amount))
			}
		}
	}
	clk.Set(end)
	for _, sl := range orders {
		if sl.o != nil {
			filled = filled.Add(sl.o.poll())
			sl.o.cancel()
		}
	}
	left := qty.Sub(filled).Div(lot).Floor().Mul(lot)
	if left.IsPositive() {
		v.Take(sd, left, decimal.Zero)
	}
	s.settleMarket(m, clk)
	e, err := s.measure(m, m.Takes(), m.Makes(), a, side, qty.InexactFloat64())
	if err != nil {
		return Execution{}, fmt.Errorf("bench: hummingbot maker: %w", err)
	}
	e.Cleanup = left.InexactFloat64()
	return e, nil
}
