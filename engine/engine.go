package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/journal"
	"github.com/execd-dev/execd/positions"
	"github.com/execd-dev/execd/risk"
	"github.com/execd-dev/execd/venues"
)

// Streamer is the optional capability of a venue to push private events (found by type assertion).
type Streamer interface {
	Stream(ctx context.Context, out chan<- venues.Event) error
}

// Options wire an Engine.
type Options struct {
	Clock    clock.Clock
	Logger   *zap.Logger
	Venues   []Trader // in config order
	Ledger   *positions.Ledger
	Breakers *risk.Breakers
	State    *risk.Switch
	Params   Params
	// Salt keys client order ids and schedule seeds.
	Salt []byte
	// CallTimeout bounds one venue call (wall clock). Default 10s.
	CallTimeout time.Duration
	// FillWait is how long (wall clock) the engine waits for a child's fills on the private stream before it reads
	// them from the venue's REST API. Default 2s.
	FillWait time.Duration
	// Journal is the durable record of parents, child intents and outcomes, and fills. Required.
	Journal journal.Store
	// Failpoint, if set, is called at the named places of Fail* constants; crash tests kill the process there.
	Failpoint func(name string)
	// SeedLedger, called by Start after recovery has journaled the fills the venues made while execd was down and
	// before any stream or parent starts, sets the ledger's positions from the venues' own reports (which then
	// include every fill recovery marked seen).
	SeedLedger func(ctx context.Context) error
	// OnChildDecision, if set, is told each time the engine decides to send a child order: the child's client order
	// id and the wall time of the decision (a slice is due and the child is created; its intent is not journaled
	// yet). Benchmarks measure decision-to-wire latency with it; nil in production. It is called on the parent's
	// owner goroutine, so calls from different parents may be concurrent: it must be safe for concurrent use, must
	// not block, and must not call the Engine.
	OnChildDecision func(clientOrderID string, wall time.Time)
}

// Engine runs parent orders. Its methods are safe for concurrent use.
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
	fillWait time.Duration
	journal  journal.Store
	fail     func(string)
	seed     func(context.Context) error
	decided  func(clientOrderID string, wall time.Time)
	params   atomic.Pointer[Params]

	mu       sync.Mutex
	parents  map[string]*parent
	pending  map[string]chan struct{} // ids being planned
	byClient map[string]*parent

	runCtx  context.Context // parents' lifetime; cancelled by Stop
	stopRun context.CancelFunc
	wg      sync.WaitGroup
	started atomic.Bool
}

// New builds an engine; Start begins consuming the venues' streams.
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
	if o.CallTimeout <= 0 {
		o.CallTimeout = 10 * time.Second
	}
	if o.FillWait <= 0 {
		o.FillWait = 2 * time.Second
	}
	e := &Engine{
		clk: o.Clock, log: o.Logger, venues: map[string]Trader{}, ledger: o.Ledger, breakers: o.Breakers,
		state: o.State, salt: append([]byte(nil), o.Salt...), timeout: o.CallTimeout, fillWait: o.FillWait,
		journal: o.Journal, fail: o.Failpoint, seed: o.SeedLedger, decided: o.OnChildDecision,
		parents: map[string]*parent{}, pending: map[string]chan struct{}{}, byClient: map[string]*parent{},
	}
	for _, v := range o.Venues {
		if _, dup := e.venues[v.Name()]; dup {
			return nil, fmt.Errorf("engine: venue %s twice", v.Name())
		}
		e.venues[v.Name()] = v
		e.order = append(e.order, v.Name())
	}
	if err := e.SetParams(o.Params); err != nil {
		return nil, err
	}
	e.runCtx, e.stopRun = context.WithCancel(context.Background())
	return e, nil
}

// SetParams replaces the reloadable parameters; running parents keep their schedules, new allocations and
// reallocations use the new weights.
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
	e.params.Store(&c)
	return nil
}

// Params returns a copy of the current parameters.
func (e *Engine) Params() Params { return e.params.Load().clone() }

// SetVenue changes one venue's weight and enabled flag.
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
			return nil
		}
	}
}

// VenueNames lists the venues in config order.
func (e *Engine) VenueNames() []string { return append([]string(nil), e.order...) }

// Start recovers what the journal holds (see recover), then consumes each venue's private stream, booking fills
// in the journal and the ledger and routing them to their parent, and resumes the working parents. Call it once,
// after the ledger has been seeded from the venues' positions.
func (e *Engine) Start(ctx context.Context) error {
	if !e.started.CompareAndSwap(false, true) {
		return errors.New("engine: started twice")
	}
	resumed, err := e.recover(ctx)
	if err != nil {
		return err
	}
	if e.seed != nil {
		if err := e.seed(ctx); err != nil {
			return err
		}
	}
	events := make(chan venues.Event, 1024)
	for _, name := range e.order {
		s, ok := e.venues[name].(Streamer)
		if !ok {
			continue
		}
		e.wg.Add(1)
		go func(name string, s Streamer) {
			defer e.wg.Done()
			for e.runCtx.Err() == nil {
				err := s.Stream(e.runCtx, events)
				if e.runCtx.Err() != nil {
					return
				}
				e.log.Warn("venue stream ended; restarting", zap.String("venue", name), zap.Error(err))
				t := time.NewTimer(time.Second)
				select {
				case <-t.C:
				case <-e.runCtx.Done():
					t.Stop()
					return
				}
			}
		}(name, s)
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			select {
			case ev := <-events:
				e.dispatch(ev)
			case <-e.runCtx.Done():
				return
			}
		}
	}()
	for _, p := range resumed {
		e.wg.Add(1)
		go func(p *parent) {
			defer e.wg.Done()
			p.run(e.runCtx)
		}(p)
	}
	return nil
}

// Stop stops scheduling new children, waits (bounded by ctx) for in-flight venue calls to resolve, then stops the
// streams. Parents still working stay working: they are not cancelled at the venues.
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
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	return err
}

func (e *Engine) dispatch(ev venues.Event) {
	if ev.Reconnected {
		e.log.Info("venue stream reconnected", zap.String("venue", ev.Venue))
		// Fills missed while the stream was down are recovered per child by the parents (REST read after FillWait).
		return
	}
	if ev.Fill != nil {
		e.bookFill(*ev.Fill)
	}
	if ev.Order != nil {
		e.mu.Lock()
		p := e.byClient[ev.Order.ClientOrderID]
		e.mu.Unlock()
		if p != nil {
			p.sendOrder(ev.Venue, *ev.Order)
		}
	}
}

// bookFill journals a fill once (by venue and trade id), books it in the ledger and hands it to its parent. A
// fill the journal already holds is ignored: it was booked before (perhaps before a restart).
func (e *Engine) bookFill(f venues.Fill) {
	e.failpoint(FailBeforeFill)
	if err := positions.Check(f); err != nil {
		e.log.Error("fill refused: it cannot be booked", zap.String("venue", f.Venue), zap.String("trade", f.TradeID), zap.Error(err))
		return
	}
	fresh, err := e.journal.AddFill(f)
	if err != nil {
		e.log.Error("fill not journaled; it will be read again from the venue", zap.String("venue", f.Venue),
			zap.String("trade", f.TradeID), zap.Error(err))
		return
	}
	if !fresh {
		return
	}
	if _, err := e.ledger.Book(f); err != nil {
		e.log.Error("fill not booked", zap.String("venue", f.Venue), zap.String("trade", f.TradeID), zap.Error(err))
		return
	}
	e.mu.Lock()
	p := e.byClient[f.ClientOrderID]
	e.mu.Unlock()
	if p != nil {
		p.sendFill(f)
	}
}

func (e *Engine) register(clientID string, p *parent) {
	e.mu.Lock()
	e.byClient[clientID] = p
	e.mu.Unlock()
}

// Submit creates a parent order, or returns the existing one for the same id and the same request (created
// false). A different request under an existing id is a KindConflict error. Planning reads the venues; if that
// fails nothing is created.
func (e *Engine) Submit(ctx context.Context, req Request) (Report, bool, error) {
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
	if e.state.Get() == risk.Reducing && !req.ReduceOnly {
		return Report{}, false, errorf(KindHalted, "trading state is reducing: only reduce-only orders are accepted")
	}
	pl, err := e.plan(ctx, req)
	if err != nil {
		return Report{}, false, err
	}
	p := newParent(e, req, pl)
	if err := p.persist(); err != nil {
		return Report{}, false, &Error{Kind: KindUnavailable, Msg: "the order could not be journaled", Err: err}
	}
	e.failpoint(FailAfterCreate)
	e.mu.Lock()
	e.parents[req.ID] = p
	e.mu.Unlock()
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
// reaches the cancelled state once its in-flight children have resolved.
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
