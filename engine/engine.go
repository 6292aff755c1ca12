package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/internal/mailbox"
	"github.com/execd-dev/execd/journal"
	"github.com/execd-dev/execd/positions"
	"github.com/execd-dev/execd/risk"
	"github.com/execd-dev/execd/venues"
)

// Trader is what the engine needs of a venue: what its gateways need (see gateway.Venue); every venues.Venue is
// one. A venue that also implements Streamer pushes its private events.
type Trader = gateway.Venue

// Streamer is the optional capability of a venue to push private events (found by type assertion).
type Streamer interface {
	Stream(ctx context.Context, out chan<- venues.Event) error
}

// Options wire an Engine.
type Options struct {
	Clock  clock.Clock
	Logger *zap.Logger
	Venues []Trader // in config order
	// Instruments are the canonical instruments traded; one gateway runs per venue and instrument. Empty: the
	// instruments of the journal's working parents and BTC-USDT-PERP.
	Instruments []string
	Ledger      *positions.Ledger
	Breakers    *risk.Breakers
	State       *risk.Switch
	Params      Params
	// Salt keys client order ids and schedule seeds.
	Salt []byte
	// Retry is the gateways' table of retries, back-offs and waits; zero fields take gateway.DefaultRetry's.
	Retry gateway.Retry
	// CallTimeout and FillWait override Retry's fields of the same meaning when set.
	CallTimeout time.Duration
	FillWait    time.Duration
	// VenueCallTimeouts override CallTimeout for the venues they name.
	VenueCallTimeouts map[string]time.Duration
	// Journal is the durable record of parents, child intents and outcomes, and fills. Required.
	Journal journal.Store
	// Failpoint, if set, is called at the named places of Fail* constants; crash tests kill the process there.
	Failpoint func(name string)
	// OnChildDecision, if set, is told each time a parent decides to send a child order: its client order id and
	// the wall time of the decision. Benchmarks measure decision-to-wire latency with it; nil in production. It
	// is called on parents' goroutines, concurrently: it must be safe for concurrent use and must not block.
	OnChildDecision func(clientOrderID string, wall time.Time)
	// Events receives every change of a parent, child, fill and venue (see the Event* kinds). Nil: none.
	Events Publisher
	// OnReconnect, if set, is told each time a venue's private stream is re-established (on the venue's router
	// goroutine; it must not block): what happened while it was down must be reconciled.
	OnReconnect func(venue string)
}

type gwKey struct{ venue, instrument string }

// Engine runs parent orders over one gateway per venue and instrument. Its methods are safe for concurrent use.
type Engine struct {
	clk      clock.Clock
	log      *zap.Logger
	venues   map[string]Trader
	order    []string
	ledger   *positions.Ledger
	breakers *risk.Breakers
	state    *risk.Switch
	salt     []byte
	timeout  time.Duration
	journal  journal.Store
	fail     func(string)
	decided  func(clientOrderID string, wall time.Time)
	events   Publisher
	reconn   func(venue string)
	params   atomic.Pointer[Params]
	gws      map[gwKey]*gateway.Gateway
	// gates are per venue: every placement or amend holds its venue's read lock from the enabled check to the
	// call's return; disabling a venue takes the write lock once, so SetVenue returns only when nothing admitted
	// before is still in flight and nothing after can be.
	gates map[string]*sync.RWMutex

	mu      sync.Mutex
	parents map[string]*parent
	pending map[string]chan struct{} // ids being planned

	runCtx  context.Context // parents' lifetime; cancelled by Stop
	stopRun context.CancelFunc
	gwCtx   context.Context // gateways' and streams' lifetime; cancelled by Stop after the parents
	stopGw  context.CancelFunc
	wg      sync.WaitGroup // parents
	gwg     sync.WaitGroup // gateways and streams
	started atomic.Bool
	// markouts are the parents whose markouts changed since they were last journaled (writeMarkouts); the writer
	// runs until moStop is closed, after the gateways (the samples' source) have stopped, and closes moDone.
	markouts       *mailbox.Box[*parent]
	moStop, moDone chan struct{}
	stopMarkouts   sync.Once
	moRunning      atomic.Bool
}

// New builds an engine and its gateways; Start recovers the journal and starts them.
func New(o Options) (*Engine, error) {
	if o.Clock == nil || o.Ledger == nil || o.Breakers == nil || o.State == nil || o.Journal == nil {
		return nil, errors.New("engine: clock, ledger, breakers, state and journal are required")
	}
	if len(o.Venues) == 0 {
		return nil, errors.New("engine: no venues")
	}
	if len(o.Salt) < 8 {
		return nil, errors.New("engine: salt shorter than 8 bytes")
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	retry := o.Retry
	if o.CallTimeout > 0 {
		retry.CallTimeout = o.CallTimeout
	}
	if o.FillWait > 0 {
		retry.FillWait = o.FillWait
	}
	if retry.CallTimeout <= 0 {
		retry.CallTimeout = gateway.DefaultRetry().CallTimeout
	}
	instruments := o.Instruments
	if len(instruments) == 0 {
		instruments = []string{"BTC-USDT-PERP"}
	}
	e := &Engine{
		clk: o.Clock, log: o.Logger, venues: map[string]Trader{}, ledger: o.Ledger, breakers: o.Breakers,
		state: o.State, salt: append([]byte(nil), o.Salt...), timeout: retry.CallTimeout,
		journal: o.Journal, fail: o.Failpoint, decided: o.OnChildDecision, events: o.Events, reconn: o.OnReconnect,
		parents: map[string]*parent{}, pending: map[string]chan struct{}{}, gws: map[gwKey]*gateway.Gateway{},
		gates: map[string]*sync.RWMutex{},
	}
	for _, v := range o.Venues {
		if _, dup := e.venues[v.Name()]; dup {
			return nil, fmt.Errorf("engine: venue %s twice", v.Name())
		}
		e.venues[v.Name()] = v
		e.order = append(e.order, v.Name())
		e.gates[v.Name()] = &sync.RWMutex{}
		vretry := retry
		if d := o.VenueCallTimeouts[v.Name()]; d > 0 {
			vretry.CallTimeout = d
		}
		for _, inst := range instruments {
			name, inst := v.Name(), inst
			gw, err := gateway.New(gateway.Options{
				Venue: v, Instrument: inst, Journal: o.Journal, Ledger: o.Ledger, Breakers: o.Breakers, State: o.State,
				Retry: vretry, Logger: o.Logger, Failpoint: o.Failpoint, ClientIDPrefix: ClientIDPrefix, Clock: o.Clock,
				Admit: func() (func(), bool) { return e.admit(name) },
				OnHealth: func(h gateway.Health, reason string) {
					e.publishEvent(EventVenue, name, VenueEvent{Venue: name, Instrument: inst, Health: Health(h),
						Reason: reason, Time: e.clk.Now()})
				},
			})
			if err != nil {
				return nil, fmt.Errorf("engine: %w", err)
			}
			e.gws[gwKey{name, inst}] = gw
		}
	}
	if err := e.SetParams(o.Params); err != nil {
		return nil, err
	}
	e.runCtx, e.stopRun = context.WithCancel(context.Background())
	e.gwCtx, e.stopGw = context.WithCancel(context.Background())
	e.markouts = mailbox.New[*parent]()
	e.moStop, e.moDone = make(chan struct{}), make(chan struct{})
	return e, nil
}

// writeMarkouts journals the markouts of the parents that announce a change, each once per wake however many
// samples came meanwhile, until moStop (Stop closes it once the gateways have stopped); what is announced by then
// is written before it returns. A failed write is logged and retried with the parent's next sample (each write
// holds all of them so far).
func (e *Engine) writeMarkouts() {
	defer close(e.moDone)
	write := func() {
		seen := map[*parent]bool{}
		for _, p := range e.markouts.Drain(nil) {
			if seen[p] {
				continue
			}
			seen[p] = true
			if err := e.journal.PutMarkouts(p.mo.record(p.req.ID)); err != nil {
				p.log.Warn("markouts not journaled: a restart now would lose them", zap.Error(err))
			}
		}
	}
	for {
		select {
		case <-e.markouts.Ready():
			write()
		case <-e.moStop:
			write()
			return
		}
	}
}

func (e *Engine) gateway(venue, instrument string) *gateway.Gateway {
	return e.gws[gwKey{venue, instrument}]
}

func (e *Engine) publishEvent(kind, key string, data any) {
	if e.events != nil {
		e.events.Publish(kind, key, data)
	}
}

// SetParams replaces the reloadable parameters. Running parents keep their schedules; they take the new weights
// and enabled venues at once (a venue disabled is taken out of every running parent and its remainder moved).
func (e *Engine) SetParams(p Params) error {
	if p.MeanInterval <= 0 || p.RetryInterval <= 0 || p.MaxConsecutiveRejects < 1 || p.DefaultSlippageBps < 1 {
		return errors.New("engine: params: intervals, rejects and slippage must be positive")
	}
	for name := range p.Venues {
		if _, ok := e.venues[name]; !ok {
			return fmt.Errorf("engine: params for unknown venue %s", name)
		}
	}
	c := p.clone()
	old := e.params.Swap(&c)
	for name, vp := range c.Venues {
		if old == nil {
			break // New: nothing was sent yet
		}
		if was, ok := old.Venues[name]; !vp.Enabled && (!ok || was.Enabled) {
			g := e.gates[name]
			g.Lock() // as SetVenue: wait for the calls admitted before the venue was disabled
			g.Unlock()
		}
	}
	e.broadcastParams()
	return nil
}

// Params returns a copy of the current parameters.
func (e *Engine) Params() Params { return e.params.Load().clone() }

// admit lets a placement or amend on venue go if ops have not disabled it; release once the call returned.
func (e *Engine) admit(venue string) (release func(), ok bool) {
	g := e.gates[venue]
	g.RLock()
	if vp, has := e.params.Load().Venues[venue]; has && !vp.Enabled {
		g.RUnlock()
		return nil, false
	}
	return g.RUnlock, true
}

// SetVenue changes one venue's weight and enabled flag, for new parents and running ones. When it disables a
// venue it returns once no placement or amend is in flight there (each is bounded by the venue's call timeout),
// and none is sent after: what ops were told is what holds. Running parents then move the venue's unsent
// remainder to the others.
func (e *Engine) SetVenue(name string, vp VenueParams) error {
	if _, ok := e.venues[name]; !ok {
		return errorf(KindNotFound, "venue %s does not exist", name)
	}
	if vp.Weight.IsNegative() {
		return errorf(KindInvalid, "weight must not be negative")
	}
	for {
		old := e.params.Load()
		c := old.clone()
		c.Venues[name] = vp
		if e.params.CompareAndSwap(old, &c) {
			break
		}
	}
	if !vp.Enabled {
		g := e.gates[name]
		g.Lock() // waits for the calls admitted before the change
		g.Unlock()
	}
	e.broadcastParams()
	return nil
}

// SetTrading changes the trading state and tells every running parent: halted pauses them all, reducing the
// ones that are not reduce-only; on resume what fell behind is re-spread over the time left. New parents are
// refused while halted, and while reducing unless reduce-only (Submit).
func (e *Engine) SetTrading(st risk.State) error {
	if err := e.state.Set(st); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.parents {
		if p.inbox != nil {
			p.inbox.Put(Event{Kind: EvTrading, Trading: st})
		}
	}
	return nil
}

func (e *Engine) broadcastParams() {
	prm := e.Params()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.parents {
		if p.inbox != nil {
			p.inbox.Put(Event{Kind: EvParams, Params: prm.clone()})
		}
	}
}

// VenueNames lists the venues in config order.
func (e *Engine) VenueNames() []string { return append([]string(nil), e.order...) }

// Stats reads a venue's statistics for an instrument through its gateway (behind the venue's breaker; the
// gateway's mark and the ledger's are refreshed with it).
func (e *Engine) Stats(ctx context.Context, venue, instrument string) (venues.Stats, error) {
	gw := e.gateway(venue, instrument)
	if gw == nil {
		return venues.Stats{}, errorf(KindNotFound, "%s is not traded on %s", instrument, venue)
	}
	return gw.Stats(ctx)
}

// Gateways returns the gateway of every (venue, instrument) pair, venues in config order, then by instrument:
// the reconcile loop's pairs.
func (e *Engine) Gateways() []*gateway.Gateway {
	out := make([]*gateway.Gateway, 0, len(e.gws))
	for _, name := range e.order {
		var gs []*gateway.Gateway
		for k, gw := range e.gws {
			if k.venue == name {
				gs = append(gs, gw)
			}
		}
		sort.Slice(gs, func(i, j int) bool { return gs[i].Instrument() < gs[j].Instrument() })
		out = append(out, gs...)
	}
	return out
}

// Instruments lists the instruments traded, sorted.
func (e *Engine) Instruments() []string {
	set := map[string]bool{}
	for k := range e.gws {
		set[k.instrument] = true
	}
	out := make([]string, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	sort.Strings(out)
	return out
}

// Unreconciled says why an instrument ("" for any) cannot be traded yet: a pair of it whose start-up read
// failed and that no reconcile pass has read since. Nil when every pair is known.
func (e *Engine) Unreconciled(instrument string) error {
	var errs []error
	for _, gw := range e.Gateways() {
		if instrument != "" && gw.Instrument() != instrument {
			continue
		}
		if err := gw.Unprepared(); err != nil {
			errs = append(errs, err) // Prepare's errors name the venue and instrument
		}
	}
	return errors.Join(errs...)
}

// MinLot is the smallest lot of an instrument among the venues whose rules its gateways have read; zero if none.
func (e *Engine) MinLot(instrument string) decimal.Decimal {
	lot := decimal.Zero
	for k, gw := range e.gws {
		if k.instrument != instrument {
			continue
		}
		if r, ok := gw.CachedRules(); ok && (lot.IsZero() || r.LotSize.LessThan(lot)) {
			lot = r.LotSize
		}
	}
	return lot
}

// Health is a venue's health for an instrument as its gateway sees it ("" if the pair is not traded).
func (e *Engine) Health(venue, instrument string) Health {
	if gw := e.gateway(venue, instrument); gw != nil {
		return Health(gw.Health())
	}
	return ""
}

// Start recovers what the journal holds, prepares every gateway (rules; the fills a venue made while execd was
// down, journaled; stray open orders cancelled; the ledger's position seeded from the venue), starts the
// gateways and the venues' private streams, and resumes the working parents. Call it once.
func (e *Engine) Start(ctx context.Context) error {
	if !e.started.CompareAndSwap(false, true) {
		return errors.New("engine: started twice")
	}
	recs, err := e.journal.Parents()
	if err != nil {
		return fmt.Errorf("engine: reading the journal: %w", err)
	}
	since := map[gwKey]time.Time{}
	keep := map[string]bool{} // client ids of children whose outcome the journal lacks: their parent resolves them
	type working struct {
		rec      journal.Parent
		children []journal.Child
	}
	var resume []working
	var scheduled []*parent
	for _, rec := range recs {
		if rec.State == string(Scheduled) {
			p, err := e.restoreScheduled(rec)
			if err != nil {
				return fmt.Errorf("engine: restoring %s: %w", rec.ID, err)
			}
			e.parents[rec.ID] = p
			scheduled = append(scheduled, p)
			continue
		}
		if rec.State != string(Working) {
			p, err := e.restoreEnded(rec)
			if err != nil {
				return fmt.Errorf("engine: restoring %s: %w", rec.ID, err)
			}
			e.parents[rec.ID] = p
			continue
		}
		children, err := e.journal.Children(rec.ID)
		if err != nil {
			return fmt.Errorf("engine: restoring %s: %w", rec.ID, err)
		}
		for _, c := range children {
			if !c.State.Final() {
				keep[c.ClientID] = true
			}
		}
		for _, v := range rec.Venues {
			k := gwKey{v.Name, rec.Request.Instrument}
			if e.gws[k] == nil {
				return fmt.Errorf("engine: restoring %s: %s on %s is no longer configured", rec.ID, k.instrument, k.venue)
			}
			if t, ok := since[k]; !ok || rec.Created.Before(t) {
				since[k] = rec.Created
			}
		}
		resume = append(resume, working{rec, children})
	}
	for _, name := range e.order {
		for k, gw := range e.gws {
			if k.venue != name {
				continue
			}
			var t time.Time
			if s, ok := since[k]; ok {
				t = s.Add(-time.Minute)
			}
			if _, err := gw.Prepare(ctx, t, func(id string) bool { return keep[id] }); err != nil {
				if _, working := since[k]; working || ctx.Err() != nil {
					// A working parent needs this pair's fills and orders to resume: no start without them.
					return fmt.Errorf("engine: %w", err)
				}
				// Nothing to recover here: start, and refuse to trade the instrument until a reconcile pass has
				// read the pair (readiness says why).
				e.log.Warn("venue not reconciled at start; its instrument is not traded until it is",
					zap.String("venue", k.venue), zap.String("instrument", k.instrument), zap.Error(err))
			}
		}
	}
	var ps []*parent
	for _, w := range resume {
		p, err := e.restore(w.rec, w.children, e.journal.FillsFor)
		if err != nil {
			return fmt.Errorf("engine: restoring %s: %w", w.rec.ID, err)
		}
		e.parents[w.rec.ID] = p
		ps = append(ps, p)
	}
	ps = append(ps, scheduled...)
	if len(recs) > 0 {
		e.log.Info("journal recovered", zap.Int("parents", len(recs)), zap.Int("working", len(ps)))
	}
	e.moRunning.Store(true)
	go e.writeMarkouts()
	for _, gw := range e.gws {
		e.gwg.Add(1)
		go func(gw *gateway.Gateway) {
			defer e.gwg.Done()
			gw.Run(e.gwCtx)
		}(gw)
	}
	for _, name := range e.order {
		s, ok := e.venues[name].(Streamer)
		if !ok {
			continue
		}
		e.gwg.Add(1)
		go func(name string, s Streamer) {
			defer e.gwg.Done()
			e.stream(name, s)
		}(name, s)
	}
	for _, p := range ps {
		e.wg.Add(1)
		go func(p *parent) {
			defer e.wg.Done()
			p.run(e.runCtx)
		}(p)
	}
	return nil
}

// stream consumes one venue's private stream, restarting it when it ends, and hands each event to the gateway of
// its instrument (a reconnect to every gateway of the venue).
func (e *Engine) stream(name string, s Streamer) {
	events := make(chan venues.Event, 1024)
	e.gwg.Add(1)
	go func() { // the router: ends with the gateways' context, waited for by Stop
		defer e.gwg.Done()
		for {
			select {
			case ev := <-events:
				e.route(name, ev)
			case <-e.gwCtx.Done():
				return
			}
		}
	}()
	for e.gwCtx.Err() == nil {
		// The stream is a call class of the venue like any other: nothing connects while its breaker is open,
		// and a session that fails to connect or drops soon after counts as a failure of the venue.
		if e.breakers.Healthy(name) {
			began := time.Now()
			err := s.Stream(e.gwCtx, events)
			if e.gwCtx.Err() != nil {
				return
			}
			if time.Since(began) < streamStable {
				if err == nil {
					err = &venues.Error{Venue: name, Op: "stream", Class: venues.Retryable, Msg: "stream ended at once"}
				}
				if done, aerr := e.breakers.Allow(name); aerr == nil {
					done(err)
				}
			}
			e.log.Warn("venue stream ended; restarting", zap.String("venue", name), zap.Error(err))
		}
		t := time.NewTimer(time.Second)
		select {
		case <-t.C:
		case <-e.gwCtx.Done():
			t.Stop()
			return
		}
	}
}

// streamStable is how long a private stream session must last for its end to be a plain reconnect rather than a
// failure of the venue (for its breaker).
const streamStable = 30 * time.Second

func (e *Engine) route(venue string, ev venues.Event) {
	if ev.Reconnected {
		for k, gw := range e.gws {
			if k.venue == venue {
				gw.OnEvent(ev)
			}
		}
		if e.reconn != nil {
			e.reconn(venue)
		}
		return
	}
	inst := ""
	switch {
	case ev.Fill != nil:
		inst = ev.Fill.Instrument
	case ev.Order != nil:
		inst = ev.Order.Instrument
	}
	if gw := e.gateway(venue, inst); gw != nil {
		gw.OnEvent(ev)
		return
	}
	e.log.Warn("stream event for an instrument not traded here; ignored", zap.String("venue", venue), zap.String("instrument", inst))
}

// Stop stops scheduling new children, waits (bounded by ctx) for the children being placed to be answered, then
// stops the gateways and streams. Parents still working stay working: they are not cancelled at the venues.
func (e *Engine) Stop(ctx context.Context) error {
	e.mu.Lock()
	ps := make([]*parent, 0, len(e.parents))
	for _, p := range e.parents {
		ps = append(ps, p)
	}
	e.mu.Unlock()
	for _, p := range ps {
		p.stop()
	}
	var err error
	for _, p := range ps {
		select {
		case <-p.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			break
		}
	}
	e.stopRun()
	e.stopGw()
	done := make(chan struct{})
	go func() { e.wg.Wait(); e.gwg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	// The markouts the gateways delivered up to their end are written before Stop returns.
	e.stopMarkouts.Do(func() { close(e.moStop) })
	if e.moRunning.Load() {
		select {
		case <-e.moDone:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	return err
}

// Submit creates a parent order, or returns the existing one for the same id and the same request (created
// false). A different request under an existing id is a KindConflict error. Planning reads the venues through
// their gateways; if that fails nothing is created.
func (e *Engine) Submit(ctx context.Context, req Request) (Report, bool, error) {
	if _, err := ParseExecution(string(req.Execution)); err != nil {
		return Report{}, false, errorf(KindInvalid, "%v", err)
	}
	if req.Execution == "" {
		req.Execution = e.Params().DefaultExecution
	}
	for {
		e.mu.Lock()
		if p, ok := e.parents[req.ID]; ok {
			e.mu.Unlock()
			if !p.req.Same(req) {
				return Report{}, false, errorf(KindConflict, "order %s exists with a different request", req.ID)
			}
			return p.Report(), false, nil
		}
		wait, planning := e.pending[req.ID]
		if !planning {
			e.pending[req.ID] = make(chan struct{})
			e.mu.Unlock()
			break
		}
		e.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return Report{}, false, ctx.Err()
		}
	}
	defer func() {
		e.mu.Lock()
		close(e.pending[req.ID])
		delete(e.pending, req.ID)
		e.mu.Unlock()
	}()
	if e.runCtx.Err() != nil {
		return Report{}, false, errorf(KindUnavailable, "engine is stopping")
	}
	if e.state.Get() == risk.Halted {
		return Report{}, false, errorf(KindHalted, "trading is halted")
	}
	if err := e.Unreconciled(req.Instrument); err != nil {
		return Report{}, false, &Error{Kind: KindUnavailable, Msg: req.Instrument + " is not reconciled", Err: err}
	}
	if e.state.Get() == risk.Reducing && !req.ReduceOnly {
		return Report{}, false, errorf(KindHalted, "trading state is reducing: only reduce-only orders are accepted")
	}
	now := e.clk.Now()
	eff, later, err := window(req, now)
	if err != nil {
		return Report{}, false, err
	}
	var p *parent
	if later {
		p = newScheduled(e, req, now)
	} else {
		pl, err := e.plan(ctx, eff)
		if err != nil {
			return Report{}, false, err
		}
		p = newParent(e, req, newMachine(eff, pl, e.Params(), e.salt))
	}
	if err := p.persist(); err != nil {
		return Report{}, false, &Error{Kind: KindUnavailable, Msg: "the order could not be journaled", Err: err}
	}
	e.failpoint(FailAfterCreate)
	e.mu.Lock()
	e.parents[req.ID] = p
	e.mu.Unlock()
	e.publishEvent(EventOrder, req.ID, p.Report()) // the parent exists: its first event
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		p.run(e.runCtx)
	}()
	return p.Report(), true, nil
}

// Get returns a parent's current report.
func (e *Engine) Get(id string) (Report, error) {
	e.mu.Lock()
	p, ok := e.parents[id]
	e.mu.Unlock()
	if !ok {
		return Report{}, errorf(KindNotFound, "order %s does not exist", id)
	}
	return p.Report(), nil
}

// List returns every parent's report, newest first.
func (e *Engine) List() []Report {
	e.mu.Lock()
	out := make([]Report, 0, len(e.parents))
	for _, p := range e.parents {
		out = append(out, p.Report())
	}
	e.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out
}

// Cancel asks a parent to stop; what is filled stays filled. It returns the report as it stands; the parent
// reaches the cancelled state once its children have ended.
func (e *Engine) Cancel(id string) (Report, error) {
	e.mu.Lock()
	p, ok := e.parents[id]
	e.mu.Unlock()
	if !ok {
		return Report{}, errorf(KindNotFound, "order %s does not exist", id)
	}
	p.cancel()
	return p.Report(), nil
}

// Wait blocks until the parent has ended (or ctx is done) and returns its final report.
func (e *Engine) Wait(ctx context.Context, id string) (Report, error) {
	e.mu.Lock()
	p, ok := e.parents[id]
	e.mu.Unlock()
	if !ok {
		return Report{}, errorf(KindNotFound, "order %s does not exist", id)
	}
	select {
	case <-p.done:
		return p.Report(), nil
	case <-ctx.Done():
		return p.Report(), ctx.Err()
	}
}

// Breakers exposes the venues' breakers for health reports.
func (e *Engine) Breakers() *risk.Breakers { return e.breakers }
