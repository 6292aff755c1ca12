package reconcile

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/journal"
	"github.com/execd-dev/execd/positions"
	"github.com/execd-dev/execd/venues"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

const inst = "BTC-USDT-PERP"

// fakeOrders is an engine whose parents the test ends by hand.
type fakeOrders struct {
	mu        sync.Mutex
	reps      map[string]engine.Report
	done      map[string]chan struct{}
	submitted []engine.Request
	cancelled []string
	submitErr error
}

func newFakeOrders() *fakeOrders {
	return &fakeOrders{reps: map[string]engine.Report{}, done: map[string]chan struct{}{}}
}

func (f *fakeOrders) Submit(ctx context.Context, r engine.Request) (engine.Report, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.submitErr != nil {
		return engine.Report{}, false, f.submitErr
	}
	if rep, ok := f.reps[r.ID]; ok {
		return rep, false, nil
	}
	f.submitted = append(f.submitted, r)
	rep := engine.Report{ID: r.ID, State: engine.Working, Instrument: r.Instrument, Side: r.Side, Quantity: r.Quantity,
		ReduceOnly: r.ReduceOnly}
	f.reps[r.ID] = rep
	f.done[r.ID] = make(chan struct{})
	return rep, true, nil
}

func (f *fakeOrders) Get(id string) (engine.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rep, ok := f.reps[id]
	if !ok {
		return engine.Report{}, &engine.Error{Kind: engine.KindNotFound, Msg: "no " + id}
	}
	return rep, nil
}

func (f *fakeOrders) List() []engine.Report {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []engine.Report
	for _, r := range f.reps {
		out = append(out, r)
	}
	return out
}

func (f *fakeOrders) Cancel(id string) (engine.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancelled = append(f.cancelled, id)
	return f.reps[id], nil
}

func (f *fakeOrders) Wait(ctx context.Context, id string) (engine.Report, error) {
	f.mu.Lock()
	ch := f.done[id]
	f.mu.Unlock()
	select {
	case <-ch:
		return f.Get(id)
	case <-ctx.Done():
		return engine.Report{}, ctx.Err()
	}
}

func (f *fakeOrders) MinLot(string) decimal.Decimal { return dec("0.001") }

// end ends a parent with filled, moving the ledger as its fills would have.
func (f *fakeOrders) end(id string, st engine.State, filled string, l *positions.Ledger, venue string) {
	f.mu.Lock()
	rep := f.reps[id]
	rep.State, rep.Filled = st, dec(filled)
	f.reps[id] = rep
	close(f.done[id])
	f.mu.Unlock()
	l.Adjust(positions.Key{Venue: venue, Instrument: inst}, rep.Side.Sign().Mul(dec(filled)))
}

type memStore struct {
	mu sync.Mutex
	ts map[string]journal.Target
}

func (m *memStore) PutTarget(t journal.Target) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ts[t.ID] = t
	return nil
}

func (m *memStore) Targets() ([]journal.Target, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []journal.Target
	for _, t := range m.ts {
		out = append(out, t)
	}
	return out, nil
}

type readiness struct{ ok bool }

func (r *readiness) Reconciled(string) (bool, string) { return r.ok, "flagged" }

type keeperRig struct {
	k      *Keeper
	o      *fakeOrders
	store  *memStore
	ledger *positions.Ledger
	ready  *readiness
	clk    *clock.Manual
	il     *instLoop
	events []TargetEvent
	evmu   sync.Mutex
}

func newKeeperRig(t *testing.T, auto bool, store *memStore) *keeperRig {
	t.Helper()
	if store == nil {
		store = &memStore{ts: map[string]journal.Target{}}
	}
	r := &keeperRig{o: newFakeOrders(), store: store, ledger: positions.NewLedger(), ready: &readiness{ok: true},
		clk: clock.NewManual(time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC))}
	r.ledger.Set(positions.Key{Venue: "a", Instrument: inst}, dec("-4.795"))
	r.ledger.Set(positions.Key{Venue: "b", Instrument: inst}, dec("-7.193"))
	r.ledger.SetMark(positions.Key{Venue: "a", Instrument: inst}, dec("10000"))
	k, err := NewKeeper(KeeperOptions{Clock: r.clk, Orders: r.o, Store: r.store, Positions: r.ledger, Ready: r.ready,
		Instruments: []string{inst}, AutoCorrect: auto, MaxCorrections: 2, Tolerance: Tolerance{Notional: dec("20")},
		Publish: func(kind, key string, data any) {
			r.evmu.Lock()
			r.events = append(r.events, data.(TargetEvent))
			r.evmu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	r.k, r.il = k, k.insts[inst]
	return r
}

func (r *keeperRig) pass(ctx context.Context) { r.k.pass(ctx, inst, r.il) }

func (r *keeperRig) kinds() []string {
	r.evmu.Lock()
	defer r.evmu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	return out
}

func (r *keeperRig) target(id string) journal.Target {
	v, _ := r.k.Get(id)
	return v.Target
}

func set(t *testing.T, k *Keeper, id, pos string) {
	t.Helper()
	if _, created, err := k.Set(TargetRequest{ID: id, Instrument: inst, Position: dec(pos), Duration: 10 * time.Minute}); err != nil || !created {
		t.Fatalf("set %s: created %v, %v", id, created, err)
	}
}

// The seed: a reduce-only buy of the difference, then reached; the same id again is no new target, another body a
// conflict; bad requests change nothing.
func TestKeeperSeed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newKeeperRig(t, true, nil)
	set(t, r.k, "t1", "-9.7734")
	if _, created, err := r.k.Set(TargetRequest{ID: "t1", Instrument: inst, Position: dec("-9.7734"), Duration: 10 * time.Minute}); err != nil || created {
		t.Fatalf("repeat: created %v, %v", created, err)
	}
	if _, _, err := r.k.Set(TargetRequest{ID: "t1", Instrument: inst, Position: dec("-9"), Duration: 10 * time.Minute}); !errors.Is(err, ErrConflict) {
		t.Fatalf("other body: %v", err)
	}
	for _, bad := range []TargetRequest{
		{ID: "x", Instrument: "ETH-USDT-PERP", Position: dec("1"), Duration: time.Minute},
		{ID: "y", Instrument: inst, Position: dec("1")},
	} {
		if _, _, err := r.k.Set(bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	r.pass(ctx)
	if len(r.o.submitted) != 1 {
		t.Fatalf("submitted %+v", r.o.submitted)
	}
	req := r.o.submitted[0]
	if req.ID != "tgt:t1:1" || req.Side != venues.Buy || !req.Quantity.Equal(dec("2.2146")) || !req.ReduceOnly || req.Duration != 10*time.Minute {
		t.Fatalf("parent request %+v", req)
	}
	r.pass(ctx) // the parent works: nothing new
	if len(r.o.submitted) != 1 {
		t.Fatal("a second parent while the first works")
	}
	r.o.end("tgt:t1:1", engine.Done, "2.214", r.ledger, "b")
	r.pass(ctx)
	if got := r.target("t1"); got.State != journal.TargetReached || !got.Reached.Equal(dec("-9.774")) {
		t.Fatalf("after the parent: %+v", got)
	}
	if len(r.o.submitted) != 1 {
		t.Fatal("a corrective parent for a difference below one lot")
	}
}

// A new target supersedes: the running parent is cancelled and waited for, and the new difference is computed
// from what was reached.
func TestKeeperSupersede(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newKeeperRig(t, true, nil)
	set(t, r.k, "t1", "-9.7734")
	r.pass(ctx)
	set(t, r.k, "t2", "-12.5")
	r.pass(ctx)
	if len(r.o.cancelled) != 1 || r.o.cancelled[0] != "tgt:t1:1" || len(r.o.submitted) != 1 {
		t.Fatalf("cancelled %v submitted %d", r.o.cancelled, len(r.o.submitted))
	}
	if got := r.target("t1"); got.State != journal.TargetSuperseded || got.SupersededBy != "t2" {
		t.Fatalf("t1: %+v", got)
	}
	r.o.end("tgt:t1:1", engine.Cancelled, "1", r.ledger, "a") // reached −10.988
	r.pass(ctx)
	if len(r.o.submitted) != 2 {
		t.Fatalf("submitted %d", len(r.o.submitted))
	}
	req := r.o.submitted[1]
	if req.ID != "tgt:t2:1" || req.Side != venues.Sell || !req.Quantity.Equal(dec("1.512")) || req.ReduceOnly {
		t.Fatalf("second parent %+v", req)
	}
	if v, ok := r.k.Current(inst); !ok || v.Target.ID != "t2" || v.Working != "tgt:t2:1" {
		t.Fatalf("current: %+v", v)
	}
}

// Beyond tolerance after the target's parent: a corrective parent (auto) up to MaxCorrections, then failed; or
// (off) one alert and nothing else.
func TestKeeperCorrectiveAndAlert(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newKeeperRig(t, true, nil)
	set(t, r.k, "t1", "-9.7734")
	r.pass(ctx)
	r.o.end("tgt:t1:1", engine.Done, "2.214", r.ledger, "b")
	r.pass(ctx)
	r.ledger.Adjust(positions.Key{Venue: "a", Instrument: inst}, dec("1")) // a liquidation
	for i := 2; i <= 3; i++ {
		r.pass(ctx)
		if len(r.o.submitted) != i {
			t.Fatalf("correction %d: submitted %d", i, len(r.o.submitted))
		}
		req := r.o.submitted[i-1]
		if req.Side != venues.Sell || !req.Quantity.Equal(dec("0.9994")) || req.Duration != 2*time.Minute {
			t.Fatalf("corrective request %+v", req)
		}
		r.o.end(req.ID, engine.Done, "0", r.ledger, "a") // fills nothing
	}
	r.pass(ctx)
	if got := r.target("t1"); got.State != journal.TargetFailed {
		t.Fatalf("after %d corrections: %+v", 2, got)
	}
	r.pass(ctx)
	if len(r.o.submitted) != 3 {
		t.Fatal("a failed target traded")
	}

	off := newKeeperRig(t, false, nil)
	set(t, off.k, "t1", "-9.7734")
	off.pass(ctx)
	off.o.end("tgt:t1:1", engine.Done, "2.214", off.ledger, "b")
	off.pass(ctx)
	off.ledger.Adjust(positions.Key{Venue: "a", Instrument: inst}, dec("1"))
	off.pass(ctx)
	off.pass(ctx)
	alerts := 0
	for _, k := range off.kinds() {
		if k == "alert" {
			alerts++
		}
	}
	if alerts != 1 || len(off.o.submitted) != 1 {
		t.Fatalf("alerts %d, submitted %d (events %v)", alerts, len(off.o.submitted), off.kinds())
	}
}

// Nothing is traded on positions that are not reconciled; a parent journaled but not submitted (a crash between
// the two) is submitted under its id after a restart.
func TestKeeperReadinessAndRestart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newKeeperRig(t, true, nil)
	r.ready.ok = false
	set(t, r.k, "t1", "-9.7734")
	r.pass(ctx)
	if len(r.o.submitted) != 0 {
		t.Fatal("traded on unreconciled positions")
	}
	// A crash after the target's parent was journaled, before it was submitted.
	tg := r.target("t1")
	tg.Parents = []string{"tgt:t1:1"}
	if err := r.store.PutTarget(tg); err != nil {
		t.Fatal(err)
	}
	again := newKeeperRig(t, true, r.store)
	again.pass(ctx)
	if len(again.o.submitted) != 1 || again.o.submitted[0].ID != "tgt:t1:1" {
		t.Fatalf("after restart: %+v", again.o.submitted)
	}
	if got := again.target("t1"); len(got.Parents) != 1 {
		t.Fatalf("parents %v", got.Parents)
	}
}

// A target set ahead: nothing before start_at (plus its jitter, none here); then one parent whose hard end is
// end_at.
func TestKeeperStartAtEndAt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newKeeperRig(t, true, nil)
	start := r.clk.Now().Add(50 * time.Minute)
	end := start.Add(10 * time.Minute)
	if _, _, err := r.k.Set(TargetRequest{ID: "t1", Instrument: inst, Position: dec("-9.7734"), StartAt: &start, EndAt: &end}); err != nil {
		t.Fatal(err)
	}
	if wait := r.k.pass(ctx, inst, r.il); wait != 50*time.Minute || len(r.o.submitted) != 0 {
		t.Fatalf("before start_at: wait %s, submitted %d", wait, len(r.o.submitted))
	}
	r.clk.Advance(50*time.Minute + 30*time.Second) // a little late
	r.pass(ctx)
	if len(r.o.submitted) != 1 || r.o.submitted[0].Duration != 0 || !r.o.submitted[0].EndAt.Equal(end) {
		t.Fatalf("at start_at: %+v, want the parent ending at end_at, a hard end", r.o.submitted)
	}
	past := r.clk.Now().Add(-time.Minute)
	if _, _, err := r.k.Set(TargetRequest{ID: "t2", Instrument: inst, Position: dec("-9"), EndAt: &past}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("end_at in the past: %v", err)
	}
}

// A pass holding a stale copy of a target that Set superseded meanwhile cannot undo the supersession.
func TestKeeperStaleWriteAfterSupersede(t *testing.T) {
	r := newKeeperRig(t, true, nil)
	set(t, r.k, "t1", "-9.7734")
	stale := r.target("t1")
	set(t, r.k, "t2", "-10")
	stale.State = journal.TargetReached
	if err := r.k.put(stale); !errors.Is(err, errSuperseded) {
		t.Fatalf("stale write: %v", err)
	}
	if got := r.target("t1"); got.State != journal.TargetSuperseded {
		t.Fatalf("t1 %s after a stale write", got.State)
	}
	ts, _ := r.store.Targets()
	for _, tg := range ts {
		if tg.ID == "t1" && tg.State != journal.TargetSuperseded {
			t.Fatalf("journal has t1 %s", tg.State)
		}
	}
}

// A target set ahead starts within its start jitter after start_at, at a moment drawn from its id (the same after
// a restart), never before.
func TestKeeperStartJitter(t *testing.T) {
	r := newKeeperRig(t, true, nil)
	r.k.o.StartJitter = 30 * time.Second
	start := r.clk.Now().Add(time.Hour)
	end := start.Add(10 * time.Minute)
	seen := map[time.Duration]bool{}
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		at := r.k.startAt(journal.Target{ID: id, StartAt: &start, EndAt: &end})
		if at.Before(start) || !at.Before(start.Add(30*time.Second)) {
			t.Fatalf("%s starts at %s, outside [start_at, start_at + 30s)", id, at)
		}
		if again := r.k.startAt(journal.Target{ID: id, StartAt: &start, EndAt: &end}); !again.Equal(at) {
			t.Fatalf("%s: %s then %s", id, at, again)
		}
		seen[at.Sub(start)] = true
	}
	if len(seen) < 4 {
		t.Fatalf("six targets start at %d distinct offsets", len(seen))
	}
	short := start.Add(20 * time.Second)
	if at := r.k.startAt(journal.Target{ID: "s", StartAt: &start, EndAt: &short}); at.After(start.Add(5 * time.Second)) {
		t.Fatalf("a 20 s window's start moved by %s, more than a quarter of it", at.Sub(start))
	}
}

// A target with an end_at: a correction is bounded by it too (a hard end), never past it.
func TestKeeperCorrectionKeepsEndAt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newKeeperRig(t, true, nil)
	end := r.clk.Now().Add(10 * time.Minute)
	if _, _, err := r.k.Set(TargetRequest{ID: "t1", Instrument: inst, Position: dec("-9.7734"), EndAt: &end}); err != nil {
		t.Fatal(err)
	}
	r.pass(ctx)
	r.o.end("tgt:t1:1", engine.Done, "2.214", r.ledger, "b")
	r.pass(ctx)
	r.ledger.Adjust(positions.Key{Venue: "a", Instrument: inst}, dec("1"))
	r.clk.Advance(9 * time.Minute) // a correction of 2 minutes would run past end_at
	r.pass(ctx)
	if len(r.o.submitted) != 2 {
		t.Fatalf("submitted %d", len(r.o.submitted))
	}
	if req := r.o.submitted[1]; req.Duration != 0 || !req.EndAt.Equal(end) {
		t.Fatalf("corrective request %+v: want the hard end %s", req, end)
	}
}

// A target's execution is journaled with it, carried by every parent it starts, and part of its idempotency; an
// unknown one is refused.
func TestKeeperExecution(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newKeeperRig(t, true, nil)
	req := TargetRequest{ID: "t1", Instrument: inst, Position: dec("-9.7734"), Duration: 10 * time.Minute,
		Execution: engine.ExecTaker}
	if _, _, err := r.k.Set(req); err != nil {
		t.Fatal(err)
	}
	if got := r.target("t1").Execution; got != string(engine.ExecTaker) {
		t.Fatalf("journaled execution %q", got)
	}
	r.pass(ctx)
	if len(r.o.submitted) != 1 || r.o.submitted[0].Execution != engine.ExecTaker {
		t.Fatalf("submitted %+v; want one taker parent", r.o.submitted)
	}
	req.Execution = engine.ExecMakerFirst
	if _, _, err := r.k.Set(req); !errors.Is(err, ErrConflict) {
		t.Fatalf("same id, other execution: %v", err)
	}
	if _, _, err := r.k.Set(TargetRequest{ID: "t2", Instrument: inst, Position: dec("-9"), Duration: time.Minute,
		Execution: "aggressive"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown execution: %v", err)
	}
}
