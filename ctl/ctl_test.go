package ctl_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/configs"
	"github.com/execd-dev/execd/ctl"
)

const (
	rebalancer = "ctl-test-rebalancer"
	ops        = "ctl-test-ops"
	viewer     = "ctl-test-viewer"
)

// daemon embeds execd on the seed config (venues a and b, mocks on loopback) at speed, with the test tokens.
func daemon(t *testing.T, speed float64) *app.App {
	t.Helper()
	cfg, err := config.Parse(bytes.NewReader(configs.Seed))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Auth.Tokens = []config.TokenConfig{
		{Name: "reb", Role: config.RoleRebalancer, SHA256: config.HashToken(rebalancer)},
		{Name: "alice", Role: config.RoleOps, SHA256: config.HashToken(ops)},
		{Name: "view", Role: config.RoleViewer, SHA256: config.HashToken(viewer)},
	}
	a, err := app.New(cfg, app.Options{Clock: clock.NewScaled(time.Now().UTC(), speed), Listen: "127.0.0.1:0", JournalDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return a
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs execctl against a with token (through EXECD_ADDR and EXECD_TOKEN, as a user would set them).
func run(t *testing.T, a *app.App, token string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{"EXECD_ADDR": a.Addr(), "EXECD_TOKEN": token}
	code := ctl.Main(context.Background(), args, ctl.Options{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }})
	return result{code, out.String(), errOut.String()}
}

func mustRun(t *testing.T, a *app.App, token string, args ...string) string {
	t.Helper()
	r := run(t, a, token, args...)
	if r.code != 0 {
		t.Fatalf("execctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("output is not the JSON expected: %v\n%s", err, s)
	}
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil || len(rows) < 1 {
		t.Fatalf("output is not CSV: %v\n%s", err, s)
	}
	return rows
}

// TestSubmitWatchReport: a rebalance submitted and watched with execctl ends done; its progress shows each venue;
// the report's CSV (per venue and total) agrees with what the venues themselves executed; a repeat of the submit
// trades nothing new.
func TestSubmitWatchReport(t *testing.T) {
	a := daemon(t, 40)
	out := mustRun(t, a, rebalancer, "submit", "--id", "rb-ctl-1", "--instrument", "BTC-USDT-PERP", "--side", "buy",
		"--quantity", "0.9", "--duration", "20s", "--execution", "taker", "--watch")
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "order rb-ctl-1 created") {
		t.Fatalf("first line %q", lines[0])
	}
	progress := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "rb-ctl-1 ") && strings.Contains(l, " · a ") && strings.Contains(l, " · b ") {
			progress++
		}
	}
	if progress < 2 || !strings.Contains(out, "order rb-ctl-1: done") || !strings.Contains(out, "total cost") {
		t.Fatalf("watch output: %d progress lines\n%s", progress, out)
	}

	// The venues' own records against the report.
	executed := map[string]decimal.Decimal{}
	for _, name := range []string{"a", "b"} {
		for _, o := range a.Mocks().Venue(name).Control.Orders() {
			executed[name] = executed[name].Add(o.Executed)
		}
	}
	rows := readCSV(t, mustRun(t, a, viewer, "report", "rb-ctl-1", "-o", "csv"))
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	total := decimal.Zero
	var reported decimal.Decimal
	for _, r := range rows[1:] {
		filled := decimal.RequireFromString(r[col["filled"]])
		if v := r[col["venue"]]; v == "total" {
			reported = filled
		} else {
			if !filled.Equal(executed[v]) {
				t.Fatalf("report: %s filled %s, the venue executed %s", v, filled, executed[v])
			}
			total = total.Add(filled)
		}
	}
	if len(rows) != 4 || !reported.Equal(total) || !total.Equal(decimal.RequireFromString("0.9")) {
		t.Fatalf("report CSV rows %d, total %s, venues %s:\n%v", len(rows), reported, total, rows)
	}

	// The same id and request again: nothing new.
	out = mustRun(t, a, rebalancer, "submit", "--id", "rb-ctl-1", "--instrument", "BTC-USDT-PERP", "--side", "buy",
		"--quantity", "0.9", "--duration", "20s", "--execution", "taker")
	if !strings.Contains(out, "already there") {
		t.Fatalf("repeat submit: %s", out)
	}
	var o api.Order
	decodeJSON(t, mustRun(t, a, viewer, "get", "rb-ctl-1", "-o", "json"), &o)
	if o.State != api.StateDone || !o.Filled.Equal(total) {
		t.Fatalf("get: %s filled %s", o.State, o.Filled)
	}
	list := readCSV(t, mustRun(t, a, viewer, "list", "-o", "csv", "--state", "done"))
	if len(list) != 2 || list[1][0] != "rb-ctl-1" {
		t.Fatalf("list: %v", list)
	}
	// watch on an order that has ended prints its report at once.
	if out := mustRun(t, a, viewer, "watch", "rb-ctl-1"); !strings.Contains(out, "order rb-ctl-1: done") {
		t.Fatalf("watch of an ended order: %s", out)
	}
}

// TestOpsCommands: venues set (with the actor in the audit), halt / resume with a refused submit between, a reload
// the daemon cannot do, target set / get and positions — each output parsed.
func TestOpsCommands(t *testing.T) {
	a := daemon(t, 40)
	out := mustRun(t, a, ops, "venues", "set", "a", "--weight", "0.5")
	if !strings.Contains(out, "0.5") {
		t.Fatalf("venues set: %s", out)
	}
	mustRun(t, a, ops, "venues", "set", "b", "--enabled=false")
	var vs struct {
		Venues []api.VenueStatus `json:"venues"`
	}
	decodeJSON(t, mustRun(t, a, viewer, "venues", "-o", "json"), &vs)
	if len(vs.Venues) != 2 || !vs.Venues[0].Weight.Equal(decimal.RequireFromString("0.5")) || vs.Venues[1].Enabled {
		t.Fatalf("venues: %+v", vs.Venues)
	}
	mustRun(t, a, ops, "venues", "set", "b", "--reset")
	decodeJSON(t, mustRun(t, a, viewer, "venues", "-o", "json"), &vs)
	if !vs.Venues[1].Enabled {
		t.Fatal("b still disabled after --reset")
	}
	if r := run(t, a, viewer, "venues", "set", "a", "--weight", "2"); r.code != ctl.ExitFailed || !strings.Contains(r.stderr, "forbidden") {
		t.Fatalf("venues set by a viewer: %+v", r)
	}

	if out := mustRun(t, a, ops, "halt"); strings.TrimSpace(out) != "trading state: halted" {
		t.Fatalf("halt: %q", out)
	}
	r := run(t, a, rebalancer, "submit", "--id", "rb-halted", "--instrument", "BTC-USDT-PERP", "--side", "buy",
		"--quantity", "0.5", "--duration", "20s")
	if r.code != ctl.ExitFailed || !strings.Contains(r.stderr, "trading_halted") {
		t.Fatalf("submit while halted: %+v", r)
	}
	mustRun(t, a, ops, "reduce")
	mustRun(t, a, ops, "resume")

	var al api.AuditList
	decodeJSON(t, mustRun(t, a, viewer, "audit", "-o", "json"), &al)
	if len(al.Entries) != 6 {
		t.Fatalf("audit: %d entries: %+v", len(al.Entries), al.Entries)
	}
	for _, e := range al.Entries {
		if e.Actor != "alice" || e.Time.IsZero() {
			t.Fatalf("audit entry without its actor or time: %+v", e)
		}
	}
	audit := readCSV(t, mustRun(t, a, viewer, "audit", "-o", "csv", "--since", "4"))
	if len(audit) != 3 || audit[1][4] != "trading state reducing" || audit[2][4] != "trading state active" {
		t.Fatalf("audit csv since 4: %v", audit)
	}
	// This daemon has no config file: the reload is refused, and says why.
	if r := run(t, a, ops, "reload"); r.code != ctl.ExitFailed || !strings.Contains(r.stderr, "nothing to reload") {
		t.Fatalf("reload: %+v", r)
	}

	var pv api.PositionsView
	decodeJSON(t, mustRun(t, a, viewer, "positions", "-o", "json"), &pv)
	if len(pv.Aggregate) == 0 {
		t.Fatalf("positions: %+v", pv)
	}
	agg := pv.Aggregate[0]
	mustRun(t, a, rebalancer, "target", "set", agg.Instrument, "--id", "tg-1", "--position", agg.Position.String(), "--duration", "20s")
	var td api.TargetDetail
	decodeJSON(t, mustRun(t, a, viewer, "target", "get", agg.Instrument, "-o", "json"), &td)
	if td.Target == nil || td.Target.ID != "tg-1" || !td.Target.Position.Equal(agg.Position) {
		t.Fatalf("target get: %+v", td)
	}
	if out := mustRun(t, a, viewer, "target", "get"); !strings.Contains(out, "tg-1") {
		t.Fatalf("target get (all): %s", out)
	}
}

// TestUsageAndErrors: every command has --help; bad usage exits 2 and says what is wrong; an unreachable daemon
// exits 3; a refusal exits 1 with the API's code.
func TestUsageAndErrors(t *testing.T) {
	a := daemon(t, 1)
	for _, cmd := range [][]string{{}, {"submit"}, {"get"}, {"list"}, {"watch"}, {"cancel"}, {"report"}, {"target"},
		{"target", "set"}, {"target", "get"}, {"positions"}, {"venues"}, {"venues", "set"}, {"halt"}, {"reduce"},
		{"resume"}, {"audit"}, {"reload"}} {
		r := run(t, a, viewer, append(cmd, "--help")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
			t.Fatalf("%v --help: exit %d\n%s%s", cmd, r.code, r.stdout, r.stderr)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"submit", "--instrument", "BTC-USDT-PERP"}, "--id is required"},
		{[]string{"get"}, "takes 1 argument"},
		{[]string{"get", "a", "b"}, "takes 1 argument"},
		{[]string{"venues", "--bogus"}, "unknown flag"},
		{[]string{"venues", "-o", "yaml"}, "-o \"yaml\""},
		{[]string{"report", "x", "-o", "xml"}, "csv"},
		{[]string{"venues", "set", "a"}, "give --weight"},
		{[]string{"venues", "set", "a", "--reset", "--weight", "1"}, "give it alone"},
		{[]string{"target", "set", "BTC-USDT-PERP", "--id", "x", "--position", "1", "--start-at", "tomorrow"}, "RFC 3339"},
		{[]string{"nope"}, "unknown command"},
	} {
		r := run(t, a, viewer, tc.args...)
		if r.code != ctl.ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, ctl.ExitUsage, tc.want)
		}
	}
	if r := run(t, a, "", "venues"); r.code != ctl.ExitUsage || !strings.Contains(r.stderr, "EXECD_TOKEN") {
		t.Fatalf("no token: %+v", r)
	}
	if r := run(t, a, viewer, "get", "nope"); r.code != ctl.ExitFailed || !strings.Contains(r.stderr, "not_found") {
		t.Fatalf("get of a missing order: %+v", r)
	}
	if r := run(t, a, "wrong-token", "venues"); r.code != ctl.ExitFailed || !strings.Contains(r.stderr, "unauthorized") {
		t.Fatalf("wrong token: %+v", r)
	}
	if r := run(t, a, viewer, "--addr", "127.0.0.1:1", "venues"); r.code != ctl.ExitUnreachable {
		t.Fatalf("unreachable daemon: %+v", r)
	}
}
