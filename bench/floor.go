package bench

import (
	"errors"
	"math"
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// impactModel is the noise-free market's impact dynamics in closed form, without the tick and lot grids: the
// objective the floor's optimizer minimizes. It follows mocks/market (its doc states the model): per venue a
// transient impact y, a take of q moving the venue's equivalent quantity Q = g⁻¹(y) to Q+q and costing the
// integral of g over it beyond the half-spread; between takes, per model step, y relaxes towards the
// volume-weighted mean c (coupling) and everything decays (resilience). The schedule found is then run on the
// real market, which is what the floor reports.
type impactModel struct {
	ys    []float64 // Y·σ_D per venue
	vol   []float64 // daily volume per venue
	w     []float64 // normalized volume share per venue
	times []time.Duration
	steps []int64 // model steps elapsed at each slot time
	dI    float64 // impact decay per step
	dC    float64 // coupling decay per step
}

func (s *Setup) impactModel(n int) impactModel {
	mc := s.Market
	step := mc.Step
	if step == 0 {
		step = 100 * time.Millisecond
	}
	ih, ch := mc.ImpactHalfLife, mc.CouplingHalfLife
	if ih == 0 {
		ih = 60 * time.Second
	}
	if ch == 0 {
		ch = 2 * time.Second
	}
	sigmaD := mc.AnnualVolatility / math.Sqrt(365)
	m := impactModel{
		dI: math.Exp(-math.Ln2 * step.Seconds() / ih.Seconds()),
		dC: math.Exp(-math.Ln2 * step.Seconds() / ch.Seconds()),
	}
	var total float64
	for _, v := range mc.Venues {
		total += v.VolumeShare
	}
	for _, v := range mc.Venues {
		y := v.ImpactY
		if y == 0 {
			y = 0.7
		}
		m.ys = append(m.ys, y*sigmaD)
		m.vol = append(m.vol, v.VolumeShare*mc.TotalVolume24h)
		m.w = append(m.w, v.VolumeShare/total)
	}
	for k := range n {
		t := s.SlotTime(k, n)
		m.times = append(m.times, t)
		m.steps = append(m.steps, int64(t/step))
	}
	return m
}

// cost is the impact cost (beyond the half-spread) of x[v][k], a buy of x on venue v at slot k, as a fraction of
// the mid times the total quantity.
func (m impactModel) cost(x [][]float64, total float64) float64 {
	nv := len(m.ys)
	y := make([]float64, nv)
	var cost float64
	var at int64
	for k := range m.times {
		if n := m.steps[k] - at; n > 0 {
			var c float64
			for v := range y {
				c += m.w[v] * y[v]
			}
			a, b := math.Pow(m.dI, float64(n)), math.Pow(m.dI*m.dC, float64(n))
			for v := range y {
				y[v] = a*c + b*(y[v]-c)
			}
			at = m.steps[k]
		}
		for v := range nv {
			q := x[v][k]
			if q <= 0 {
				continue
			}
			s := math.Sqrt(m.vol[v])
			Q := math.Max(y[v]/m.ys[v], 0) // sqrt(Q/V)
			Q = Q * Q * m.vol[v]
			cost += m.ys[v] / s * (2.0 / 3) * (math.Pow(Q+q, 1.5) - math.Pow(Q, 1.5))
			y[v] = m.ys[v] * math.Sqrt((Q+q)/m.vol[v])
		}
	}
	return cost / total
}

// projectSimplex projects z onto {x ≥ 0, Σx = total} (Euclidean).
func projectSimplex(z []float64, total float64) []float64 {
	u := append([]float64(nil), z...)
	sort.Sort(sort.Reverse(sort.Float64Slice(u)))
	var cum, theta float64
	for i, ui := range u {
		cum += ui
		t := (cum - total) / float64(i+1)
		if ui-t > 0 {
			theta = t
		}
	}
	out := make([]float64, len(z))
	for i, zi := range z {
		out[i] = math.Max(zi-theta, 0)
	}
	return out
}

// optimize minimizes m.cost over the schedules of total on the slot grid by projected gradient descent with a
// backtracking step, from start. It returns the best schedule and its model cost.
func (m impactModel) optimize(start [][]float64, total float64, iters int) ([][]float64, float64) {
	nv, n := len(start), len(m.times)
	flat := func(x [][]float64) []float64 {
		out := make([]float64, 0, nv*n)
		for _, r := range x {
			out = append(out, r...)
		}
		return out
	}
	shape := func(f []float64) [][]float64 {
		out := make([][]float64, nv)
		for v := range out {
			out[v] = f[v*n : (v+1)*n]
		}
		return out
	}
	f := func(z []float64) float64 { return m.cost(shape(z), total) }
	x := projectSimplex(flat(start), total)
	fx := f(x)
	step := total * total * 1e2
	g := make([]float64, len(x))
	for it := 0; it < iters; it++ {
		h := total * 1e-7
		for i := range x {
			xp := append([]float64(nil), x...)
			xp[i] += h
			xm := append([]float64(nil), x...)
			xm[i] = math.Max(xm[i]-h, 0)
			g[i] = (f(xp) - f(xm)) / (xp[i] - xm[i])
		}
		improved := false
		for range 40 {
			z := make([]float64, len(x))
			for i := range x {
				z[i] = x[i] - step*g[i]
			}
			z = projectSimplex(z, total)
			if fz := f(z); fz < fx-1e-15 {
				x, fx, improved = z, fz, true
				step *= 1.5
				break
			}
			step /= 2
		}
		if !improved {
			break
		}
	}
	return shape(x), fx
}

// FloorResult is the cost floor found for one size.
type FloorResult struct {
	Size         string             `json:"size"`
	Schedule     [][]float64        `json:"schedule"`       // [venue][slot] base units, on the lot grids
	Venues       []string           `json:"venues"`         // the schedule's rows
	SlotSeconds  []float64          `json:"slot_seconds"`   // the slots' times since arrival
	ModelBps     float64            `json:"model_bps"`      // the optimizer's closed-form impact cost plus half-spread
	StartBps     map[string]float64 `json:"start_bps"`      // the same for each starting schedule
	NoiseFreeBps float64            `json:"noise_free_bps"` // the schedule's cost on the real noise-free market
	Orders       []Order            `json:"-"`
}

// Floor finds strategy (e)'s schedule for qty: the best deterministic schedule on the slot grid execd's schedule
// jitters around (Slots() slots on every venue), by projected gradient descent on the noise-free impact model from
// three starts (everything on the largest venue, an even split, a volume-share split), rounded to the lots, and
// measured on the real noise-free market (seed 1: the noise-free market does not depend on it).
func (s *Setup) Floor(qty decimal.Decimal, iters int) (FloorResult, error) {
	n := s.Slots()
	m := s.impactModel(n)
	total := qty.InexactFloat64()
	if !(total > 0) {
		return FloorResult{}, errors.New("bench: floor of a non-positive quantity")
	}
	hs := s.Market.Venues[0].HalfSpreadBps
	if hs == 0 {
		hs = 0.5
	}
	starts := map[string][][]float64{}
	mk := func(weight func(v VenueInfo) float64) [][]float64 {
		x := make([][]float64, len(s.Venues))
		for i, v := range s.Venues {
			x[i] = make([]float64, n)
			for k := range x[i] {
				x[i][k] = total * weight(v) / float64(n)
			}
		}
		return x
	}
	starts[StratTWAP1] = mk(func(v VenueInfo) float64 {
		if v.Name == s.Largest {
			return 1
		}
		return 0
	})
	starts[StratEven] = mk(func(VenueInfo) float64 { return 1 / float64(len(s.Venues)) })
	starts["volume_share"] = mk(func(v VenueInfo) float64 { return v.Share })
	res := FloorResult{Size: qty.String(), StartBps: map[string]float64{}}
	best := math.Inf(1)
	names := make([]string, 0, len(starts))
	for k := range starts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		x0 := starts[name]
		res.StartBps[name] = m.cost(x0, total)*1e4 + hs
		x, c := m.optimize(x0, total, iters)
		if c < best {
			best, res.Schedule = c, x
		}
	}
	res.ModelBps = best*1e4 + hs
	for _, v := range s.Venues {
		res.Venues = append(res.Venues, v.Name)
	}
	for _, t := range m.times {
		res.SlotSeconds = append(res.SlotSeconds, t.Seconds())
	}
	// Onto the lot grids: cumulative rounding per venue, then what rounding left goes to the largest venue's
	// largest slot.
	var placed decimal.Decimal
	rounded := make([][]float64, len(s.Venues))
	for i, v := range s.Venues {
		rounded[i] = make([]float64, n)
		var cum float64
		var prev decimal.Decimal
		for k := range n {
			cum += res.Schedule[i][k]
			c := decimal.NewFromFloat(cum).Div(v.Lot).Round(0).Mul(v.Lot)
			q := c.Sub(prev)
			if q.IsPositive() {
				res.Orders = append(res.Orders, Order{At: m.times[k], Venue: v.Name, Qty: q})
				placed = placed.Add(q)
				rounded[i][k] = q.InexactFloat64()
				prev = c
			}
		}
	}
	if d := qty.Sub(placed); !d.IsZero() {
		li, lk := -1, -1
		for i, v := range s.Venues {
			if v.Name != s.Largest {
				continue
			}
			for k := range n {
				if lk < 0 || rounded[i][k] > rounded[i][lk] {
					li, lk = i, k
				}
			}
		}
		for j := range res.Orders {
			if res.Orders[j].Venue == s.Largest && res.Orders[j].At == m.times[lk] {
				res.Orders[j].Qty = res.Orders[j].Qty.Add(d)
				rounded[li][lk] += d.InexactFloat64()
			}
		}
	}
	res.Schedule = rounded
	e, err := s.Simulate(1, 1, qty, res.Orders, true)
	if err != nil {
		return FloorResult{}, err
	}
	res.NoiseFreeBps = e.Cost
	return res, nil
}
