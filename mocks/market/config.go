package market

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/shopspring/decimal"
)

// Defaults applied by New to zero fields.
const (
	DefaultStep             = 100 * time.Millisecond
	DefaultImpactHalfLife   = 60 * time.Second
	DefaultCouplingHalfLife = 2 * time.Second
	DefaultHalfSpreadBps    = 0.5
	DefaultImpactY          = 0.7
	DefaultQueueShare       = 1.0
	DefaultInformedFollow   = 0.5
)

// VenueConfig describes one venue of the simulated market.
type VenueConfig struct {
	Name          string
	VolumeShare   float64         // share of TotalVolume24h traded on this venue (>0; shares need not sum to 1)
	HalfSpreadBps float64         // default 0.5
	ImpactY       float64         // square-root-law constant Y, default 0.7
	TakerFeeBps   float64         // e.g. 5 (bybit 5.5)
	MakerFeeBps   float64         // e.g. 2
	TickSize      decimal.Decimal // price grid, e.g. 0.1
	LotSize       decimal.Decimal // quantity grid in base units, e.g. 0.001 (OKX: 0.01 = one contract)
	BasisBps      float64         // fixed offset of this venue's mid from the common price, in bps
	// QueueShare is the share (0..1] of each step's background volume per side that trades against the queue at
	// the touch and the resting orders better than it (see Maker); the rest prints at the touch without reaching
	// them. Default 1, a modelling choice: every background trade prints at the touch and the book shown behind it is
	// replenished, so all of it passes through the queue there — in real books too most market orders are no
	// larger than the opposite best queue, and a larger one empties that queue before it goes deeper (Farmer,
	// Gillemot, Lillo, Mike & Sen, "What really causes large price changes?", Quantitative Finance 2004). Set it
	// lower to let part of the printed volume stand for liquidity the displayed queue does not see (hidden or
	// iceberg orders, block trades).
	QueueShare float64
}

// Config describes the simulated market. Zero durations, ImpactY, HalfSpreadBps and QueueShare mean the defaults.
type Config struct {
	Seed             int64
	StartPrice       float64       // e.g. 10490
	AnnualVolatility float64       // e.g. 0.60
	TotalVolume24h   float64       // base units across all venues per 24h
	ImpactHalfLife   time.Duration // transient impact resilience, default 60s
	CouplingHalfLife time.Duration // venue mids pulled to the common price, default 2s
	BasisNoiseBps    float64       // stationary std-dev of each venue's idiosyncratic basis
	FundingRate8h    float64       // e.g. 0.0001
	Step             time.Duration // model time step, default 100ms, at most a minute
	// InformedShare is the share [0, 1) of the common price's long-run variance that the background flow carries:
	// each step, after the flow has traded, log F moves by κ times the step's volume-weighted imbalance of background
	// buys and sells across the venues (scaled to unit variance), and by an independent normal for the rest; κ is
	// set so that the variance over long horizons, and so the volatility, is the same for any share and persistence.
	// Zero: the flow neither moves nor foretells the price. Over short intervals price changes are mainly driven by
	// the imbalance of supply and demand at the best quotes (Cont, Kukanov & Stoikov, "The price impact of order book
	// events", Journal of Financial Econometrics 2014); trades are part of that imbalance and quote events the other,
	// so the share trades carry is a modelling choice below one (the configs use 0.5). It is what makes a resting
	// order adversely selected: the flow that fills it is the flow that moves the price away from it.
	InformedShare float64
	// InformedHalfLives make the flow's direction persist: an informed signal per half-life (independent
	// Ornstein–Uhlenbeck processes) each sets the side of an equal part of InformedFollow of the background trades,
	// the others being buys or sells at random, so sells that fill a resting buy foretell more sells and a price still
	// falling for a while after the fill. Large orders are worked in pieces over seconds to hours, which is why the
	// signs of market orders stay correlated over long lags, decaying slowly (Lillo & Farmer, "The long memory of the
	// efficient market", 2004; Bouchaud, Farmer & Lillo, "How markets slowly digest changes in supply and demand",
	// 2009): a few exponentials of spread-out half-lives stand for that slow decay (the configs use 3s and 60s).
	// Empty: trade signs are independent. Only with a positive InformedShare.
	InformedHalfLives []time.Duration
	// InformedFollow is the share (0..1] of background trades whose side follows an informed signal; default 0.5
	// when InformedHalfLives are set.
	InformedFollow float64
	Venues         []VenueConfig
	// NoiseFree freezes the common price and zeroes the venues' basis noise, leaving the books, their impact
	// (still scaled by AnnualVolatility), resilience, coupling and background flow: the market on which a
	// benchmark finds the cost floor of a schedule.
	NoiseFree bool
}

// withDefaults returns a copy of c with the defaults applied and its own Venues slice.
func (c Config) withDefaults() Config {
	if c.Step == 0 {
		c.Step = DefaultStep
	}
	if c.ImpactHalfLife == 0 {
		c.ImpactHalfLife = DefaultImpactHalfLife
	}
	if c.CouplingHalfLife == 0 {
		c.CouplingHalfLife = DefaultCouplingHalfLife
	}
	if c.NoiseFree {
		c.BasisNoiseBps = 0
	}
	if len(c.InformedHalfLives) > 0 && c.InformedFollow == 0 {
		c.InformedFollow = DefaultInformedFollow
	}
	c.InformedHalfLives = append([]time.Duration(nil), c.InformedHalfLives...)
	c.Venues = append([]VenueConfig(nil), c.Venues...)
	for i := range c.Venues {
		v := &c.Venues[i]
		if v.HalfSpreadBps == 0 {
			v.HalfSpreadBps = DefaultHalfSpreadBps
		}
		if v.ImpactY == 0 {
			v.ImpactY = DefaultImpactY
		}
		if v.QueueShare == 0 {
			v.QueueShare = DefaultQueueShare
		}
	}
	return c
}

// Validate reports every problem of the config at once. Zero values of defaulted fields are accepted.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	positive := func(name string, x float64) {
		if !(x > 0) || math.IsInf(x, 0) {
			bad("%s must be positive and finite, got %v", name, x)
		}
	}
	nonNegative := func(name string, x float64) {
		if !(x >= 0) || math.IsInf(x, 0) {
			bad("%s must be non-negative and finite, got %v", name, x)
		}
	}
	finite := func(name string, x float64) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			bad("%s must be finite, got %v", name, x)
		}
	}
	positive("start price", c.StartPrice)
	positive("annual volatility", c.AnnualVolatility)
	positive("total volume 24h", c.TotalVolume24h)
	nonNegative("basis noise bps", c.BasisNoiseBps)
	finite("funding rate 8h", c.FundingRate8h)
	if !(c.InformedShare >= 0 && c.InformedShare < 1) {
		bad("informed share must be within [0, 1), got %v", c.InformedShare)
	}
	for _, h := range c.InformedHalfLives {
		if h <= 0 || h > time.Hour {
			bad("informed half-lives must be positive and at most 1h, got %v", h)
		}
	}
	if !(c.InformedFollow >= 0 && c.InformedFollow <= 1) {
		bad("informed follow must be within 0..1, got %v", c.InformedFollow)
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"impact half-life", c.ImpactHalfLife}, {"coupling half-life", c.CouplingHalfLife}, {"step", c.Step}} {
		if d.d < 0 {
			bad("%s must not be negative, got %v", d.name, d.d)
		}
	}
	if c.Step > time.Minute {
		bad("step must be at most 1m, got %v", c.Step)
	}
	if len(c.Venues) == 0 {
		bad("no venues")
	}
	seen := make(map[string]bool, len(c.Venues))
	for i, v := range c.Venues {
		name := v.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i)
			bad("venue %s: empty name", name)
		} else if seen[name] {
			bad("venue %s: duplicate name", name)
		}
		seen[v.Name] = true
		positive("venue "+name+": volume share", v.VolumeShare)
		nonNegative("venue "+name+": half-spread bps", v.HalfSpreadBps)
		nonNegative("venue "+name+": impact Y", v.ImpactY)
		finite("venue "+name+": taker fee bps", v.TakerFeeBps)
		finite("venue "+name+": maker fee bps", v.MakerFeeBps)
		finite("venue "+name+": basis bps", v.BasisBps)
		if !(v.QueueShare >= 0 && v.QueueShare <= 1) {
			bad("venue %s: queue share must be within 0..1, got %v", name, v.QueueShare)
		}
		if v.TickSize.Sign() <= 0 {
			bad("venue %s: tick size must be positive, got %s", name, v.TickSize)
		}
		if v.LotSize.Sign() <= 0 {
			bad("venue %s: lot size must be positive, got %s", name, v.LotSize)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("market config: %w", errors.Join(errs...))
	}
	return nil
}
