package bench

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/mocks/market"
)

// Strategy names, in the order tables and charts show them.
const (
	StratMarket  = "market"         // (a) one market order on the largest venue
	StratTWAP1   = "twap_one_venue" // (b) plain TWAP, even slices, on the largest venue
	StratEven    = "even_split"     // (c) an even split across venues, plain TWAP on each, in lockstep
	StratDefault = "execd_default"  // (d) execd's default (twap.execution: maker_first), through the daemon
	StratFloor   = "cost_floor"     // (e) the best deterministic schedule on the noise-free market
	StratTaker   = "execd_taker"    // (f) execd with execution "taker" (IOC children only), through the daemon
	StratBBGO    = "bbgo_maker"     // (g) bbgo's maker TWAP, from its documented behaviour
	StratHbot    = "hummingbot_maker"
)

// Strategies lists the strategy names in display order.
func Strategies() []string {
	return []string{StratMarket, StratTWAP1, StratEven, StratBBGO, StratHbot, StratTaker, StratDefault, StratFloor}
}

// SizeClass is one parent size: a fraction of the largest venue's volume over the horizon.
type SizeClass struct {
	Name     string          `json:"name"`     // e.g. "1%"
	Fraction float64         `json:"fraction"` // e.g. 0.01
	Quantity decimal.Decimal `json:"quantity"` // base units
}

// VenueInfo is what the benchmark needs of one simulated venue.
type VenueInfo struct {
	Name        string
	Share       float64 // normalized volume share
	Lot         decimal.Decimal
	TakerFeeBps float64
	MakerFeeBps float64
}

// Setup is the benchmark's market and parent orders, all derived from one daemon config (configs/execd.yaml):
// the same calibration the demo runs on.
type Setup struct {
	Config       *config.Config
	Market       market.Config
	Venues       []VenueInfo // config order
	Largest      string      // the venue with the largest volume share
	Horizon      time.Duration
	Epoch        time.Time // the simulated time every run starts at
	MeanInterval time.Duration
	EndBuffer    time.Duration
	BandBps      int // IOC band of every sliced strategy, and the parent's max_slippage_bps for execd
	Sizes        []SizeClass
}

// DefaultEpoch is a Monday 10:00 UTC, away from the 08:00/16:00 funding times.
var DefaultEpoch = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// NewSetup derives the benchmark from cfg: parents over horizon sized as fractions of the largest venue's
// volume over that horizon, rounded down to 0.01 (one OKX contract, a multiple of every venue's lot).
func NewSetup(cfg *config.Config, horizon time.Duration, fractions []float64, bandBps int) (*Setup, error) {
	if horizon <= 0 {
		return nil, errors.New("bench: horizon must be positive")
	}
	if bandBps <= 0 {
		return nil, errors.New("bench: band must be positive")
	}
	mc, mocked, err := app.MarketConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if len(mocked) == 0 {
		return nil, errors.New("bench: the config has no mock venues")
	}
	if cfg.TWAP.EndBuffer >= horizon {
		return nil, fmt.Errorf("bench: horizon %v is not longer than the end buffer %v", horizon, cfg.TWAP.EndBuffer)
	}
	s := &Setup{Config: cfg, Market: mc, Horizon: horizon, Epoch: DefaultEpoch, MeanInterval: cfg.TWAP.MeanInterval,
		EndBuffer: cfg.TWAP.EndBuffer, BandBps: bandBps}
	var total float64
	for _, v := range mc.Venues {
		total += v.VolumeShare
	}
	best := -1.0
	for _, v := range mc.Venues {
		s.Venues = append(s.Venues, VenueInfo{Name: v.Name, Share: v.VolumeShare / total, Lot: v.LotSize,
			TakerFeeBps: v.TakerFeeBps, MakerFeeBps: v.MakerFeeBps})
		if v.VolumeShare > best {
			best, s.Largest = v.VolumeShare, v.Name
		}
	}
	vol := mc.TotalVolume24h * best / total * horizon.Seconds() / 86400
	for _, f := range fractions {
		if !(f > 0) {
			return nil, fmt.Errorf("bench: size fraction %v must be positive", f)
		}
		q := decimal.NewFromFloat(vol * f).RoundDown(2)
		if !q.IsPositive() {
			return nil, fmt.Errorf("bench: size fraction %v of %.3f is below 0.01", f, vol)
		}
		s.Sizes = append(s.Sizes, SizeClass{Name: sizeName(f), Fraction: f, Quantity: q})
	}
	return s, nil
}

func sizeName(f float64) string {
	return decimal.NewFromFloat(f*100).String() + "%"
}

// LargestVolume is the largest venue's volume over the horizon, base units.
func (s *Setup) LargestVolume() float64 {
	var total, best float64
	for _, v := range s.Market.Venues {
		total += v.VolumeShare
		best = math.Max(best, v.VolumeShare)
	}
	return s.Market.TotalVolume24h * best / total * s.Horizon.Seconds() / 86400
}

func (s *Setup) venue(name string) (VenueInfo, bool) {
	for _, v := range s.Venues {
		if v.Name == name {
			return v, true
		}
	}
	return VenueInfo{}, false
}

// Slots is the number of even slices a plain TWAP makes over the horizon: one per mean interval, as execd's
// schedule has on average per venue.
func (s *Setup) Slots() int {
	return max(1, int(s.Horizon/s.MeanInterval))
}

// SlotTime is the time of slot k of n: the middle of the k-th of n equal parts of the horizon less the end buffer,
// the grid execd's randomized schedule jitters around.
func (s *Setup) SlotTime(k, n int) time.Duration {
	w := s.Horizon - s.EndBuffer
	return time.Duration((float64(k) + 0.5) * float64(w) / float64(n))
}

// arrival is the market at the moment a parent arrives.
type arrival struct {
	At   time.Time
	Mid  float64 // volume-weighted mean of the venues' mids: the arrival mid every strategy is measured against
	Fair float64 // the common price F
}

// observeArrival reads the venues' quotes now.
func (s *Setup) observeArrival(m *market.Market) (arrival, error) {
	var a arrival
	for _, v := range s.Venues {
		mv, err := m.Venue(v.Name)
		if err != nil {
			return arrival{}, err
		}
		q := mv.Quote()
		a.At, a.Fair = q.Time, q.Index.InexactFloat64()
		a.Mid += v.Share * q.Mid.InexactFloat64()
	}
	return a, nil
}

// measure judges one parent by the market's own records of its takes and of its resting orders' fills:
// implementation shortfall against the arrival mid, split into the move of the common price weighted by the fills
// (timing) and the rest (cost); the fees (taker, or maker for a resting order's fill); the total; the price path's
// own move over the horizon (Execution.Path); markouts; all in bps of the arrival mid's notional for the filled
// quantity. The market must have been advanced past the horizon and a minute past the last fill.
func (s *Setup) measure(m *market.Market, recs []market.TakeRecord, makes []market.MakeRecord, a arrival, side int, qty float64) (Execution, error) {
	e := Execution{Side: side, Quantity: qty, Horizon: s.Horizon}
	var filled, notional, fairMove, fees, maker float64
	var mark [3]float64
	fill := func(venue string, at time.Time, f, n, fair float64, rested bool) error {
		v, ok := s.venue(venue)
		if !ok {
			return fmt.Errorf("bench: a fill on unknown venue %q", venue)
		}
		filled += f
		notional += n
		fairMove += f * (fair/a.Fair - 1)
		rate := v.TakerFeeBps
		if rested {
			rate = v.MakerFeeBps
			maker += f
		}
		fees += n * rate / 1e4
		if f > 0 {
			p := n / f
			for i, h := range MarkoutHorizons {
				later, ok := m.FairAt(at.Add(h))
				if !ok {
					return fmt.Errorf("bench: no fair price %v after a fill at %v", h, at)
				}
				mark[i] += f * float64(side) * (later - p) / p * 1e4
			}
		}
		return nil
	}
	for _, r := range recs {
		if int(r.Side) != side {
			return Execution{}, fmt.Errorf("bench: a %d take in a %d parent", r.Side, side)
		}
		if err := fill(r.Venue, r.Time, r.Filled.InexactFloat64(), r.Notional.InexactFloat64(), r.Fair, r.Resting); err != nil {
			return Execution{}, err
		}
		e.Children = append(e.Children, Child{Venue: r.Venue, At: r.Time.Sub(a.At), Qty: r.Requested.InexactFloat64(),
			Filled: r.Filled.InexactFloat64()})
		e.Fills = append(e.Fills, Child{Venue: r.Venue, At: r.Time.Sub(a.At), Filled: r.Filled.InexactFloat64(), Maker: r.Resting})
	}
	for _, r := range makes {
		if int(r.Side) != side {
			return Execution{}, fmt.Errorf("bench: a %d maker fill in a %d parent", r.Side, side)
		}
		q := r.Qty.InexactFloat64()
		if err := fill(r.Venue, r.Time, q, q*r.Price.InexactFloat64(), r.Fair, true); err != nil {
			return Execution{}, err
		}
		e.Fills = append(e.Fills, Child{Venue: r.Venue, At: r.Time.Sub(a.At), Filled: q, Maker: true})
	}
	sort.SliceStable(e.Children, func(i, j int) bool { return e.Children[i].At < e.Children[j].At })
	sort.SliceStable(e.Fills, func(i, j int) bool { return e.Fills[i].At < e.Fills[j].At })
	if filled <= 0 {
		return Execution{}, errors.New("bench: nothing filled")
	}
	var path float64
	n := int(s.Horizon / time.Second)
	for k := 1; k <= n; k++ {
		f, ok := m.FairAt(a.At.Add(time.Duration(k) * time.Second))
		if !ok {
			return Execution{}, fmt.Errorf("bench: no fair price %ds after the arrival", k)
		}
		path += f/a.Fair - 1
	}
	base := filled * a.Mid
	e.IS = float64(side) * (notional - base) / base * 1e4
	e.Timing = float64(side) * fairMove * a.Mid / base * 1e4
	e.Cost = e.IS - e.Timing
	e.Fees = fees / base * 1e4
	e.Total = e.IS + e.Fees
	e.Path = float64(side) * path / float64(n) * 1e4
	e.TotalAdj = e.Total - e.Path
	e.MakerShare = maker / filled
	for i := range mark {
		e.Markouts[i] = mark[i] / filled
	}
	e.FilledFrac = filled / qty
	return e, nil
}

// settleMarket advances a manually driven market past the horizon and a minute past the last record, so that
// measure finds every fair price it needs.
func (s *Setup) settleMarket(m *market.Market, clk *clock.Manual) {
	end := s.Epoch.Add(s.Horizon)
	for _, r := range m.Takes() {
		if r.Time.After(end) {
			end = r.Time
		}
	}
	for _, r := range m.Makes() {
		if r.Time.After(end) {
			end = r.Time
		}
	}
	if t := end.Add(MarkoutHorizons[len(MarkoutHorizons)-1] + time.Second); t.After(clk.Now()) {
		clk.Set(t)
	}
	m.FairPrice() // advances the market to the clock
}
