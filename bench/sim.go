package bench

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/mocks/market"
)

// Order is one child of a baseline schedule: a taker order at a time on a venue.
type Order struct {
	At     time.Duration
	Venue  string
	Qty    decimal.Decimal
	Market bool // a market order; otherwise an IOC limit at the venue's mid ± the band
}

// Simulate works a schedule on a fresh market for seed, driving the simulated clock itself (no daemon, no
// latency): how the baselines are run. noiseFree selects the noise-free version of the same market.
func (s *Setup) Simulate(seed int64, side int, qty decimal.Decimal, orders []Order, noiseFree bool) (Execution, error) {
	if side != 1 && side != -1 {
		return Execution{}, fmt.Errorf("bench: side %d", side)
	}
	orders = append([]Order(nil), orders...)
	sort.SliceStable(orders, func(i, j int) bool { return orders[i].At < orders[j].At })
	m, clk, a, err := s.recordedMarket(seed, noiseFree)
	if err != nil {
		return Execution{}, err
	}
	band := decimal.NewFromInt(int64(s.BandBps)).Shift(-4)
	for _, o := range orders {
		if o.At < 0 {
			return Execution{}, errors.New("bench: an order before the arrival")
		}
		if !o.Qty.IsPositive() {
			continue
		}
		clk.Set(s.Epoch.Add(o.At))
		v, err := m.Venue(o.Venue)
		if err != nil {
			return Execution{}, err
		}
		limit := decimal.Zero
		if !o.Market {
			mid := v.Quote().Mid
			limit = mid.Mul(decimal.NewFromInt(1).Add(band.Mul(decimal.NewFromInt(int64(side))))).Round(1)
		}
		v.Take(market.Side(side), o.Qty, limit)
	}
	s.settleMarket(m, clk)
	return s.measure(m, m.Takes(), m.Makes(), a, side, qty.InexactFloat64())
}

// recordedMarket is a fresh market of seed on a manual clock at the epoch, its arrival observed, recording from
// then on.
func (s *Setup) recordedMarket(seed int64, noiseFree bool) (*market.Market, *clock.Manual, arrival, error) {
	mc := s.Market
	mc.Seed, mc.NoiseFree = seed, noiseFree
	clk := clock.NewManual(s.Epoch)
	m, err := market.New(mc, clk)
	if err != nil {
		return nil, nil, arrival{}, err
	}
	a, err := s.observeArrival(m)
	if err != nil {
		return nil, nil, arrival{}, err
	}
	m.RecordTakes()
	return m, clk, a, nil
}

// MarketOrder is strategy (a): everything at once on the largest venue.
func (s *Setup) MarketOrder(qty decimal.Decimal) []Order {
	return []Order{{At: 0, Venue: s.Largest, Qty: qty, Market: true}}
}

// EvenTWAP is a plain TWAP of qty on one venue: Slots() equal slices (whole lots, the rounding spread by
// cumulative sums) at the slot times.
func (s *Setup) EvenTWAP(venue string, qty decimal.Decimal) ([]Order, error) {
	v, ok := s.venue(venue)
	if !ok {
		return nil, fmt.Errorf("bench: unknown venue %q", venue)
	}
	n := s.Slots()
	lots := qty.Div(v.Lot).IntPart()
	var out []Order
	var prev int64
	for k := range n {
		c := lots * int64(k+1) / int64(n)
		if c > prev {
			out = append(out, Order{At: s.SlotTime(k, n), Venue: venue, Qty: decimal.NewFromInt(c - prev).Mul(v.Lot)})
		}
		prev = c
	}
	return out, nil
}

// EvenSplit is strategy (c): qty split equally across the venues (whole lots; what the split leaves goes to the
// largest venue), each part a plain TWAP on the same slot times.
func (s *Setup) EvenSplit(qty decimal.Decimal) ([]Order, error) {
	n := decimal.NewFromInt(int64(len(s.Venues)))
	parts := map[string]decimal.Decimal{}
	left := qty
	for _, v := range s.Venues {
		p := qty.Div(n).Div(v.Lot).Floor().Mul(v.Lot)
		parts[v.Name] = p
		left = left.Sub(p)
	}
	parts[s.Largest] = parts[s.Largest].Add(left)
	var out []Order
	for _, v := range s.Venues {
		o, err := s.EvenTWAP(v.Name, parts[v.Name])
		if err != nil {
			return nil, err
		}
		out = append(out, o...)
	}
	return out, nil
}
