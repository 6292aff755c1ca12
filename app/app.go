package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/events"
	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/journal"
	"github.com/execd-dev/execd/positions"
	"github.com/execd-dev/execd/reconcile"
	"github.com/execd-dev/execd/risk"
	"github.com/execd-dev/execd/secret"
	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/ratelimit"
)

// Options are what the caller, not the config, decides.
type Options struct {
	Logger *zap.Logger
	// Clock overrides the simulated clock built from the config (cfg.Clock.Speed from now).
	Clock clock.Clock
	// Listen overrides cfg.Listen (tests use "127.0.0.1:0").
	Listen string
	// Getenv reads credentials; default os.Getenv.
	Getenv func(string) string
	// Mocks, when set, are used for the config's mock venues instead of starting new ones (the demo and tests
	// keep a handle on them).
	Mocks *Mocks
	// JournalDir overrides cfg.Journal.Dir.
	JournalDir string
	// Failpoint is handed to the engine (crash tests); nil in production.
	Failpoint func(name string)
	// VenueTimeout bounds one venue call (wall clock); default 10s.
	VenueTimeout time.Duration
	// WrapTransport, if set, wraps the HTTP transport the venue adapters share (see VenueHTTPClient): benchmarks
	// trace requests on the wire with it. nil leaves the transport as it is; nil in production.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// OnChildDecision is handed to the engine (engine.Options.OnChildDecision: called on a parent's goroutine, must
	// be safe for concurrent use and must not block); nil in production.
	OnChildDecision func(clientOrderID string, wall time.Time)
	// NoMarkouts: fills' markouts are not followed (gateway.Retry.NoMarkouts): the throughput benchmark, at ×10⁴.
	NoMarkouts bool
	// ConfigSource reads the config again for a reload (SIGHUP, POST /v1/config/reload): serve reads its file.
	// nil: this daemon has no file to reload from (the demo, most tests), and a reload is refused.
	ConfigSource func() (*config.Config, error)
	// Level, if set, is the logger's level: a reload sets it to the file's log_level.
	Level *zap.AtomicLevel
}

// App is the daemon.
type App struct {
	opts    Options
	log     *zap.Logger
	clk     clock.Clock
	mu      sync.Mutex // serializes reloads and ops changes; guards cfg and overlay
	cfg     *config.Config
	overlay map[string]venueOps // ops' venue settings over the config file's, by venue
	mocks   *Mocks
	ownMock bool
	venues  []venues.Venue
	proto   map[string]string
	ledger  *positions.Ledger
	brk     *risk.Breakers
	state   *risk.Switch
	eng     *engine.Engine
	jrnl    *journal.Bolt
	stats   *statsCache
	bus     *events.Bus
	loop    *reconcile.Loop
	keeper  *reconcile.Keeper
	recStop context.CancelFunc
	recWG   sync.WaitGroup

	ln      net.Listener
	srv     *http.Server
	apiSrv  *api.Server // its event streams end, and are waited for, in Stop
	srvDone chan error
	bgStop  context.CancelFunc
	bg      sync.WaitGroup
	ready   chan struct{}
}

// New validates the wiring of cfg; Start brings it up.
func New(cfg *config.Config, o Options) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	clk := o.Clock
	if clk == nil {
		clk = simClock(cfg.Clock)
	}
	return &App{opts: o, log: o.Logger, clk: clk, cfg: cfg, proto: map[string]string{}, ready: make(chan struct{}),
		bus: events.New(events.Options{Now: clk.Now})}, nil
}

// Events is the daemon's event bus (GET /v1/events streams from it).
func (a *App) Events() *events.Bus { return a.bus }

// Clock is the daemon's simulated clock.
func (a *App) Clock() clock.Clock { return a.clk }

// Mocks are the mock venues the app runs (nil if none).
func (a *App) Mocks() *Mocks { return a.mocks }

// Breakers are the venues' circuit breakers.
func (a *App) Breakers() *risk.Breakers { return a.brk }

// JournalStats are the journal's group-commit counters (zero before Start).
func (a *App) JournalStats() journal.CommitStats {
	if a.jrnl == nil {
		return journal.CommitStats{}
	}
	return a.jrnl.CommitStats()
}

// Engine is the app's engine (for embedding tests).
func (a *App) Engine() *engine.Engine { return a.eng }

// Start starts mocks (if the config has any), connects the venues, seeds the ledger from their positions, starts
// the engine and the HTTP API. On error everything started is stopped again.
func (a *App) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			a.teardown()
		}
	}()
	cfg := a.cfg
	a.mocks = a.opts.Mocks
	if a.mocks == nil && hasMock(cfg) {
		if a.mocks, err = StartMocks(cfg, a.clk, a.log, a.opts.Getenv, false); err != nil {
			return err
		}
		a.ownMock = true
	}
	timeout := a.opts.VenueTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	names := make([]string, len(cfg.Venues))
	for i, v := range cfg.Venues {
		names[i] = v.Name
	}
	a.brk = risk.NewBreakers(breakerSettings(cfg), names, a.onBreaker)
	httpClient := VenueHTTPClient(timeout, a.opts.WrapTransport)
	protos := protocols()
	for _, vc := range cfg.Venues {
		pr, ok := protos[vc.Protocol]
		if !ok {
			return fmt.Errorf("venue %s: %w", vc.Name, unknownProtocol(vc.Protocol))
		}
		vlog := a.log.With(zap.String("venue", vc.Name))
		// Nothing leaves for a venue whose breaker is open, not even a call admitted before it opened that then
		// waited for a rate-limit token: the gate is the last step before the wire.
		gated := &breakerGate{base: httpClient.Transport, venue: vc.Name, brk: a.brk}
		ep := endpoint{name: vc.Name, http: &http.Client{Timeout: httpClient.Timeout, Transport: gated}, log: vlog}
		if vc.CallTimeout > 0 {
			ep.http = &http.Client{Timeout: vc.CallTimeout, Transport: gated}
		}
		if vc.IsPaced() {
			// The venue's published limits, on its own transport: every request its adapter makes waits its turn.
			rt, err := ratelimit.New(gated, pr.limits(), func(ev ratelimit.Event) {
				vlog.Warn("venue rate limit: "+ev.Kind, zap.String("limit", ev.Limit), zap.Int("status", ev.Status),
					zap.Time("until", ev.Until), zap.String("detail", ev.Detail))
			})
			if err != nil {
				return fmt.Errorf("venue %s: %w", vc.Name, err)
			}
			ep.http = &http.Client{Timeout: ep.http.Timeout, Transport: rt}
		}
		if vc.Mock != nil {
			mv := a.mocks.Venue(vc.Name)
			if mv == nil {
				return fmt.Errorf("venue %s: no mock running", vc.Name)
			}
			ep.rest, ep.ws, ep.key, ep.secret, ep.passphrase = mv.RESTURL, mv.WSURL, mv.APIKey, mv.Secret, mv.Passphrase
		} else {
			ep.rest, ep.ws = vc.RESTURL, vc.WSURL
			ep.key, ep.secret = a.opts.Getenv(vc.APIKeyEnv), secret.New(a.opts.Getenv(vc.APISecretEnv))
			if ep.key == "" || ep.secret.Empty() {
				return fmt.Errorf("venue %s: environment variables %s and %s must be set", vc.Name, vc.APIKeyEnv, vc.APISecretEnv)
			}
			if pr.passphrase {
				ep.passphrase = secret.New(a.opts.Getenv(vc.APIPassphraseEnv))
				if ep.passphrase.Empty() {
					return fmt.Errorf("venue %s: environment variable %s must be set", vc.Name, vc.APIPassphraseEnv)
				}
			}
		}
		ad, err := pr.adapter(ep)
		if err != nil {
			return fmt.Errorf("venue %s: %w", vc.Name, err)
		}
		a.venues = append(a.venues, ad)
		a.proto[vc.Name] = vc.Protocol
	}
	dir := cfg.Journal.Dir
	if a.opts.JournalDir != "" {
		dir = a.opts.JournalDir
	}
	if a.jrnl, err = journal.Open(dir); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	a.ledger = positions.NewLedger()
	st, err := risk.ParseState(cfg.Risk.State)
	if err != nil {
		return err
	}
	a.state = &risk.Switch{}
	if err := a.state.Set(st); err != nil {
		return err
	}
	traders := make([]engine.Trader, len(a.venues))
	for i, v := range a.venues {
		traders[i] = v
	}
	a.eng, err = engine.New(engine.Options{
		Clock: a.clk, Logger: a.log, Venues: traders, Ledger: a.ledger, Breakers: a.brk, State: a.state,
		Params: engineParams(cfg), Salt: []byte(cfg.ClientIDSalt), Journal: a.jrnl, Failpoint: a.opts.Failpoint,
		CallTimeout: timeout, VenueCallTimeouts: venueTimeouts(cfg), Instruments: cfg.Instruments, OnChildDecision: a.opts.OnChildDecision, Events: a.bus,
		OnReconnect: func(venue string) { a.loop.Trigger(venue) }, Retry: gateway.Retry{NoMarkouts: a.opts.NoMarkouts},
	})
	if err != nil {
		return err
	}
	if err := a.buildReconcile(cfg); err != nil {
		return err
	}
	if err := a.replayOps(); err != nil {
		return err
	}
	if err := a.eng.Start(ctx); err != nil {
		return err
	}
	if err := a.buildKeeper(cfg); err != nil {
		return err
	}
	a.runReconcile()
	bgCtx, cancel := context.WithCancel(context.Background())
	a.bgStop = cancel
	a.stats = newStatsCache(a.eng.VenueNames(), cfg.Instruments, a.eng.Stats)
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		a.stats.run(bgCtx, time.Second)
	}()
	h, err := api.New(api.Options{
		Orders: a.eng, Ops: a, Tokens: apiTokens(cfg), Instruments: cfg.Instruments, Logger: a.log, Hash: config.HashToken,
		Events: a.bus, Targets: a,
	})
	if err != nil {
		return err
	}
	listen := cfg.Listen
	if a.opts.Listen != "" {
		listen = a.opts.Listen
	}
	a.ln, err = net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	a.srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second}
	a.apiSrv = h // Shutdown does not wait for websockets: Stop ends the event streams and waits for them
	a.srvDone = make(chan error, 1)
	go func() { a.srvDone <- a.srv.Serve(a.ln) }()
	close(a.ready)
	a.log.Info("execd started", zap.String("addr", a.Addr()), zap.Int("venues", len(a.venues)))
	return nil
}

// VenueHTTPClient is the HTTP client the daemon's venue adapters share: one connection pool for every venue, with
// timeout bounding one call and the time to its answer's headers. wrap, if not nil, wraps its transport
// (Options.WrapTransport). Exported so that a benchmark can talk to a venue with the same transport settings.
func VenueHTTPClient(timeout time.Duration, wrap func(http.RoundTripper) http.RoundTripper) *http.Client {
	var rt http.RoundTripper = &http.Transport{
		MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: timeout,
	}
	if wrap != nil {
		rt = wrap(rt)
	}
	return &http.Client{Timeout: timeout, Transport: rt}
}

// venueTimeouts are the venues' own call timeouts, where the config sets one.
func venueTimeouts(cfg *config.Config) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, v := range cfg.Venues {
		if v.CallTimeout > 0 {
			out[v.Name] = v.CallTimeout
		}
	}
	return out
}

func hasMock(cfg *config.Config) bool {
	for _, v := range cfg.Venues {
		if v.Mock != nil {
			return true
		}
	}
	return false
}

func engineParams(cfg *config.Config) engine.Params {
	p := engine.Params{
		MeanInterval: cfg.TWAP.MeanInterval, TimeJitter: cfg.TWAP.TimeJitter, SizeJitter: cfg.TWAP.SizeJitter,
		IntervalCV: cfg.TWAP.IntervalCV,
		EndBuffer:  cfg.TWAP.EndBuffer, Catchup: cfg.TWAP.Catchup, RetryInterval: cfg.TWAP.RetryInterval,
		StartJitter:      *cfg.TWAP.StartJitter,
		DefaultExecution: engine.Execution(cfg.TWAP.Execution), MakerTolerance: cfg.TWAP.MakerTolerance,
		MakerAhead: cfg.TWAP.MakerAhead, FundingShift: *cfg.TWAP.FundingShift,
		MaxChildNotional: cfg.Risk.MaxChildNotional, MaxOrderNotional: cfg.Risk.MaxOrderNotional,
		DefaultSlippageBps: cfg.Risk.DefaultMaxSlippageBps, MaxSlippageBps: cfg.Risk.MaxSlippageBps,
		MaxConsecutiveRejects: cfg.Risk.MaxConsecutiveRejects, Venues: map[string]engine.VenueParams{},
		Caps: map[engine.CapKey]engine.Caps{},
	}
	for _, v := range cfg.Venues {
		p.Venues[v.Name] = engine.VenueParams{Weight: *v.Weight, Enabled: v.IsEnabled()}
		for inst, c := range v.Caps {
			p.Caps[engine.CapKey{Venue: v.Name, Instrument: inst}] = engine.Caps{MaxPosition: c.MaxPosition,
				MaxParticipation: c.MaxParticipation}
		}
	}
	return p
}

// Addr is the API's listening address.
func (a *App) Addr() string {
	if a.ln == nil {
		return ""
	}
	return a.ln.Addr().String()
}

// Stop stops accepting requests, lets the engine finish in-flight venue calls (bounded by ctx), and stops the
// mocks it started.
func (a *App) Stop(ctx context.Context) error {
	var errs []error
	if a.srv != nil {
		if err := a.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http: %w", err))
		}
	}
	if a.apiSrv != nil {
		a.apiSrv.Close() // every /v1/events handler has returned when this does
	}
	a.stopReconcile() // no pass or corrective parent while the engine stops
	if a.eng != nil {
		if err := a.eng.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("engine: %w", err))
		}
	}
	a.teardown()
	return errors.Join(errs...)
}

func (a *App) teardown() {
	a.stopReconcile()
	if a.bgStop != nil {
		a.bgStop()
		a.bg.Wait()
	}
	if a.srv != nil {
		_ = a.srv.Close()
	}
	if a.ownMock && a.mocks != nil {
		a.mocks.Close()
	}
	if a.jrnl != nil {
		if err := a.jrnl.Close(); err != nil {
			a.log.Error("closing the journal", zap.Error(err))
		}
		a.jrnl = nil
	}
}

// --- api.Ops ---

var _ api.Ops = (*App)(nil)

// Venues reports each venue's health, breaker and share.
func (a *App) Venues(ctx context.Context) []api.VenueStatus {
	prm := a.eng.Params()
	snap := a.stats.snapshot()
	total := decimal.Zero
	for _, s := range snap {
		total = total.Add(s.Volume24h)
	}
	out := make([]api.VenueStatus, 0, len(a.venues))
	for _, v := range a.venues {
		n := v.Name()
		vp := prm.Venues[n]
		st := api.VenueStatus{
			Venue: n, Protocol: a.proto[n], Enabled: vp.Enabled, Weight: vp.Weight,
		}
		bs := a.brk.Status(n)
		st.Breaker, st.Healthy = bs.State, bs.State != "open"
		st.BreakerDetail = api.BreakerDetail{Requests: bs.Requests, Failures: bs.Failures,
			ConsecutiveFailures: bs.ConsecutiveFailures, TripFailures: bs.Settings.ConsecutiveFailures,
			TripRatio: bs.Settings.FailureRatio, MinRequests: bs.Settings.MinRequests, Window: bs.Settings.Window.String(),
			OpenTimeout: bs.Settings.OpenTimeout.String(), Probes: bs.Settings.HalfOpenProbes,
			Transitions: make([]api.BreakerEvent, 0, len(bs.Transitions))}
		for _, t := range bs.Transitions {
			st.BreakerDetail.Transitions = append(st.BreakerDetail.Transitions,
				api.BreakerEvent{Venue: n, From: t.From, To: t.To, Time: t.At.UTC()})
		}
		if s, ok := snap[n]; ok {
			if s.err != nil {
				st.Error = s.err.Error()
			} else {
				vol, mark := s.Volume24h, s.MarkPrice
				st.Volume24h, st.MarkPrice = &vol, &mark
				if total.IsPositive() {
					sh := vol.Div(total).Round(4)
					st.VolumeShare = &sh
				}
			}
		}
		out = append(out, st)
	}
	return out
}

// Positions is the ledger per venue and in aggregate, beside the venues' own figures as the reconcile loop last
// read them, and each instrument's target.
func (a *App) Positions() api.PositionsView {
	snap := a.ledger.Snapshot()
	rs := a.reconStatus()
	var v api.PositionsView
	v.Venues = []api.VenuePosition{}
	for _, e := range snap {
		vp := api.VenuePosition{Venue: e.Venue, Instrument: e.Instrument, Position: e.Quantity, Notional: e.Notional().Round(2)}
		if st, ok := rs[[2]string{e.Venue, e.Instrument}]; ok {
			vp.Flagged, vp.Error = st.Flagged, st.Err
			if !st.LastAt.IsZero() {
				obs, at := st.Last.Observed, st.LastAt
				diff := obs.Sub(st.Last.Ledger)
				if !st.Last.Adjusted.IsZero() {
					diff = obs.Sub(st.Last.Ledger.Add(st.Last.Adjusted))
				}
				vp.VenuePosition, vp.Difference, vp.ReadAt = &obs, &diff, &at
			}
		}
		v.Venues = append(v.Venues, vp)
	}
	v.Aggregate = []api.AggregatePosition{}
	for _, g := range positions.Aggregates(snap) {
		ap := api.AggregatePosition{Instrument: g.Instrument, Position: g.Quantity, Notional: g.Notional.Round(2)}
		if a.keeper != nil {
			if t, ok := a.keeper.Current(g.Instrument); ok {
				pos, drift := t.Target.Position, g.Quantity.Sub(t.Target.Position)
				ap.Target, ap.Drift = &pos, &drift
			}
		}
		v.Aggregate = append(v.Aggregate, ap)
	}
	return v
}

// Ready is nil once the daemon serves and every (venue, instrument) pair's position is known; otherwise it says
// which pairs are not reconciled and why.
func (a *App) Ready() error {
	select {
	case <-a.ready:
	default:
		return errors.New("starting")
	}
	if err := a.eng.Unreconciled(""); err != nil {
		return fmt.Errorf("not reconciled (not traded until they are): %w", err)
	}
	return nil
}

// breakerSettings are the venues' breaker settings of a config.
func breakerSettings(cfg *config.Config) risk.BreakerSettings {
	r := cfg.Risk
	return risk.BreakerSettings{ConsecutiveFailures: r.BreakerFailures, FailureRatio: r.BreakerFailureRatio,
		MinRequests: r.BreakerMinRequests, Window: r.BreakerWindow, OpenTimeout: r.BreakerOpenTimeout,
		HalfOpenProbes: r.BreakerProbes}
}

// onBreaker logs a venue's breaker transition and publishes it as a "breaker" event.
func (a *App) onBreaker(venue, from, to string) {
	a.log.Warn("venue breaker changed state", zap.String("venue", venue), zap.String("from", from), zap.String("to", to))
	if a.bus != nil {
		a.bus.Publish(api.KindBreaker, venue, api.BreakerEvent{Venue: venue, From: from, To: to, Time: time.Now().UTC()})
	}
}

// breakerGate refuses, unsent, every request to a venue whose breaker is open: the adapters see a request that
// was never written (retryable, nothing reached the venue).
type breakerGate struct {
	base  http.RoundTripper
	venue string
	brk   *risk.Breakers
}

// ErrBreakerOpen is wrapped by the error of a request the breaker gate did not send.
var ErrBreakerOpen = errors.New("venue breaker open: request not sent")

func (g *breakerGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if !g.brk.Healthy(g.venue) {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("%s: %w", g.venue, ErrBreakerOpen)
	}
	return g.base.RoundTrip(req)
}
