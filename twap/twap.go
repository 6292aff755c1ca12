package twap

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
)

// MaxIntervalCV is the largest Params.IntervalCV: the exponential law.
const MaxIntervalCV = 1.0

// MaxSlices bounds a schedule's length; a quantity that needs more slices under MaxChildQty is an error.
const MaxSlices = 100_000

// maxLots bounds the quantity in lots so slice arithmetic stays exact in int64 and float64.
const maxLots = 1 << 40

// Params describe one venue's part of a parent order.
type Params struct {
	Start        time.Time
	Horizon      time.Duration   // the parent's duration, positive
	Quantity     decimal.Decimal // this venue's allocation, positive and on the lot grid
	Rules        venues.Rules
	RefPrice     decimal.Decimal // for min-notional sizing; required when Rules.MinNotional > 0
	MeanInterval time.Duration   // target mean time between slices, positive
	TimeJitter   float64         // 0..1: with IntervalCV 0, each interval is drawn within ±TimeJitter/2 of the mean
	// IntervalCV, when positive (at most 1), draws each interval from a gamma law with this coefficient of
	// variation instead (1: exponential, the gaps of a Poisson flow), and the number of slices within
	// ±IntervalCV/4 of Horizon/MeanInterval, so that a venue's children arrive as irregularly as trades do and
	// several venues' schedules share no grid: merged, the children of venues drawn this way are close to one
	// Poisson flow, where an interval says nothing of the next, while a grid jittered within ±40% shows through
	// (successive merged intervals alternate short and long).
	IntervalCV  float64
	SizeJitter  float64         // 0..1: slice size varies by up to ±SizeJitter of the mean
	MaxChildQty decimal.Decimal // zero: none; Rules.MaxQty applies too when set
	EndBuffer   time.Duration   // the last slice is at or before Start+Horizon−EndBuffer; 0 ≤ EndBuffer < Horizon
}

// Slice is one scheduled child.
type Slice struct {
	Seq      int
	At       time.Time
	Quantity decimal.Decimal
}

// Schedule returns the slices for p, drawing times and sizes from rng. The same rng state gives the same
// schedule. Slices are sorted by At, lie in [Start, Start+Horizon−EndBuffer], are whole lots, sum exactly to
// p.Quantity, and each is at least the minimum slice (MinQty and MinNotional at RefPrice) unless the whole
// quantity is below it, in which case there is one slice with everything; none is above MaxChildQty or
// Rules.MaxQty.
func Schedule(p Params, rng *rand.Rand) ([]Slice, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("twap: %w", err)
	}
	if rng == nil {
		return nil, errors.New("twap: nil rng")
	}
	lot := p.Rules.LotSize
	total, err := lotsOf(p.Quantity, lot, "quantity")
	if err != nil {
		return nil, fmt.Errorf("twap: %w", err)
	}
	// lo: the smallest slice in lots; hi: the largest (0: none).
	minQty := p.Rules.MinQty
	if p.Rules.MinNotional.IsPositive() {
		if q := p.Rules.MinNotional.DivRound(p.RefPrice, 32); q.Cmp(minQty) > 0 {
			minQty = q
		}
	}
	lo := int64(1)
	if l, _ := ceilLots(minQty, lot); l > lo {
		lo = l
	}
	if lo < maxLots && lot.Mul(decimal.NewFromInt(lo)).Mul(p.RefPrice).Cmp(p.Rules.MinNotional) < 0 {
		lo++ // the quotient was rounded just below a lot boundary
	}
	var hi int64
	for _, c := range []decimal.Decimal{p.MaxChildQty, p.Rules.MaxQty} {
		if !c.IsPositive() {
			continue
		}
		n, _ := c.QuoRem(lot, 0)
		l := n.IntPart()
		if n.Cmp(decimal.NewFromInt(maxLots)) > 0 {
			l = maxLots
		}
		if hi == 0 || l < hi {
			hi = l
		}
	}
	if p.MaxChildQty.IsPositive() || p.Rules.MaxQty.IsPositive() {
		if hi == 0 {
			return nil, fmt.Errorf("twap: max child quantity is below one lot %s", lot)
		}
	} else {
		hi = total
	}
	if lo > total { // the whole quantity is below one minimum slice
		lo = total
	}
	if hi < lo && total > hi {
		return nil, fmt.Errorf("twap: max child quantity %s lots is below the minimum slice %s lots", fmt.Sprint(hi), fmt.Sprint(lo))
	}
	if hi > total {
		hi = total
	}

	window := p.Horizon - p.EndBuffer
	slots := float64(window) / float64(p.MeanInterval)
	if p.IntervalCV > 0 {
		slots *= 1 + p.IntervalCV*(rng.Float64()-0.5)/2 // each venue its own count: no shared grid
	}
	n := int64(min(math.Round(slots), MaxSlices))
	n = max(min(n, total/lo), 1)                 // every slice at least lo
	if need := (total + hi - 1) / hi; need > n { // the cap needs more slices
		n = need
	}
	if n > MaxSlices {
		return nil, fmt.Errorf("twap: %d slices needed under the max child quantity, more than %d", n, MaxSlices)
	}
	if lo > total/n { // n·lo > total: sizes in [lo, hi] cannot sum to total
		return nil, fmt.Errorf("twap: %d lots cannot be cut into slices of %d to %d lots", total, lo, hi)
	}

	draw := func() float64 { return 1 + p.TimeJitter*(rng.Float64()-0.5) }
	if p.IntervalCV > 0 {
		shape := 1 / (p.IntervalCV * p.IntervalCV)
		draw = func() float64 { return gamma(shape, rng) / shape } // mean 1, coefficient of variation IntervalCV
	}
	times, gaps := place(window, int(n), draw)
	sizes := cut(total, n, lo, hi, p.SizeJitter, gaps, rng)
	out := make([]Slice, n)
	for i := range out {
		out[i] = Slice{Seq: i, At: p.Start.Add(times[i]), Quantity: lot.Mul(decimal.NewFromInt(sizes[i]))}
	}
	return out, nil
}

func (p Params) validate() error {
	if err := p.Rules.Validate(); err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	switch {
	case p.Horizon <= 0:
		return fmt.Errorf("horizon %s is not positive", p.Horizon)
	case p.EndBuffer < 0 || p.EndBuffer >= p.Horizon:
		return fmt.Errorf("end buffer %s outside [0, horizon %s)", p.EndBuffer, p.Horizon)
	case p.MeanInterval <= 0:
		return fmt.Errorf("mean interval %s is not positive", p.MeanInterval)
	case !p.Quantity.IsPositive():
		return fmt.Errorf("quantity %s is not positive", p.Quantity)
	case !p.Rules.OnLot(p.Quantity):
		return fmt.Errorf("quantity %s is not on the lot grid %s", p.Quantity, p.Rules.LotSize)
	case !(p.TimeJitter >= 0 && p.TimeJitter <= 1): // also rejects NaN
		return fmt.Errorf("time jitter %v outside [0, 1]", p.TimeJitter)
	case !(p.SizeJitter >= 0 && p.SizeJitter <= 1):
		return fmt.Errorf("size jitter %v outside [0, 1]", p.SizeJitter)
	case !(p.IntervalCV >= 0 && p.IntervalCV <= MaxIntervalCV):
		return fmt.Errorf("interval coefficient of variation %v outside [0, %v]", p.IntervalCV, MaxIntervalCV)
	case p.MaxChildQty.IsNegative():
		return fmt.Errorf("max child quantity %s is negative", p.MaxChildQty)
	case p.RefPrice.IsNegative():
		return fmt.Errorf("reference price %s is negative", p.RefPrice)
	case p.Rules.MinNotional.IsPositive() && !p.RefPrice.IsPositive():
		return fmt.Errorf("min notional %s needs a positive reference price", p.Rules.MinNotional)
	}
	return nil
}

// lotsOf is q in whole lots; q must be on the grid and not too large.
func lotsOf(q, lot decimal.Decimal, what string) (int64, error) {
	n, rem := q.QuoRem(lot, 0)
	if !rem.IsZero() {
		return 0, fmt.Errorf("%s %s is not on the lot grid %s", what, q, lot)
	}
	if n.Cmp(decimal.NewFromInt(maxLots)) > 0 {
		return 0, fmt.Errorf("%s %s is more than %d lots", what, q, int64(maxLots))
	}
	return n.IntPart(), nil
}

// ceilLots is q rounded up to whole lots, saturating at maxLots.
func ceilLots(q, lot decimal.Decimal) (int64, bool) {
	n, rem := q.QuoRem(lot, 0)
	if rem.IsPositive() {
		n = n.Add(decimal.NewFromInt(1))
	}
	if n.Cmp(decimal.NewFromInt(maxLots)) > 0 {
		return maxLots, false
	}
	return n.IntPart(), true
}

// cut splits total lots into n sizes in [lo, hi] (n·lo ≤ total ≤ n·hi). Slice i's share is weighted by gaps[i],
// the time since the slice before it (see place), times a draw within ±jitter of the mean, so that the cumulative
// quantity keeps pace with the clock however the times fell while each size stays an independent draw.
// Cumulative rounding keeps the sum exact; clamping each cumulative sum to what the rest can still absorb keeps
// every size in bounds whatever float rounding does.
func cut(total, n, lo, hi int64, jitter float64, gaps []float64, rng *rand.Rand) []int64 {
	mean := float64(total) / float64(n)
	amp := min(jitter*mean, mean-float64(lo), float64(hi)-mean)
	amp = max(amp, 0)
	w := make([]float64, n)
	sum := 0.0
	for i := range w {
		w[i] = gaps[i] * (1 + (amp/mean)*(2*rng.Float64()-1))
		sum += w[i]
	}
	sizes := make([]int64, n)
	var prev int64
	acc := 0.0
	for i := range sizes {
		acc += w[i]
		c := int64(math.Round(float64(total) * acc / sum))
		left := n - int64(i) - 1
		c = max(c, prev+lo, total-left*hi)
		c = min(c, prev+hi, total-left*lo)
		sizes[i] = c - prev
		prev = c
	}
	return sizes
}

// place returns n sorted offsets in [0, window] and each slice's gap weight. It draws n+1 independent gaps
// (draw: mean 1, positive): half of the first before the first slice, the next n−1 between slices, half of the
// last after the last slice, all scaled to fill the window. The time between two slices is therefore a fresh
// draw, unrelated to the ones before it: unlike slices jittered around a fixed grid, whose intervals alternate
// long and short (lag-1 correlation −½) and give the grid away, nothing in past intervals predicts the next.
// With constant draws the slices sit at the middles of n equal intervals. The returned weights are the gaps
// before each slice (the first slice's whole first gap), for cut.
func place(window time.Duration, n int, draw func() float64) ([]time.Duration, []float64) {
	u := make([]float64, n+1)
	span := 0.0
	for i := range u {
		u[i] = draw()
		switch i {
		case 0, n:
			span += u[i] / 2
		default:
			span += u[i]
		}
	}
	scale := float64(window) / span
	out := make([]time.Duration, n)
	pos := u[0] / 2
	var prev time.Duration
	for i := range out {
		if i > 0 {
			pos += u[i]
		}
		t := min(max(time.Duration(pos*scale), prev), window)
		out[i] = t
		prev = t
	}
	return out, u[:n]
}

// gamma draws from the gamma law of the given shape (≥ 1) and scale 1 — mean and variance both shape — by
// Marsaglia and Tsang's method ("A simple method for generating gamma variables", ACM TOMS 2000).
func gamma(shape float64, rng *rand.Rand) float64 {
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
