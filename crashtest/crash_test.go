package crashtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/configs"
)

const (
	speed           = 20
	rebalancerToken = "dev-rebalancer-token"
	viewerToken     = "dev-viewer-token"
)

var binPath string // built once by TestMain; read-only afterwards

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "execd-crashtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "execd")
	build := exec.Command("go", "build", "-o", binPath, "github.com/execd-dev/execd/cmd/execd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building execd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemonConfig is the default config with the venues pointed at the mocks (as external venues) and the clock
// anchored at the trial's epoch, so every daemon of the trial reads the mocks' time.
func daemonConfig(t *testing.T, base string, ms *app.Mocks, epoch time.Time, dir string) string {
	t.Helper()
	start, end := strings.Index(base, "\nvenues:\n"), strings.Index(base, "\ntwap:\n")
	var b strings.Builder
	b.WriteString(base[:start])
	b.WriteString("\nvenues:\n")
	for _, v := range ms.Venues {
		up := strings.ToUpper(v.Name)
		fmt.Fprintf(&b, "  - name: %s\n    protocol: %s\n    rest_url: %s\n    ws_url: %s\n    api_key_env: EXECD_%s_KEY\n    api_secret_env: EXECD_%s_SECRET\n",
			v.Name, v.Protocol, v.RESTURL, v.WSURL, up, up)
		if v.Protocol == "okx" {
			fmt.Fprintf(&b, "    api_passphrase_env: EXECD_%s_PASSPHRASE\n", up)
		}
	}
	b.WriteString(base[end:])
	y := b.String()
	y = strings.Replace(y, "listen: 127.0.0.1:8080", "listen: 127.0.0.1:0", 1)
	y = strings.Replace(y, "speed: 1 ", fmt.Sprintf("speed: %d\n  epoch: %s #", speed, epoch.Format(time.RFC3339Nano)), 1)
	y = strings.Replace(y, "mean_interval: 20s", "mean_interval: 8s", 1)
	y = strings.Replace(y, "dir: data/journal", "dir: "+filepath.Join(dir, "journal"), 1)
	if os.Getenv("EXECD_CRASH_LOG") == "" { // EXECD_CRASH_LOG=1: info logs (a failed trial prints the logs)
		y = strings.Replace(y, "log_level: info", "log_level: warn", 1)
	}
	if _, err := config.Parse(strings.NewReader(y)); err != nil {
		t.Fatalf("crash test config: %v\n%s", err, y)
	}
	path := filepath.Join(dir, "execd.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type daemon struct {
	cmd  *exec.Cmd
	addr string
	exit chan error
	log  *bytes.Buffer
}

// startDaemon runs `execd serve` and waits for the address it prints.
func startDaemon(t *testing.T, cfgPath string, ms *app.Mocks, failpoint string) *daemon {
	t.Helper()
	cmd := exec.Command(binPath, "serve", "-config", cfgPath, "-shutdown-timeout", "5s")
	cmd.Env = append(os.Environ(), "EXECD_FAILPOINT="+failpoint)
	for _, v := range ms.Venues {
		up := strings.ToUpper(v.Name)
		cmd.Env = append(cmd.Env, "EXECD_"+up+"_KEY="+v.APIKey, "EXECD_"+up+"_SECRET="+v.Secret.Reveal(),
			"EXECD_"+up+"_PASSPHRASE="+v.Passphrase.Reveal())
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, exit: make(chan error, 1), log: &bytes.Buffer{}}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			d.log.WriteString(line + "\n")
			if a, ok := strings.CutPrefix(line, "execd: serving on "); ok {
				addrCh <- a
			}
		}
		d.exit <- cmd.Wait()
	}()
	select {
	case d.addr = <-addrCh:
	case err := <-d.exit:
		t.Fatalf("daemon exited before serving: %v\n%s", err, d.log)
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("daemon did not start\n%s", d.log)
	}
	return d
}

func (d *daemon) kill() {
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exit
}

func (d *daemon) stop(t *testing.T) {
	t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exit:
		if err != nil {
			t.Errorf("daemon stop: %v\n%s", err, d.log)
		}
	case <-time.After(15 * time.Second):
		_ = d.cmd.Process.Kill()
		t.Errorf("daemon did not stop on SIGTERM")
	}
}

func call(addr, token, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+addr+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w: %s", method, path, err, data)
		}
	}
	return resp.StatusCode, nil
}

var order = map[string]any{"id": "rb-crash", "instrument": "BTC-USDT-PERP", "side": "buy", "quantity": "2.2166",
	"duration": "1m", "reduce_only": true, "max_slippage_bps": 50}

// crashModes are the moments a trial kills the daemon at: before the first slice (the parent is journaled, the
// API call has not answered), between a child's intent and its send, mid-request (the venue holds the response
// of an order it executed), between the venue's answer and its journaling, between a fill's arrival and its
// journaling, and at a random moment of the order's life.
// A seventh mode stops the daemon gracefully (SIGTERM) at a random moment: it must exit 0 and a restart must
// carry on.
var crashModes = []string{"after-create", "after-intent", "mid-request", "after-send", "before-fill", "random-time", "sigterm"}

// trial runs one crash trial and returns what went wrong (nil: the order finished exactly) and whether the
// daemon was in fact killed (a failpoint past the order's last child is never reached).
func trial(t *testing.T, seed uint64, kind string) (mode string, crashed bool, err error) {
	rng := rand.New(rand.NewPCG(seed, 0x6372617368))
	mode = kind
	dir := t.TempDir()
	// Odd trials run the seed's two Binance-protocol venues; even ones the default three venues, one on each
	// protocol (Binance USDⓈ-M, Bybit v5, OKX v5).
	base := configs.Seed
	if seed%2 == 0 {
		base = configs.Default
	}
	cfg, err := config.Parse(bytes.NewReader(base))
	if err != nil {
		return mode, false, err
	}
	cfg.Market.Seed = int64(seed)
	epoch := time.Now()
	ms, err := app.StartMocks(cfg, clock.NewScaledFrom(epoch, speed), zap.NewNop(), func(string) string { return "" }, true)
	if err != nil {
		return mode, false, err
	}
	defer ms.Close()
	path := daemonConfig(t, string(base), ms, epoch, dir)

	failpoint := ""
	switch kind {
	case "random-time", "mid-request", "sigterm":
	case "after-create":
		failpoint = "after-create:1"
	default:
		failpoint = kind + ":" + strconv.Itoa(1+rng.IntN(8))
	}
	if failpoint != "" {
		mode = failpoint
	}
	d := startDaemon(t, path, ms, failpoint)
	if kind == "mid-request" {
		// The venue executes the next order and holds its response for longer than the kill takes to come.
		ms.Venues[1].Control.Faults().DelayResponse(3*time.Second, 1)
	}
	code, postErr := call(d.addr, rebalancerToken, "POST", "/v1/orders", order, nil)
	if postErr == nil && code != http.StatusCreated {
		d.kill()
		return mode, false, fmt.Errorf("create: status %d", code)
	}
	switch kind {
	case "random-time":
		time.Sleep(time.Duration(rng.Int64N(int64(4 * time.Second)))) // a kill at a random moment of the order's life
		d.kill()
		crashed = true
	case "mid-request":
		time.Sleep(time.Duration(1500+rng.Int64N(1000)) * time.Millisecond) // b's first child is in flight
		d.kill()
		crashed = true
	case "sigterm":
		time.Sleep(time.Duration(rng.Int64N(int64(3 * time.Second))))
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-d.exit:
			if err != nil {
				return mode, true, fmt.Errorf("graceful stop: %v\n%s", err, d.log)
			}
		case <-time.After(15 * time.Second):
			d.kill()
			return mode, true, fmt.Errorf("graceful stop did not end in 15s")
		}
		crashed = true
		for _, v := range ms.Venues { // a graceful stop pulls what rests: nothing works unwatched while execd is down
			for _, o := range v.Control.Orders() {
				if o.Open {
					return mode, true, fmt.Errorf("%s: order %s left open by a graceful stop", v.Name, o.ClientOrderID)
				}
			}
		}
	default:
		select {
		case <-d.exit: // the failpoint killed it
			crashed = true
		case <-time.After(10 * time.Second): // the failpoint was not reached: the order ran without a crash
			d.kill()
		}
	}
	first := d.log
	d = startDaemon(t, path, ms, "")
	defer d.stop(t)
	// The rebalancer retries its call: the same id and body are idempotent across the restart.
	code, err = call(d.addr, rebalancerToken, "POST", "/v1/orders", order, nil)
	if err != nil || (code != http.StatusOK && code != http.StatusCreated) {
		return mode, crashed, fmt.Errorf("retry after restart: %d %v", code, err)
	}
	var rep api.Order
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := call(d.addr, viewerToken, "GET", "/v1/orders/rb-crash", nil, &rep); err != nil {
			return mode, crashed, err
		}
		if rep.State != api.StateWorking {
			break
		}
		if time.Now().After(deadline) {
			return mode, crashed, fmt.Errorf("order still working after restart: filled %s\n%s", rep.Filled, d.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := judge(d, ms, rep); err != nil {
		// Both daemons' logs (warnings and errors; with EXECD_CRASH_LOG=1 from info up) and the order's venues.
		var orders strings.Builder
		for _, v := range ms.Venues {
			for _, o := range v.Control.Orders() {
				fmt.Fprintf(&orders, "%s %s qty %s executed %s price %s open %v ioc %v post-only %v at %s\n", v.Name, o.ClientOrderID,
					o.Quantity, o.Executed, o.Price, o.Open, o.IOC, o.PostOnly, o.Time.Format("15:04:05.000"))
			}
		}
		return mode, crashed, fmt.Errorf("%w\nvenues: %+v\nthe venues' orders:\n%s== first daemon\n%s\n== second daemon\n%s", err,
			rep.Venues, orders.String(), first, d.log)
	}
	return mode, crashed, nil
}

// judge compares the final order with the venues' own records.
func judge(d *daemon, ms *app.Mocks, rep api.Order) error {
	var problems []string
	if rep.State != api.StateDone || !rep.Filled.Equal(decimal.RequireFromString("2.216")) {
		problems = append(problems, fmt.Sprintf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason))
	}
	executed := decimal.Zero
	for _, v := range ms.Venues {
		seen := map[string]bool{}
		for _, o := range v.Control.Orders() {
			if seen[o.ClientOrderID] {
				problems = append(problems, fmt.Sprintf("%s: client order id %s used twice", v.Name, o.ClientOrderID))
			}
			seen[o.ClientOrderID] = true
			if o.Open {
				problems = append(problems, fmt.Sprintf("%s: order %s left open", v.Name, o.ClientOrderID))
			}
			executed = executed.Add(o.Executed)
		}
	}
	if !executed.Equal(rep.Filled) {
		problems = append(problems, fmt.Sprintf("venues executed %s, report filled %s", executed, rep.Filled))
	}
	var pos api.PositionsView
	if _, err := call(d.addr, viewerToken, "GET", "/v1/positions", nil, &pos); err != nil {
		return err
	}
	total := decimal.Zero
	for _, p := range pos.Venues {
		mv := ms.Venue(p.Venue)
		if got := mv.Control.Position(p.Instrument); !got.Equal(p.Position) {
			problems = append(problems, fmt.Sprintf("%s %s: daemon position %s, venue %s", p.Venue, p.Instrument, p.Position, got))
		}
		if p.Instrument != "BTC-USDT-PERP" {
			continue
		}
		if got := mv.Control.Position("BTC-USDT-PERP"); !got.Equal(p.Position) {
			problems = append(problems, fmt.Sprintf("%s: daemon position %s, venue %s", p.Venue, p.Position, got))
		}
		total = total.Add(p.Position)
	}
	if !total.Equal(decimal.RequireFromString("-9.772")) {
		problems = append(problems, fmt.Sprintf("aggregate position %s, want -9.772", total))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// TestCrashRecovery runs EXECD_CRASH_TRIALS trials (default 20), each killing the daemon once with SIGKILL at a
// seeded moment, and requires every one to finish exactly.
func TestCrashRecovery(t *testing.T) {
	n := trials(t, "EXECD_CRASH_TRIALS", 20, 3)
	modes := crashModes
	if m := os.Getenv("EXECD_CRASH_MODES"); m != "" { // to reproduce one kind: EXECD_CRASH_MODES=sigterm
		modes = strings.Split(m, ",")
		for _, k := range modes {
			if !slices.Contains(crashModes, k) {
				t.Fatalf("EXECD_CRASH_MODES: %q is not one of %v", k, crashModes)
			}
		}
	}
	ok, kills := 0, 0
	byMode := map[string]int{}
	first := 0
	if f := os.Getenv("EXECD_CRASH_FIRST"); f != "" { // to reproduce one trial: EXECD_CRASH_FIRST=76 EXECD_CRASH_TRIALS=1
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			t.Fatalf("EXECD_CRASH_FIRST=%q: want a trial number", f)
		}
		first = v - 1
	}
	for i := first; i < first+n; i++ {
		kind := modes[i%len(modes)]
		mode, crashed, err := trial(t, uint64(i+1), kind)
		byMode[kind]++
		if crashed {
			kills++
		}
		if err != nil {
			t.Errorf("trial %d (%s): %v", i+1, mode, err)
			continue
		}
		ok++
	}
	t.Logf("crash trials: %d ok: %d", n, ok)
	t.Logf("killed: %d of %d; by crash point: %v", kills, n, byMode)
}

// trials is how many trials to run: the environment variable env if set (a positive number), else def, or short
// under -short.
func trials(t *testing.T, env string, def, short int) int {
	t.Helper()
	if s := os.Getenv(env); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("%s=%q: want a positive number", env, s)
		}
		return v
	}
	if testing.Short() {
		return short
	}
	return def
}
