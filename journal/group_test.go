package journal

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shopspring/decimal"
	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/execd-dev/execd/lifecycle"
)

// commitGate is a beforeCommit hook: the first commit waits inside its transaction until release, so that the
// writes queued meanwhile form the next group; it records each group's size and fails or panics the calls asked to.
type commitGate struct {
	mu     sync.Mutex
	calls  int
	sizes  []int
	fail   map[int]error // by call number, from 0
	panics map[int]bool
	held   chan struct{} // closed once the first commit is waiting
	hold   chan struct{} // closed by release
	early  bool          // the first group waits before its transaction begins rather than inside it
}

// gate installs a commitGate on s; it must be called before any write.
func gate(s *Bolt) *commitGate {
	g := &commitGate{fail: map[int]error{}, panics: map[int]bool{}, held: make(chan struct{}), hold: make(chan struct{})}
	s.group.beforeCommit = g.hook
	return g
}

// gateEarly is gate, but the first group waits before its transaction begins, holding no bbolt lock.
func gateEarly(s *Bolt) *commitGate {
	g := gate(s)
	g.early = true
	first := true
	s.group.beforeGroup = func(int) { // only ever called by one committer at a time
		if first && g.early {
			first = false
			close(g.held)
			<-g.hold
		}
	}
	return g
}

func (g *commitGate) hook(n int) error {
	g.mu.Lock()
	call := g.calls
	g.calls++
	g.sizes = append(g.sizes, n)
	err, panics := g.fail[call], g.panics[call]
	g.mu.Unlock()
	if call == 0 && !g.early {
		close(g.held)
		<-g.hold
	}
	if panics {
		panic("injected panic")
	}
	return err
}

func (g *commitGate) release() { close(g.hold) }

func (g *commitGate) groupSizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.sizes)
}

// block starts a write that becomes the first group and waits, in its transaction, until g is released. It returns
// the channel that receives the write's error.
func block(t *testing.T, s *Bolt, g *commitGate) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.PutParent(sampleParent("blocker")) }()
	select {
	case <-g.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the first commit never started")
	}
	return done
}

// queued returns the number of writes waiting for the next group.
func queued(s *Bolt) int {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.queue)
}

// waitQueued waits until every other goroutine of the test's synctest bubble is blocked (a queued synchronous
// writer waits on its wake channel, the gated committer on the gate), then checks that n writes wait for the next
// group. It must run inside a synctest bubble.
func waitQueued(t *testing.T, s *Bolt, n int) {
	t.Helper()
	synctest.Wait()
	if got := queued(s); got != n {
		t.Fatalf("%d writes queued, want %d", got, n)
	}
}

// inOrder runs each write in its own goroutine, starting the next only once the previous one is queued, so that
// they are queued in the order given. It returns their errors, in the same order, once all have returned. It must
// run inside a synctest bubble.
func inOrder(t *testing.T, s *Bolt, writes ...func() error) func() []error {
	t.Helper()
	errs := make([]error, len(writes))
	base := queued(s)
	var wg sync.WaitGroup
	for i, w := range writes {
		wg.Go(func() { errs[i] = w() })
		waitQueued(t, s, base+i+1)
	}
	return func() []error { wg.Wait(); return errs }
}

func TestGroupConcurrentWritesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	const workers, each = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*4)
	freshShared := make(chan bool, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				c := sampleChild("p1", fmt.Sprintf("c%d-%d", w, i), "a", i)
				if err := s.PutChild(c); err != nil {
					errs <- err
				}
				if _, err := s.AddFill(sampleFill("b", fmt.Sprintf("t%d-%d", w, i), c.ClientID)); err != nil {
					errs <- err
				}
				fresh, err := s.AddFill(sampleFill("a", fmt.Sprintf("shared-%d", i), "shared"))
				if err != nil {
					errs <- err
				}
				freshShared <- fresh
				if _, err := s.AppendOps(sampleOps()); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	close(freshShared)
	for err := range errs {
		t.Fatal(err)
	}
	nFresh := 0
	for f := range freshShared {
		if f {
			nFresh++
		}
	}
	if nFresh != each {
		t.Fatalf("%d shared fills reported fresh, want %d", nFresh, each)
	}
	commits, written := s.groupStats()
	t.Logf("%d writes in %d commits", written, commits)
	if written != workers*each*4 {
		t.Fatalf("%d writes committed, want %d", written, workers*each*4)
	}
	if commits >= written {
		t.Fatalf("no group formed: %d commits for %d writes", commits, written)
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
		if fs, err := s.FillsFor(c.ClientID); err != nil || len(fs) != 1 {
			t.Fatalf("fills of %s: %v %v", c.ClientID, fs, err)
		}
	}
	if fs, err := s.FillsFor("shared"); err != nil || len(fs) != each {
		t.Fatalf("shared fills: %d %v", len(fs), err)
	}
	ops, err := s.Ops()
	if err != nil || len(ops) != workers*each {
		t.Fatalf("ops: %d %v", len(ops), err)
	}
	for i, o := range ops {
		if o.Seq != uint64(i+1) {
			t.Fatalf("ops[%d].Seq = %d", i, o.Seq)
		}
	}
}

func TestGroupLoneWriterCommitsAlone(t *testing.T) {
	s := openT(t, t.TempDir())
	defer s.Close()
	for i := range 5 {
		if err := s.PutChild(sampleChild("p1", fmt.Sprintf("c%d", i), "a", i)); err != nil {
			t.Fatal(err)
		}
	}
	if commits, written := s.groupStats(); commits != 5 || written != 5 {
		t.Fatalf("%d commits for %d writes, want 5 for 5", commits, written)
	}
}

func TestGroupForms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir())
		defer s.Close()
		g := gate(s)
		blocked := block(t, s, g)
		const n = 10
		var writes []func() error
		for i := range n {
			writes = append(writes, func() error { return s.PutChild(sampleChild("p1", fmt.Sprintf("c%d", i), "a", i)) })
		}
		wait := inOrder(t, s, writes...)
		g.release()
		for i, err := range wait() {
			if err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		if err := <-blocked; err != nil {
			t.Fatal(err)
		}
		if sizes := g.groupSizes(); !slices.Equal(sizes, []int{1, n}) {
			t.Fatalf("group sizes %v, want [1 %d]", sizes, n)
		}
		if commits, written := s.groupStats(); commits != 2 || written != n+1 {
			t.Fatalf("%d commits for %d writes, want 2 for %d", commits, written, n+1)
		}
		if cs, err := s.Children("p1"); err != nil || len(cs) != n {
			t.Fatalf("children: %d %v", len(cs), err)
		}
	})
}

// Within one group, writes apply in the order they were queued, each seeing the ones before it: as if sequential.
func TestGroupSequentialSemantics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir())
		defer s.Close()
		g := gate(s)
		blocked := block(t, s, g)

		f := sampleFill("a", "t1", "c1")
		dup := f
		dup.ClientOrderID, dup.Quantity = "c2", dec("9") // a duplicate, though other fields differ
		other := sampleFill("b", "t1", "c2")             // the same trade id on another venue is not one
		var fresh [3]bool
		var seqs [2]uint64
		child := sampleChild("p1", "c1", "a", 1)
		final := child
		final.State, final.Filled = lifecycle.Filled, dec("0.443")
		wait := inOrder(t, s,
			func() (err error) { fresh[0], err = s.AddFill(f); return err },
			func() (err error) { fresh[1], err = s.AddFill(dup); return err },
			func() (err error) { fresh[2], err = s.AddFill(other); return err },
			func() (err error) { seqs[0], err = s.AppendOps(sampleOps()); return err },
			func() (err error) { seqs[1], err = s.AppendOps(sampleOps()); return err },
			func() error { return s.PutChild(child) },
			func() error { return s.PutChild(final) }, // replaces the intent queued just before it
		)
		g.release()
		for i, err := range wait() {
			if err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		if err := <-blocked; err != nil {
			t.Fatal(err)
		}
		if sizes := g.groupSizes(); !slices.Equal(sizes, []int{1, 7}) {
			t.Fatalf("group sizes %v, want [1 7]", sizes)
		}
		if fresh != [3]bool{true, false, true} {
			t.Fatalf("fresh %v, want [true false true]", fresh)
		}
		if seqs != [2]uint64{1, 2} {
			t.Fatalf("ops seqs %v, want [1 2]", seqs)
		}
		fs, err := s.FillsFor("c1")
		if err != nil || len(fs) != 1 || !fs[0].Quantity.Equal(f.Quantity) {
			t.Fatalf("fills of c1: %+v %v", fs, err)
		}
		if fs, err := s.FillsFor("c2"); err != nil || len(fs) != 1 || fs[0].Venue != "b" {
			t.Fatalf("fills of c2: %+v %v", fs, err)
		}
		if cs, err := s.Children("p1"); err != nil || len(cs) != 1 || cs[0].State != lifecycle.Filled {
			t.Fatalf("children: %+v %v", cs, err)
		}
	})
}

// A record that fails validation or encoding is refused before it joins a group: it fails alone, at once, and the
// writes around it are committed together.
func TestGroupBadRecordFailsAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir())
		defer s.Close()
		g := gate(s)
		blocked := block(t, s, g)

		wait := inOrder(t, s,
			func() error { return s.PutChild(sampleChild("p1", "c1", "a", 1)) },
			func() error { _, err := s.AddFill(sampleFill("a", "t1", "c1")); return err },
		)
		unencodable := sampleChild("p1", "bad", "a", 2)
		unencodable.Price = decimal.New(1, 2000) // valid, but refused by Encode
		if err := s.PutChild(unencodable); err == nil || !strings.Contains(err.Error(), "exponent") {
			t.Fatalf("unencodable child: %v", err)
		}
		huge := decimal.New(5, -2000)
		badOps := sampleOps()
		badOps.Weight = &huge
		if _, err := s.AppendOps(badOps); err == nil || !strings.Contains(err.Error(), "exponent") {
			t.Fatalf("unencodable ops: %v", err)
		}
		if err := s.PutChild(sampleChild("p1", "", "a", 3)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("invalid child: %v", err)
		}
		if queued(s) != 2 {
			t.Fatalf("%d writes queued, want 2: a bad record joined the group", queued(s))
		}
		wait2 := inOrder(t, s, func() error { _, err := s.AppendOps(sampleOps()); return err })
		g.release()
		for i, err := range append(wait(), wait2()...) {
			if err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		if err := <-blocked; err != nil {
			t.Fatal(err)
		}
		if sizes := g.groupSizes(); !slices.Equal(sizes, []int{1, 3}) {
			t.Fatalf("group sizes %v, want [1 3]", sizes)
		}
		if cs, err := s.Children("p1"); err != nil || len(cs) != 1 || cs[0].ClientID != "c1" {
			t.Fatalf("children: %+v %v", cs, err)
		}
		if ops, err := s.Ops(); err != nil || len(ops) != 1 || ops[0].Seq != 1 {
			t.Fatalf("ops: %+v %v", ops, err)
		}
	})
}

// Should a write fail inside the transaction after all (validation makes that impossible for the exported writes),
// it is dropped alone and the rest of its group is committed without it.
func TestGroupFailingApplyIsDroppedAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir())
		defer s.Close()
		g := gate(s)
		blocked := block(t, s, g)
		own := errors.New("this write cannot be made")
		wait := inOrder(t, s,
			func() error { return s.PutChild(sampleChild("p1", "c1", "a", 1)) },
			func() error {
				return s.write("half a write", func(tx *bbolt.Tx) error {
					if err := tx.Bucket([]byte(bucketChildren)).Put(key("p1", "half"), []byte("x")); err != nil {
						return err
					}
					return own // after a partial write, which must not survive
				})
			},
			func() error { _, err := s.AddFill(sampleFill("a", "t1", "c1")); return err },
		)
		g.release()
		errs := wait()
		if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], own) {
			t.Fatalf("errors %v, want [nil %v nil]", errs, own)
		}
		if err := <-blocked; err != nil {
			t.Fatal(err)
		}
		if sizes := g.groupSizes(); !slices.Equal(sizes, []int{1, 2}) {
			t.Fatalf("group sizes %v, want [1 2]", sizes)
		}
		cs, err := s.Children("p1") // would be ErrCorrupt if the partial write had survived
		if err != nil || len(cs) != 1 || cs[0].ClientID != "c1" {
			t.Fatalf("children: %+v %v", cs, err)
		}
		if fs, err := s.FillsFor("c1"); err != nil || len(fs) != 1 {
			t.Fatalf("fills: %+v %v", fs, err)
		}
	})
}

// A commit that fails fails every write of its group, and leaves none of their records.
func TestGroupCommitFailureFailsTheWholeGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s := openT(t, dir)
		g := gate(s)
		injected := errors.New("injected: fsync failed")
		g.fail[1] = injected
		blocked := block(t, s, g)
		f := sampleFill("a", "t1", "c1")
		wait := inOrder(t, s,
			func() error { return s.PutChild(sampleChild("p1", "c1", "a", 1)) },
			func() error {
				fresh, err := s.AddFill(f)
				if fresh {
					return errors.New("a failed fill reported fresh")
				}
				return err
			},
			func() error {
				seq, err := s.AppendOps(sampleOps())
				if seq != 0 {
					return fmt.Errorf("a failed append returned seq %d", seq)
				}
				return err
			},
			func() error { return s.PutParent(sampleParent("p1")) },
		)
		g.release()
		for i, err := range wait() {
			if !errors.Is(err, injected) || !strings.HasPrefix(err.Error(), "journal: ") {
				t.Errorf("write %d: %v, want the injected error", i, err)
			}
		}
		if err := <-blocked; err != nil {
			t.Fatal(err)
		}
		if commits, written := s.groupStats(); commits != 1 || written != 1 {
			t.Fatalf("%d commits of %d writes, want 1 of 1", commits, written)
		}
		checkEmpty := func(s *Bolt) {
			t.Helper()
			ps, err := s.Parents()
			if err != nil || len(ps) != 1 || ps[0].ID != "blocker" {
				t.Fatalf("parents: %v %v", ids(ps), err)
			}
			cs, _ := s.Children("p1")
			fs, _ := s.FillsFor("c1")
			ops, _ := s.Ops()
			if len(cs)+len(fs)+len(ops) != 0 {
				t.Fatalf("records of a failed group were stored: %d %d %d", len(cs), len(fs), len(ops))
			}
		}
		checkEmpty(s)
		// The store goes on: the failed group consumed no sequence number, and its fill is still new.
		if fresh, err := s.AddFill(f); err != nil || !fresh {
			t.Fatalf("re-add the fill: %v %v", fresh, err)
		}
		if seq, err := s.AppendOps(sampleOps()); err != nil || seq != 1 {
			t.Fatalf("append after the failure: %d %v", seq, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = openT(t, dir)
		defer s.Close()
		if cs, err := s.Children("p1"); err != nil || len(cs) != 0 {
			t.Fatalf("children after reopen: %v %v", cs, err)
		}
	})
}

// A panic inside a commit (bbolt panics on some damaged pages) reaches the committer's caller, as before; the other
// writes of its group fail rather than hang, and the store goes on.
func TestGroupCommitPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir())
		defer s.Close()
		g := gate(s)
		g.panics[1] = true
		blocked := block(t, s, g)
		recovered := make(chan any, 1)
		wait := inOrder(t, s,
			func() error { // first queued: the committer of the next group
				defer func() { recovered <- recover() }()
				return s.PutChild(sampleChild("p1", "c1", "a", 1))
			},
			func() error { return s.PutChild(sampleChild("p1", "c2", "a", 2)) },
			func() error { _, err := s.AddFill(sampleFill("a", "t1", "c1")); return err },
		)
		g.release()
		errs := wait()
		if r := <-recovered; r == nil {
			t.Fatal("the committer did not panic")
		}
		for i, err := range errs[1:] {
			if err == nil || !strings.Contains(err.Error(), "commit panicked") {
				t.Fatalf("write %d: %v, want a commit panic", i+1, err)
			}
		}
		if err := <-blocked; err != nil {
			t.Fatal(err)
		}
		if cs, _ := s.Children("p1"); len(cs) != 0 {
			t.Fatalf("children of a panicked group were stored: %d", len(cs))
		}
		if err := s.PutChild(sampleChild("p1", "c3", "a", 3)); err != nil {
			t.Fatalf("write after the panic: %v", err)
		}
	})
}

// Close commits the writes already waiting, refuses later ones, and leaves no goroutine behind. The first group is
// held before its transaction begins: bbolt's own Close would not wait for it there.
func TestGroupCloseWithPendingWriters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		before := bubbleGoroutines(t)
		dir := t.TempDir()
		s := openT(t, dir)
		g := gateEarly(s)
		blocked := block(t, s, g)
		const n = 5
		var writes []func() error
		for i := range n {
			writes = append(writes, func() error { return s.PutChild(sampleChild("p1", fmt.Sprintf("c%d", i), "a", i)) })
		}
		wait := inOrder(t, s, writes...)
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		waitClosing(t, s) // Close waits for the pending writes, or has returned
		if err := s.PutChild(sampleChild("p1", "late", "a", 99)); !errors.Is(err, berrors.ErrDatabaseNotOpen) {
			t.Fatalf("write after Close began: %v, want ErrDatabaseNotOpen", err)
		}
		synctest.Wait()
		select { // all else is blocked: a Close that did not wait for the pending writes would have returned
		case err := <-closed:
			t.Fatalf("Close returned (%v) with writes pending", err)
		default:
		}
		g.release()
		for i, err := range wait() {
			if err != nil {
				t.Fatalf("pending write %d: %v", i, err)
			}
		}
		if err := <-blocked; err != nil {
			t.Fatal(err)
		}
		if err := <-closed; err != nil {
			t.Fatalf("close: %v", err)
		}
		if err := s.PutChild(sampleChild("p1", "later", "a", 100)); !errors.Is(err, berrors.ErrDatabaseNotOpen) {
			t.Fatalf("write after Close: %v, want ErrDatabaseNotOpen", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second close: %v", err)
		}
		noGoroutineLeft(t, before)

		s = openT(t, dir)
		defer s.Close()
		cs, err := s.Children("p1")
		if err != nil || len(cs) != n {
			t.Fatalf("children after reopen: %d %v", len(cs), err)
		}
	})
}

// Close while writers keep writing: every write that returned nil is stored, every other one failed with
// ErrDatabaseNotOpen and is not.
func TestGroupCloseUnderLoad(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	const workers = 8
	var mu sync.Mutex
	stored := map[string]bool{}
	started := make(chan struct{}, workers) // a writer's first write returned
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("c%d-%d", w, i)
				err := s.PutChild(sampleChild("p1", id, "a", i))
				if i == 0 {
					started <- struct{}{}
				}
				if err != nil {
					if !errors.Is(err, berrors.ErrDatabaseNotOpen) {
						t.Errorf("write %s: %v", id, err)
					}
					return
				}
				mu.Lock()
				stored[id] = true
				mu.Unlock()
			}
		})
	}
	// Close once every writer's first write has returned: all of them are busy writing.
	for range workers {
		<-started
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s = openT(t, dir)
	defer s.Close()
	cs, err := s.Children("p1")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != len(stored) || len(cs) == 0 {
		t.Fatalf("%d children stored, %d writes returned nil", len(cs), len(stored))
	}
	for _, c := range cs {
		if !stored[c.ClientID] {
			t.Fatalf("child %s stored, but its write failed", c.ClientID)
		}
	}
}
