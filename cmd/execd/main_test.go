package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/demo"
)

// TestDemoSeedJSON runs `execd demo -scenario seed -json` in-process and checks the figures the issue asks for:
// filled 2.216 (2.2166 floored to the 0.001 lot), residual 0.0006, each venue's filled share within 5 points of its
// volume share, the aggregate position moved from -11.988 to -9.772, and nothing but the JSON on stdout.
func TestDemoSeedJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"demo", "-scenario", "seed", "-json", "-seed", "7"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var res demo.Result
	dec := json.NewDecoder(&out)
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out.String())
	}
	if dec.More() {
		t.Fatal("stdout holds more than one JSON value")
	}
	o := res.Order
	if o.State != api.StateDone || !o.Filled.Equal(decimal.RequireFromString("2.216")) || !o.Residual.Equal(decimal.RequireFromString("0.0006")) {
		t.Fatalf("order: state %s filled %s residual %s", o.State, o.Filled, o.Residual)
	}
	shares := map[string]string{"a": "0.4", "b": "0.6"}
	for _, v := range o.Venues {
		got := v.Filled.Div(o.Filled)
		if got.Sub(decimal.RequireFromString(shares[v.Venue])).Abs().GreaterThan(decimal.RequireFromString("0.05")) {
			t.Errorf("venue %s filled share %s", v.Venue, got)
		}
	}
	if len(res.Positions.Aggregate) != 1 || !res.Positions.Aggregate[0].Position.Equal(decimal.RequireFromString("-9.772")) {
		t.Fatalf("aggregate %+v", res.Positions.Aggregate)
	}
}

// TestDemoSeedTargetJSON runs `execd demo -scenario seed-target -json`: the venues hold -4.795 and -7.193, the
// target is -9.7734; the aggregate ends within one lot of -9.773 (the lot grid), split by volume share, and the
// target reads reached.
func TestDemoSeedTargetJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"demo", "-scenario", "seed-target", "-json", "-seed", "3"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var res demo.TargetResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("stdout: %v\n%s", err, out.String())
	}
	if res.Target.State != "reached" || len(res.Target.Parents) == 0 || res.Order.ID != res.Target.Parents[0] {
		t.Fatalf("target %+v, order %s", res.Target, res.Order.ID)
	}
	agg := res.Positions.Aggregate[0].Position
	if agg.Sub(decimal.RequireFromString("-9.773")).Abs().GreaterThan(decimal.RequireFromString("0.001")) {
		t.Fatalf("aggregate %s: not within one lot of -9.773", agg)
	}
	shares := map[string]string{"a": "0.4", "b": "0.6"}
	for _, v := range res.Order.Venues {
		got := v.Filled.Div(res.Order.Filled)
		if got.Sub(decimal.RequireFromString(shares[v.Venue])).Abs().GreaterThan(decimal.RequireFromString("0.05")) {
			t.Errorf("venue %s filled share %s", v.Venue, got)
		}
	}
}

// TestDemoDefaultThreeVenues runs the default demo (three venues, three protocols) and checks its figures.
func TestDemoDefaultThreeVenues(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"demo", "-json"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var res demo.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("stdout: %v\n%s", err, out.String())
	}
	o := res.Order
	if o.State != api.StateDone || !o.Filled.Equal(decimal.RequireFromString("2.216")) || len(o.Venues) != 3 {
		t.Fatalf("order: state %s filled %s venues %d", o.State, o.Filled, len(o.Venues))
	}
	for _, v := range o.Venues {
		if v.Venue == "okx" && !v.Filled.Mod(decimal.RequireFromString("0.01")).IsZero() {
			t.Fatalf("okx filled %s: not whole contracts", v.Filled)
		}
	}
	// Every fill's markout has matured at each horizon by the time the report is printed.
	if len(o.Markouts) != 3 || o.Markouts[0].Horizon != "1s" || o.Markouts[1].Horizon != "10s" || o.Markouts[2].Horizon != "1m0s" {
		t.Fatalf("markouts %+v", o.Markouts)
	}
	for _, m := range o.Markouts {
		if !m.Quantity.Equal(o.Filled) || m.Bps.Abs().GreaterThan(decimal.NewFromInt(100)) {
			t.Errorf("markout %+v of %s filled", m, o.Filled)
		}
	}
	if !res.Positions.Aggregate[0].Position.Equal(decimal.RequireFromString("-9.772")) {
		t.Fatalf("aggregate %s", res.Positions.Aggregate[0].Position)
	}
}

func TestUsageAndBadCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"nope"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"demo", "-scenario", "nope"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "unknown scenario") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"serve", "-config", "/nonexistent.yaml"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "config") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

// TestCheckConfig: serve -check-config validates the file and exits without serving: 0 and a summary for a valid
// file, 1 and the reason for an invalid one.
func TestCheckConfig(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"serve", "-check-config", "-config", "../../configs/execd.yaml"}, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "is valid") || !strings.Contains(out.String(), "sha256") {
		t.Fatalf("valid config: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	data, err := os.ReadFile("../../configs/execd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(strings.Replace(string(data), "log_level: info", "log_level: loud", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{"serve", "-check-config", "-config", bad}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "log_level") || out.Len() != 0 {
		t.Fatalf("invalid config: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}
