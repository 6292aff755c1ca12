package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"time"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"

	"github.com/execd-dev/execd/twap"
	"github.com/execd-dev/execd/venues"
)

// Config is the whole daemon configuration.
type Config struct {
	Listen   string `yaml:"listen"`
	LogLevel string `yaml:"log_level"`
	// Hash is the hex SHA-256 of the bytes Parse read (not a key in the file): the audit and metrics name a
	// config by it.
	Hash        string          `yaml:"-"`
	Instruments []string        `yaml:"instruments"`
	Clock       ClockConfig     `yaml:"clock"`
	Journal     JournalConfig   `yaml:"journal"`
	Market      *MarketConfig   `yaml:"market"` // the simulated market; required when any venue is a mock
	Venues      []VenueConfig   `yaml:"venues"`
	TWAP        TWAPConfig      `yaml:"twap"`
	Risk        RiskConfig      `yaml:"risk"`
	Reconcile   ReconcileConfig `yaml:"reconcile"`
	Auth        AuthConfig      `yaml:"auth"`
	// ClientIDSalt makes client order ids opaque: they are a keyed hash of parent id, venue and sequence.
	ClientIDSalt string `yaml:"client_id_salt"`
}

// ClockConfig sets the simulated clock. Speed 1 is real time; the demo runs faster. Epoch, when set, anchors an
// accelerated clock at a wall time (simulated = epoch + (now − epoch) × speed) so that a restarted daemon and a
// simulated market in another process read the same time; unset, the clock starts at the process start.
type ClockConfig struct {
	Speed float64   `yaml:"speed"`
	Epoch time.Time `yaml:"epoch"`
}

// JournalConfig says where the durable journal lives.
type JournalConfig struct {
	Dir string `yaml:"dir"`
}

// MarketConfig is the simulated market's calibration (DESIGN.md, "Simulated market calibration").
type MarketConfig struct {
	Seed             int64         `yaml:"seed"`
	StartPrice       float64       `yaml:"start_price"`
	AnnualVolatility float64       `yaml:"annual_volatility"`
	TotalVolume24h   float64       `yaml:"total_volume_24h"`
	ImpactHalfLife   time.Duration `yaml:"impact_half_life"`
	CouplingHalfLife time.Duration `yaml:"coupling_half_life"`
	BasisNoiseBps    float64       `yaml:"basis_noise_bps"`
	FundingRate8h    float64       `yaml:"funding_rate_8h"`
	Step             time.Duration `yaml:"step"`
	// InformedShare, InformedHalfLives and InformedFollow make the background flow informed (mocks/market: the
	// share of the price's variance the flow carries, how long its direction persists, the share of trades that
	// follow it): what makes resting orders adversely selected. Zero share: the flow knows nothing.
	InformedShare     float64         `yaml:"informed_share"`
	InformedHalfLives []time.Duration `yaml:"informed_half_lives"`
	InformedFollow    float64         `yaml:"informed_follow"`
	// The figures above are the first instrument's (instruments[0]); Others are every other instrument a mock
	// venue trades, each its own price process on the same clock, with the same half-lives, noise, funding and
	// step, and the mock venues' volume shares, spreads, impact and fees.
	Others map[string]OtherMarket `yaml:"others"`
}

// OtherMarket is one more instrument's market: its price, volatility and volume.
type OtherMarket struct {
	StartPrice       float64 `yaml:"start_price"`
	AnnualVolatility float64 `yaml:"annual_volatility"`
	TotalVolume24h   float64 `yaml:"total_volume_24h"`
}

// VenueConfig is one venue: either a mock started in-process on the simulated market, or an external endpoint.
type VenueConfig struct {
	Name     string           `yaml:"name"`
	Protocol string           `yaml:"protocol"` // binance
	Weight   *decimal.Decimal `yaml:"weight"`   // ops weight, default 1; 0 takes the venue out of new allocations
	Enabled  *bool            `yaml:"enabled"`
	// Mock, when set, starts this venue as a mock on loopback over the simulated market.
	Mock *MockVenue `yaml:"mock"`
	// External endpoints and the names of the environment variables holding the credentials.
	RESTURL      string `yaml:"rest_url"`
	WSURL        string `yaml:"ws_url"`
	APIKeyEnv    string `yaml:"api_key_env"`
	APISecretEnv string `yaml:"api_secret_env"`
	// APIPassphraseEnv names the variable holding the API passphrase (OKX).
	APIPassphraseEnv string `yaml:"api_passphrase_env"`
	// Caps bound what the router gives this venue, per instrument (reloadable).
	Caps map[string]CapConfig `yaml:"caps"`
	// Pace paces every request to the venue under its published rate limits (default on). Off only for a
	// benchmark against a mock whose limits are off too.
	Pace *bool `yaml:"pace"`
	// CallTimeout bounds one call to this venue (wall time); zero: the daemon's default (10s).
	CallTimeout time.Duration `yaml:"call_timeout"`
}

// IsPaced is Pace with its default (on).
func (v VenueConfig) IsPaced() bool { return v.Pace == nil || *v.Pace }

// CapConfig bounds one venue's part of any parent in one instrument. Zero (or absent) is no bound.
type CapConfig struct {
	// MaxPosition is the largest absolute position (base units) a parent may leave at the venue.
	MaxPosition decimal.Decimal `yaml:"max_position"`
	// MaxParticipation is the largest share (0..1] of the venue's volume over a parent's horizon (its 24 h
	// volume × horizon / 24 h) that a parent may trade there.
	MaxParticipation decimal.Decimal `yaml:"max_participation"`
}

// IsEnabled is Enabled with its default (true).
func (v VenueConfig) IsEnabled() bool { return v.Enabled == nil || *v.Enabled }

// MockVenue is a mock venue's share of the simulated market and its starting account.
type MockVenue struct {
	VolumeShare   float64                    `yaml:"volume_share"`
	HalfSpreadBps float64                    `yaml:"half_spread_bps"`
	ImpactY       float64                    `yaml:"impact_y"`
	TakerFeeBps   float64                    `yaml:"taker_fee_bps"`
	MakerFeeBps   float64                    `yaml:"maker_fee_bps"`
	BasisBps      float64                    `yaml:"basis_bps"`
	Positions     map[string]decimal.Decimal `yaml:"positions"`   // instrument → signed base quantity at start
	EntryPrice    decimal.Decimal            `yaml:"entry_price"` // entry price of those positions (default: start price)
	RateLimits    *bool                      `yaml:"rate_limits"` // default on
	Listen        string                     `yaml:"listen"`      // for `execd mocks`: where to listen (default 127.0.0.1:0)
}

// TWAPConfig are the slicing parameters (reloadable).
type TWAPConfig struct {
	MeanInterval time.Duration `yaml:"mean_interval"`
	TimeJitter   float64       `yaml:"time_jitter"`
	// IntervalCV, when positive (at most 1), draws the intervals between a venue's slices from a gamma law with
	// this coefficient of variation (1: exponential) and each venue's slice count within ±interval_cv/4 of the
	// mean, instead of within ±time_jitter/2 of the mean: children as irregular as a tape's trades, and no grid
	// shared by venues.
	IntervalCV float64       `yaml:"interval_cv"`
	SizeJitter float64       `yaml:"size_jitter"`
	EndBuffer  time.Duration `yaml:"end_buffer"`
	// StartJitter: an order or target set ahead (start_at) starts within this after its start_at, drawn per
	// order, so its first child does not come at a predictable second (default 30s; 0: at start_at).
	StartJitter *time.Duration `yaml:"start_jitter"`
	// Catchup is how long after the horizon the engine keeps working an unfilled remainder within the price band
	// before it ends the parent with what it has.
	Catchup time.Duration `yaml:"catchup"`
	// RetryInterval is how long the engine waits before it retries a venue call that failed retryably.
	RetryInterval time.Duration `yaml:"retry_interval"`
	// Execution is the default execution of orders and targets that name none: maker_first (each slice posted
	// post-only in the spread, re-pegged, crossed when behind) or taker (IOC children). Default maker_first, the
	// cheaper of the two by execbench (docs/BENCHMARKS.md).
	Execution string `yaml:"execution"`
	// MakerTolerance is how far behind its schedule, as a share of its allocation, a venue may fall before a
	// maker-first parent crosses there with an IOC (default 0.1).
	MakerTolerance float64 `yaml:"maker_tolerance"`
	// MakerAhead is how far ahead of its schedule, as a share of its allocation, a maker child may take its venue:
	// it offers what is due plus this much (0: what is due only, the default).
	MakerAhead float64 `yaml:"maker_ahead"`
	// FundingShift is the most of a venue's allocation moved across the venue's funding time when one falls inside
	// a parent, later when the fills before it would pay funding, earlier when they would receive it; at most half
	// of maker_tolerance (default 0.05; 0: none).
	FundingShift *float64 `yaml:"funding_shift"`
}

// RiskConfig are the pre-trade limits and breaker settings (all reloadable: a breaker that is open or half-open
// keeps its timeouts until it closes; the trip rule changes at once).
type RiskConfig struct {
	MaxChildNotional      decimal.Decimal `yaml:"max_child_notional"`
	DefaultMaxSlippageBps int             `yaml:"default_max_slippage_bps"`
	MaxSlippageBps        int             `yaml:"max_slippage_bps"` // the largest band a request may ask for
	MaxOrderNotional      decimal.Decimal `yaml:"max_order_notional"`
	State                 string          `yaml:"state"`                // active | reducing | halted at start
	BreakerFailures       uint32          `yaml:"breaker_failures"`     // failures in a row that open a venue's breaker
	BreakerOpenTimeout    time.Duration   `yaml:"breaker_open_timeout"` // open → half-open (probes) after this long
	// BreakerFailureRatio, when set (0 < r ≤ 1), also opens the breaker when at least BreakerMinRequests calls
	// in the last BreakerWindow failed in that share or more.
	BreakerFailureRatio   float64       `yaml:"breaker_failure_ratio"`
	BreakerMinRequests    uint32        `yaml:"breaker_min_requests"`
	BreakerWindow         time.Duration `yaml:"breaker_window"`
	BreakerProbes         uint32        `yaml:"breaker_half_open_probes"` // calls let through while half-open
	MaxConsecutiveRejects int           `yaml:"max_consecutive_rejects"`
}

// ReconcileConfig sets the reconcile loop and how targets are kept. Times are on the simulated clock.
type ReconcileConfig struct {
	// Interval is the time between two passes of one (venue, instrument) pair (default 10s).
	Interval time.Duration `yaml:"interval"`
	// MinGap is the least wall time between two passes of one pair, whatever the simulated clock's speed: the
	// venues count requests in wall time (default 1s).
	MinGap time.Duration `yaml:"min_gap"`
	// AutoCorrect opens a corrective parent when an instrument's aggregate stands beyond tolerance of its target
	// after the target's parent has ended; off, an alert event is raised instead (default on).
	AutoCorrect *bool `yaml:"auto_correct"`
	// ToleranceBase (base units) and ToleranceNotional (quote units at the mark): a difference from the target
	// below either needs no corrective parent; one below the smallest lot never does (default 0 and 0).
	ToleranceBase     decimal.Decimal `yaml:"tolerance_base"`
	ToleranceNotional decimal.Decimal `yaml:"tolerance_notional"`
	// CorrectDuration is a corrective parent's horizon (default 2m); MaxCorrections the corrective parents one
	// target may have before it is declared failed (default 3).
	CorrectDuration time.Duration `yaml:"correct_duration"`
	MaxCorrections  int           `yaml:"max_corrections"`
}

// IsAutoCorrect is AutoCorrect with its default (on).
func (r ReconcileConfig) IsAutoCorrect() bool { return r.AutoCorrect == nil || *r.AutoCorrect }

// AuthConfig lists API tokens by the SHA-256 of the token, so the file holds no secret.
type AuthConfig struct {
	Tokens []TokenConfig `yaml:"tokens"`
}

// TokenConfig is one bearer token.
type TokenConfig struct {
	Name   string `yaml:"name"`
	Role   string `yaml:"role"`   // rebalancer | ops | viewer
	SHA256 string `yaml:"sha256"` // hex SHA-256 of the token
}

// Roles an API token can have.
const (
	RoleRebalancer = "rebalancer"
	RoleOps        = "ops"
	RoleViewer     = "viewer"
)

// HashToken is the hex SHA-256 of a token, as AuthConfig stores it.
func HashToken(tok string) string { return sha256Hex([]byte(tok)) }

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Load reads and validates a config file.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes strict YAML (unknown keys are errors; exactly one document), applies defaults and validates.
func Parse(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 1<<20 {
		return nil, errors.New("config larger than 1 MiB")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty config")
		}
		return nil, fmt.Errorf("decode: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("config must be a single YAML document")
	}
	c.applyDefaults()
	c.Hash = sha256Hex(data)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if len(c.Instruments) == 0 {
		c.Instruments = []string{"BTC-USDT-PERP"}
	}
	if c.Clock.Speed == 0 {
		c.Clock.Speed = 1
	}
	if c.Journal.Dir == "" {
		c.Journal.Dir = "data/journal"
	}
	if m := c.Market; m != nil {
		if m.ImpactHalfLife == 0 {
			m.ImpactHalfLife = 60 * time.Second
		}
		if m.CouplingHalfLife == 0 {
			m.CouplingHalfLife = 2 * time.Second
		}
		if m.Step == 0 {
			m.Step = 100 * time.Millisecond
		}
	}
	for i := range c.Venues {
		v := &c.Venues[i]
		if v.Weight == nil {
			one := decimal.NewFromInt(1)
			v.Weight = &one
		}
		if v.Mock != nil {
			if v.Mock.HalfSpreadBps == 0 {
				v.Mock.HalfSpreadBps = 0.5
			}
			if v.Mock.ImpactY == 0 {
				v.Mock.ImpactY = 0.7
			}
		}
	}
	t := &c.TWAP
	if t.MeanInterval == 0 {
		t.MeanInterval = 20 * time.Second
	}
	if t.EndBuffer == 0 {
		t.EndBuffer = 5 * time.Second
	}
	if t.StartJitter == nil {
		d := 30 * time.Second
		t.StartJitter = &d
	}
	if t.Catchup == 0 {
		t.Catchup = time.Minute
	}
	if t.Execution == "" {
		t.Execution = "maker_first"
	}
	if t.MakerTolerance == 0 {
		t.MakerTolerance = 0.1
	}
	if t.FundingShift == nil {
		f := min(0.05, t.MakerTolerance/2)
		t.FundingShift = &f
	}
	if t.RetryInterval == 0 {
		t.RetryInterval = 2 * time.Second
	}
	r := &c.Risk
	if r.DefaultMaxSlippageBps == 0 {
		r.DefaultMaxSlippageBps = 50
	}
	if r.MaxSlippageBps == 0 {
		r.MaxSlippageBps = 500
	}
	if r.State == "" {
		r.State = "active"
	}
	if r.BreakerFailures == 0 {
		r.BreakerFailures = 5
	}
	if r.BreakerOpenTimeout == 0 {
		r.BreakerOpenTimeout = 30 * time.Second
	}
	if r.BreakerMinRequests == 0 {
		r.BreakerMinRequests = 10
	}
	if r.BreakerWindow == 0 {
		r.BreakerWindow = time.Minute
	}
	if r.BreakerProbes == 0 {
		r.BreakerProbes = 1
	}
	if r.MaxConsecutiveRejects == 0 {
		r.MaxConsecutiveRejects = 3
	}
	rc := &c.Reconcile
	if rc.Interval == 0 {
		rc.Interval = 10 * time.Second
	}
	if rc.MinGap == 0 {
		rc.MinGap = time.Second
	}
	if rc.CorrectDuration == 0 {
		rc.CorrectDuration = 2 * time.Minute
	}
	if rc.MaxCorrections == 0 {
		rc.MaxCorrections = 3
	}
}

var (
	nameRe  = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
	envRe   = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	hexRe   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	protos  = map[string]bool{"binance": true, "bybit": true, "okx": true}
	roleSet = map[string]bool{RoleRebalancer: true, RoleOps: true, RoleViewer: true}
)

// Validate checks the whole config and returns every problem it finds, joined.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if _, _, err := splitHostPort(c.Listen); err != nil {
		add("listen %q: %v", c.Listen, err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("log_level %q: want debug, info, warn or error", c.LogLevel)
	}
	seenInst := map[string]bool{}
	for _, in := range c.Instruments {
		if _, _, err := venues.ParseInstrument(in); err != nil {
			add("instruments: %v", err)
		}
		if seenInst[in] {
			add("instruments: %s listed twice", in)
		}
		seenInst[in] = true
	}
	if c.Clock.Speed <= 0 || c.Clock.Speed > 10000 {
		add("clock.speed %v: want 0 < speed <= 10000", c.Clock.Speed)
	}
	if len(c.Venues) == 0 {
		add("venues: at least one venue is required")
	}
	if rc := c.Reconcile; rc.Interval < time.Second || rc.Interval > time.Hour {
		add("reconcile.interval %s: want 1s..1h", rc.Interval)
	}
	if rc := c.Reconcile; rc.MinGap < time.Millisecond || rc.MinGap > time.Hour {
		add("reconcile.min_gap %s: want 1ms..1h", rc.MinGap)
	}
	if rc := c.Reconcile; rc.ToleranceBase.IsNegative() || rc.ToleranceNotional.IsNegative() {
		add("reconcile: tolerances must not be negative")
	}
	if rc := c.Reconcile; rc.CorrectDuration < 10*time.Second || rc.CorrectDuration > 24*time.Hour {
		add("reconcile.correct_duration %s: want 10s..24h", rc.CorrectDuration)
	}
	if rc := c.Reconcile; rc.MaxCorrections < 0 || rc.MaxCorrections > 100 {
		add("reconcile.max_corrections %d: want 0..100 (0: the default, 3)", rc.MaxCorrections)
	}
	seen := map[string]bool{}
	anyMock := false
	for i, v := range c.Venues {
		where := fmt.Sprintf("venues[%d] (%s)", i, v.Name)
		if !nameRe.MatchString(v.Name) {
			add("%s: name must match %s", where, nameRe)
		}
		if seen[v.Name] {
			add("%s: duplicate venue name", where)
		}
		seen[v.Name] = true
		if !protos[v.Protocol] {
			add("%s: protocol %q: want binance, bybit or okx", where, v.Protocol)
		}
		if v.Weight.IsNegative() || v.Weight.GreaterThan(decimal.NewFromInt(100)) {
			add("%s: weight %s: want 0..100", where, v.Weight)
		}
		if v.CallTimeout < 0 || v.CallTimeout > 2*time.Minute {
			add("%s: call_timeout %s: want 0 (the default) up to 2m", where, v.CallTimeout)
		}
		for inst, cp := range v.Caps {
			if !seenInst[inst] {
				add("%s: caps for %s, which is not in instruments", where, inst)
			}
			if cp.MaxPosition.IsNegative() {
				add("%s: caps.%s.max_position %s: must not be negative", where, inst, cp.MaxPosition)
			}
			if cp.MaxParticipation.IsNegative() || cp.MaxParticipation.GreaterThan(decimal.NewFromInt(1)) {
				add("%s: caps.%s.max_participation %s: want 0..1", where, inst, cp.MaxParticipation)
			}
		}
		if v.Mock != nil {
			anyMock = true
			if v.RESTURL != "" || v.WSURL != "" || v.APIKeyEnv != "" || v.APISecretEnv != "" || v.APIPassphraseEnv != "" {
				add("%s: a mock venue takes no rest_url, ws_url or credentials", where)
			}
			m := v.Mock
			if m.VolumeShare <= 0 || m.VolumeShare > 1 {
				add("%s: mock.volume_share %v: want 0 < share <= 1", where, m.VolumeShare)
			}
			if m.HalfSpreadBps < 0 || m.ImpactY < 0 || m.TakerFeeBps < 0 || m.MakerFeeBps < 0 {
				add("%s: mock spread, impact and fees must not be negative", where)
			}
			if m.EntryPrice.IsNegative() {
				add("%s: mock.entry_price must not be negative", where)
			}
			for in := range m.Positions {
				if !seenInst[in] {
					add("%s: mock.positions: instrument %s is not in instruments", where, in)
				}
			}
		} else {
			for _, u := range []struct{ key, val string }{{"rest_url", v.RESTURL}, {"ws_url", v.WSURL}} {
				pu, err := url.Parse(u.val)
				if u.val == "" || err != nil || pu.Host == "" {
					add("%s: %s %q: want an absolute URL (or a mock: section)", where, u.key, u.val)
				}
			}
			if !envRe.MatchString(v.APIKeyEnv) || !envRe.MatchString(v.APISecretEnv) {
				add("%s: api_key_env and api_secret_env must name environment variables", where)
			}
			if (v.Protocol == "okx") != (v.APIPassphraseEnv != "") {
				add("%s: api_passphrase_env is required for okx and taken by no other protocol", where)
			} else if v.APIPassphraseEnv != "" && !envRe.MatchString(v.APIPassphraseEnv) {
				add("%s: api_passphrase_env must name an environment variable", where)
			}
		}
	}
	if anyMock && c.Market == nil {
		add("market: required when a venue is a mock")
	}
	if m := c.Market; m != nil {
		if m.StartPrice <= 0 {
			add("market.start_price must be positive")
		}
		if m.AnnualVolatility < 0 || m.AnnualVolatility > 5 {
			add("market.annual_volatility %v: want 0..5", m.AnnualVolatility)
		}
		if m.TotalVolume24h <= 0 {
			add("market.total_volume_24h must be positive")
		}
		if m.ImpactHalfLife < 0 || m.CouplingHalfLife < 0 || m.Step < time.Millisecond {
			add("market: half-lives must not be negative and step must be at least 1ms")
		}
		for inst, o := range m.Others {
			if !seenInst[inst] || (len(c.Instruments) > 0 && inst == c.Instruments[0]) {
				add("market.others: %s must be one of instruments after the first (the market section's own)", inst)
			}
			if o.StartPrice <= 0 || o.TotalVolume24h <= 0 || o.AnnualVolatility < 0 || o.AnnualVolatility > 5 {
				add("market.others.%s: start_price and total_volume_24h must be positive, annual_volatility 0..5", inst)
			}
		}
		if anyMock && len(c.Instruments) > 1 {
			for _, inst := range c.Instruments[1:] {
				if _, ok := m.Others[inst]; !ok {
					add("market.others: %s is traded on a mock venue but has no market", inst)
				}
			}
		}
	}
	t := c.TWAP
	if t.MeanInterval < time.Second {
		add("twap.mean_interval %v: want at least 1s", t.MeanInterval)
	}
	if !(t.IntervalCV >= 0 && t.IntervalCV <= twap.MaxIntervalCV) {
		add("twap.interval_cv %v: want 0 (time_jitter) to %v", t.IntervalCV, twap.MaxIntervalCV)
	}
	if t.TimeJitter < 0 || t.TimeJitter > 1 || t.SizeJitter < 0 || t.SizeJitter > 1 {
		add("twap: time_jitter and size_jitter must be within 0..1")
	}
	if t.Execution != "maker_first" && t.Execution != "taker" {
		add("twap.execution %q: want maker_first or taker", t.Execution)
	}
	if !(t.MakerTolerance > 0 && t.MakerTolerance <= 1) {
		add("twap.maker_tolerance %v: want within (0, 1]", t.MakerTolerance)
	}
	if !(t.MakerAhead >= 0 && t.MakerAhead < 1) {
		add("twap.maker_ahead %v: want within [0, 1)", t.MakerAhead)
	}
	if t.FundingShift != nil && !(*t.FundingShift >= 0 && *t.FundingShift <= t.MakerTolerance/2) {
		add("twap.funding_shift %v: want within [0, maker_tolerance/2 = %v]", *t.FundingShift, t.MakerTolerance/2)
	}
	if t.StartJitter != nil && *t.StartJitter < 0 {
		add("twap.start_jitter %s: must not be negative", *t.StartJitter)
	}
	if t.EndBuffer < 0 || t.Catchup < 0 || t.RetryInterval <= 0 {
		add("twap: end_buffer and catchup must not be negative, retry_interval must be positive")
	}
	r := c.Risk
	if r.MaxChildNotional.IsNegative() || r.MaxOrderNotional.IsNegative() {
		add("risk: notional limits must not be negative")
	}
	if r.DefaultMaxSlippageBps < 1 || r.MaxSlippageBps < r.DefaultMaxSlippageBps || r.MaxSlippageBps > 5000 {
		add("risk: want 1 <= default_max_slippage_bps <= max_slippage_bps <= 5000")
	}
	switch r.State {
	case "active", "reducing", "halted":
	default:
		add("risk.state %q: want active, reducing or halted", r.State)
	}
	if r.BreakerOpenTimeout < 0 || r.MaxConsecutiveRejects < 1 {
		add("risk: breaker_open_timeout must not be negative, max_consecutive_rejects at least 1")
	}
	if r.BreakerFailureRatio < 0 || r.BreakerFailureRatio > 1 || r.BreakerWindow < 0 {
		add("risk: breaker_failure_ratio %v: want 0 (off) or a share in (0, 1]; breaker_window must not be negative",
			r.BreakerFailureRatio)
	}
	if len(c.Auth.Tokens) == 0 {
		add("auth.tokens: at least one token is required")
	}
	names := map[string]bool{}
	for i, tk := range c.Auth.Tokens {
		if tk.Name == "" || names[tk.Name] {
			add("auth.tokens[%d]: name empty or duplicate", i)
		}
		names[tk.Name] = true
		if !roleSet[tk.Role] {
			add("auth.tokens[%d] (%s): role %q: want rebalancer, ops or viewer", i, tk.Name, tk.Role)
		}
		if !hexRe.MatchString(tk.SHA256) {
			add("auth.tokens[%d] (%s): sha256 must be 64 lowercase hex digits", i, tk.Name)
		}
	}
	if len(c.ClientIDSalt) < 8 {
		add("client_id_salt: at least 8 characters")
	}
	return errors.Join(errs...)
}

// Reloadable reports nil if next differs from c only in what a reload may change: venue weights and enabled
// flags, twap and risk parameters, log level. Otherwise it names what would need a restart.
func (c *Config) Reloadable(next *Config) error {
	var errs []error
	if c.Listen != next.Listen {
		errs = append(errs, errors.New("listen"))
	}
	if !equalStrings(c.Instruments, next.Instruments) {
		errs = append(errs, errors.New("instruments"))
	}
	if c.Clock != next.Clock {
		errs = append(errs, errors.New("clock"))
	}
	if !reflect.DeepEqual(c.Market, next.Market) {
		errs = append(errs, errors.New("market"))
	}
	if len(c.Venues) != len(next.Venues) {
		errs = append(errs, errors.New("the set of venues"))
	} else {
		for i := range c.Venues {
			a, b := c.Venues[i], next.Venues[i]
			if a.Name != b.Name || a.Protocol != b.Protocol || a.RESTURL != b.RESTURL || a.WSURL != b.WSURL ||
				a.APIKeyEnv != b.APIKeyEnv || a.APISecretEnv != b.APISecretEnv || a.APIPassphraseEnv != b.APIPassphraseEnv ||
				(a.Mock == nil) != (b.Mock == nil) {
				errs = append(errs, fmt.Errorf("venue %s endpoints or credentials", a.Name))
			}
		}
	}
	if c.Journal != next.Journal {
		errs = append(errs, errors.New("journal"))
	}
	if c.ClientIDSalt != next.ClientIDSalt {
		errs = append(errs, errors.New("client_id_salt"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("needs a restart: %w", err)
	}
	return nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
