package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/execd-dev/execd/lifecycle"
)

// outcomes collects the done calls of asynchronous writes, failing the test on a second call for one write.
type outcomes struct {
	t    testing.TB
	mu   sync.Mutex
	errs map[string]error
	n    map[string]int
}

func newOutcomes(t testing.TB) *outcomes {
	return &outcomes{t: t, errs: map[string]error{}, n: map[string]int{}}
}

func (o *outcomes) done(id string) func(error) {
	return func(err error) {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.n[id]++
		if o.n[id] > 1 {
			o.t.Errorf("done of %s called %d times", id, o.n[id])
		}
		o.errs[id] = err
	}
}

// get returns the outcome of id and whether done was called.
func (o *outcomes) get(id string) (error, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.errs[id], o.n[id] > 0
}

func (o *outcomes) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.n)
}

func TestPutChildAsyncDurableAfterFlush(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	out := newOutcomes(t)
	const n = 50
	for i := range n {
		id := fmt.Sprintf("c%02d", i)
		c := sampleChild("p1", id, "a", i)
		c.State = lifecycle.All[i%len(lifecycle.All)]
		s.PutChildAsync(c, out.done(id))
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := range n { // every done was called before Flush returned
		id := fmt.Sprintf("c%02d", i)
		if err, called := out.get(id); !called || err != nil {
			t.Fatalf("%s: done called %v, err %v", id, called, err)
		}
	}
	commits, written := s.groupStats()
	t.Logf("%d async writes in %d commits", written, commits)
	// Nothing is left queued: Flush with nothing pending returns at once.
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	// Read the file as it is now, with the store still open (Close would flush too): copy it and open the copy.
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	copyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(copyDir, FileName), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cp := openT(t, copyDir)
	defer cp.Close()
	cs, err := cp.Children("p1")
	if err != nil || len(cs) != n {
		t.Fatalf("children in the copy: %d %v", len(cs), err)
	}
	for i, c := range cs {
		if c.State != lifecycle.All[i%len(lifecycle.All)] {
			t.Fatalf("child %s: state %s", c.ClientID, c.State)
		}
	}
}

// Close commits the asynchronous writes still queued and calls their done before it returns.
func TestCloseFlushesAsyncWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s := openT(t, dir)
		g := gateEarly(s) // the first group waits before its transaction, so that Close finds writes queued
		blocked := block(t, s, g)
		out := newOutcomes(t)
		const n = 10
		for i := range n {
			id := fmt.Sprintf("c%d", i)
			s.PutChildAsync(sampleChild("p1", id, "a", i), out.done(id))
		}
		if queued(s) != n || out.count() != 0 {
			t.Fatalf("%d queued, %d done: PutChildAsync waited", queued(s), out.count())
		}
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		waitClosing(t, s) // Close waits for the queued writes, or has returned
		late := make(chan error, 1)
		s.PutChildAsync(sampleChild("p1", "late", "a", 99), func(err error) { late <- err })
		select { // refused at once, before PutChildAsync returned
		case err := <-late:
			if !errors.Is(err, berrors.ErrDatabaseNotOpen) || !strings.HasPrefix(err.Error(), "journal: put child late") {
				t.Fatalf("write after Close began: %v", err)
			}
		default:
			t.Fatal("a write after Close began was not refused at once")
		}
		synctest.Wait()
		select { // all else is blocked: a Close that did not wait for the queued writes would have returned
		case err := <-closed:
			t.Fatalf("Close returned (%v) with async writes queued", err)
		default:
		}
		g.release()
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		if err := <-blocked; err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if err, called := out.get(fmt.Sprintf("c%d", i)); !called || err != nil {
				t.Fatalf("c%d: done called %v (before Close returned), err %v", i, called, err)
			}
		}
		s = openT(t, dir)
		defer s.Close()
		if cs, err := s.Children("p1"); err != nil || len(cs) != n {
			t.Fatalf("children after reopen: %d %v", len(cs), err)
		}
	})
}

// waitFlushers waits until every other goroutine of the test's synctest bubble is blocked, then checks that n Flush
// calls are waiting. It must run inside a synctest bubble.
func waitFlushers(t *testing.T, s *Bolt, n int) {
	t.Helper()
	synctest.Wait()
	s.group.mu.Lock()
	got := len(s.group.flushers)
	s.group.mu.Unlock()
	if got != n {
		t.Fatalf("%d Flush calls waiting, want %d", got, n)
	}
}

// waitClosing waits until every other goroutine of the test's synctest bubble is blocked, then checks that Close
// has begun (it refuses new writes). It must run inside a synctest bubble.
func waitClosing(t *testing.T, s *Bolt) {
	t.Helper()
	synctest.Wait()
	s.group.mu.Lock()
	c := s.group.closed
	s.group.mu.Unlock()
	if !c {
		t.Fatal("Close never started")
	}
}

// bubbleHeader matches the state of a goroutine in a stack dump, which names its synctest bubble, if any:
// "goroutine 7 [chan receive (durable), synctest bubble 3]:".
var bubbleHeader = regexp.MustCompile(`^goroutine \d+ \[.*, synctest bubble (\d+)\b`)

// bubbleGoroutines waits until every other goroutine of the test's synctest bubble has exited or is blocked for
// good, and returns the stack dumps of those that have not exited, the caller excepted. It must run inside a
// synctest bubble.
func bubbleGoroutines(t *testing.T) []string {
	t.Helper()
	synctest.Wait()
	// runtime.Stack lists every goroutine that has not exited, the calling one first.
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	dumps := strings.Split(string(buf), "\n\n")
	self := bubbleHeader.FindStringSubmatch(dumps[0])
	if self == nil {
		t.Fatalf("no synctest bubble in the state of the calling goroutine: %.200q", dumps[0])
	}
	var in []string
	for _, d := range dumps[1:] {
		if m := bubbleHeader.FindStringSubmatch(d); m != nil && m[1] == self[1] {
			in = append(in, d)
		}
	}
	return in
}

// noGoroutineLeft fails the test if its synctest bubble holds more goroutines than before (from bubbleGoroutines,
// which this calls again): one (a committer, say) was left behind.
func noGoroutineLeft(t *testing.T, before []string) {
	t.Helper()
	if now := bubbleGoroutines(t); len(now) > len(before) {
		t.Fatalf("%d goroutines, %d before: left behind among\n%s", len(now), len(before), strings.Join(now, "\n\n"))
	}
}

// A commit that fails reports its error to every done of the group (and every synchronous writer in it), stores
// none of their records, and Flush reports it too.
func TestAsyncCommitFailureReportsEveryDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s := openT(t, dir)
		g := gate(s)
		injected := errors.New("injected: fsync failed")
		g.fail[1] = injected
		blocked := block(t, s, g)
		out := newOutcomes(t)
		const n = 6
		for i := range n {
			id := fmt.Sprintf("c%d", i)
			s.PutChildAsync(sampleChild("p1", id, "a", i), out.done(id))
		}
		var flushErr error
		wait := inOrder(t, s,
			func() error { return s.PutChild(sampleChild("p1", "sync", "a", 99)) },
		)
		flushed := make(chan struct{})
		go func() { flushErr = s.Flush(); close(flushed) }()
		waitFlushers(t, s, 1)
		g.release()
		if errs := wait(); !errors.Is(errs[0], injected) {
			t.Fatalf("sync write: %v", errs[0])
		}
		<-flushed
		if !errors.Is(flushErr, injected) || !strings.Contains(flushErr.Error(), "flush: put child c0") {
			t.Fatalf("flush: %v, want the injected error of c0", flushErr)
		}
		if err := <-blocked; err != nil {
			t.Fatal(err)
		}
		for i := range n {
			id := fmt.Sprintf("c%d", i)
			err, called := out.get(id)
			if !called || !errors.Is(err, injected) || !strings.HasPrefix(err.Error(), "journal: put child "+id+": ") {
				t.Fatalf("%s: done called %v with %v, want the injected error", id, called, err)
			}
		}
		if sizes := g.groupSizes(); !slices.Equal(sizes, []int{1, n + 1}) {
			t.Fatalf("group sizes %v, want [1 %d]", sizes, n+1)
		}
		if cs, err := s.Children("p1"); err != nil || len(cs) != 0 {
			t.Fatalf("records of a failed group were stored: %d %v", len(cs), err)
		}
		// A later Flush has nothing pending: the failures were delivered already.
		if err := s.Flush(); err != nil {
			t.Fatalf("flush after: %v", err)
		}
		// The store goes on.
		ok := make(chan error, 1)
		s.PutChildAsync(sampleChild("p1", "after", "a", 100), func(err error) { ok <- err })
		if err := s.Flush(); err != nil || <-ok != nil {
			t.Fatalf("write after the failure: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// An invalid record is refused at once: done is called before PutChildAsync returns and nothing is queued.
func TestPutChildAsyncRefusesInvalidAtOnce(t *testing.T) {
	s := openT(t, t.TempDir())
	defer s.Close()
	g := gate(s)
	blocked := block(t, s, g)
	for i, c := range []Child{
		sampleChild("p1", "", "a", 1),
		func() Child { c := sampleChild("p1", "c", "a", 1); c.State = "final"; return c }(),
		func() Child { c := sampleChild("p1", "c", "a", 1); c.Price = dec("1e2000"); return c }(),
	} {
		var got error
		called := false
		s.PutChildAsync(c, func(err error) { got, called = err, true })
		if !called || got == nil || !strings.HasPrefix(got.Error(), "journal: put child") {
			t.Fatalf("record %d: done called %v with %v", i, called, got)
		}
		s.PutChildAsync(c, nil) // no done: refused all the same, without a panic
	}
	if queued(s) != 0 {
		t.Fatalf("%d writes queued: an invalid record joined a group", queued(s))
	}
	g.release()
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
}

// Asynchronous writes queued behind a commit form the next group, committed by a goroutine started for them,
// which exits once nothing is queued; one queued behind them with a synchronous writer joins the same group.
func TestAsyncWritesGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		before := bubbleGoroutines(t)
		s := openT(t, t.TempDir())
		g := gate(s)
		blocked := block(t, s, g)
		out := newOutcomes(t)
		const n = 8
		for i := range n {
			id := fmt.Sprintf("c%d", i)
			s.PutChildAsync(sampleChild("p1", id, "a", i), out.done(id))
		}
		wait := inOrder(t, s, func() error { return s.PutChild(sampleChild("p1", "sync", "a", 99)) })
		for i := range n {
			id := fmt.Sprintf("d%d", i)
			s.PutChildAsync(sampleChild("p1", id, "a", 100+i), out.done(id))
		}
		g.release()
		if err := wait()[0]; err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := <-blocked; err != nil {
			t.Fatal(err)
		}
		if sizes := g.groupSizes(); !slices.Equal(sizes, []int{1, 2*n + 1}) {
			t.Fatalf("group sizes %v, want [1 %d]", sizes, 2*n+1)
		}
		// Now only async writes, with nothing committing: a goroutine is started for them.
		for i := range n {
			id := fmt.Sprintf("e%d", i)
			s.PutChildAsync(sampleChild("p1", id, "a", 200+i), out.done(id))
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		if out.count() != 3*n {
			t.Fatalf("%d done calls, want %d", out.count(), 3*n)
		}
		if cs, err := s.Children("p1"); err != nil || len(cs) != 3*n+1 {
			t.Fatalf("children: %d %v", len(cs), err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		noGoroutineLeft(t, before) // a committer left behind fails here
	})
}

// A done may write to the journal, and a group delivered after a later one (its done is slow) holds Flush until it
// is delivered too.
func TestDoneMayWriteAndFlushWaitsForSlowDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir())
		defer s.Close()
		unblock := make(chan struct{})
		inDone := make(chan struct{})
		var nested error
		s.PutChildAsync(sampleChild("p1", "slow", "a", 1), func(err error) {
			close(inDone)
			<-unblock
			nested = s.PutChild(sampleChild("p1", "from-done", "a", 2)) // a synchronous write inside a done
		})
		<-inDone
		// The slow group is committed, its done still running: a later group commits and is delivered meanwhile.
		if err := s.PutChild(sampleChild("p1", "later", "a", 3)); err != nil {
			t.Fatal(err)
		}
		flushed := make(chan error, 1)
		go func() { flushed <- s.Flush() }()
		waitFlushers(t, s, 1) // a Flush that returned is no longer counted: this fails at once
		select {
		case err := <-flushed:
			t.Fatalf("Flush returned (%v) before the slow done", err)
		default:
		}
		close(unblock)
		if err := <-flushed; err != nil {
			t.Fatal(err)
		}
		if nested != nil {
			t.Fatalf("write from a done: %v", nested)
		}
		if cs, err := s.Children("p1"); err != nil || len(cs) != 3 {
			t.Fatalf("children: %v %v", clientIDs(cs), err)
		}
	})
}

// A panic inside bbolt while a goroutine started for async writes commits: every done gets the error, the
// goroutine does not crash the process, and the store goes on.
func TestAsyncCommitPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir())
		defer s.Close()
		g := gate(s)
		g.panics[1] = true
		blocked := block(t, s, g)
		out := newOutcomes(t)
		for i := range 3 {
			id := fmt.Sprintf("c%d", i)
			s.PutChildAsync(sampleChild("p1", id, "a", i), out.done(id))
		}
		flushed := make(chan error, 1)
		go func() { flushed <- s.Flush() }()
		waitFlushers(t, s, 1)
		g.release()
		if err := <-blocked; err != nil {
			t.Fatal(err)
		}
		if err := <-flushed; err == nil || !strings.Contains(err.Error(), "commit panicked") {
			t.Fatalf("flush: %v", err)
		}
		for i := range 3 {
			if err, called := out.get(fmt.Sprintf("c%d", i)); !called || err == nil || !strings.Contains(err.Error(), "commit panicked") {
				t.Fatalf("c%d: %v %v", i, called, err)
			}
		}
		if err := s.PutChild(sampleChild("p1", "after", "a", 9)); err != nil {
			t.Fatal(err)
		}
	})
}

// Many goroutines mixing asynchronous and synchronous writes and flushes (run with -race): every done is called
// exactly once, every write that reported success is stored with its last version, groups form.
func TestAsyncAndSyncConcurrent(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	out := newOutcomes(t)
	const workers, each = 12, 40
	var wg sync.WaitGroup
	var syncWrites atomic.Int64
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				c := sampleChild("p1", id, "a", i)
				c.State = lifecycle.Intent
				if err := s.PutChild(c); err != nil { // the intent, waited for
					t.Error(err)
					return
				}
				syncWrites.Add(1)
				c.State, c.Filled = lifecycle.Filled, dec("0.443")
				s.PutChildAsync(c, out.done(id)) // the outcome, not waited for
				if _, err := s.AddFill(sampleFill("a", id, id)); err != nil {
					t.Error(err)
					return
				}
				syncWrites.Add(1)
				if i%10 == 9 {
					if err := s.Flush(); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.count() != workers*each {
		t.Fatalf("%d done calls, want %d", out.count(), workers*each)
	}
	commits, written := s.groupStats()
	t.Logf("%d writes in %d commits", written, commits)
	if written != uint64(syncWrites.Load())+workers*each || commits >= written {
		t.Fatalf("%d commits of %d writes", commits, written)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir)
	defer s.Close()
	cs, err := s.Children("p1")
	if err != nil || len(cs) != workers*each {
		t.Fatalf("children: %d %v", len(cs), err)
	}
	for _, c := range cs {
		if err, _ := out.get(c.ClientID); err != nil || c.State != lifecycle.Filled {
			t.Fatalf("child %s: %s (done: %v)", c.ClientID, c.State, err)
		}
	}
}

// BenchmarkPutChildAsync queues distinct children from one goroutine without waiting, and flushes at the end;
// ns/op includes the flush (so it is the write throughput), enqueue-ns/op is the time spent inside PutChildAsync
// (what the caller waits for), writes/commit the mean group size.
func BenchmarkPutChildAsync(b *testing.B) {
	s := openT(b, b.TempDir())
	defer s.Close()
	c := sampleChild("p1", "", "a", 0)
	var failed atomic.Int64
	done := func(err error) {
		if err != nil {
			failed.Add(1)
		}
	}
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = fmt.Sprintf("c%d", i)
	}
	var inCall time.Duration
	b.ResetTimer()
	for i := range b.N {
		c.ClientID, c.Seq = ids[i], i
		start := time.Now()
		s.PutChildAsync(c, done)
		inCall += time.Since(start)
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d writes failed", failed.Load())
	}
	b.ReportMetric(float64(inCall.Nanoseconds())/float64(b.N), "enqueue-ns/op")
	if commits, written := s.groupStats(); commits > 0 {
		b.ReportMetric(float64(written)/float64(commits), "writes/commit")
	}
}

// BenchmarkPutChildAsyncParallel: the same from 4×GOMAXPROCS goroutines.
func BenchmarkPutChildAsyncParallel(b *testing.B) {
	s := openT(b, b.TempDir())
	defer s.Close()
	var next atomic.Int64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		c := sampleChild("p1", "", "a", 0)
		for pb.Next() {
			i := next.Add(1)
			c.ClientID = fmt.Sprintf("c%d", i)
			c.Seq = int(i)
			s.PutChildAsync(c, nil)
		}
		if err := s.Flush(); err != nil {
			b.Error(err)
		}
	})
	if commits, written := s.groupStats(); commits > 0 {
		b.ReportMetric(float64(written)/float64(commits), "writes/commit")
	}
}

// Asynchronous writes wait up to AsyncWindow for a synchronous one to carry them: one arriving inside the window
// commits them all in its own group; none arriving, they commit alone when the window ends.
func TestAsyncWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		before := bubbleGoroutines(t)
		s := openT(t, t.TempDir())
		g := gate(s)
		out := newOutcomes(t)
		const n = 5
		for i := range n {
			id := fmt.Sprintf("a%d", i)
			s.PutChildAsync(sampleChild("p1", id, "a", i), out.done(id))
		}
		time.Sleep(AsyncWindow / 2)
		synctest.Wait()
		if out.count() != 0 || len(g.groupSizes()) != 0 {
			t.Fatalf("inside the window: %d done, groups %v; want nothing committed", out.count(), g.groupSizes())
		}
		g.release()
		if err := s.PutChild(sampleChild("p1", "sync", "a", 50)); err != nil {
			t.Fatal(err)
		}
		if sizes := g.groupSizes(); !slices.Equal(sizes, []int{n + 1}) {
			t.Fatalf("group sizes %v, want [%d]: the synchronous write carries the waiting ones", sizes, n+1)
		}
		if out.count() != n {
			t.Fatalf("%d done calls after the synchronous write, want %d", out.count(), n)
		}
		// Alone, they wait out the window, then commit as one group.
		for i := range n {
			id := fmt.Sprintf("b%d", i)
			s.AddFillAsync(sampleFill("a", id, "c1"), func(fresh bool, err error) {
				if !fresh || err != nil {
					t.Errorf("fill %s: fresh %v, err %v", id, fresh, err)
				}
				out.done(id)(err)
			})
		}
		time.Sleep(AsyncWindow - time.Nanosecond)
		synctest.Wait()
		if out.count() != n {
			t.Fatalf("%d done calls before the window ended, want %d", out.count(), n)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if out.count() != 2*n {
			t.Fatalf("%d done calls once the window ended, want %d", out.count(), 2*n)
		}
		if sizes := g.groupSizes(); !slices.Equal(sizes, []int{n + 1, n}) {
			t.Fatalf("group sizes %v, want [%d %d]", sizes, n+1, n)
		}
		// A duplicate fill is not fresh; Flush does not wait out the window.
		dup := make(chan bool, 1)
		s.AddFillAsync(sampleFill("a", "b0", "c1"), func(fresh bool, err error) {
			if err != nil {
				t.Errorf("duplicate fill: %v", err)
			}
			dup <- fresh
		})
		start := time.Now()
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited >= AsyncWindow {
			t.Fatalf("Flush waited %v: it should commit at once", waited)
		}
		if <-dup {
			t.Fatal("a stored trade id was fresh again")
		}
		if fills, err := s.FillsFor("c1"); err != nil || len(fills) != n {
			t.Fatalf("fills of c1: %d, %v; want %d", len(fills), err, n)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		noGoroutineLeft(t, before)
	})
}

func TestAddFillAsyncRefusesInvalidAtOnce(t *testing.T) {
	s := openT(t, t.TempDir())
	defer s.Close()
	f := sampleFill("a", "t1", "c1")
	f.Quantity = dec("-1")
	called := false
	s.AddFillAsync(f, func(fresh bool, err error) {
		called = true
		if fresh || err == nil {
			t.Errorf("invalid fill: fresh %v, err %v; want an error", fresh, err)
		}
	})
	if !called {
		t.Fatal("done not called before AddFillAsync returned")
	}
}
