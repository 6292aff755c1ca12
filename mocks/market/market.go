package market

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/clock"
)

// Side is the direction of a taker order.
type Side int8

const (
	Buy  Side = 1
	Sell Side = -1
)

const (
	day          = 24 * time.Hour
	buckets      = 1440  // one-minute volume buckets in the 24h window
	maxTrades    = 1000  // public trades kept per venue
	bgTradeRate  = 4.0   // background trades per second per venue
	fineMaxSteps = 20000 // larger gaps are advanced in one-minute chunks
	maxTakeLevel = 10000 // a take walks at most this many levels
	zeroImpact   = 1e-15 // |y| below this is flushed to zero (avoids denormals)
	prefillNoise = 0.2   // ± relative noise of the pre-filled volume buckets
	yearSeconds  = 365 * 86400.0
)

// PCG stream selectors, mixed with the seed.
const (
	streamPrice   = 0x9e3779b97f4a7c15
	streamFlow    = 0xbf58476d1ce4e5b9
	streamPrefill = 0x94d049bb133111eb
)

// Market is a simulated multi-venue market. Create it with New.
type Market struct {
	mu  sync.Mutex
	clk clock.Clock
	cfg Config

	t0   time.Time // grid anchor
	now  time.Time // latest clock time seen
	k    int64     // steps applied since t0
	logF float64   // log of the common price

	sigStep float64   // per-step sigma of log F
	inform  float64   // κ: log-F move per unit of flow imbalance, in per-step sigmas
	noise   float64   // √(1−InformedShare)
	follow  float64   // each signal's part of InformedFollow, zero without signals
	sigs    []float64 // the informed signals, one per half-life, each stationary N(0, 1)
	wNorm   float64   // √Σ w_v², the std of the weighted sum of unit venue imbalances
	sigmaD  float64   // daily volatility
	one     transition

	price, flow *rand.Rand

	venues []*Venue
	byName map[string]*Venue

	recording bool
	takes     []TakeRecord
	makes     []MakeRecord
	fair      []FairPoint // the common price after each step since RecordTakes
}

// MakeRecord is the market's own record of one fill of a resting order by the background flow, kept once
// RecordTakes is called, whoever rested the order.
type MakeRecord struct {
	Venue string
	Time  time.Time
	Side  Side // the resting order's
	Price decimal.Decimal
	Qty   decimal.Decimal
	Fair  float64 // the common price F when the flow traded
}

// FairPoint is the common price F at a time.
type FairPoint struct {
	Time time.Time
	F    float64
}

// TakeRecord is the market's own record of one taker order, kept once RecordTakes is called: what benchmarks
// judge an execution by, whoever sent it and through whichever protocol.
type TakeRecord struct {
	Venue     string
	Time      time.Time
	Side      Side
	Requested decimal.Decimal // the quantity asked for (before flooring to the lot)
	Limit     decimal.Decimal // zero: a market order
	Filled    decimal.Decimal
	Notional  decimal.Decimal // Σ price·qty of the executions
	Fair      float64         // the common price F at the take
	Mid       float64         // the venue's mid just before the take
	Resting   bool            // a resting order the book moved through (TakeResting): its owner was the maker
}

// transition holds the exact factors of an n-step move.
type transition struct {
	n          int64
	sd         float64 // sigma of log F over n steps
	basisA     float64 // OU autocorrelation of the basis noise
	basisS     float64 // sqrt(1-basisA²)
	decayI     float64 // impact decay
	decayC     float64 // coupling decay
	lambda     float64 // expected background trades per venue
	expNegLamb float64 // exp(-lambda)
}

// New builds a market on clk, starting now, after applying defaults and validating cfg.
func New(cfg Config, clk clock.Clock) (*Market, error) {
	if clk == nil {
		return nil, fmt.Errorf("market: nil clock")
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("market: %w", err)
	}
	seed := uint64(cfg.Seed)
	now := clk.Now()
	m := &Market{
		clk:     clk,
		cfg:     cfg,
		t0:      now,
		now:     now,
		logF:    math.Log(cfg.StartPrice),
		sigStep: cfg.AnnualVolatility * math.Sqrt(cfg.Step.Seconds()/yearSeconds) * noiseScale(cfg.NoiseFree),
		sigmaD:  cfg.AnnualVolatility / math.Sqrt(365),
		price:   rand.New(rand.NewPCG(seed, streamPrice)),
		flow:    rand.New(rand.NewPCG(seed, streamFlow)),
		byName:  make(map[string]*Venue, len(cfg.Venues)),
	}
	m.one = m.transition(1)
	m.noise = math.Sqrt(1 - cfg.InformedShare)
	if n := len(cfg.InformedHalfLives); n > 0 && cfg.InformedShare > 0 {
		m.follow = cfg.InformedFollow / float64(n)
		m.sigs = make([]float64, n)
	}

	var shares float64
	for _, vc := range cfg.Venues {
		shares += vc.VolumeShare
	}
	for _, vc := range cfg.Venues {
		v := &Venue{
			m:      m,
			cfg:    vc,
			w:      vc.VolumeShare / shares,
			vol:    vc.VolumeShare * cfg.TotalVolume24h,
			hs:     vc.HalfSpreadBps / 1e4,
			basis0: vc.BasisBps / 1e4,
			ys:     vc.ImpactY * m.sigmaD,
			tick:   vc.TickSize.InexactFloat64(),
			lot:    vc.LotSize.InexactFloat64(),
			tickD:  vc.TickSize,
			lotD:   vc.LotSize,
			quoteE: -vc.TickSize.Exponent() - vc.LotSize.Exponent(),
		}
		v.meanSize = v.vol / (bgTradeRate * day.Seconds())
		v.b = cfg.BasisNoiseBps / 1e4 * m.price.NormFloat64()
		m.venues = append(m.venues, v)
		m.byName[vc.Name] = v
	}
	var w2 float64
	for _, v := range m.venues {
		w2 += v.w * v.w
	}
	m.wNorm = math.Sqrt(w2)
	m.inform = informScale(cfg, m.one, w2, m.follow)
	m.prefill(rand.New(rand.NewPCG(seed, streamPrefill)))
	return m, nil
}

// informScale is κ, the per-step move of log F (in per-step sigmas) per unit of the normalized flow imbalance z, such
// that κ·z carries InformedShare of the long-run variance. Each signal j leans every venue's flow to its side by f
// (its part of InformedFollow), which adds q = λ·f²/(2·Σw²) to the variance of z per step and q·(2/π)·asin(a_j^k) to
// its autocovariance at lag k (the correlation of the signs of a stationary Gaussian AR(1) with coefficient a_j); the
// signals are independent. So the long-run variance per step of κ·z is κ²·(1 + Σ_j q·(1 + 2·S_j)),
// S_j = Σ_{k≥1} (2/π)·asin(a_j^k).
func informScale(cfg Config, one transition, w2, follow float64) float64 {
	if cfg.InformedShare == 0 {
		return 0
	}
	v := 1.0
	if follow > 0 {
		q := one.lambda * follow * follow / (2 * w2)
		for _, h := range cfg.InformedHalfLives {
			var sum float64
			a := halfLifeDecay(cfg.Step, h)
			for ak := a; ak > 1e-9; ak *= a {
				sum += 2 / math.Pi * math.Asin(ak)
			}
			v += q * (1 + 2*sum)
		}
	}
	return math.Sqrt(cfg.InformedShare / v)
}

// noiseScale is 0 for a noise-free market and 1 otherwise.
func noiseScale(noiseFree bool) float64 {
	if noiseFree {
		return 0
	}
	return 1
}

// RecordTakes starts keeping a TakeRecord of every later Take, a MakeRecord of every later fill of a resting order,
// and the common price after every step (FairAt). For benchmarks and tests: the records are kept until the market
// is dropped.
func (m *Market) RecordTakes() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recording = true
}

// Takes returns a copy of the records kept since RecordTakes, oldest first.
func (m *Market) Takes() []TakeRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]TakeRecord(nil), m.takes...)
}

// Makes returns a copy of the resting-order fills recorded since RecordTakes, oldest first.
func (m *Market) Makes() []MakeRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]MakeRecord(nil), m.makes...)
}

// FairAt is the common price F at t, as of the latest step at or before t, from the path recorded since
// RecordTakes; false if t is before the recording began or after the market's latest step (advance the clock
// past t first).
func (m *Market) FairAt(t time.Time) (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(m.clk.Now())
	i, found := slices.BinarySearchFunc(m.fair, t, func(p FairPoint, t time.Time) int { return p.Time.Compare(t) })
	switch {
	case found:
		return m.fair[i].F, true
	case i == 0 || i == len(m.fair) && t.After(m.t0.Add(time.Duration(m.k)*m.cfg.Step)):
		return 0, false
	}
	return m.fair[i-1].F, true
}

// transition computes the exact factors of an n-step move.
func (m *Market) transition(n int64) transition {
	dt := time.Duration(n) * m.cfg.Step
	a := halfLifeDecay(dt, m.cfg.CouplingHalfLife)
	lambda := bgTradeRate * dt.Seconds()
	return transition{
		n:          n,
		sd:         m.sigStep * math.Sqrt(float64(n)),
		basisA:     a,
		basisS:     math.Sqrt(1 - a*a),
		decayI:     halfLifeDecay(dt, m.cfg.ImpactHalfLife),
		decayC:     a,
		lambda:     lambda,
		expNegLamb: math.Exp(-lambda),
	}
}

func halfLifeDecay(dt, halfLife time.Duration) float64 {
	return math.Exp(-math.Ln2 * dt.Seconds() / halfLife.Seconds())
}

// prefill fills the 24h volume window before the start with buckets around V/1440 over a backward random walk of
// the price.
func (m *Market) prefill(r *rand.Rand) {
	cur := minuteOf(m.t0)
	frac := float64(m.t0.Sub(minuteStart(cur))) / float64(time.Minute)
	sigMin := m.cfg.AnnualVolatility * math.Sqrt(60/yearSeconds)
	prices := make([]float64, buckets) // prices[i] is the price of minute cur-buckets+1+i
	p := m.cfg.StartPrice
	for i := buckets - 1; i >= 0; i-- {
		prices[i] = p
		p *= math.Exp(sigMin * r.NormFloat64())
	}
	perMinute := int64(math.Round(bgTradeRate * 60))
	for _, v := range m.venues {
		weights := make([]float64, buckets)
		var sum float64
		for i := range weights {
			weights[i] = 1 + prefillNoise*(2*r.Float64()-1)
			if i == buckets-1 {
				weights[i] *= frac // the current minute has only partly elapsed
			}
			sum += weights[i]
		}
		total := m.cfg.TotalVolume24h * v.cfg.VolumeShare * (buckets - 1 + frac) / buckets
		for i, w := range weights {
			lots := int64(math.Round(total * w / sum / v.lot))
			if lots <= 0 {
				continue
			}
			ticks := int64(math.Round(prices[i] * math.Exp(v.basis0) / v.tick))
			v.addVolume(cur-buckets+1+int64(i), ticks, lots, perMinute)
		}
	}
}

// Venues returns the venue names in config order.
func (m *Market) Venues() []string {
	names := make([]string, len(m.venues))
	for i, v := range m.venues {
		names[i] = v.cfg.Name
	}
	return names
}

// Venue returns the named venue.
func (m *Market) Venue(name string) (*Venue, error) {
	v, ok := m.byName[name]
	if !ok {
		return nil, fmt.Errorf("market: unknown venue %q", name)
	}
	return v, nil
}

// Clock is the market's clock.
func (m *Market) Clock() clock.Clock { return m.clk }

// FairPrice is the common price now, rounded to 8 decimals.
func (m *Market) FairPrice() decimal.Decimal {
	now := m.clk.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(now)
	return decimal.NewFromFloat(math.Exp(m.logF)).Round(8)
}

// advance steps the model to now on the fixed step grid. Callers hold m.mu.
func (m *Market) advance(now time.Time) {
	if now.After(m.now) {
		m.now = now
	}
	n := int64(m.now.Sub(m.t0)/m.cfg.Step) - m.k
	if n <= 0 {
		return
	}
	if n <= fineMaxSteps {
		for ; n > 0; n-- {
			m.step(m.one, true)
		}
		return
	}
	perMinute := max(1, int64(time.Minute/m.cfg.Step))
	perDay := int64(day / m.cfg.Step)
	if n > perDay+perMinute {
		m.step(m.transition(n-perDay), false) // falls outside the volume window: no flow
		n = perDay
	}
	chunk := m.transition(perMinute)
	for ; n >= perMinute; n -= perMinute {
		m.step(chunk, true)
	}
	if n > 0 {
		m.step(m.transition(n), true)
	}
}

// step applies one transition of tr.n steps, with background flow if flow is set: the price, the basis and the
// impacts move, the step's background flow trades at the new touches, and then the part of the price move that the
// flow carries (Config.InformedShare) follows it, as the quotes move after the trades that consume them. Each random
// stream is consumed in the same order whatever the informed share, and with none the path is the one it always was.
func (m *Market) step(tr transition, flow bool) {
	eps := m.price.NormFloat64()
	if m.inform > 0 {
		eps *= m.noise
	}
	// The drift correction is for the whole step's variance, informed part included.
	m.logF += tr.sd*eps - tr.sd*tr.sd/2
	noise := m.cfg.BasisNoiseBps / 1e4
	var c float64
	for _, v := range m.venues {
		v.b = tr.basisA*v.b + noise*tr.basisS*m.price.NormFloat64()
		c += v.w * v.y
	}
	for _, v := range m.venues {
		v.y = tr.decayI * (c + (v.y-c)*tr.decayC)
		if math.Abs(v.y) < zeroImpact {
			v.y = 0
		}
	}
	m.k += tr.n
	if !flow {
		if m.inform > 0 {
			m.logF += tr.sd * m.inform * m.price.NormFloat64() // no flow drawn: the informed part is noise too
		}
		if m.recording {
			m.fair = append(m.fair, FairPoint{Time: m.t0.Add(time.Duration(m.k) * m.cfg.Step), F: math.Exp(m.logF)})
		}
		return
	}
	t := m.t0.Add(time.Duration(m.k) * m.cfg.Step)
	lean := 0.0 // the share of trades that are buys (positive) or sells (negative) whatever else
	for j, h := range m.cfg.InformedHalfLives[:len(m.sigs)] {
		a := halfLifeDecay(time.Duration(tr.n)*m.cfg.Step, h)
		m.sigs[j] = a*m.sigs[j] + math.Sqrt(1-a*a)*m.flow.NormFloat64()
		lean += math.Copysign(m.follow, m.sigs[j])
	}
	var z float64 // the step's flow imbalance across venues, unit variance
	for _, v := range m.venues {
		d := v.draw(tr, lean)
		v.background(d, t)
		if m.inform > 0 && tr.lambda > 0 {
			z += v.w * (d.buy - d.sell) / (v.meanSize * math.Sqrt(2*tr.lambda))
		}
	}
	if m.inform > 0 {
		m.logF += tr.sd * m.inform * z / m.wNorm
	}
	if m.recording {
		m.fair = append(m.fair, FairPoint{Time: t, F: math.Exp(m.logF)})
	}
}

// flowDraw is one venue's background trades of one transition: the volume and count of buys and of sells.
type flowDraw struct {
	buy, sell   float64
	nBuy, nSell int64
}

// draw draws the venue's background trades of one transition; lean in [-1, 1] is the share of trades that are buys
// (positive) or sells (negative) whatever else, the others being either at random.
func (v *Venue) draw(tr transition, lean float64) flowDraw {
	r := v.m.flow
	var d flowDraw
	if tr.lambda <= 30 {
		// Knuth's Poisson sampler; lambda is small in fine steps.
		for p := r.Float64(); p > tr.expNegLamb; p *= r.Float64() {
			size := r.ExpFloat64() * v.meanSize
			buy := r.Uint64()&1 == 0
			if lean != 0 && r.Float64() < math.Abs(lean) {
				buy = lean > 0
			}
			if buy {
				d.buy += size
				d.nBuy++
			} else {
				d.sell += size
				d.nSell++
			}
		}
		return d
	}
	// Compound Poisson with exponential sizes, per side: mean λ_s·s, variance λ_s·2s², λ_s = λ/2·(1 ± lean).
	lb, ls := tr.lambda/2*(1+lean), tr.lambda/2*(1-lean)
	d.buy = max(0, lb*v.meanSize+math.Sqrt(2*lb)*v.meanSize*r.NormFloat64())
	d.sell = max(0, ls*v.meanSize+math.Sqrt(2*ls)*v.meanSize*r.NormFloat64())
	d.nBuy, d.nSell = int64(math.Round(lb)), int64(math.Round(ls))
	return d
}

// background prints the venue's background trades of one transition at the touch.
func (v *Venue) background(d flowDraw, t time.Time) {
	minute := minuteOf(t)
	if len(v.rest) > 0 {
		v.settle()
	}
	v.trade(Buy, int64(math.Round(d.buy/v.lot)), max(1, d.nBuy), minute, t)
	v.trade(Sell, int64(math.Round(d.sell/v.lot)), max(1, d.nSell), minute, t)
}

// trade prints lots of background flow on side taker at the touch, after it has met the resting orders at the touch
// or better: those better than the touch print at their own price.
func (v *Venue) trade(taker Side, lots, count, minute int64, t time.Time) {
	if lots <= 0 {
		return
	}
	touch := v.touch(taker)
	if len(v.rest) > 0 {
		lots -= v.meet(taker, touch, int64(math.Round(v.cfg.QueueShare*float64(lots))), minute, t)
	}
	if lots > 0 {
		v.addVolume(minute, touch, lots, count)
		v.print(touch, lots, taker == Sell, t)
	}
}

func minuteOf(t time.Time) int64 {
	ns := t.UnixNano()
	m := ns / int64(time.Minute)
	if ns%int64(time.Minute) < 0 {
		m--
	}
	return m
}

func minuteStart(minute int64) time.Time { return time.Unix(0, minute*int64(time.Minute)) }
