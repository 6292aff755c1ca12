package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/adshao/go-binance/v2/futures"
	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/configs"
	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/mocks/market"
)

// ThroughputOptions configure Throughput.
type ThroughputOptions struct {
	Concurrency int           // parents worked at once by the engine, and goroutines in the bare loop (same number); default 8
	Window      time.Duration // wall time each phase is measured over; default 5s, at most 10s
	Logger      *zap.Logger   // nil: nop
	// Profile, if set, receives a CPU profile (runtime/pprof) of the full-path window only.
	Profile io.Writer
}

// ThroughputRequests is one kind of venue HTTP request the daemon made inside the full-path window.
type ThroughputRequests struct {
	Count    int     `json:"count"`
	PerChild float64 `json:"per_child"`
	// MeanMs is the mean wall time from the transport's RoundTrip to the answer's headers.
	MeanMs float64 `json:"mean_ms"`
}

// ThroughputResult is what Throughput measured; every figure is wall clock.
type ThroughputResult struct {
	Concurrency   int     `json:"concurrency"`
	WindowSeconds float64 `json:"window_seconds"` // the measured length of each window
	// FullPathChildren are the child orders the mock venue accepted (and executed: they are IOC) inside the
	// full-path window, by its own records.
	FullPathChildren  int     `json:"full_path_children"`
	FullPathPerSecond float64 `json:"full_path_per_second"`
	// BareOrders are the orders the same mock accepted inside the bare loop's window, by its own records.
	BareOrders    int     `json:"bare_orders"`
	BarePerSecond float64 `json:"bare_per_second"`
	Ratio         float64 `json:"ratio"` // FullPathPerSecond / BarePerSecond
	// Decision-to-wire: from the engine deciding to send a child (engine.Options.OnChildDecision, on the parent's
	// goroutine) to its POST /fapi/v1/order having been written to the connection (httptrace WroteRequest), for
	// the children decided inside the full-path window.
	DecisionToWireP50Ms  float64 `json:"decision_to_wire_p50_ms"`
	DecisionToWireP99Ms  float64 `json:"decision_to_wire_p99_ms"`
	DecisionToWireMeanMs float64 `json:"decision_to_wire_mean_ms"`
	LatencySamples       int     `json:"latency_samples"`

	// Context.
	ClockSpeed float64 `json:"clock_speed"` // the simulated clock's acceleration
	GOMAXPROCS int     `json:"gomaxprocs"`
	NumCPU     int     `json:"num_cpu"`
	// FullPathFilled is how many of FullPathChildren executed something; FullPathMeanQty their mean quantity (BTC).
	FullPathFilled  int     `json:"full_path_filled"`
	FullPathMeanQty float64 `json:"full_path_mean_qty"`
	// FullPathRequests are the venue HTTP requests the daemon made inside the window, by "METHOD /path".
	FullPathRequests map[string]ThroughputRequests `json:"full_path_requests"`
	// BareQty is the bare loop's order quantity (FullPathMeanQty on the lot grid, at least the minimum notional);
	// BareFilled how many of BareOrders executed something; BareErrors the creates that failed inside the window;
	// BareMeanMs the mean wall time of one create as the loop saw it (sign, send, answer, decode).
	BareQty    float64 `json:"bare_qty"`
	BareFilled int     `json:"bare_filled"`
	BareErrors int     `json:"bare_errors"`
	BareMeanMs float64 `json:"bare_mean_ms"`
	// CPU of the whole process (daemon, mock venue, simulated market, the loop) from getrusage, per phase: cores
	// busy on average over the window, and CPU time per order.
	FullPathCPUCores      float64 `json:"full_path_cpu_cores"`
	FullPathCPUPerChildMs float64 `json:"full_path_cpu_per_child_ms"`
	BareCPUCores          float64 `json:"bare_cpu_cores"`
	BareCPUPerOrderMs     float64 `json:"bare_cpu_per_order_ms"`
	// Notes say the above in sentences, for a report.
	Notes []string `json:"notes"`
}

// Throughput measures the engine's overhead: child orders per second through the whole path — HTTP API → engine
// (owner goroutine per parent) → risk → journal (the real bbolt journal, fsync per write, in a temporary
// directory) → the go-binance adapter → a Binance USDⓈ-M mock venue on loopback → fills on its user-data stream
// — against a bare loop of go-binance futures order creates on the same mock venue in the same run.
//
// Setup: configs/seed.yaml reduced to its venue "a" (Binance protocol), starting flat, with the mock's rate
// limits off, on a simulated clock ×10000. The engine sends at most one child per (parent, venue) at a time, so
// the measure is children per second with every parent always having a child due. That is obtained with
// Concurrency parents (half buys, half sells: the account stays near flat and the price does not run away) of
// 5000 BTC over the API's shortest horizon, 10s, non-reduce-only, in a 100 bps band, submitted with POST
// /v1/orders: the schedule is spent within a millisecond of wall time, and the engine then works the remainder
// with its catch-up policy (twap.catchup, set to 1000h here), one child of the max child size whenever fewer than
// two of its children await an answer (catch-up attempts fall due every simulated second, 0.1 ms of wall time).
// These children go through the same machine → runner → gateway path as scheduled slices; only the sizing of the
// slice differs. Not a long schedule of due slices, as one would first try: the engine's per-child work
// grows with the schedule's length (twap.ChildQuantity sums every slice in decimal, the parent record carries
// every slice), and a schedule that always has a slice due at this speed needs ~10⁵ slices, which would measure
// that rather than the path. max_child_notional is 1000 USDT, so children are 0.094 BTC, the size of the seed
// rebalance's slices, and fill at one to three levels of the book; max_order_notional is lifted (5000 BTC is
// about 52M USDT). After a 0.5 s warm-up the mock venue's own order records are counted over Window; the parents
// are then cancelled (DELETE /v1/orders/{id}), waited for and the daemon stopped; the mock and market are kept.
//
// Bare loop: Concurrency goroutines, each creating LIMIT IOC orders (unique newClientOrderId, alternating sides,
// priced 100 bps through the venue's mark, read in-process every 10 ms; the full path's mean child quantity; the
// same newOrderRespType RESULT and recvWindow as the adapter) with go-binance's NewCreateOrderService through one
// http.Client built by app.VenueHTTPClient, as the daemon's adapters share one; counted the same way over the same
// window after the same warm-up.
//
// Decision-to-wire: app.Options.OnChildDecision notes each child's client order id and wall time when its parent
// decides to send it; app.Options.WrapTransport wraps the venues' transport with an httptrace WroteRequest hook on
// POST /fapi/v1/order, reading the newClientOrderId from the form body (go-binance puts the order's parameters in
// the form body and only recvWindow, timestamp and signature in the query string). So the latency covers the
// parent's runner, the gateway loop's queue, the mark (from the gateway's cache; one REST read when it is older
// than 500 ms of simulated time), the risk check, the intent's group-committed journal write, signing, waiting
// for a connection and the write to the socket. The same wrapper times every venue request (FullPathRequests).
//
// Two caveats. The mock keeps every order and scans them all
// on each placement under its account lock, so a phase placing more orders pays more per order — the bare loop,
// second and faster, pays most, which lowers its rate and raises the ratio. And the simulated clock runs ahead of
// the wall clock, so when the engine falls back to reading a child's fills over REST (userTrades since the wall
// time it was sent, less a minute) the mock returns every trade of the run, which makes that fallback costlier
// than at speed 1.
func Throughput(ctx context.Context, o ThroughputOptions) (ThroughputResult, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Window <= 0 {
		o.Window = 5 * time.Second
	}
	if o.Window > tpMaxWindow {
		return ThroughputResult{}, fmt.Errorf("throughput: window %s: at most %s (the parents must outlast it)", o.Window, tpMaxWindow)
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	speed := float64(tpSpeed)
	res := ThroughputResult{Concurrency: o.Concurrency, ClockSpeed: speed, GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU: runtime.NumCPU(), FullPathRequests: map[string]ThroughputRequests{}}

	cfg, token, err := tpConfig()
	if err != nil {
		return res, err
	}
	clk := clock.NewScaled(time.Now().UTC().Truncate(time.Second), speed)
	noEnv := func(string) string { return "" }
	mocks, err := app.StartMocks(cfg, clk, o.Logger, noEnv, false)
	if err != nil {
		return res, fmt.Errorf("throughput: mocks: %w", err)
	}
	defer mocks.Close()
	mv := mocks.Venue(tpVenue)
	book, err := mocks.Market.Venue(tpVenue)
	if mv == nil || err != nil {
		return res, fmt.Errorf("throughput: mock venue %s missing", tpVenue)
	}
	dir, err := os.MkdirTemp("", "execd-throughput-journal-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)

	tr := &tpTrace{decided: map[string]time.Time{}, wrote: map[string]time.Time{}, reqs: map[string]*tpReqStat{}}
	d, err := app.New(cfg, app.Options{Logger: o.Logger, Clock: clk, Listen: "127.0.0.1:0", Getenv: noEnv, NoMarkouts: true,
		Mocks: mocks, JournalDir: dir, OnChildDecision: tr.decide,
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper { return &tpTransport{base: rt, tr: tr} }})
	if err != nil {
		return res, err
	}
	if err := d.Start(ctx); err != nil {
		return res, fmt.Errorf("throughput: daemon: %w", err)
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return d.Stop(sctx)
	}
	defer func() { _ = stop() }()

	// Phase 1: the full path.
	cl := &api.Client{Base: "http://" + d.Addr(), Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}
	ids := make([]string, o.Concurrency)
	for i := range ids {
		side := "buy"
		if i%2 == 1 {
			side = "sell"
		}
		ids[i] = fmt.Sprintf("tp-%d-%s", i, side)
		slip := tpBandBps
		// IOC children, as the bare loop sends: the engine's overhead per order, not a resting order's life.
		req := api.OrderRequest{ID: ids[i], Instrument: tpInstrument, Side: side, Quantity: tpParentQty,
			Duration: tpParentDuration, MaxSlippageBps: &slip, Execution: "taker"}
		if err := cl.Do(ctx, http.MethodPost, "/v1/orders", req, nil); err != nil {
			return res, fmt.Errorf("throughput: submitting %s: %w", ids[i], err)
		}
	}
	if !tpSleep(ctx, tpWarmup) {
		return res, ctx.Err()
	}
	if o.Profile != nil {
		if err := pprof.StartCPUProfile(o.Profile); err != nil {
			return res, fmt.Errorf("throughput: profile: %w", err)
		}
	}
	n0, cpu0, t0 := len(mv.Control.Orders()), tpCPU(), time.Now()
	j0 := d.JournalStats()
	tr.count(true)
	tpSleep(ctx, o.Window)
	tr.count(false)
	if o.Profile != nil {
		pprof.StopCPUProfile()
	}
	end := time.Now()
	recs, cpu1, t1 := mv.Control.Orders(), tpCPU(), time.Now()
	j1 := d.JournalStats()
	var late []string
	if d := t1.Sub(end); d > 100*time.Millisecond {
		late = append(late, fmt.Sprintf("Reading the mock's order records at the end of the full-path window took %.1f s "+
			"(its account lock was busy); the window runs until they were read.", d.Seconds()))
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	wall := t1.Sub(t0)
	res.WindowSeconds = wall.Seconds()
	inWindow := recs[n0:]
	res.FullPathChildren = len(inWindow)
	res.FullPathPerSecond = float64(len(inWindow)) / wall.Seconds()
	qty := decimal.Zero
	for _, r := range inWindow {
		if r.Executed.IsPositive() {
			res.FullPathFilled++
		}
		qty = qty.Add(r.Quantity)
	}
	if len(inWindow) > 0 {
		res.FullPathMeanQty = qty.InexactFloat64() / float64(len(inWindow))
		res.FullPathCPUPerChildMs = (cpu1 - cpu0).Seconds() * 1000 / float64(len(inWindow))
	}
	res.FullPathCPUCores = (cpu1 - cpu0).Seconds() / wall.Seconds()
	for _, id := range ids {
		if err := cl.Do(ctx, http.MethodDelete, "/v1/orders/"+id, nil, nil); err != nil {
			return res, fmt.Errorf("throughput: cancelling %s: %w", id, err)
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	for _, id := range ids {
		if rep, err := d.Engine().Wait(wctx, id); err != nil || rep.State == engine.Working {
			o.Logger.Warn("parent did not end after cancel", zap.String("parent", id), zap.Error(err))
		}
	}
	wcancel()
	if err := stop(); err != nil {
		o.Logger.Warn("stopping the daemon", zap.Error(err))
	}
	tr.summarize(&res, t0, t1)

	// Phase 2: the bare loop, on the same mock venue.
	bare, err := tpBare(ctx, o, mv, book, res.FullPathMeanQty)
	if err != nil {
		return res, err
	}
	res.BareOrders, res.BareFilled, res.BareErrors, res.BareMeanMs = bare.orders, bare.filled, bare.errors, bare.meanMs
	res.BareQty = bare.qty
	res.BarePerSecond = float64(bare.orders) / bare.wall.Seconds()
	res.BareCPUCores = bare.cpu.Seconds() / bare.wall.Seconds()
	if bare.orders > 0 {
		res.BareCPUPerOrderMs = bare.cpu.Seconds() * 1000 / float64(bare.orders)
	}
	if res.BarePerSecond > 0 {
		res.Ratio = res.FullPathPerSecond / res.BarePerSecond
	}
	res.Notes = append(tpNotes(res), late...)
	if commits := j1.Commits - j0.Commits; commits > 0 && res.FullPathChildren > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("Journal in the full-path window: %d commits (bbolt: two fdatasync each, pages then meta) of %d records: "+
			"%.2f commits and %.2f records per child, %.1f records per commit.", commits, j1.Written-j0.Written,
			float64(commits)/float64(res.FullPathChildren), float64(j1.Written-j0.Written)/float64(res.FullPathChildren),
			float64(j1.Written-j0.Written)/float64(commits)))
	}
	if res.FullPathChildren == 0 || res.BareOrders == 0 {
		return res, fmt.Errorf("throughput: no orders measured (full path %d, bare %d)", res.FullPathChildren, res.BareOrders)
	}
	return res, nil
}

const (
	tpVenue          = "a"
	tpSymbol         = "BTCUSDT" // the Binance mock's symbol for tpInstrument
	tpInstrument     = "BTC-USDT-PERP"
	tpSpeed          = 10000
	tpParentQty      = "5000"
	tpParentDuration = "10s" // the API's shortest
	tpCatchup        = 1000 * time.Hour
	tpChildNotional  = 1000 // USDT: 0.094 BTC at 10 490 and the 100 bps band
	tpBandBps        = 100
	tpWarmup         = 500 * time.Millisecond
	tpMaxWindow      = 10 * time.Second
	tpRecvWindow     = 5000 // ms, the adapter's default
)

// tpConfig is configs/seed.yaml with only venue "a", flat, its mock's rate limits off, children of at most
// tpChildNotional, a catch-up allowance of tpCatchup and no parent notional limit worth the name; it returns the
// config and a fresh rebalancer token.
func tpConfig() (*config.Config, string, error) {
	cfg, err := config.Parse(bytes.NewReader(configs.Seed))
	if err != nil {
		return nil, "", err
	}
	var venue *config.VenueConfig
	for i := range cfg.Venues {
		if cfg.Venues[i].Name == tpVenue {
			venue = &cfg.Venues[i]
		}
	}
	if venue == nil || venue.Mock == nil || venue.Protocol != "binance" {
		return nil, "", fmt.Errorf("throughput: the seed config has no binance mock venue %q", tpVenue)
	}
	off := false
	mock := *venue.Mock
	mock.RateLimits, mock.Positions, mock.VolumeShare = &off, nil, 1
	v := *venue
	v.Mock = &mock
	v.Pace = &off // the mock's limits are off: the engine's pacing would measure the venue's limits, not the engine
	cfg.Venues = []config.VenueConfig{v}
	cfg.TWAP.Catchup = tpCatchup
	cfg.Risk.MaxChildNotional = decimal.NewFromInt(tpChildNotional)
	cfg.Risk.MaxOrderNotional = decimal.NewFromInt(1_000_000_000)
	// One reconcile pass at start, none in the windows: at ×10000 a pass every second of wall time would read
	// some 10⁴ s of the account's trades each time, a cost of the simulation's speed, not of the order path.
	cfg.Reconcile.Interval, cfg.Reconcile.MinGap = time.Hour, time.Hour
	// No funding: at ×10000 a funding time (every 8 h) passes every 2.9 s of wall time, and attributing it journals
	// parents whose schedules hold some 10⁵ slices — again the simulation's speed, not the order path.
	cfg.Market.FundingRate8h = 0
	token, salt := randomHex(16), randomHex(16)
	cfg.Auth.Tokens = []config.TokenConfig{{Name: "throughput", Role: config.RoleRebalancer, SHA256: config.HashToken(token)}}
	cfg.ClientIDSalt = salt
	if err := cfg.Validate(); err != nil {
		return nil, "", fmt.Errorf("throughput: config: %w", err)
	}
	return cfg, token, nil
}

// tpCPU is the process's CPU time so far (user + system).
func tpCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// tpSleep waits d of wall time; false if ctx ended first.
func tpSleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// tpTrace collects the engine's decisions and the wire times of its order placements, and counts the venue
// requests while counting is on. Safe for concurrent use; its methods only take a mutex for a map write.
type tpTrace struct {
	mu       sync.Mutex
	decided  map[string]time.Time // client order id → decision
	wrote    map[string]time.Time // client order id → first write of its placement
	counting bool
	reqs     map[string]*tpReqStat
}

type tpReqStat struct {
	n     int
	total time.Duration
}

// decide is the engine's OnChildDecision hook.
func (t *tpTrace) decide(id string, at time.Time) {
	t.mu.Lock()
	t.decided[id] = at
	t.mu.Unlock()
}

func (t *tpTrace) wire(id string, at time.Time) {
	t.mu.Lock()
	if _, ok := t.wrote[id]; !ok {
		t.wrote[id] = at
	}
	t.mu.Unlock()
}

func (t *tpTrace) count(on bool) {
	t.mu.Lock()
	t.counting = on
	t.mu.Unlock()
}

func (t *tpTrace) request(kind string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.counting {
		return
	}
	s := t.reqs[kind]
	if s == nil {
		s = &tpReqStat{}
		t.reqs[kind] = s
	}
	s.n++
	s.total += d
}

// summarize fills the latency figures from the children decided in [from, to), and the request counts.
func (t *tpTrace) summarize(r *ThroughputResult, from, to time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lat []time.Duration
	for id, at := range t.decided {
		if at.Before(from) || !at.Before(to) {
			continue
		}
		if w, ok := t.wrote[id]; ok {
			lat = append(lat, w.Sub(at))
		}
	}
	r.LatencySamples = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		var sum time.Duration
		for _, d := range lat {
			sum += d
		}
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		r.DecisionToWireP50Ms = ms(tpQuantile(lat, 0.50))
		r.DecisionToWireP99Ms = ms(tpQuantile(lat, 0.99))
		r.DecisionToWireMeanMs = ms(sum / time.Duration(len(lat)))
	}
	for kind, s := range t.reqs {
		q := ThroughputRequests{Count: s.n, MeanMs: float64(s.total) / float64(s.n) / float64(time.Millisecond)}
		if r.FullPathChildren > 0 {
			q.PerChild = float64(s.n) / float64(r.FullPathChildren)
		}
		r.FullPathRequests[kind] = q
	}
}

// tpQuantile is the nearest-rank q-quantile of sorted, non-empty xs.
func tpQuantile(xs []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(xs))+0.999999999) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

// tpTransport wraps the daemon's venue transport: it times every request and, on an order placement, notes when
// the request has been written to the connection.
type tpTransport struct {
	base http.RoundTripper
	tr   *tpTrace
}

func (t *tpTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	if req.Method == http.MethodPost && req.URL.Path == "/fapi/v1/order" {
		if id := tpClientOrderID(req); id != "" {
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				WroteRequest: func(w httptrace.WroteRequestInfo) {
					if w.Err == nil {
						t.tr.wire(id, time.Now())
					}
				},
			}))
		}
	}
	resp, err := t.base.RoundTrip(req)
	t.tr.request(req.Method+" "+req.URL.Path, time.Since(start))
	return resp, err
}

// tpClientOrderID reads newClientOrderId from a go-binance order request's form body, without consuming it.
func tpClientOrderID(req *http.Request) string {
	if req.GetBody == nil {
		return ""
	}
	body, err := req.GetBody()
	if err != nil {
		return ""
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		return ""
	}
	q, err := url.ParseQuery(string(b))
	if err != nil {
		return ""
	}
	return q.Get("newClientOrderId")
}

type tpBareResult struct {
	orders, filled, errors int
	qty, meanMs            float64
	wall, cpu              time.Duration
}

// tpBare runs the bare loop: o.Concurrency goroutines creating LIMIT IOC orders with go-binance against the mock
// venue, counted by the venue's own records over o.Window after the warm-up.
func tpBare(ctx context.Context, o ThroughputOptions, mv *app.MockVenue, book *market.Venue, meanQty float64) (tpBareResult, error) {
	var res tpBareResult
	lot, tick := decimal.New(1, -3), decimal.New(1, -1)
	mark := book.Quote().Mark
	minQty := decimal.NewFromInt(110).Div(mark).Div(lot).Ceil().Mul(lot) // the venue's minimum notional is 100 USDT
	qty := decimal.NewFromFloat(meanQty).Div(lot).Floor().Mul(lot)
	qty = decimal.Max(qty, minQty)
	res.qty = qty.InexactFloat64()
	qtyStr := qty.String()

	var markNow atomic.Pointer[decimal.Decimal]
	markNow.Store(&mark)
	var counting, done atomic.Bool
	var creates, errs, nanos atomic.Int64
	hc := app.VenueHTTPClient(10*time.Second, nil)
	defer hc.CloseIdleConnections()
	up := 1 + float64(tpBandBps)/1e4
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the mark, read in-process so that the loop itself only creates orders
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for !done.Load() {
			select {
			case <-t.C:
				m := book.Quote().Mark
				markNow.Store(&m)
			case <-ctx.Done():
				return
			}
		}
	}()
	for g := 0; g < o.Concurrency; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			c := futures.NewClient(mv.APIKey, mv.Secret.Reveal())
			c.BaseURL, c.HTTPClient, c.Logger = mv.RESTURL, hc, log.New(io.Discard, "", 0)
			for n := 0; !done.Load() && ctx.Err() == nil; n++ {
				m := *markNow.Load()
				side := futures.SideTypeBuy
				price := m.Mul(decimal.NewFromFloat(up)).Div(tick).Floor().Mul(tick)
				if (g+n)%2 == 1 {
					side = futures.SideTypeSell
					price = m.Mul(decimal.NewFromFloat(2 - up)).Div(tick).Ceil().Mul(tick)
				}
				start := time.Now()
				_, err := c.NewCreateOrderService().Symbol(tpSymbol).Side(side).Type(futures.OrderTypeLimit).
					TimeInForce(futures.TimeInForceTypeIOC).Quantity(qtyStr).Price(price.String()).
					NewClientOrderID(fmt.Sprintf("tpb-%d-%d", g, n)).NewOrderResponseType(futures.NewOrderRespTypeRESULT).
					Do(ctx, futures.WithRecvWindow(tpRecvWindow))
				if counting.Load() {
					if err != nil {
						errs.Add(1)
					} else {
						creates.Add(1)
						nanos.Add(int64(time.Since(start)))
					}
				}
				if err != nil && ctx.Err() == nil && errs.Load() == 1 {
					o.Logger.Warn("bare create failed", zap.Error(err))
				}
			}
		}(g)
	}
	defer func() { done.Store(true); wg.Wait() }()
	if !tpSleep(ctx, tpWarmup) {
		return res, ctx.Err()
	}
	n0, cpu0, t0 := len(mv.Control.Orders()), tpCPU(), time.Now()
	counting.Store(true)
	tpSleep(ctx, o.Window)
	counting.Store(false)
	recs, cpu1, t1 := mv.Control.Orders(), tpCPU(), time.Now()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.wall, res.cpu = t1.Sub(t0), cpu1-cpu0
	res.orders = len(recs) - n0
	for _, r := range recs[n0:] {
		if r.Executed.IsPositive() {
			res.filled++
		}
	}
	res.errors = int(errs.Load())
	if n := creates.Load(); n > 0 {
		res.meanMs = float64(nanos.Load()) / float64(n) / float64(time.Millisecond)
	}
	return res, nil
}

// tpNotes states the context of a result in sentences.
func tpNotes(r ThroughputResult) []string {
	kinds := make([]string, 0, len(r.FullPathRequests))
	for k := range r.FullPathRequests {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	reqs := ""
	for i, k := range kinds {
		q := r.FullPathRequests[k]
		if i > 0 {
			reqs += ", "
		}
		reqs += fmt.Sprintf("%s %.2f (mean %.2f ms)", k, q.PerChild, q.MeanMs)
	}
	return []string{
		fmt.Sprintf("Full path: simulated clock ×%.0f, every parent always has a child due (catch-up children of the "+
			"max child size); %d of %d children filled, mean %.3f BTC; venue requests per child: %s.", r.ClockSpeed, r.FullPathFilled, r.FullPathChildren,
			r.FullPathMeanQty, reqs),
		fmt.Sprintf("Bare loop: LIMIT IOC of %.3f BTC, %d of %d filled, %d errors, mean create %.2f ms.", r.BareQty,
			r.BareFilled, r.BareOrders, r.BareErrors, r.BareMeanMs),
		fmt.Sprintf("CPU of the whole process (getrusage; %d CPUs, GOMAXPROCS %d): full path %.2f cores busy, %.3f ms "+
			"per child; bare loop %.2f cores busy, %.3f ms per order.", r.NumCPU, r.GOMAXPROCS, r.FullPathCPUCores,
			r.FullPathCPUPerChildMs, r.BareCPUCores, r.BareCPUPerOrderMs),
	}
}
