package config

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestSeedConfigLoads(t *testing.T) {
	c, err := Load("../configs/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Venues) != 2 || c.Venues[0].Name != "a" || c.Venues[1].Mock.VolumeShare != 0.6 {
		t.Fatalf("venues = %+v", c.Venues)
	}
	if !c.Venues[0].Mock.Positions["BTC-USDT-PERP"].Equal(decimal.RequireFromString("-4.795")) {
		t.Fatalf("position a = %s", c.Venues[0].Mock.Positions["BTC-USDT-PERP"])
	}
	if !c.Venues[0].Weight.Equal(decimal.NewFromInt(1)) || !c.Risk.MaxChildNotional.Equal(decimal.NewFromInt(50000)) {
		t.Fatalf("weight %s, max child %s", c.Venues[0].Weight, c.Risk.MaxChildNotional)
	}
	if c.Market.ImpactHalfLife.Seconds() != 60 {
		t.Fatalf("impact half-life %v", c.Market.ImpactHalfLife)
	}
}

func TestParseRejects(t *testing.T) {
	base, err := os.ReadFile("../configs/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, from, to, want string
	}{
		{"unknown key", "log_level: info", "log_level: info\nbogus: 1", "field bogus not found"},
		{"bad level", "log_level: info", "log_level: loud", "log_level"},
		{"bad instrument", "instruments: [BTC-USDT-PERP]", "instruments: [BTCUSDT]", "BASE-QUOTE-PERP"},
		{"bad protocol", "protocol: binance\n    weight: 1\n    mock:\n      volume_share: 0.40", "protocol: ftx\n    weight: 1\n    mock:\n      volume_share: 0.40", "protocol"},
		{"negative weight", "weight: 1\n    mock:\n      volume_share: 0.40", "weight: -1\n    mock:\n      volume_share: 0.40", "weight"},
		{"bad share", "volume_share: 0.40", "volume_share: 1.5", "volume_share"},
		{"bad decimal", "max_child_notional: 50000", "max_child_notional: lots", "decode"},
		{"bad duration", "mean_interval: 10s", "mean_interval: soon", "decode"},
		{"jitter", "time_jitter: 0.8", "time_jitter: 2", "jitter"},
		{"maker ahead", "time_jitter: 0.8", "time_jitter: 0.8\n  maker_ahead: 1", "twap.maker_ahead"},
		{"maker ahead negative", "time_jitter: 0.8", "time_jitter: 0.8\n  maker_ahead: -0.1", "twap.maker_ahead"},
		{"state", "state: active", "state: paused", "risk.state"},
		{"role", "role: ops", "role: admin", "role"},
		{"token hash", "sha256: 9d121d994c8c0ac8cc7786f5c0c775588c389b87416c38dd89acdefde3757d21", "sha256: abc", "sha256"},
		{"salt", "client_id_salt: dev-salt-change-me", "client_id_salt: x", "client_id_salt"},
		{"position instrument", "positions: {BTC-USDT-PERP: -4.795}", "positions: {ETH-USDT-PERP: -4.795}", "not in instruments"},
		{"cap instrument", "    weight: 1\n    mock:\n      volume_share: 0.40", "    weight: 1\n    caps: {ETH-USDT-PERP: {max_position: 5}}\n    mock:\n      volume_share: 0.40", "not in instruments"},
		{"cap negative", "    weight: 1\n    mock:\n      volume_share: 0.40", "    weight: 1\n    caps: {BTC-USDT-PERP: {max_position: -5}}\n    mock:\n      volume_share: 0.40", "max_position"},
		{"cap participation", "    weight: 1\n    mock:\n      volume_share: 0.40", "    weight: 1\n    caps: {BTC-USDT-PERP: {max_participation: 1.5}}\n    mock:\n      volume_share: 0.40", "max_participation"},
		{"cap unknown key", "    weight: 1\n    mock:\n      volume_share: 0.40", "    weight: 1\n    caps: {BTC-USDT-PERP: {max_size: 1}}\n    mock:\n      volume_share: 0.40", "max_size"},
		{"reconcile interval", "log_level: info", "log_level: info\nreconcile: {interval: 10ms}", "reconcile.interval"},
		{"reconcile tolerance", "log_level: info", "log_level: info\nreconcile: {tolerance_base: -1}", "tolerances"},
		{"two docs", "log_level: info", "log_level: info\n---\nlisten: x", "single YAML document"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := strings.Replace(string(base), tc.from, tc.to, 1)
			if s == string(base) {
				t.Fatalf("replacement %q not found", tc.from)
			}
			_, err := Parse(strings.NewReader(s))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestExternalVenueNeedsEndpoints(t *testing.T) {
	y := `
client_id_salt: 12345678
venues:
  - name: x
    protocol: binance
    rest_url: https://fapi.binance.com
    ws_url: ""
    api_key_env: K
    api_secret_env: lower
auth: {tokens: [{name: r, role: viewer, sha256: ce2bc80df24ceeb9021f86ebb9b2ad727af4f9fabb308232bd168b16f1de2526}]}
`
	_, err := Parse(strings.NewReader(y))
	if err == nil || !strings.Contains(err.Error(), "ws_url") || !strings.Contains(err.Error(), "environment") {
		t.Fatalf("err = %v", err)
	}
}

func TestReloadable(t *testing.T) {
	a, err := Load("../configs/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Load("../configs/seed.yaml")
	w := decimal.RequireFromString("0.5")
	b.Venues[0].Weight = &w
	b.TWAP.MeanInterval *= 2
	if err := a.Reloadable(b); err != nil {
		t.Fatalf("weights and twap should reload: %v", err)
	}
	b.Listen = "127.0.0.1:9"
	if err := a.Reloadable(b); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("listen change must need a restart: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	base, err := os.ReadFile("../configs/seed.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(base)
	f.Add([]byte("venues: [{name: a}]"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(bytes.NewReader(data))
		if err == nil {
			if err := c.Validate(); err != nil {
				t.Fatalf("Parse accepted a config Validate rejects: %v", err)
			}
		}
	})
}

func TestDefaultConfigLoads(t *testing.T) {
	if _, err := Load("../configs/execd.yaml"); err != nil {
		t.Fatal(err)
	}
}
