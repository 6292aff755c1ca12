package app_test

import (
	"bytes"
	"net/http"
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
	"github.com/execd-dev/execd/events"
	"github.com/execd-dev/execd/venues"
)

const btc = "BTC-USDT-PERP"

// watch subscribes to the daemon's target and reconcile events from the start of its retained history.
func watch(t *testing.T, a *app.App) *events.Subscription {
	t.Helper()
	sub, err := a.Events().Subscribe(events.SubscribeOptions{FromStart: true, Buffer: 4096,
		Filter: events.Filter{Kinds: []string{api.KindTarget, api.KindReconcile}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	return sub
}

// await reads events until one satisfies ok, and returns it; it fails the test after limit of wall time.
func await(t *testing.T, sub *events.Subscription, limit time.Duration, what string, ok func(events.Event) bool) events.Event {
	t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		select {
		case ev, open := <-sub.C():
			if !open {
				t.Fatalf("waiting for %s: subscription ended: %v", what, sub.Err())
			}
			if ok(ev) {
				return ev
			}
		case <-deadline.C:
			t.Fatalf("no %s within %s", what, limit)
		}
	}
}

func targetEvent(kind, id string) func(events.Event) bool {
	return func(ev events.Event) bool {
		te, ok := ev.Data.(api.TargetEvent)
		return ok && te.Kind == kind && te.TargetID == id
	}
}

// venuesHold is the instrument's position summed over the mock venues' own accounts.
func venuesHold(a *app.App, instrument string) decimal.Decimal {
	sum := decimal.Zero
	for _, mv := range a.Mocks().Venues {
		sum = sum.Add(mv.Control.Position(instrument))
	}
	return sum
}

func putTarget(t *testing.T, a *app.App, body api.TargetRequest, want int) api.Target {
	t.Helper()
	var out api.Target
	if code := call(t, a, rebalancerToken, "PUT", "/v1/targets/"+btc, body, &out); code != want {
		t.Fatalf("PUT target %s: status %d, want %d", body.ID, code, want)
	}
	return out
}

// fastReconcile: a pass every 5 s of the market clock (125 ms of wall time at ×40), at most every 20 ms of wall.
func fastReconcile(c *config.Config) {
	c.Reconcile.Interval, c.Reconcile.MinGap = 5*time.Second, 20*time.Millisecond
}

// The seed as a target: venues holding −4.795 and −7.193 and a target of −9.7734 end at −9.773 (the lot grid)
// within one lot, split by volume share, by the venues' own accounts.
func TestSeedTarget(t *testing.T) {
	a := startDaemon(t, 40, fastReconcile)
	sub := watch(t, a)
	body := api.TargetRequest{ID: "tg-seed", Position: "-9.7734", Duration: "5m"}
	created := putTarget(t, a, body, http.StatusCreated)
	if created.State != "working" || !created.Position.Equal(d("-9.7734")) {
		t.Fatalf("created: %+v", created)
	}
	putTarget(t, a, body, http.StatusOK) // idempotent retry
	other := body
	other.Position = "-9.7"
	if code := call(t, a, rebalancerToken, "PUT", "/v1/targets/"+btc, other, nil); code != http.StatusConflict {
		t.Fatalf("same id, other body: %d, want 409", code)
	}
	await(t, sub, 60*time.Second, "target reached", targetEvent("reached", "tg-seed"))
	held := venuesHold(a, btc)
	if held.Sub(d("-9.773")).Abs().GreaterThan(d("0.001")) {
		t.Fatalf("venues hold %s, want -9.773 within one lot", held)
	}
	var detail api.TargetDetail
	call(t, a, viewerToken, "GET", "/v1/targets/"+btc, nil, &detail)
	if detail.Target == nil || detail.Target.State != "reached" || len(detail.Target.Parents) == 0 {
		t.Fatalf("detail: %+v", detail)
	}
	rep, err := a.Engine().Get(detail.Target.Parents[0])
	if err != nil {
		t.Fatal(err)
	}
	if !rep.ReduceOnly || rep.Side != venues.Buy {
		t.Fatalf("the target's parent: side %s reduce-only %v", rep.Side, rep.ReduceOnly)
	}
	shares := map[string]decimal.Decimal{"a": d("0.4"), "b": d("0.6")}
	for _, v := range rep.Venues {
		if got := v.Filled.Div(rep.Filled); got.Sub(shares[v.Venue]).Abs().GreaterThan(d("0.05")) {
			t.Errorf("venue %s filled share %s, volume share %s", v.Venue, got.Round(4), shares[v.Venue])
		}
	}
	checkAgainstVenues(t, a, rep)
	var pos api.PositionsView
	call(t, a, viewerToken, "GET", "/v1/positions", nil, &pos)
	if len(pos.Aggregate) != 1 || pos.Aggregate[0].Target == nil || !pos.Aggregate[0].Target.Equal(d("-9.7734")) {
		t.Fatalf("positions aggregate: %+v", pos.Aggregate)
	}
	for _, vp := range pos.Venues {
		if vp.VenuePosition == nil || vp.ReadAt == nil || vp.Flagged {
			t.Fatalf("venue row without the venue's figure: %+v", vp)
		}
	}
	var list struct{ Targets []api.Target }
	call(t, a, viewerToken, "GET", "/v1/targets", nil, &list)
	if len(list.Targets) != 1 || list.Targets[0].ID != "tg-seed" {
		t.Fatalf("list: %+v", list)
	}
	t.Logf("venues hold %s; parents %v; filled %s over %d children", held, detail.Target.Parents, rep.Filled, rep.ChildOrders)
}

// A manual trade on one venue's account is detected within one reconcile interval, booked as an external change,
// and a corrective parent brings the aggregate back within one lot of the target.
func TestExternalTradeCorrected(t *testing.T) {
	// Taker children: at ×40 a maker child's peg checks (every second of market time) come forty times as often in
	// wall time, and the venue's request-weight pacing, which counts wall time, then slows the reconcile reads to
	// several seconds of market time each — an artifact of the accelerated clock, not of the detection.
	a := startDaemon(t, 40, func(c *config.Config) { fastReconcile(c); c.TWAP.Execution = "taker" })
	sub := watch(t, a)
	putTarget(t, a, api.TargetRequest{ID: "tg-ext", Position: "-9.7734", Duration: "2m"}, http.StatusCreated)
	await(t, sub, 60*time.Second, "target reached", targetEvent("reached", "tg-ext"))
	injected := a.Clock().Now()
	if err := a.Mocks().Venue("b").Control.ExternalTrade(btc, venues.Sell, d("0.5"), "manual0001"); err != nil {
		t.Fatal(err)
	}
	ev := await(t, sub, 30*time.Second, "the external change", func(ev events.Event) bool {
		re, ok := ev.Data.(api.ReconcileEvent)
		return ok && re.Venue == "b" && !re.Adjusted.IsZero()
	})
	re := ev.Data.(api.ReconcileEvent)
	if !re.Adjusted.Equal(d("-0.5")) || !re.Explained {
		t.Fatalf("reconcile event: %+v", re)
	}
	// Detected within one interval of the market clock (5s), plus the reads' own time.
	if lag := re.Time.Sub(injected); lag > 5*time.Second+2*time.Second {
		t.Fatalf("detected %s after the trade", lag)
	}
	await(t, sub, 60*time.Second, "a corrective parent", targetEvent("parent", "tg-ext"))
	await(t, sub, 60*time.Second, "target reached again", targetEvent("reached", "tg-ext"))
	held := venuesHold(a, btc)
	if held.Sub(d("-9.7734")).Abs().GreaterThan(d("0.0014")) {
		t.Fatalf("venues hold %s, want -9.7734 within one lot", held)
	}
	var pos api.PositionsView
	call(t, a, viewerToken, "GET", "/v1/positions", nil, &pos)
	if !pos.Aggregate[0].Position.Equal(held) {
		t.Fatalf("ledger aggregate %s, venues %s", pos.Aggregate[0].Position, held)
	}
}

// A fill whose stream event is lost is booked from the venue's record exactly once: the ledger ends equal to
// the venues' accounts and no external change is ever booked.
func TestLostStreamFillsBookedOnce(t *testing.T) {
	a := startDaemon(t, 40, fastReconcile)
	sub := watch(t, a)
	a.Mocks().Venue("a").Control.Faults().LoseStreamFills(3)
	a.Mocks().Venue("b").Control.Faults().LoseStreamFills(3)
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-lost"), nil); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	rep := waitDone(t, a, "rb-lost", 45*time.Second)
	if rep.State != engine.Done || !rep.Filled.Equal(d("2.216")) {
		t.Fatalf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
	}
	checkAgainstVenues(t, a, rep)
	// Two more passes of each pair after the end: still nothing to adjust.
	for _, v := range []string{"a", "b"} {
		for i := 0; i < 2; i++ {
			if _, err := passOf(a, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	for {
		select {
		case ev := <-sub.C():
			if re, ok := ev.Data.(api.ReconcileEvent); ok && !re.Adjusted.IsZero() {
				t.Fatalf("an external change was booked: %+v", re)
			}
			continue
		default:
		}
		break
	}
}

// A liquidation that cuts the position below the target: a corrective parent (auto-correct on), or an alert
// event and nothing else (off).
func TestLiquidationCorrectiveOrAlert(t *testing.T) {
	for _, auto := range []bool{true, false} {
		t.Run(map[bool]string{true: "auto-correct", false: "alert"}[auto], func(t *testing.T) {
			a := startDaemon(t, 40, func(c *config.Config) {
				fastReconcile(c)
				c.Reconcile.AutoCorrect = &auto
			})
			sub := watch(t, a)
			putTarget(t, a, api.TargetRequest{ID: "tg-liq", Position: "-9.7734", Duration: "2m"}, http.StatusCreated)
			await(t, sub, 60*time.Second, "target reached", targetEvent("reached", "tg-liq"))
			parents := len(a.Engine().List())
			// The venue closes 1 BTC of a's short (its liquidation engine buys it back).
			if err := a.Mocks().Venue("a").Control.ExternalTrade(btc, venues.Buy, d("1"), "autoclose-1"); err != nil {
				t.Fatal(err)
			}
			cut := venuesHold(a, btc)
			if auto {
				await(t, sub, 60*time.Second, "a corrective parent", targetEvent("parent", "tg-liq"))
				await(t, sub, 60*time.Second, "target reached again", targetEvent("reached", "tg-liq"))
				if held := venuesHold(a, btc); held.Sub(d("-9.7734")).Abs().GreaterThan(d("0.0014")) {
					t.Fatalf("venues hold %s after the correction, want -9.7734 within one lot", held)
				}
				if got := len(a.Engine().List()); got != parents+1 {
					t.Fatalf("%d parents, want one corrective more than %d", got, parents)
				}
				return
			}
			await(t, sub, 60*time.Second, "an alert", targetEvent("alert", "tg-liq"))
			for _, v := range []string{"a", "b"} {
				if _, err := passOf(a, v); err != nil {
					t.Fatal(err)
				}
			}
			if got := len(a.Engine().List()); got != parents {
				t.Fatalf("%d parents after the alert, want %d: nothing else", got, parents)
			}
			if held := venuesHold(a, btc); !held.Equal(cut) {
				t.Fatalf("venues hold %s, %s right after the cut: something traded", held, cut)
			}
		})
	}
}

// A target superseded mid-execution: the running parent is cancelled (its fills stay), the new one works the
// difference from what was reached, and the venues end at the new target with no over-trading.
func TestTargetSupersededMidExecution(t *testing.T) {
	a := startDaemon(t, 40, fastReconcile)
	sub := watch(t, a)
	putTarget(t, a, api.TargetRequest{ID: "tg-1", Position: "-9.7734", Duration: "5m"}, http.StatusCreated)
	fills, err := a.Events().Subscribe(events.SubscribeOptions{FromStart: true, Filter: events.Filter{Kinds: []string{api.KindFill}}})
	if err != nil {
		t.Fatal(err)
	}
	defer fills.Close()
	select {
	case <-fills.C():
	case <-time.After(30 * time.Second):
		t.Fatal("no fill of the first target's parent")
	}
	putTarget(t, a, api.TargetRequest{ID: "tg-2", Position: "-12.2", Duration: "2m"}, http.StatusCreated)
	await(t, sub, 60*time.Second, "the second target reached", targetEvent("reached", "tg-2"))
	p1, err := a.Engine().Get("tgt:tg-1:1")
	if err != nil {
		t.Fatal(err)
	}
	if p1.State != engine.Cancelled || p1.Filled.IsZero() || !p1.Filled.LessThan(p1.Quantity) {
		t.Fatalf("first parent: state %s filled %s of %s", p1.State, p1.Filled, p1.Quantity)
	}
	p2, err := a.Engine().Get("tgt:tg-2:1")
	if err != nil {
		t.Fatal(err)
	}
	// The second parent sells what the first one bought back, and on to −12.2: computed from what was reached,
	// not from what was planned.
	reached := d("-11.988").Add(p1.Filled)
	if want := reached.Sub(d("-12.2")); p2.Side != venues.Sell || !p2.Quantity.Sub(want).Abs().LessThan(d("0.001")) {
		t.Fatalf("second parent: %s %s, want sell %s (reached %s)", p2.Side, p2.Quantity, want, reached)
	}
	if p2.ReduceOnly {
		t.Fatal("the second parent adds to the short: it cannot be reduce-only")
	}
	held := venuesHold(a, btc)
	if held.Sub(d("-12.2")).Abs().GreaterThan(d("0.001")) {
		t.Fatalf("venues hold %s, want -12.2 within one lot", held)
	}
	// No over-trading: what the venues executed is what the two parents report, and no more.
	executed := decimal.Zero
	for _, mv := range a.Mocks().Venues {
		for _, o := range mv.Control.Orders() {
			executed = executed.Add(o.Executed)
		}
	}
	if !executed.Equal(p1.Filled.Add(p2.Filled)) {
		t.Fatalf("venues executed %s, parents filled %s + %s", executed, p1.Filled, p2.Filled)
	}
}

func passOf(a *app.App, venue string) (any, error) {
	return a.ReconcilePass(venue, btc)
}

// BTC and ETH targets at once on the three venues (three protocols): each ends within one lot of its target
// by the venues' own accounts, and neither instrument's parent touches the other.
func TestTwoInstrumentsTargetsAtOnce(t *testing.T) {
	a := startDaemonConfig(t, configs.Default, 40, fastReconcile, app.Options{})
	sub := watch(t, a)
	const eth = "ETH-USDT-PERP"
	if got := venuesHold(a, eth); !got.Equal(d("-300")) {
		t.Fatalf("ETH held at start %s, want -300", got)
	}
	if code := call(t, a, rebalancerToken, "PUT", "/v1/targets/"+btc, api.TargetRequest{ID: "tg-btc", Position: "-9.7734", Duration: "3m"}, nil); code != http.StatusCreated {
		t.Fatalf("PUT btc: %d", code)
	}
	if code := call(t, a, rebalancerToken, "PUT", "/v1/targets/"+eth, api.TargetRequest{ID: "tg-eth", Position: "-246.37", Duration: "3m"}, nil); code != http.StatusCreated {
		t.Fatalf("PUT eth: %d", code)
	}
	reached := map[string]bool{}
	for len(reached) < 2 {
		ev := await(t, sub, 90*time.Second, "both targets reached", func(ev events.Event) bool {
			te, ok := ev.Data.(api.TargetEvent)
			return ok && te.Kind == "reached"
		})
		reached[ev.Data.(api.TargetEvent).TargetID] = true
	}
	// One lot: BTC 0.001 on every venue; ETH 0.001 (binance), 0.01 (bybit), 0.1 (okx, one contract) — the
	// difference left is below the smallest lot that could still trade it, so within the largest.
	if held := venuesHold(a, btc); held.Sub(d("-9.7734")).Abs().GreaterThan(d("0.001")) {
		t.Fatalf("BTC held %s, want -9.7734 within one lot", held)
	}
	if held := venuesHold(a, eth); held.Sub(d("-246.37")).Abs().GreaterThan(d("0.1")) {
		t.Fatalf("ETH held %s, want -246.37 within one lot", held)
	}
	for _, mv := range a.Mocks().Venues {
		for _, o := range mv.Control.Orders() {
			if o.Instrument == "" {
				t.Fatalf("%s order %s on an unlisted symbol", mv.Name, o.ClientOrderID)
			}
		}
	}
	t.Logf("BTC held %s (target -9.7734), ETH held %s (target -246.37)", venuesHold(a, btc), venuesHold(a, eth))
	var pos api.PositionsView
	call(t, a, viewerToken, "GET", "/v1/positions", nil, &pos)
	if len(pos.Aggregate) != 2 {
		t.Fatalf("aggregates: %+v", pos.Aggregate)
	}
	for _, p := range pos.Venues {
		if got := a.Mocks().Venue(p.Venue).Control.Position(p.Instrument); !got.Equal(p.Position) {
			t.Errorf("%s %s: ledger %s, venue %s", p.Venue, p.Instrument, p.Position, got)
		}
	}
}

// A venue that cannot be read at start (and holds nothing execd must recover) does not stop the daemon: the
// instrument is not traded and readiness says why until a reconcile pass reads the venue, then it is.
func TestStartWithAnUnreadableVenue(t *testing.T) {
	cfg, err := config.Parse(bytes.NewReader(configs.Seed))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewScaled(time.Now().UTC(), 40)
	ms, err := app.StartMocks(cfg, clk, zap.NewNop(), func(string) string { return "" }, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	ms.Venue("b").Control.Faults().RateLimitNext(12) // the next requests to b answer 429: the start-up read fails after its retries
	a := startDaemonOpts(t, 40, func(c *config.Config) {
		fastReconcile(c)
		c.Risk.BreakerOpenTimeout = time.Second // the 429s open b's breaker: let it probe again soon
	}, app.Options{Mocks: ms, Clock: clk})
	var ready map[string]any
	code := call(t, a, viewerToken, "GET", "/readyz", nil, &ready)
	if code == http.StatusOK {
		t.Fatalf("ready with venue b unread: %v", ready)
	}
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-unread"), nil); code != http.StatusServiceUnavailable {
		t.Fatalf("an order on an unreconciled instrument: %d, want 503", code)
	}
	sub := watch(t, a)
	await(t, sub, 30*time.Second, "venue b seeded by a reconcile pass", func(ev events.Event) bool {
		re, ok := ev.Data.(api.ReconcileEvent)
		return ok && re.Venue == "b" && re.Seeded
	})
	if code := call(t, a, viewerToken, "GET", "/readyz", nil, nil); code != http.StatusOK {
		t.Fatalf("readyz after the pass: %d", code)
	}
	var pos api.PositionsView
	call(t, a, viewerToken, "GET", "/v1/positions", nil, &pos)
	if !pos.Aggregate[0].Position.Equal(d("-11.988")) {
		t.Fatalf("aggregate %s after seeding, want -11.988", pos.Aggregate[0].Position)
	}
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-unread"), nil); code != http.StatusCreated {
		t.Fatalf("the order once reconciled: %d", code)
	}
	rep := waitDone(t, a, "rb-unread", 45*time.Second)
	checkAgainstVenues(t, a, rep)
	t.Logf("readyz before: %v", ready)
}
