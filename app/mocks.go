package app

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/mocks/market"
	"github.com/execd-dev/execd/secret"
)

// MockVenue is one mock venue running on loopback.
type MockVenue struct {
	Name       string
	Protocol   string
	RESTURL    string
	WSURL      string
	APIKey     string
	Secret     secret.String
	Passphrase secret.String
	Control    MockControl
	server     mockServer
}

// Mocks are the simulated market and its mock venues.
type Mocks struct {
	Market  *market.Market            // the first instrument's
	Markets map[string]*market.Market // every instrument's, the first's included
	Venues  []*MockVenue
}

// Close stops every mock venue.
func (m *Mocks) Close() {
	for _, v := range m.Venues {
		_ = v.server.Close()
	}
}

// Venue returns a mock venue by name.
func (m *Mocks) Venue(name string) *MockVenue {
	for _, v := range m.Venues {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// MockCredentials says where a mock venue's API key and secret come from: the environment variables
// EXECD_MOCK_<NAME>_KEY and EXECD_MOCK_<NAME>_SECRET when both are set; otherwise fresh random ones for a mock
// started in-process (nobody else needs them), or the fixed mock-<name>-key / mock-<name>-secret for a standalone
// `execd mocks` process, so that a daemon in another process can be pointed at it.
func MockCredentials(name string, getenv func(string) string, standalone bool) (string, secret.String, error) {
	n := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	k, s := getenv("EXECD_MOCK_"+n+"_KEY"), getenv("EXECD_MOCK_"+n+"_SECRET")
	if k != "" && s != "" {
		return k, secret.New(s), nil
	}
	if k != "" || s != "" {
		return "", secret.String{}, fmt.Errorf("mock venue %s: set both EXECD_MOCK_%s_KEY and EXECD_MOCK_%s_SECRET, or neither", name, n, n)
	}
	if standalone {
		return "mock-" + name + "-key", secret.New("mock-" + name + "-secret"), nil
	}
	kb, sb := make([]byte, 16), make([]byte, 32)
	if _, err := rand.Read(kb); err != nil {
		return "", secret.String{}, err
	}
	if _, err := rand.Read(sb); err != nil {
		return "", secret.String{}, err
	}
	return hex.EncodeToString(kb), secret.New(hex.EncodeToString(sb)), nil
}

// MarketConfig is the simulated market that cfg's mock venues trade on: its market section and, per mock venue,
// the book's volume share, spread, impact and fees on the venue protocol's tick and lot grids. It also returns
// those venues' configs, in config order. It is the first instrument's market; marketConfigFor gives another's.
func MarketConfig(cfg *config.Config) (market.Config, []config.VenueConfig, error) {
	return marketConfigFor(cfg, cfg.Instruments[0])
}

// marketConfigFor is one instrument's simulated market: the first instrument's from the market section, another's
// from market.others, both with the mock venues' books on their protocol's grids for that instrument.
func marketConfigFor(cfg *config.Config, inst string) (market.Config, []config.VenueConfig, error) {
	if cfg.Market == nil {
		return market.Config{}, nil, fmt.Errorf("no market section")
	}
	mc := market.Config{
		Seed: cfg.Market.Seed, StartPrice: cfg.Market.StartPrice, AnnualVolatility: cfg.Market.AnnualVolatility,
		TotalVolume24h: cfg.Market.TotalVolume24h, ImpactHalfLife: cfg.Market.ImpactHalfLife,
		CouplingHalfLife: cfg.Market.CouplingHalfLife, BasisNoiseBps: cfg.Market.BasisNoiseBps,
		FundingRate8h: cfg.Market.FundingRate8h, Step: cfg.Market.Step,
		InformedShare: cfg.Market.InformedShare, InformedHalfLives: cfg.Market.InformedHalfLives,
		InformedFollow: cfg.Market.InformedFollow,
	}
	if inst != cfg.Instruments[0] {
		o, ok := cfg.Market.Others[inst]
		if !ok {
			return market.Config{}, nil, fmt.Errorf("no market for %s (market.others)", inst)
		}
		mc.StartPrice, mc.AnnualVolatility, mc.TotalVolume24h = o.StartPrice, o.AnnualVolatility, o.TotalVolume24h
		mc.Seed = cfg.Market.Seed*7919 + int64(len(inst))*104729 + int64(inst[0]) // its own noise, reproducible
	}
	protos := protocols()
	var mocked []config.VenueConfig
	for _, v := range cfg.Venues {
		if v.Mock == nil {
			continue
		}
		pr, ok := protos[v.Protocol]
		if !ok {
			return market.Config{}, nil, fmt.Errorf("mock venue %s: %w", v.Name, unknownProtocol(v.Protocol))
		}
		g, ok := pr.grids[inst]
		if !ok {
			return market.Config{}, nil, fmt.Errorf("mock venue %s: the %s mock does not list %s", v.Name, v.Protocol, inst)
		}
		mocked = append(mocked, v)
		mc.Venues = append(mc.Venues, market.VenueConfig{
			Name: v.Name, VolumeShare: v.Mock.VolumeShare, HalfSpreadBps: v.Mock.HalfSpreadBps, ImpactY: v.Mock.ImpactY,
			TakerFeeBps: v.Mock.TakerFeeBps, MakerFeeBps: v.Mock.MakerFeeBps, BasisBps: v.Mock.BasisBps,
			TickSize: g.tick, LotSize: g.lot,
		})
	}
	return mc, mocked, nil
}

// StartMocks starts the simulated market of each instrument and every mock venue of cfg on loopback, each speaking
// its protocol. standalone selects the fixed fallback credentials (see MockCredentials).
func StartMocks(cfg *config.Config, clk clock.Clock, log *zap.Logger, getenv func(string) string, standalone bool) (*Mocks, error) {
	mc, mocked, err := MarketConfig(cfg)
	if err != nil {
		return nil, err
	}
	protos := protocols()
	mkt, err := market.New(mc, clk)
	if err != nil {
		return nil, fmt.Errorf("simulated market: %w", err)
	}
	ms := &Mocks{Market: mkt, Markets: map[string]*market.Market{cfg.Instruments[0]: mkt}}
	fail := func(err error) (*Mocks, error) {
		ms.Close()
		return nil, err
	}
	for _, inst := range cfg.Instruments[1:] {
		omc, _, err := marketConfigFor(cfg, inst)
		if err != nil {
			return fail(err)
		}
		if ms.Markets[inst], err = market.New(omc, clk); err != nil {
			return fail(fmt.Errorf("simulated market of %s: %w", inst, err))
		}
	}
	for _, v := range mocked {
		book, err := mkt.Venue(v.Name)
		if err != nil {
			return fail(err)
		}
		more := map[string]*market.Venue{}
		for _, inst := range cfg.Instruments[1:] {
			if more[inst], err = ms.Markets[inst].Venue(v.Name); err != nil {
				return fail(err)
			}
		}
		key, sec, err := MockCredentials(v.Name, getenv, standalone)
		if err != nil {
			return fail(err)
		}
		pass := secret.New("mock-" + v.Name + "-passphrase")
		srv, ctl, err := protos[v.Protocol].mock(mockParams{name: v.Name, book: book, more: more, mock: *v.Mock, key: key,
			secret: sec, passphrase: pass, clk: clk, log: log.With(zap.String("mock", v.Name))})
		if err != nil {
			return fail(fmt.Errorf("mock venue %s: %w", v.Name, err))
		}
		addr := v.Mock.Listen
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		if err := srv.Start(addr); err != nil {
			return fail(fmt.Errorf("mock venue %s: %w", v.Name, err))
		}
		mv := &MockVenue{Name: v.Name, Protocol: v.Protocol, RESTURL: srv.URL(), WSURL: srv.WSURL(), APIKey: key,
			Secret: sec, Passphrase: pass, Control: ctl, server: srv}
		ms.Venues = append(ms.Venues, mv)
		for inst, q := range v.Mock.Positions {
			// The configured entry price is the first instrument's; another's positions open at its start price.
			entry := v.Mock.EntryPrice
			if !entry.IsPositive() || inst != cfg.Instruments[0] {
				entry = decimal.NewFromFloat(cfg.Market.StartPrice)
				if o, ok := cfg.Market.Others[inst]; ok {
					entry = decimal.NewFromFloat(o.StartPrice)
				}
			}
			if err := ctl.SetPosition(inst, q, entry); err != nil {
				return fail(fmt.Errorf("mock venue %s: position %s: %w", v.Name, inst, err))
			}
		}
	}
	return ms, nil
}

// SimClock is the simulated clock a config asks for: anchored at its epoch if it has one (so processes agree),
// else starting now.
func simClock(c config.ClockConfig) clock.Clock {
	if !c.Epoch.IsZero() {
		return clock.NewScaledFrom(c.Epoch, c.Speed)
	}
	return clock.NewScaled(time.Now().UTC().Truncate(time.Second), c.Speed)
}

// SimClock is exported for `execd mocks`.
func SimClock(c config.ClockConfig) clock.Clock { return simClock(c) }
