package reconcile

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/journal"
	"github.com/execd-dev/execd/positions"
	"github.com/execd-dev/execd/venues"
)

// Orders is what the Keeper needs of the engine. Safe for concurrent use.
type Orders interface {
	Submit(ctx context.Context, req engine.Request) (engine.Report, bool, error)
	Get(id string) (engine.Report, error)
	List() []engine.Report
	Cancel(id string) (engine.Report, error)
	Wait(ctx context.Context, id string) (engine.Report, error)
	MinLot(instrument string) decimal.Decimal
}

// TargetStore is the durable record of targets. Safe for concurrent use; PutTarget is durable when it returns nil.
type TargetStore interface {
	PutTarget(t journal.Target) error
	Targets() ([]journal.Target, error)
}

// Positions is what the Keeper reads of the ledger.
type Positions interface {
	Snapshot() []positions.Entry
}

// Readiness says whether every pair of an instrument has been reconciled and none is flagged; the Keeper acts on
// an instrument only then. A *Loop is one.
type Readiness interface {
	Reconciled(instrument string) (bool, string)
}

// Tolerance is how far the aggregate may stand from its target without a corrective parent: a difference is
// within it when it is below Base (base units) or its notional at the mark is below Notional (quote units).
// A difference smaller than the smallest lot of the instrument is always within it: no venue could trade it.
type Tolerance struct {
	Base     decimal.Decimal
	Notional decimal.Decimal
}

// KeeperOptions configure a Keeper.
type KeeperOptions struct {
	Clock     clock.Clock
	Logger    *zap.Logger
	Orders    Orders
	Store     TargetStore
	Positions Positions
	Ready     Readiness
	// Instruments are the instruments a target may name.
	Instruments []string
	Tolerance   Tolerance
	// AutoCorrect opens a corrective parent when a target's parent has ended and the aggregate is beyond
	// tolerance; off, an alert event is raised instead.
	AutoCorrect bool
	// CorrectDuration is a corrective parent's horizon; MaxCorrections bounds the corrective parents of one
	// target (beyond it the target fails, with an alert).
	CorrectDuration time.Duration
	MaxCorrections  int
	// RetryAfter is how long the Keeper waits before trying again when a parent could not be started for a
	// reason that passes (venues unreadable, trading halted).
	RetryAfter time.Duration
	// Publish, if set, receives target events (EventTarget, key: the instrument). It must not block.
	Publish func(kind, key string, data any)
	// StartJitter: a target set ahead starts within this after its start_at, drawn from its id (the same after a
	// restart), within a quarter of its window, so its first child does not come at a predictable second.
	StartJitter time.Duration
}

// EventTarget is the bus kind of target events.
const EventTarget = "target"

// TargetEvent is a change of a target: set, superseded, a parent started, reached, an alert, failed.
type TargetEvent struct {
	Kind       string // "set", "superseded", "parent", "reached", "alert", "failed"
	TargetID   string
	Instrument string
	Target     decimal.Decimal
	Aggregate  decimal.Decimal
	Drift      decimal.Decimal // aggregate − target
	Parent     string          // "parent": the parent started
	Reason     string
	Time       time.Time
}

// TargetRequest is a target as the rebalancer sets it.
type TargetRequest struct {
	ID             string
	Instrument     string
	Position       decimal.Decimal
	Duration       time.Duration // or EndAt
	StartAt        *time.Time
	EndAt          *time.Time
	MaxSlippageBps int
	Venues         []string
	Execution      engine.Execution // "" for the engine's default
}

// TargetView is a target with where it stands.
type TargetView struct {
	Target    journal.Target
	Aggregate decimal.Decimal // the instrument's aggregate position now (the ledger, reconciled)
	Drift     decimal.Decimal // aggregate − target
	Working   string          // the parent working it now, "" if none
	Current   bool            // the instrument's current target (not superseded)
}

// ErrConflict is returned by Set for a target id that exists with a different request.
var ErrConflict = errors.New("target exists with a different request")

// ErrInvalid wraps a target request that cannot be kept.
var ErrInvalid = errors.New("invalid target")

// Keeper keeps each instrument's aggregate position at its target. One goroutine per instrument runs its
// level-triggered pass; its methods are safe for concurrent use.
type Keeper struct {
	o KeeperOptions

	mu      sync.Mutex
	targets map[string]journal.Target // by id
	insts   map[string]*instLoop
	// watchers are the goroutines waiting for a parent to end; Run waits for them before it returns.
	watchers sync.WaitGroup
}

type instLoop struct {
	kick     chan struct{}
	watching map[string]bool // parents whose end is being waited for (owned by the instrument goroutine)
	alerted  string          // the target id an alert was raised for, until it is within tolerance again
	retryAt  time.Time
}

// NewKeeper builds a keeper and loads the journal's targets; Run runs it.
func NewKeeper(o KeeperOptions) (*Keeper, error) {
	if o.Clock == nil || o.Orders == nil || o.Store == nil || o.Positions == nil || o.Ready == nil {
		return nil, errors.New("reconcile: keeper: clock, orders, store, positions and readiness are required")
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.CorrectDuration <= 0 {
		o.CorrectDuration = 2 * time.Minute
	}
	if o.MaxCorrections <= 0 {
		o.MaxCorrections = 3
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = 5 * time.Second
	}
	k := &Keeper{o: o, targets: map[string]journal.Target{}, insts: map[string]*instLoop{}}
	for _, inst := range o.Instruments {
		k.insts[inst] = &instLoop{kick: make(chan struct{}, 1), watching: map[string]bool{}}
	}
	ts, err := o.Store.Targets()
	if err != nil {
		return nil, fmt.Errorf("reconcile: reading targets: %w", err)
	}
	for _, t := range ts {
		if _, ok := k.insts[t.Instrument]; !ok && t.State == journal.TargetWorking {
			return nil, fmt.Errorf("reconcile: target %s works %s, which is no longer traded", t.ID, t.Instrument)
		}
		k.targets[t.ID] = t
	}
	return k, nil
}

// Run runs one goroutine per instrument until ctx ends; each starts with a pass.
func (k *Keeper) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for inst, il := range k.insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k.runInstrument(ctx, inst, il)
		}()
	}
	wg.Wait()
	k.watchers.Wait() // each ends with ctx
}

// Trigger asks for a pass of an instrument ("" for all).
func (k *Keeper) Trigger(instrument string) {
	for inst, il := range k.insts {
		if instrument == "" || inst == instrument {
			select {
			case il.kick <- struct{}{}:
			default:
			}
		}
	}
}

func sameRequest(t journal.Target, r TargetRequest) bool {
	eqTime := func(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
	return t.Instrument == r.Instrument && t.Position.Equal(r.Position) && t.Duration == r.Duration &&
		eqTime(t.StartAt, r.StartAt) && eqTime(t.EndAt, r.EndAt) && t.MaxSlippageBps == r.MaxSlippageBps &&
		slices.Equal(t.Venues, r.Venues) && t.Execution == string(r.Execution)
}

// Set records a target; the instrument's current one, if any, is superseded (its parent is cancelled by the
// instrument's next pass, which then works the difference from what was reached). created is false for a
// repeated request (same id and body); the same id with another body is ErrConflict.
func (k *Keeper) Set(r TargetRequest) (TargetView, bool, error) {
	if _, ok := k.insts[r.Instrument]; !ok {
		return TargetView{}, false, fmt.Errorf("%w: instrument %s is not traded here", ErrInvalid, r.Instrument)
	}
	if _, err := engine.ParseExecution(string(r.Execution)); err != nil {
		return TargetView{}, false, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if (r.Duration > 0) == (r.EndAt != nil) {
		return TargetView{}, false, fmt.Errorf("%w: give a duration or an end time, not both", ErrInvalid)
	}
	now := k.o.Clock.Now()
	if r.EndAt != nil {
		start := now
		if r.StartAt != nil {
			start = *r.StartAt
		}
		if !r.EndAt.After(start) {
			return TargetView{}, false, fmt.Errorf("%w: end_at %s is not after the start %s", ErrInvalid, r.EndAt.Format(time.RFC3339), start.Format(time.RFC3339))
		}
	}
	k.mu.Lock()
	if old, ok := k.targets[r.ID]; ok {
		k.mu.Unlock()
		if !sameRequest(old, r) {
			return TargetView{}, false, fmt.Errorf("%w: %s", ErrConflict, r.ID)
		}
		v, _ := k.Get(r.ID)
		return v, false, nil
	}
	t := journal.Target{ID: r.ID, Instrument: r.Instrument, Position: r.Position, Duration: r.Duration, StartAt: r.StartAt,
		EndAt: r.EndAt, MaxSlippageBps: r.MaxSlippageBps, Venues: slices.Clone(r.Venues), Execution: string(r.Execution),
		State:   journal.TargetWorking,
		Created: now, Updated: now}
	// The new target first: a crash between the two writes leaves two working targets, and the newer wins.
	if err := k.o.Store.PutTarget(t); err != nil {
		k.mu.Unlock()
		return TargetView{}, false, fmt.Errorf("journaling the target: %w", err)
	}
	k.targets[t.ID] = t
	var superseded []journal.Target
	for id, old := range k.targets {
		if id != t.ID && old.Instrument == t.Instrument && old.State != journal.TargetSuperseded {
			old.State, old.SupersededBy, old.Updated = journal.TargetSuperseded, t.ID, now
			if err := k.o.Store.PutTarget(old); err != nil {
				k.o.Logger.Error("superseded target not journaled; a restart supersedes it again", zap.String("target", id), zap.Error(err))
			}
			k.targets[id] = old
			superseded = append(superseded, old)
		}
	}
	k.mu.Unlock()
	for _, old := range superseded {
		k.publish(TargetEvent{Kind: "superseded", TargetID: old.ID, Instrument: old.Instrument, Target: old.Position,
			Reason: "superseded by " + t.ID, Time: now})
	}
	k.publish(TargetEvent{Kind: "set", TargetID: t.ID, Instrument: t.Instrument, Target: t.Position, Time: now})
	k.Trigger(t.Instrument)
	v, _ := k.Get(t.ID)
	return v, true, nil
}

// Get returns one target's view.
func (k *Keeper) Get(id string) (TargetView, bool) {
	k.mu.Lock()
	t, ok := k.targets[id]
	k.mu.Unlock()
	if !ok {
		return TargetView{}, false
	}
	return k.view(t), true
}

// Current returns an instrument's current target, if it has one.
func (k *Keeper) Current(instrument string) (TargetView, bool) {
	t, ok := k.current(instrument)
	if !ok {
		return TargetView{}, false
	}
	return k.view(t), true
}

// History returns an instrument's targets, newest first.
func (k *Keeper) History(instrument string) []TargetView {
	k.mu.Lock()
	var ts []journal.Target
	for _, t := range k.targets {
		if t.Instrument == instrument {
			ts = append(ts, t)
		}
	}
	k.mu.Unlock()
	slices.SortFunc(ts, func(a, b journal.Target) int { return b.Created.Compare(a.Created) })
	out := make([]TargetView, 0, len(ts))
	for _, t := range ts {
		out = append(out, k.view(t))
	}
	return out
}

// List returns every instrument's current target, by instrument.
func (k *Keeper) List() []TargetView {
	var out []TargetView
	for _, inst := range k.o.Instruments {
		if v, ok := k.Current(inst); ok {
			out = append(out, v)
		}
	}
	return out
}

func (k *Keeper) current(instrument string) (journal.Target, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var cur journal.Target
	found := false
	for _, t := range k.targets {
		if t.Instrument == instrument && t.State != journal.TargetSuperseded &&
			(!found || t.Created.After(cur.Created) || (t.Created.Equal(cur.Created) && t.ID > cur.ID)) {
			cur, found = t, true
		}
	}
	return cur, found
}

func (k *Keeper) view(t journal.Target) TargetView {
	agg, _ := k.aggregate(t.Instrument, t.Venues)
	v := TargetView{Target: t, Aggregate: agg, Drift: agg.Sub(t.Position), Current: t.State != journal.TargetSuperseded}
	if n := len(t.Parents); n > 0 {
		if rep, err := k.o.Orders.Get(t.Parents[n-1]); err == nil && rep.State == engine.Working {
			v.Working = rep.ID
		}
	}
	return v
}

// aggregate is the instrument's position over the venues (all when venues is empty) and its mark.
func (k *Keeper) aggregate(instrument string, vs []string) (decimal.Decimal, decimal.Decimal) {
	agg, mark := decimal.Zero, decimal.Zero
	for _, e := range k.o.Positions.Snapshot() {
		if e.Instrument != instrument || (len(vs) > 0 && !slices.Contains(vs, e.Venue)) {
			continue
		}
		agg = agg.Add(e.Quantity)
		if e.Mark.IsPositive() {
			mark = e.Mark
		}
	}
	return agg, mark
}

func (k *Keeper) publish(ev TargetEvent) {
	if k.o.Publish != nil {
		k.o.Publish(EventTarget, ev.Instrument, ev)
	}
	k.o.Logger.Info("target "+ev.Kind, zap.String("target", ev.TargetID), zap.String("instrument", ev.Instrument),
		zap.String("position", ev.Target.String()), zap.String("aggregate", ev.Aggregate.String()),
		zap.String("parent", ev.Parent), zap.String("reason", ev.Reason))
}

// errSuperseded: a pass worked on a target that Set superseded meanwhile; the pass's write is dropped.
var errSuperseded = errors.New("target superseded meanwhile")

// put journals a pass's change of a target, unless Set superseded it meanwhile (under the same lock as Set, so a
// pass's stale copy never undoes the supersession).
func (k *Keeper) put(t journal.Target) error {
	t.Updated = k.o.Clock.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if cur, ok := k.targets[t.ID]; ok && cur.State == journal.TargetSuperseded && t.State != journal.TargetSuperseded {
		return errSuperseded
	}
	if err := k.o.Store.PutTarget(t); err != nil {
		return err
	}
	k.targets[t.ID] = t
	return nil
}

func (k *Keeper) runInstrument(ctx context.Context, inst string, il *instLoop) {
	wait := time.Duration(0)
	for {
		t := k.o.Clock.NewTimer(wait)
		select {
		case <-t.C():
		case <-il.kick:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return
		}
		wait = k.pass(ctx, inst, il)
		if ctx.Err() != nil {
			return
		}
	}
}

// watch waits, on a goroutine of its own, for a parent to end, then triggers a pass.
func (k *Keeper) watch(ctx context.Context, inst string, il *instLoop, id string) {
	if il.watching[id] {
		return
	}
	il.watching[id] = true
	k.watchers.Add(1)
	go func() {
		defer k.watchers.Done()
		if _, err := k.o.Orders.Wait(ctx, id); err == nil {
			k.Trigger(inst)
		}
	}()
}

// inflight is what the working parents of an instrument still have to trade, signed, and whether any works.
func (k *Keeper) inflight(inst string) (decimal.Decimal, []string) {
	sum := decimal.Zero
	var ids []string
	for _, rep := range k.o.Orders.List() {
		if rep.Instrument != inst || rep.State != engine.Working {
			continue
		}
		left := rep.Quantity.Sub(rep.Filled).Sub(rep.Residual)
		if left.IsPositive() {
			sum = sum.Add(rep.Side.Sign().Mul(left))
		}
		ids = append(ids, rep.ID)
	}
	return sum, ids
}

// pass is one level-triggered look at an instrument; it returns how long until the next unprompted one.
func (k *Keeper) pass(ctx context.Context, inst string, il *instLoop) time.Duration {
	const idle = time.Hour
	// 1. Parents of superseded targets still working are cancelled; nothing new until they have ended, so the
	// difference is computed from what was reached.
	k.mu.Lock()
	var stale []string
	for _, t := range k.targets {
		if t.Instrument == inst && t.State == journal.TargetSuperseded {
			stale = append(stale, t.Parents...)
		}
	}
	k.mu.Unlock()
	waiting := false
	for _, id := range stale {
		rep, err := k.o.Orders.Get(id)
		if err != nil || rep.State != engine.Working {
			continue
		}
		if _, err := k.o.Orders.Cancel(id); err == nil {
			k.o.Logger.Info("parent of a superseded target cancelled", zap.String("parent", id))
		}
		k.watch(ctx, inst, il, id)
		waiting = true
	}
	if waiting {
		return idle
	}
	cur, ok := k.current(inst)
	if !ok || cur.State == journal.TargetFailed {
		return idle
	}
	// 2. The target's own parent still works: wait for it.
	resubmit := false
	if n := len(cur.Parents); n > 0 {
		last := cur.Parents[n-1]
		rep, err := k.o.Orders.Get(last)
		switch {
		case err != nil && engine.KindOf(err) == engine.KindNotFound:
			// Journaled as started, never submitted (a crash between the two): submitted below under that id.
			resubmit = true
		case err != nil:
			return k.o.RetryAfter
		case rep.State == engine.Working:
			k.watch(ctx, inst, il, last)
			return idle
		}
	}
	now := k.o.Clock.Now()
	if cur.StartAt != nil {
		if at := k.startAt(cur); now.Before(at) {
			return at.Sub(now)
		}
	}
	// 3. Only on reconciled positions: a pair that could not be read is never taken as flat.
	if ok, why := k.o.Ready.Reconciled(inst); !ok {
		k.o.Logger.Info("target waits for reconciliation", zap.String("target", cur.ID), zap.String("why", why))
		return k.o.RetryAfter
	}
	agg, mark := k.aggregate(inst, cur.Venues)
	flight, _ := k.inflight(inst)
	diff := cur.Position.Sub(agg).Sub(flight)
	if k.within(inst, diff, mark) {
		if cur.State != journal.TargetReached || !cur.Reached.Equal(agg) {
			first := cur.State != journal.TargetReached
			cur.State, cur.Reached, cur.Reason = journal.TargetReached, agg, ""
			if err := k.put(cur); err != nil {
				k.o.Logger.Error("target state not journaled", zap.String("target", cur.ID), zap.Error(err))
				return k.o.RetryAfter
			}
			if first {
				k.publish(TargetEvent{Kind: "reached", TargetID: cur.ID, Instrument: inst, Target: cur.Position,
					Aggregate: agg, Drift: agg.Sub(cur.Position), Time: now})
			}
		}
		il.alerted = ""
		return idle
	}
	// 4. Beyond tolerance. The first parent works the difference when the target is set; after it, only a
	// corrective parent (auto-correct) or an alert.
	corrective := len(cur.Parents) > 0 && !resubmit
	if corrective && !k.o.AutoCorrect {
		if il.alerted != cur.ID {
			il.alerted = cur.ID
			k.publish(TargetEvent{Kind: "alert", TargetID: cur.ID, Instrument: inst, Target: cur.Position, Aggregate: agg,
				Drift: agg.Sub(cur.Position), Reason: "aggregate beyond tolerance; auto-correct is off", Time: now})
		}
		return idle
	}
	if corrective && len(cur.Parents)-1 >= k.o.MaxCorrections {
		cur.State, cur.Reached = journal.TargetFailed, agg
		cur.Reason = fmt.Sprintf("still %s from the target after %d corrective parents", agg.Sub(cur.Position), k.o.MaxCorrections)
		if err := k.put(cur); err != nil {
			return k.o.RetryAfter
		}
		k.publish(TargetEvent{Kind: "failed", TargetID: cur.ID, Instrument: inst, Target: cur.Position, Aggregate: agg,
			Drift: agg.Sub(cur.Position), Reason: cur.Reason, Time: now})
		return idle
	}
	return k.start(ctx, inst, il, cur, diff, agg, now, resubmit)
}

// within says whether a difference needs no parent.
func (k *Keeper) within(inst string, diff, mark decimal.Decimal) bool {
	abs := diff.Abs()
	if abs.IsZero() {
		return true
	}
	if lot := k.o.Orders.MinLot(inst); lot.IsPositive() && abs.LessThan(lot) {
		return true
	}
	if k.o.Tolerance.Base.IsPositive() && abs.LessThanOrEqual(k.o.Tolerance.Base) {
		return true
	}
	if k.o.Tolerance.Notional.IsPositive() && mark.IsPositive() && abs.Mul(mark).LessThanOrEqual(k.o.Tolerance.Notional) {
		return true
	}
	return false
}

// parentID is the id of a target's n-th parent (from 1): derived, so a restart finds the same one.
func parentID(targetID string, n int) string { return fmt.Sprintf("tgt:%s:%d", targetID, n) }

// start journals a parent for the difference on the target, then submits it.
func (k *Keeper) start(ctx context.Context, inst string, il *instLoop, cur journal.Target, diff, agg decimal.Decimal, now time.Time, resubmit bool) time.Duration {
	n := len(cur.Parents)
	id := ""
	if resubmit {
		id = cur.Parents[n-1] // journaled, never submitted: submit it now
	}
	corrective := n > 0 && !resubmit
	if id == "" {
		id = parentID(cur.ID, n+1)
		cur.Parents = append(cur.Parents, id)
		cur.State, cur.Reason = journal.TargetWorking, ""
		if err := k.put(cur); err != nil {
			k.o.Logger.Error("target's parent not journaled; not started", zap.String("target", cur.ID), zap.Error(err))
			return k.o.RetryAfter
		}
	}
	side := venues.Buy
	if diff.IsNegative() {
		side = venues.Sell
	}
	dur := cur.Duration
	switch {
	case corrective || len(cur.Parents) > 1:
		dur = k.o.CorrectDuration
	case cur.EndAt != nil:
		dur = cur.EndAt.Sub(now)
	}
	if dur < time.Second {
		dur = time.Second
	}
	// Reduce-only when the difference only takes the position toward zero: every child then carries it.
	reducing := !agg.IsZero() && diff.Sign() != agg.Sign() && diff.Abs().LessThanOrEqual(agg.Abs())
	req := engine.Request{ID: id, Instrument: inst, Side: side, Quantity: diff.Abs(), Duration: dur.Round(time.Second),
		ReduceOnly: reducing, MaxSlippageBps: cur.MaxSlippageBps, Venues: slices.Clone(cur.Venues),
		Execution: engine.Execution(cur.Execution)}
	if cur.EndAt != nil && (len(cur.Parents) == 1 || now.Add(req.Duration).After(*cur.EndAt)) {
		// A hard end: no parent of the target sends anything after end_at (a correction too close to it is
		// refused by the engine, and the target fails saying so).
		req.Duration, req.EndAt = 0, *cur.EndAt
	}
	rep, _, err := k.o.Orders.Submit(ctx, req)
	if err != nil {
		switch engine.KindOf(err) {
		case engine.KindInvalid, engine.KindConflict:
			cur.State, cur.Reached, cur.Reason = journal.TargetFailed, agg, "the difference could not be worked: "+err.Error()
			if perr := k.put(cur); perr != nil {
				return k.o.RetryAfter
			}
			k.publish(TargetEvent{Kind: "failed", TargetID: cur.ID, Instrument: inst, Target: cur.Position, Aggregate: agg,
				Drift: agg.Sub(cur.Position), Parent: id, Reason: cur.Reason, Time: now})
			return time.Hour
		}
		k.o.Logger.Warn("target's parent not started; retrying", zap.String("target", cur.ID), zap.String("parent", id), zap.Error(err))
		return k.o.RetryAfter
	}
	reason := "the difference from the target"
	if corrective {
		reason = "corrective: the aggregate is beyond tolerance"
	}
	k.publish(TargetEvent{Kind: "parent", TargetID: cur.ID, Instrument: inst, Target: cur.Position, Aggregate: agg,
		Drift: agg.Sub(cur.Position), Parent: rep.ID, Reason: reason, Time: now})
	k.watch(ctx, inst, il, rep.ID)
	return time.Hour
}

// startAt is when a target set ahead starts: its start_at plus a jitter drawn from its id within StartJitter and a
// quarter of its window.
func (k *Keeper) startAt(t journal.Target) time.Time {
	jitter := k.o.StartJitter
	switch {
	case t.EndAt != nil:
		jitter = min(jitter, t.EndAt.Sub(*t.StartAt)/4)
	case t.Duration > 0:
		jitter = min(jitter, t.Duration/4)
	}
	if jitter <= 0 {
		return *t.StartAt
	}
	h := fnv.New64a()
	h.Write([]byte("start\x00" + t.ID))
	return t.StartAt.Add(time.Duration(h.Sum64() % uint64(jitter)))
}
