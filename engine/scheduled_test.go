package engine

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/execd-dev/execd/journal"
)

// busRecorder keeps the child events the engine publishes (Publisher).
type busRecorder struct {
	mu       sync.Mutex
	children []ChildEvent
	states   []State
}

func (b *busRecorder) Publish(kind, _ string, data any) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch d := data.(type) {
	case ChildEvent:
		b.children = append(b.children, d)
	case Report:
		if kind == EventOrder {
			b.states = append(b.states, d.State)
		}
	}
	return 0
}

// An order set ahead is accepted at once as scheduled, sends nothing before its start_at, starts within the start
// jitter after it, and sends nothing after its end_at (no catch-up); it ends filled.
func TestScheduledOrderKeepsItsWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := &busRecorder{}
		r := newRigOpts(t, 1, func(p *Params) { p.StartJitter = 30 * time.Second }, func(o *Options) { o.Events = bus })
		now := r.e.clk.Now()
		req := seedRequest("rb-ahead")
		req.Duration, req.StartAt, req.EndAt = 0, now.Add(10*time.Minute), now.Add(16*time.Minute)
		rep, created, err := r.e.Submit(context.Background(), req)
		if err != nil || !created || rep.State != Scheduled || rep.StartAt == nil || !rep.StartAt.Equal(req.StartAt) ||
			!rep.Deadline.Equal(req.EndAt) || len(rep.Venues) != 0 {
			t.Fatalf("submit: %+v created %v err %v", rep, created, err)
		}
		if _, again, err := r.e.Submit(context.Background(), req); err != nil || again {
			t.Fatalf("the same scheduled order again: created %v, %v", again, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		rep, err = r.e.Wait(ctx, req.ID)
		if err != nil || rep.State != Done || !rep.Filled.Equal(dec("2.216")) {
			t.Fatalf("state %s filled %s (%s) %v", rep.State, rep.Filled, rep.Reason, err)
		}
		r.checkVenueTruth(t, rep)
		bus.mu.Lock()
		defer bus.mu.Unlock()
		if len(bus.children) == 0 {
			t.Fatal("no child")
		}
		first := bus.children[0].Time
		for _, c := range bus.children {
			if c.Time.Before(req.StartAt) || c.Time.After(req.EndAt) {
				t.Errorf("child %s at %s, outside [%s, %s]", c.ClientOrderID, c.Time.Format(time.TimeOnly),
					req.StartAt.Format(time.TimeOnly), req.EndAt.Format(time.TimeOnly))
			}
			if c.Time.Before(first) {
				first = c.Time
			}
		}
		if rep.EndedAt == nil || rep.EndedAt.After(req.EndAt) {
			t.Errorf("ended at %v, after end_at %s", rep.EndedAt, req.EndAt)
		}
		if bus.states[0] != Scheduled {
			t.Errorf("first published state %s", bus.states[0])
		}
		t.Logf("start_at %s, first child %s", req.StartAt.Format(time.TimeOnly), first.Format(time.TimeOnly))
	})
}

// Cancelled before its start, a scheduled order ends cancelled with nothing sent; bad windows are refused.
func TestScheduledOrderCancelAndBadWindows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, 1, nil)
		now := r.e.clk.Now()
		req := seedRequest("rb-cancel-ahead")
		req.StartAt = now.Add(time.Hour)
		if _, _, err := r.e.Submit(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if _, err := r.e.Cancel(req.ID); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		rep, err := r.e.Wait(ctx, req.ID)
		if err != nil || rep.State != Cancelled || !rep.Filled.IsZero() || rep.Reason != "cancelled before its start" {
			t.Fatalf("%+v %v", rep, err)
		}
		if len(r.a.placed)+len(r.b.placed) != 0 {
			t.Fatalf("orders placed for a parent cancelled before its start: %v %v", r.a.placed, r.b.placed)
		}
		for _, bad := range []Request{
			func() Request { q := seedRequest("w1"); q.Duration, q.EndAt = 0, now.Add(5*time.Second); return q }(),
			func() Request { q := seedRequest("w2"); q.EndAt = now.Add(time.Hour); return q }(),
			func() Request {
				q := seedRequest("w3")
				q.Duration, q.StartAt, q.EndAt = 0, now.Add(time.Hour), now.Add(time.Hour+time.Second)
				return q
			}(),
		} {
			if _, _, err := r.e.Submit(context.Background(), bad); KindOf(err) != KindInvalid {
				t.Errorf("%s: %v, want invalid", bad.ID, err)
			}
		}
	})
}

// A scheduled order survives a restart: rebuilt from the journal as scheduled, it starts at the same drawn moment
// and ends filled.
func TestScheduledOrderSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		j1, err := journal.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		r1 := newRigOpts(t, 1, nil, func(o *Options) { o.Journal = j1 })
		req := seedRequest("rb-ahead-restart")
		req.StartAt = r1.e.clk.Now().Add(30 * time.Minute)
		if _, _, err := r1.e.Submit(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		start1 := r1.e.parents[req.ID].startAt
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r1.e.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		j1.Close()
		j2, err := journal.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j2.Close() })
		r2 := newRigOpts(t, 1, nil, func(o *Options) { o.Journal = j2 })
		rep, err := r2.e.Get(req.ID)
		if err != nil || rep.State != Scheduled || r2.e.parents[req.ID].startAt != start1 {
			t.Fatalf("restored: %+v %v; start %s, was %s", rep, err, r2.e.parents[req.ID].startAt, start1)
		}
		wctx, wcancel := context.WithTimeout(context.Background(), time.Hour)
		defer wcancel()
		rep, err = r2.e.Wait(wctx, req.ID)
		if err != nil || rep.State != Done || !rep.Filled.Equal(dec("2.216")) {
			t.Fatalf("state %s filled %s (%s) %v", rep.State, rep.Filled, rep.Reason, err)
		}
		r2.checkVenueTruth(t, rep)
	})
}
