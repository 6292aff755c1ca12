package crashtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/configs"
	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/venues"
)

const btc = "BTC-USDT-PERP"

func putTarget(addr string, body map[string]any) (int, error) {
	return call(addr, rebalancerToken, "PUT", "/v1/targets/"+btc, body, nil)
}

// waitTarget polls GET /v1/targets/{instrument} until ok holds for the current target, or the deadline.
func waitTarget(d *daemon, limit time.Duration, what string, ok func(api.Target) bool) (api.Target, error) {
	deadline := time.Now().Add(limit)
	for {
		var det api.TargetDetail
		if _, err := call(d.addr, viewerToken, "GET", "/v1/targets/"+btc, nil, &det); err != nil {
			return api.Target{}, err
		}
		if det.Target != nil && ok(*det.Target) {
			return *det.Target, nil
		}
		if time.Now().After(deadline) {
			return api.Target{}, fmt.Errorf("%s not within %s: %+v\n%s", what, limit, det.Target, d.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// targetTrial kills the daemon (SIGKILL) at a seeded moment while a target supersedes a running one
// ("supersede") or while a corrective parent works an external trade back ("corrective"), restarts it, and
// judges the end by the venues' records.
func targetTrial(t *testing.T, seed uint64, kind string) error {
	rng := rand.New(rand.NewPCG(seed, 0x746172676574))
	dir := t.TempDir()
	base := configs.Seed
	if seed%2 == 0 {
		base = configs.Default
	}
	cfg, err := config.Parse(bytes.NewReader(base))
	if err != nil {
		return err
	}
	cfg.Market.Seed = int64(seed)
	epoch := time.Now()
	ms, err := app.StartMocks(cfg, clock.NewScaledFrom(epoch, speed), zap.NewNop(), func(string) string { return "" }, true)
	if err != nil {
		return err
	}
	defer ms.Close()
	path := daemonConfig(t, string(base), ms, epoch, dir)
	d := startDaemon(t, path, ms, "")
	t1 := map[string]any{"id": "tg-1", "position": "-9.7734", "duration": "1m"}
	if code, err := putTarget(d.addr, t1); err != nil || code != http.StatusCreated {
		d.kill()
		return fmt.Errorf("PUT tg-1: %d %v", code, err)
	}
	final, last := "-9.7734", t1
	switch kind {
	case "supersede":
		// Some of the first target's way is traded, then a second target takes over; the kill comes at a
		// random moment of the handover.
		if _, err := waitTarget(d, 20*time.Second, "first fills", func(tg api.Target) bool {
			return tg.Aggregate.GreaterThan(decimal.RequireFromString("-11.9"))
		}); err != nil {
			d.kill()
			return err
		}
		t2 := map[string]any{"id": "tg-2", "position": "-12.2", "duration": "30s"}
		if code, err := putTarget(d.addr, t2); err != nil || code != http.StatusCreated {
			d.kill()
			return fmt.Errorf("PUT tg-2: %d %v", code, err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(1500 * time.Millisecond))))
		final, last = "-12.2", t2
	case "corrective":
		if _, err := waitTarget(d, 30*time.Second, "tg-1 reached", func(tg api.Target) bool { return tg.State == "reached" }); err != nil {
			d.kill()
			return err
		}
		if err := ms.Venues[1].Control.ExternalTrade(btc, venues.Sell, decimal.RequireFromString("0.5"), "manual0001"); err != nil {
			d.kill()
			return err
		}
		if _, err := waitTarget(d, 20*time.Second, "a corrective parent", func(tg api.Target) bool { return len(tg.Parents) >= 2 }); err != nil {
			d.kill()
			return err
		}
		time.Sleep(time.Duration(rng.Int64N(int64(1500 * time.Millisecond))))
	}
	d.kill()
	d = startDaemon(t, path, ms, "")
	defer d.stop(t)
	// The rebalancer retries its last call: idempotent across the restart.
	if code, err := putTarget(d.addr, last); err != nil || code != http.StatusOK {
		return fmt.Errorf("PUT %s again after the restart: %d %v", last["id"], code, err)
	}
	tg, err := waitTarget(d, 45*time.Second, "the target reached after the restart", func(tg api.Target) bool {
		return tg.ID == last["id"] && tg.State == "reached"
	})
	if err != nil {
		return err
	}
	return judgeTarget(d, ms, tg, final)
}

// judgeTarget checks the end against the venues' own records: the aggregate within one lot of the target, no
// client id used twice, nothing left open, the daemon's positions equal to the venues', and the venues executed
// exactly what the target parents report (no over-trading).
func judgeTarget(d *daemon, ms *app.Mocks, tg api.Target, want string) error {
	var problems []string
	total := decimal.Zero
	executed := decimal.Zero
	for _, v := range ms.Venues {
		seen := map[string]bool{}
		for _, o := range v.Control.Orders() {
			if !strings.HasPrefix(o.ClientOrderID, engine.ClientIDPrefix) {
				continue // the external trade
			}
			if seen[o.ClientOrderID] {
				problems = append(problems, fmt.Sprintf("%s: client order id %s used twice", v.Name, o.ClientOrderID))
			}
			seen[o.ClientOrderID] = true
			if o.Open {
				problems = append(problems, fmt.Sprintf("%s: order %s left open", v.Name, o.ClientOrderID))
			}
			executed = executed.Add(o.Executed)
		}
		total = total.Add(v.Control.Position(btc))
	}
	if total.Sub(decimal.RequireFromString(want)).Abs().GreaterThan(decimal.RequireFromString("0.0014")) {
		problems = append(problems, fmt.Sprintf("venues hold %s, want %s within one lot", total, want))
	}
	var pos api.PositionsView
	if _, err := call(d.addr, viewerToken, "GET", "/v1/positions", nil, &pos); err != nil {
		return err
	}
	for _, p := range pos.Venues {
		if got := ms.Venue(p.Venue).Control.Position(p.Instrument); !got.Equal(p.Position) {
			problems = append(problems, fmt.Sprintf("%s: daemon position %s, venue %s", p.Venue, p.Position, got))
		}
	}
	filled := decimal.Zero
	var ol api.OrderList
	if _, err := call(d.addr, viewerToken, "GET", "/v1/orders", nil, &ol); err != nil {
		return err
	}
	for _, o := range ol.Orders {
		if o.State == api.StateWorking {
			problems = append(problems, fmt.Sprintf("parent %s still working", o.ID))
		}
		filled = filled.Add(o.Filled)
	}
	if !filled.Equal(executed) {
		problems = append(problems, fmt.Sprintf("venues executed %s, parents filled %s", executed, filled))
	}
	if len(problems) > 0 {
		return fmt.Errorf("target %s: %s", tg.ID, strings.Join(problems, "; "))
	}
	return nil
}

// TestCrashTargets runs EXECD_TARGET_CRASH_TRIALS trials (default 4), alternating a kill during a superseding
// target and a kill during a corrective parent, on the seed's two venues and on the three protocols.
func TestCrashTargets(t *testing.T) {
	n := trials(t, "EXECD_TARGET_CRASH_TRIALS", 4, 2)
	ok := 0
	for i := 0; i < n; i++ {
		kind := []string{"supersede", "corrective"}[(i/2)%2]
		if err := targetTrial(t, uint64(i+1), kind); err != nil {
			t.Errorf("trial %d (%s): %v", i+1, kind, err)
			continue
		}
		ok++
	}
	t.Logf("target crash trials: %d ok of %d", ok, n)
}
