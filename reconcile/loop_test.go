package reconcile

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/gateway"
)

// fakePair counts passes and how many ran at once; block, when set, holds each pass until it is closed.
type fakePair struct {
	venue string
	mu    sync.Mutex
	calls int
	in    int
	most  int
	fail  error
	block chan struct{}
}

func (p *fakePair) Venue() string      { return p.venue }
func (p *fakePair) Instrument() string { return inst }

func (p *fakePair) Reconcile(ctx context.Context) (gateway.Observation, error) {
	p.mu.Lock()
	p.calls++
	p.in++
	p.most = max(p.most, p.in)
	block, fail := p.block, p.fail
	p.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
		}
	}
	p.mu.Lock()
	p.in--
	p.mu.Unlock()
	if fail != nil {
		return gateway.Observation{}, fail
	}
	return gateway.Observation{Venue: p.venue, Instrument: inst, Quiet: true}, nil
}

func (p *fakePair) count() (calls, most int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls, p.most
}

func startLoop(t *testing.T, pairs ...Pair) (*Loop, *clock.Manual, context.CancelFunc) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC))
	l, err := NewLoop(LoopOptions{Clock: clk, Interval: 10 * time.Second, MinBackoff: time.Second, Pairs: pairs})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return l, clk, cancel
}

// A pass at start, one per interval of the market clock, one at once when triggered.
func TestLoopIntervalAndTrigger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &fakePair{venue: "a"}
		l, clk, _ := startLoop(t, p)
		synctest.Wait()
		if n, _ := p.count(); n != 1 {
			t.Fatalf("passes at start: %d", n)
		}
		if ok, why := l.Reconciled(inst); !ok {
			t.Fatalf("not reconciled after a good pass: %s", why)
		}
		clk.Advance(9 * time.Second)
		synctest.Wait()
		if n, _ := p.count(); n != 1 {
			t.Fatalf("a pass before the interval: %d", n)
		}
		clk.Advance(time.Second)
		synctest.Wait()
		if n, _ := p.count(); n != 2 {
			t.Fatalf("after one interval: %d", n)
		}
		l.Trigger("a")
		synctest.Wait()
		if n, _ := p.count(); n != 3 {
			t.Fatalf("after a trigger: %d", n)
		}
		l.Trigger("other venue")
		synctest.Wait()
		if n, _ := p.count(); n != 3 {
			t.Fatalf("another venue's trigger ran a pass: %d", n)
		}
	})
}

// Triggers while a pass runs never start a second one at once; they ask for one more, once.
func TestLoopNeverTwoPassesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &fakePair{venue: "a", block: make(chan struct{})}
		l, _, _ := startLoop(t, p)
		synctest.Wait() // the first pass is blocked
		for i := 0; i < 5; i++ {
			l.Trigger("")
		}
		synctest.Wait()
		p.mu.Lock()
		close(p.block)
		p.block = nil
		p.mu.Unlock()
		synctest.Wait()
		calls, most := p.count()
		if most != 1 || calls != 2 {
			t.Fatalf("calls %d, at once at most %d: want 2 and 1", calls, most)
		}
	})
}

// A failed pass flags the pair (never taken as flat: not reconciled), is retried with a doubling back-off, and
// a good pass clears the flag.
func TestLoopFailureBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &fakePair{venue: "a", fail: errors.New("positions: 503")}
		l, clk, _ := startLoop(t, p)
		synctest.Wait()
		ok, why := l.Reconciled(inst)
		if ok || !strings.Contains(why, "503") {
			t.Fatalf("reconciled %v (%s) after a failed pass", ok, why)
		}
		st := l.Status()[0]
		if !st.Flagged || st.Failures != 1 {
			t.Fatalf("status %+v", st)
		}
		for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
			clk.Advance(wait - time.Millisecond)
			synctest.Wait()
			if n, _ := p.count(); n != i+1 {
				t.Fatalf("retry %d came before its back-off %s", i+1, wait)
			}
			clk.Advance(time.Millisecond)
			synctest.Wait()
			if n, _ := p.count(); n != i+2 {
				t.Fatalf("retry %d not after %s: %d passes", i+1, wait, n)
			}
		}
		p.mu.Lock()
		p.fail = nil
		p.mu.Unlock()
		clk.Advance(8 * time.Second)
		synctest.Wait()
		if ok, why := l.Reconciled(inst); !ok {
			t.Fatalf("still not reconciled after a good pass: %s", why)
		}
		if st := l.Status()[0]; !st.Recovered || st.Flagged {
			t.Fatalf("after recovering: %+v", st)
		}
	})
}

// Pass waits for a pass that starts after the call.
func TestLoopPass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &fakePair{venue: "a"}
		l, _, _ := startLoop(t, p)
		synctest.Wait()
		st, err := l.Pass(context.Background(), "a", inst)
		if err != nil || st.Passes != 2 {
			t.Fatalf("pass: %+v %v", st, err)
		}
		if _, err := l.Pass(context.Background(), "zz", inst); err == nil {
			t.Fatal("a pass of an unknown pair")
		}
	})
}

// MinGap floors the wall time between two passes of a pair, whatever the market clock and the triggers say.
func TestLoopMinGap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &fakePair{venue: "a"}
		clk := clock.NewManual(time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC))
		l, err := NewLoop(LoopOptions{Clock: clk, Interval: 10 * time.Second, MinGap: time.Second, Pairs: []Pair{p}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { l.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		synctest.Wait()
		l.Trigger("")
		clk.Advance(time.Hour) // the market clock says go
		synctest.Wait()
		if n, _ := p.count(); n != 1 {
			t.Fatalf("a second pass within the wall gap: %d", n)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n, _ := p.count(); n != 2 {
			t.Fatalf("after the gap: %d passes, want 2", n)
		}
	})
}
