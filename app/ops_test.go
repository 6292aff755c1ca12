package app_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/configs"
)

// fileSource stands for the config file a serving daemon reloads from: the test rewrites it between reloads.
type fileSource struct {
	mu  sync.Mutex
	cfg *config.Config
}

func (f *fileSource) set(c *config.Config) {
	f.mu.Lock()
	f.cfg = c
	f.mu.Unlock()
}

func (f *fileSource) load() (*config.Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg, nil
}

func venueRow(t *testing.T, a *app.App, name string) api.VenueStatus {
	t.Helper()
	var body struct {
		Venues []api.VenueStatus `json:"venues"`
	}
	if code := call(t, a, viewerToken, "GET", "/v1/venues", nil, &body); code != 200 {
		t.Fatalf("venues: %d", code)
	}
	for _, v := range body.Venues {
		if v.Venue == name {
			return v
		}
	}
	t.Fatalf("venue %s not listed", name)
	return api.VenueStatus{}
}

func wantVenue(t *testing.T, a *app.App, name, weight string, enabled bool) {
	t.Helper()
	if v := venueRow(t, a, name); !v.Weight.Equal(d(weight)) || v.Enabled != enabled {
		t.Fatalf("venue %s: weight %s enabled %v, want %s %v", name, v.Weight, v.Enabled, weight, enabled)
	}
}

const ops2Token = "test-ops-token-2"

// TestOpsWordHolds: ops' changes overlay the config file. A reload between two ops changes keeps both and applies
// the file's values beneath them (weights, tokens, log level); a reset returns a venue to the file's values; a
// refused reload changes nothing and says why; the audit lists every change and reload with its actor and time;
// a restart on the same journal brings the overlay back over the file.
func TestOpsWordHolds(t *testing.T) {
	dir := t.TempDir()
	src := &fileSource{}
	file := func(aWeight, bWeight, level string, hash string, extraToken bool) *config.Config {
		return testConfig(t, configs.Seed, func(c *config.Config) {
			wa, wb := d(aWeight), d(bWeight)
			c.Venues[0].Weight, c.Venues[1].Weight = &wa, &wb
			c.LogLevel, c.Hash = level, hash
			if extraToken {
				c.Auth.Tokens = append(c.Auth.Tokens, config.TokenConfig{Name: "o2", Role: config.RoleOps, SHA256: config.HashToken(ops2Token)})
			}
		})
	}
	first := file("1", "1", "info", "h1", false)
	src.set(first)
	lvl := zap.NewAtomicLevelAt(zapcore.InfoLevel)
	a := startUnowned(t, first, 40, app.Options{JournalDir: dir, ConfigSource: src.load, Level: &lvl})
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	}
	defer stop()
	if a.Venues(context.Background())[0].Venue != "a" {
		t.Fatal("the seed config's first venue is not a")
	}

	// Ops change 1: a's weight.
	if code := call(t, a, opsToken, "PUT", "/v1/venues/a", map[string]any{"weight": "0.5"}, nil); code != 200 {
		t.Fatalf("put a: %d", code)
	}
	// The file changes b's weight, the log level and adds a token; the reload applies them beneath ops' a.
	src.set(file("1", "3", "warn", "h2", true))
	var rr api.ReloadResult
	if code := call(t, a, opsToken, "POST", "/v1/config/reload", nil, &rr); code != 200 || rr.ConfigHash != "h2" {
		t.Fatalf("reload: %d %+v", code, rr)
	}
	wantVenue(t, a, "a", "0.5", true)
	wantVenue(t, a, "b", "3", true)
	if lvl.Level() != zapcore.WarnLevel {
		t.Fatalf("log level %s after the reload, want warn", lvl.Level())
	}
	// Ops change 2, by the token the reload added: b off.
	if code := call(t, a, ops2Token, "PUT", "/v1/venues/b", map[string]any{"enabled": false}, nil); code != 200 {
		t.Fatalf("put b by the reloaded token: %d", code)
	}
	// Another reload (a's weight changes in the file): both ops changes hold.
	src.set(file("2", "3", "warn", "h3", true))
	if code := call(t, a, opsToken, "POST", "/v1/config/reload", nil, nil); code != 200 {
		t.Fatalf("second reload: %d", code)
	}
	wantVenue(t, a, "a", "0.5", true)
	wantVenue(t, a, "b", "3", false)
	// Reset a: back to the file's weight (2); b keeps ops' word.
	if code := call(t, a, opsToken, "PUT", "/v1/venues/a", map[string]any{"reset": true}, nil); code != 200 {
		t.Fatalf("reset a: %d", code)
	}
	wantVenue(t, a, "a", "2", true)
	wantVenue(t, a, "b", "3", false)
	// A reset with a weight is refused, and changes nothing.
	var eb api.ErrorBody
	if code := call(t, a, opsToken, "PUT", "/v1/venues/a", map[string]any{"reset": true, "weight": "1"}, &eb); code != 400 {
		t.Fatalf("reset with a weight: %d %+v", code, eb)
	}
	// A reload the running daemon cannot take (the listen address needs a restart) is refused with the reason,
	// and changes nothing.
	bad := file("5", "5", "debug", "h4", true)
	bad.Listen = "127.0.0.1:1"
	src.set(bad)
	if code := call(t, a, opsToken, "POST", "/v1/config/reload", nil, &eb); code != http.StatusConflict ||
		eb.Error.Code != "reload_refused" || !strings.Contains(eb.Error.Message, "listen") {
		t.Fatalf("bad reload: %d %+v", code, eb)
	}
	wantVenue(t, a, "a", "2", true)
	wantVenue(t, a, "b", "3", false)
	if lvl.Level() != zapcore.WarnLevel {
		t.Fatalf("log level %s after a refused reload, want warn", lvl.Level())
	}
	// Who may reload: ops only.
	for _, tok := range []string{rebalancerToken, viewerToken} {
		if code := call(t, a, tok, "POST", "/v1/config/reload", nil, nil); code != http.StatusForbidden {
			t.Fatalf("reload by a non-ops token: %d", code)
		}
	}
	if code := call(t, a, opsToken, "PUT", "/v1/trading-state", map[string]string{"state": "reducing"}, nil); code != 200 {
		t.Fatalf("reducing: %d", code)
	}

	// The audit: every change and reload, in order, with its actor and time.
	var al api.AuditList
	if code := call(t, a, viewerToken, "GET", "/v1/audit", nil, &al); code != 200 {
		t.Fatalf("audit: %d", code)
	}
	want := []struct{ actor, kind, what string }{
		{"o", "venue", "a weight 0.5"},
		{"o", "config_reload", "h2"},
		{"o2", "venue", "b enabled false"},
		{"o", "config_reload", "h3"},
		{"o", "venue", "a reset"},
		{"o", "config_reload", "refused"},
		{"o", "trading_state", "reducing"},
	}
	if len(al.Entries) != len(want) {
		t.Fatalf("audit has %d entries, want %d: %+v", len(al.Entries), len(want), al.Entries)
	}
	for i, e := range al.Entries {
		w := want[i]
		var what string
		switch {
		case e.Kind == "venue" && e.Reset:
			what = e.Venue + " reset"
		case e.Kind == "venue" && e.Weight != nil:
			what = e.Venue + " weight " + e.Weight.String()
		case e.Kind == "venue" && e.Enabled != nil && !*e.Enabled:
			what = e.Venue + " enabled false"
		case e.Kind == "config_reload" && e.Refused != "":
			what = "refused"
		case e.Kind == "config_reload":
			what = e.ConfigHash
		case e.Kind == "trading_state":
			what = e.State
		}
		if e.Actor != w.actor || e.Kind != w.kind || what != w.what || e.Time.IsZero() || (i > 0 && e.Seq <= al.Entries[i-1].Seq) {
			t.Fatalf("audit entry %d: %+v (%q), want %+v", i, e, what, w)
		}
	}
	if code := call(t, a, viewerToken, "GET", "/v1/audit?since=5&limit=1", nil, &al); code != 200 || len(al.Entries) != 1 ||
		al.Entries[0].Kind != "config_reload" || al.Entries[0].Refused == "" {
		t.Fatalf("audit since 5, limit 1: %d %+v", code, al.Entries)
	}
	if code := call(t, a, viewerToken, "GET", "/v1/audit?limit=0", nil, &eb); code != 400 {
		t.Fatalf("audit limit 0: %d", code)
	}

	// A restart on the same journal with the file as it is now: ops' word comes back over it.
	stop()
	b := startUnowned(t, file("2", "3", "warn", "h3", true), 40, app.Options{JournalDir: dir})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	wantVenue(t, b, "a", "2", true)
	wantVenue(t, b, "b", "3", false)
	if st := b.TradingState(); st != "reducing" {
		t.Fatalf("trading state after restart: %s", st)
	}
	// This daemon has no file to reload from: it says so.
	if code := call(t, b, opsToken, "POST", "/v1/config/reload", nil, &eb); code != http.StatusServiceUnavailable {
		t.Fatalf("reload without a source: %d %+v", code, eb)
	}
}
