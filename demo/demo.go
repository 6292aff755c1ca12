package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/configs"
	"github.com/execd-dev/execd/report"
)

// Scenario is a demo: a config derived from the default one and the order the rebalancer submits.
type Scenario struct {
	Name        string
	Description string
	// Speed is the simulated clock's acceleration.
	Speed float64
	// Config is the scenario's config (one of the embedded configs).
	Config []byte
	Order  api.OrderRequest
	// Target, when set, is what the rebalancer asks for instead of Order: an aggregate position on Instrument,
	// which execd works as a parent of its own.
	Target     *api.TargetRequest
	Instrument string
	// Ahead, when set, sets the order ahead: its start_at is the seed's daily rebalance time, 17:00 CET (16:00 UTC,
	// after the mint/burn cut-off of 16:50–17:00, and a funding time of the three venues), at least Ahead from
	// now; once it is accepted as scheduled the demo's clock jumps to the window.
	Ahead time.Duration
}

// Scenarios lists the demos by name.
func Scenarios() map[string]Scenario {
	slip := 50
	return map[string]Scenario{
		"three-venues": {
			Name: "three-venues",
			Description: "the seed's rebalance across the three largest BTC perpetual venues, each on its own protocol: " +
				"binance (Binance USDⓈ-M, 55% of volume, -6.591), bybit (Bybit v5, 23%, -2.757), okx (OKX v5, 22%, -2.64 = 264 contracts)",
			Speed:  30,
			Config: configs.Default,
			Order: api.OrderRequest{
				Instrument: "BTC-USDT-PERP", Side: "buy", Quantity: "2.2166", Duration: "5m", ReduceOnly: true,
				MaxSlippageBps: &slip,
			},
			Ahead: 10 * time.Minute,
		},
		"seed-target": {
			Name: "seed-target",
			Description: "the seed as a target: BTC3S must hold -9.7734 BTC across exchange a (40% of volume, -4.795) " +
				"and b (60%, -7.193); execd reconciles the venues, computes the difference and works it",
			Speed:      30,
			Config:     configs.Seed,
			Instrument: "BTC-USDT-PERP",
			Target:     &api.TargetRequest{Position: "-9.7734", Duration: "5m", MaxSlippageBps: &slip},
		},
		"seed": {
			Name: "seed",
			Description: "BTC3S rebalance from the seed: close 2.2166 BTC of a -11.988 BTC short held on " +
				"exchange a (40% of volume, -4.795) and b (60%, -7.193)",
			Speed:  30,
			Config: configs.Seed,
			Order: api.OrderRequest{
				Instrument: "BTC-USDT-PERP", Side: "buy", Quantity: "2.2166", Duration: "5m", ReduceOnly: true,
				MaxSlippageBps: &slip,
			},
			Ahead: 10 * time.Minute,
		},
	}
}

// ScenarioNames is the list of scenario names, for flag help.
func ScenarioNames() string {
	var n []string
	for k := range Scenarios() {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

// Options of a demo run.
type Options struct {
	Scenario string
	Seed     int64
	JSON     bool
	Stdout   io.Writer
	Stderr   io.Writer
	Logger   *zap.Logger
	// WallLimit bounds the run; default 55s.
	WallLimit time.Duration
}

// Result is what `demo -json` prints: the final order as the API sent it, and the positions after.
type Result struct {
	Order     api.Order         `json:"order"`
	Positions api.PositionsView `json:"positions"`
}

// Run runs a scenario and prints its report; it returns an error if the parent did not end done.
func Run(ctx context.Context, o Options) error {
	sc, ok := Scenarios()[o.Scenario]
	if !ok {
		return fmt.Errorf("unknown scenario %q (have %s)", o.Scenario, ScenarioNames())
	}
	if o.WallLimit <= 0 {
		o.WallLimit = 55 * time.Second
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	ctx, cancel := context.WithTimeout(ctx, o.WallLimit)
	defer cancel()
	cfg, err := config.Parse(bytes.NewReader(sc.Config))
	if err != nil {
		return fmt.Errorf("scenario %s config: %w", sc.Name, err)
	}
	cfg.Market.Seed = o.Seed
	token := randomToken()
	viewer := randomToken()
	cfg.Auth.Tokens = []config.TokenConfig{
		{Name: "demo-rebalancer", Role: config.RoleRebalancer, SHA256: config.HashToken(token)},
		{Name: "demo-viewer", Role: config.RoleViewer, SHA256: config.HashToken(viewer)},
	}
	cfg.ClientIDSalt = randomToken()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("scenario %s config: %w", sc.Name, err)
	}
	clk := clock.NewScaled(time.Now().UTC().Truncate(time.Second), sc.Speed)
	dir, err := os.MkdirTemp("", "execd-demo-journal-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d, err := app.New(cfg, app.Options{Logger: o.Logger, Clock: clk, Listen: "127.0.0.1:0", JournalDir: dir})
	if err != nil {
		return err
	}
	if err := d.Start(ctx); err != nil {
		return err
	}
	defer func() {
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = d.Stop(sctx)
	}()
	cl := &api.Client{Base: "http://" + d.Addr(), Token: token, HTTP: &http.Client{Timeout: 10 * time.Second}}
	var before api.PositionsView
	if err := cl.Do(ctx, "GET", "/v1/positions", nil, &before); err != nil {
		return err
	}
	if sc.Target != nil {
		return runTarget(ctx, o, sc, d, cl, clk, before)
	}
	order := sc.Order
	order.ID = fmt.Sprintf("rb-%s-btc3s-%d", clk.Now().Format("2006-01-02"), o.Seed)
	var start time.Time
	if sc.Ahead > 0 {
		start = nextRebalance(clk.Now().Add(sc.Ahead))
		at := start.Format(time.RFC3339)
		order.StartAt = &at
	}
	if !o.JSON {
		fmt.Fprintf(o.Stdout, "execd demo — scenario %s (market seed %d)\n%s\n", sc.Name, o.Seed, sc.Description)
		fmt.Fprintf(o.Stdout, "daemon on %s; simulated clock ×%g; submitting %s %s %s over %s (reduce-only=%v)",
			d.Addr(), sc.Speed, order.Side, order.Quantity, order.Instrument, order.Duration, order.ReduceOnly)
		if order.StartAt != nil {
			fmt.Fprintf(o.Stdout, " in a window set ahead: start_at %s (%s; market time now %s)",
				start.Format("Jan 2 15:04 MST"), start.UTC().Format("15:04 MST"), clk.Now().UTC().Format("Jan 2 15:04:05 MST"))
		}
		fmt.Fprint(o.Stdout, "\n\n")
	}
	// Follow the parent's events from before it exists, so that none is missed.
	f, err := api.NewFollower(ctx, cl, order.ID)
	if err != nil {
		return err
	}
	defer f.Stop()
	var rep api.Order
	if err := cl.Do(ctx, "POST", "/v1/orders", order, &rep); err != nil {
		return err
	}
	if order.StartAt != nil {
		if rep.State != api.StateScheduled {
			return fmt.Errorf("the order set ahead was accepted %s, not scheduled", rep.State)
		}
		if !o.JSON {
			fmt.Fprintf(o.Stdout, "accepted as %s; nothing is sent before start_at; the demo's clock jumps %s to the window\n\n",
				rep.State, start.Sub(clk.Now()).Round(time.Second))
		}
		clk.Jump(start.Sub(clk.Now()))
	}
	wallStart := time.Now()
	bar, progress := newProgress(o, clk)
	rep, raw, err := f.Follow(rep, progress)
	if err != nil {
		if ctx.Err() != nil {
			_ = cl.Do(context.Background(), "DELETE", "/v1/orders/"+order.ID, nil, &rep)
			return fmt.Errorf("the rebalance did not finish within %s of wall time (state %s, filled %s)", o.WallLimit, rep.State, rep.Filled)
		}
		return err
	}
	if bar != nil {
		_ = bar.Finish()
	}
	var after api.PositionsView
	if err := cl.Do(ctx, "GET", "/v1/positions", nil, &after); err != nil {
		return err
	}
	if rep.State == api.StateDone {
		if err := awaitMarkouts(ctx, cl, clk, &rep); err != nil {
			return err
		}
	}
	if o.JSON {
		res := Result{Positions: after}
		if err := json.Unmarshal(raw, &res.Order); err != nil {
			return fmt.Errorf("the final order: %w", err)
		}
		res.Order.Markouts = rep.Markouts // matured after the last event
		if err := printJSON(o.Stdout, res); err != nil {
			return err
		}
	} else {
		printReport(o.Stdout, rep, before, after, time.Since(wallStart))
	}
	if rep.State != api.StateDone {
		return fmt.Errorf("the rebalance ended %s: %s", rep.State, rep.Reason)
	}
	return nil
}

// cet is the seed's zone: its rebalance is at 5 PM CET every day.
var cet = time.FixedZone("CET", 3600)

// nextRebalance is the first 17:00 CET at or after t.
func nextRebalance(t time.Time) time.Time {
	c := t.In(cet)
	at := time.Date(c.Year(), c.Month(), c.Day(), 17, 0, 0, 0, cet)
	if at.Before(t) {
		at = at.AddDate(0, 0, 1)
	}
	return at
}

// awaitMarkouts reads the order until its fills' markouts have matured at every horizon (they keep coming for a
// minute of market time after the last fill: two seconds of the demo's wall time), or a minute and a half of market
// time has passed since it ended.
func awaitMarkouts(ctx context.Context, cl *api.Client, clk clock.Clock, rep *api.Order) error {
	if !rep.Filled.IsPositive() || rep.EndedAt == nil {
		return nil
	}
	giveUp := rep.EndedAt.Add(90 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		complete := len(rep.Markouts) > 0
		for _, m := range rep.Markouts {
			complete = complete && m.Quantity.GreaterThanOrEqual(rep.Filled)
		}
		if complete || clk.Now().After(giveUp) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if err := cl.Do(ctx, "GET", "/v1/orders/"+rep.ID, nil, rep); err != nil {
			return err
		}
	}
}

// newProgress is the demo's progress bar (none with -json) and the function that moves it.
func newProgress(o Options, clk clock.Clock) (*progressbar.ProgressBar, func(api.Order)) {
	var bar *progressbar.ProgressBar
	if !o.JSON {
		bar = progressbar.NewOptions(1000, progressbar.OptionSetWriter(o.Stderr), progressbar.OptionSetWidth(30),
			progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionSetPredictTime(false),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return bar, func(r api.Order) {
		if bar != nil {
			bar.Describe(progressLine(r, clk.Now()))
			_ = bar.Set(permille(r.Filled, r.Quantity))
		}
	}
}

func permille(filled, total decimal.Decimal) int {
	if !total.IsPositive() {
		return 0
	}
	return int(filled.Mul(decimal.NewFromInt(1000)).Div(total).IntPart())
}

func progressLine(r api.Order, now time.Time) string {
	since := r.CreatedAt
	if r.StartAt != nil {
		since = *r.StartAt // set ahead: the time into its window
	}
	parts := []string{fmt.Sprintf("t+%-5s", now.Sub(since).Truncate(time.Second))}
	for _, v := range r.Venues {
		parts = append(parts, fmt.Sprintf("%s %s/%s (%d)", v.Venue, v.Filled, v.Allocated, v.ChildOrders))
	}
	return strings.Join(parts, " · ")
}

func printReport(w io.Writer, r api.Order, before, after api.PositionsView, wall time.Duration) {
	simDur := "—"
	if r.EndedAt != nil {
		simDur = r.EndedAt.Sub(r.CreatedAt).Truncate(time.Second).String()
	}
	fmt.Fprintf(w, "Rebalance %s: %s in %s simulated (%s wall)\n", r.ID, r.State, simDur, wall.Truncate(100*time.Millisecond))
	fmt.Fprintf(w, "  %s %s %s, reduce-only %v, band %d bps\n", r.Side, r.Quantity, r.Instrument, r.ReduceOnly, r.MaxSlippageBps)
	fmt.Fprintf(w, "  filled %s   residual %s (below one lot)   unfilled %s\n", r.Filled, r.Residual, r.Unfilled)
	fmt.Fprintf(w, "  arrival %s   average %s   child orders %d   execution %s\n", r.ArrivalPrice, report.Deref(r.AvgPrice),
		r.ChildOrders, r.Execution)
	fmt.Fprintf(w, "  %s\n", report.CostLine(r))
	fmt.Fprintf(w, "  %s\n", report.FundingLine(r))
	if line := report.MarkoutLine(r); line != "" {
		fmt.Fprintf(w, "  %s\n", line)
	}
	fmt.Fprintln(w)
	pos := func(v api.PositionsView, venue string) string {
		for _, p := range v.Venues {
			if p.Venue == venue && p.Instrument == r.Instrument {
				return p.Position.String()
			}
		}
		return "0"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "venue\tvolume share\tallocated\tfilled\tfilled share\tmaker share\tavg price\tchildren\tposition before\tposition after\t")
	for _, v := range r.Venues {
		share, maker := "—", "—"
		if r.Filled.IsPositive() {
			share = v.Filled.Div(r.Filled).Round(4).String()
		}
		if v.Filled.IsPositive() {
			maker = v.MakerFilled.Div(v.Filled).Round(4).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t\n", v.Venue, v.VolumeShare, v.Allocated, v.Filled, share,
			maker, report.Deref(v.AvgPrice), v.ChildOrders, pos(before, v.Venue), pos(after, v.Venue))
	}
	agg := func(v api.PositionsView) string {
		for _, a := range v.Aggregate {
			if a.Instrument == r.Instrument {
				return a.Position.String()
			}
		}
		return "0"
	}
	maker := "—"
	if r.Filled.IsPositive() {
		maker = r.MakerFilled.Div(r.Filled).Round(4).String()
	}
	fmt.Fprintf(tw, "total\t\t%s\t%s\t\t%s\t%s\t%d\t%s\t%s\t\n", r.Quantity.Sub(r.Residual), r.Filled, maker, report.Deref(r.AvgPrice),
		r.ChildOrders, agg(before), agg(after))
	tw.Flush()
	if r.Reason != "" {
		fmt.Fprintf(w, "\nnote: %s\n", r.Reason)
	}
}

func randomToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
