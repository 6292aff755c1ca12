package journal

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Group commit.
//
// A write is validated and encoded by its caller, then queued as a writeOp. A synchronous write (PutParent,
// PutChild, AddFill, AppendOps) waits for its outcome; an asynchronous one (PutChildAsync) does not: its done
// callback gets the outcome later. Whoever finds no commit in progress starts one: a synchronous caller becomes the
// committer itself; an asynchronous caller, which must not wait, starts a goroutine that does. The committer takes
// every queued op, applies them in queue order in one bbolt read-write transaction and commits it (one transaction:
// bbolt syncs the pages, then the meta page), then hands the committer's role on — to a synchronous op still queued
// if there is one (it has to wait for a commit anyway), else to a fresh goroutine when only asynchronous ops are
// queued — and finally delivers the group's outcome: it wakes each synchronous caller and calls each done, holding
// no lock. Ops queued during a commit thus form the next group; nothing waits on a timer, so a lone writer pays
// exactly one transaction, as before, and the store has no goroutine of its own beyond a committer that exits once
// nothing is queued.
//
// A commit that fails (or a transaction that cannot start) fails every op of its group with the same error and,
// bbolt rolling the transaction back, leaves none of their records. An op whose own apply fails inside the
// transaction — which validation before queueing should make impossible — is dropped with its own error, and the
// rest of its group is applied again in a fresh transaction: no other op pays for it, and nothing of the failed
// attempt was written.
//
// Asynchronous ops do not call for a commit of their own at once: nobody waits for them, and a synchronous write
// (an intent, on the critical path before a send) usually follows within a millisecond. When only asynchronous ops
// are queued and no commit is in progress, the committer's role is held by a timer of g.window; a synchronous
// write arriving meanwhile stops the timer and commits the whole queue itself, so asynchronous records ride along
// with it. An asynchronous record is thus durable at most g.window (plus one commit) after it was queued, and a
// busy journal commits about once per synchronous group instead of once per burst of each kind. Flush and Close
// do not wait out the window: they start the commit at once.
//
// Flush and Close wait for outcomes to be delivered, not just committed. Each queued op takes a ticket, in queue
// order; a group holds consecutive tickets; g.settled is the ticket below which every op's outcome has been
// delivered. Groups are delivered by different goroutines and may finish delivering out of order (a done callback
// may itself write), so a group that finishes early waits in g.early until the ones before it are delivered.

// writeOp is one queued write.
type writeOp struct {
	// apply makes the write in tx. It may run more than once (each time in a fresh transaction, the previous one
	// rolled back), so it must set all its results on every run.
	apply func(tx *bbolt.Tx) error
	// what names the write in errors: "put child c1".
	what string
	// ticket is the op's place in queue order (see Flush).
	ticket uint64
	// wake, for a synchronous write, receives exactly once either a nil-error "lead" message (commit the queue)
	// followed later by the outcome, or directly the outcome. Buffered (1), so a sender never blocks. Nil for an
	// asynchronous write.
	wake chan wakeMsg
	// done, for an asynchronous write, is called exactly once with the outcome (wrapped like a synchronous
	// write's error), by the committer, holding no lock.
	done func(error)
}

type wakeMsg struct {
	lead bool
	err  error
}

// failure is an op that failed, kept for Flush.
type failure struct {
	ticket uint64
	what   string
	err    error
}

// flushWaiter is a Flush waiting for the ops of tickets [from, to) to be delivered; first is the first failure (the
// lowest ticket) among those delivered while it waits.
type flushWaiter struct {
	from, to uint64
	first    *failure
}

func (f *flushWaiter) note(fails []failure) {
	for i := range fails {
		if fl := &fails[i]; fl.ticket >= f.from && fl.ticket < f.to && (f.first == nil || fl.ticket < f.first.ticket) {
			f.first = fl
		}
	}
}

// group is the group-commit state of a Bolt. Its zero value is not usable: see newGroup.
type group struct {
	mu         sync.Mutex
	changed    *sync.Cond // signalled when committing becomes false or g.settled advances
	queue      []*writeOp // waiting for the next group, in arrival (ticket) order
	committing bool       // a committer holds the role; invariant: len(queue) > 0 implies committing
	closed     bool       // Close was called: no new op is queued
	// window is how long asynchronous ops may wait for a synchronous one to carry them (0: not at all); pending,
	// when not nil, is the timer holding the committer's role meanwhile (committing is true).
	window  time.Duration
	pending *time.Timer

	tickets  uint64            // tickets handed out
	settled  uint64            // every op with a lower ticket has had its outcome delivered
	early    map[uint64]uint64 // groups delivered out of order: first ticket → one past the last
	flushers []*flushWaiter    // Flush calls waiting

	// Counters, under mu, for tests and benchmarks.
	commits uint64 // transactions committed successfully
	written uint64 // ops committed successfully

	// beforeGroup, when set (by tests, before any write), is called by each committer with the size of its group
	// before its transaction begins.
	beforeGroup func(n int)
	// beforeCommit, when set (by tests, before any write), is called inside each group's transaction after its ops
	// were applied, with the number of ops; an error makes the commit fail as a failed fsync would.
	beforeCommit func(n int) error
}

// AsyncWindow is how long an asynchronous write may wait for a synchronous one to share its commit.
const AsyncWindow = time.Millisecond

func newGroup(window time.Duration) *group {
	g := &group{early: map[uint64]uint64{}, window: window}
	g.changed = sync.NewCond(&g.mu)
	return g
}

// enqueue gives op the next ticket and queues it. Called with g.mu held and g.closed false.
func (g *group) enqueue(op *writeOp) {
	op.ticket = g.tickets
	g.tickets++
	g.queue = append(g.queue, op)
}

// write queues apply and returns once it is durable, or with the error that kept it (and its whole group, if the
// commit failed) from being written, as "journal: <what>: <error>".
func (s *Bolt) write(what string, apply func(tx *bbolt.Tx) error) error {
	g := s.group
	op := &writeOp{apply: apply, what: what, wake: make(chan wakeMsg, 1)}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return wrapWrite(what, berrors.ErrDatabaseNotOpen)
	}
	g.enqueue(op)
	switch {
	case !g.committing:
		g.committing = true
		s.lead(true) // unlocks g.mu
	case g.pending != nil && g.pending.Stop():
		// Only asynchronous ops were waiting for their window: this write carries them now.
		g.pending = nil
		s.lead(true)
	default:
		g.mu.Unlock()
	}
	for {
		m := <-op.wake
		if !m.lead {
			return wrapWrite(what, m.err)
		}
		g.mu.Lock()
		s.lead(true) // op is in the queue, so in the group this commits
	}
}

// writeAsync queues apply and returns at once; done gets the outcome. If no commit is in progress, it starts a
// goroutine to commit.
func (s *Bolt) writeAsync(what string, apply func(tx *bbolt.Tx) error, done func(error)) {
	g := s.group
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		done(wrapWrite(what, berrors.ErrDatabaseNotOpen))
		return
	}
	g.enqueue(&writeOp{apply: apply, what: what, done: done})
	if !g.committing {
		g.committing = true
		s.startAsync()
	}
	g.mu.Unlock()
}

// startAsync hands the committer's role to a goroutine that commits the queue, of asynchronous ops only, after the
// window (see above), or at once without one. Called with g.mu held and g.committing set.
func (s *Bolt) startAsync() {
	g := s.group
	if g.window <= 0 {
		go s.leadAsync()
		return
	}
	var t *time.Timer
	t = time.AfterFunc(g.window, func() {
		g.mu.Lock()
		if g.pending == t {
			g.pending = nil
		}
		s.lead(false)
	})
	g.pending = t
}

// hurry commits at once a queue waiting for its window. Called with g.mu held.
func (s *Bolt) hurry() {
	g := s.group
	if g.pending != nil && g.pending.Stop() {
		g.pending = nil
		go s.leadAsync()
	}
}

func wrapWrite(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("journal: %s: %w", what, err)
}

// leadAsync commits the queue on a goroutine of its own: the role was handed to it (or taken for it) while only
// asynchronous ops were waiting.
func (s *Bolt) leadAsync() {
	s.group.mu.Lock()
	s.lead(false)
}

// lead commits everything queued as one group. It is called with g.mu held and g.committing set by (or handed to)
// the caller, and returns with g.mu released. repanic says whether a panic inside bbolt goes on to the caller once
// the group's ops have their error: yes for a synchronous writer (its caller gets it, as without group commit), no
// for an asynchronous committer, whose goroutine has no caller (every done of the group gets the error).
func (s *Bolt) lead(repanic bool) {
	g := s.group
	ops := g.queue
	g.queue = nil
	g.mu.Unlock()

	errs := make([]error, len(ops))
	finished := false
	defer func() {
		if finished {
			return
		}
		// bbolt panicked (it does on some damaged pages) and rolled the transaction back: no op of the group may
		// be left waiting, nor the committer's role left held.
		r := recover()
		for i := range errs {
			errs[i] = fmt.Errorf("commit panicked: %v", r)
		}
		s.finish(ops, errs, 0)
		if r != nil && repanic {
			panic(r)
		}
	}()
	if hook := g.beforeGroup; hook != nil {
		hook(len(ops))
	}
	committed := s.commit(ops, errs)
	finished = true
	s.finish(ops, errs, committed)
}

// finish hands the committer's role on (or gives it up), then delivers the outcome of the group just committed:
// it wakes the synchronous writers, calls the asynchronous ones' done, and marks the group settled.
func (s *Bolt) finish(ops []*writeOp, errs []error, committed int) {
	g := s.group
	g.mu.Lock()
	if committed > 0 {
		g.commits++
		g.written += uint64(committed)
	}
	if len(g.queue) > 0 {
		if i := slices.IndexFunc(g.queue, func(op *writeOp) bool { return op.wake != nil }); i >= 0 {
			g.queue[i].wake <- wakeMsg{lead: true}
		} else {
			s.startAsync()
		}
	} else {
		g.committing = false
		g.changed.Broadcast()
	}
	g.mu.Unlock()

	// Settled even if a done panics, so that Flush and Close do not wait forever for it.
	defer s.settle(ops, errs)
	for i, op := range ops {
		if op.wake != nil {
			op.wake <- wakeMsg{err: errs[i]}
		}
	}
	for i, op := range ops {
		if op.done != nil {
			op.done(wrapWrite(op.what, errs[i]))
		}
	}
}

// settle records that the outcomes of ops, one group, have been delivered.
func (s *Bolt) settle(ops []*writeOp, errs []error) {
	if len(ops) == 0 {
		return
	}
	var fails []failure
	for i, op := range ops {
		if errs[i] != nil {
			fails = append(fails, failure{ticket: op.ticket, what: op.what, err: errs[i]})
		}
	}
	g := s.group
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, f := range g.flushers {
		f.note(fails)
	}
	first, end := ops[0].ticket, ops[len(ops)-1].ticket+1
	if first != g.settled {
		g.early[first] = end
		return
	}
	g.settled = end
	for {
		e, ok := g.early[g.settled]
		if !ok {
			break
		}
		delete(g.early, g.settled)
		g.settled = e
	}
	g.changed.Broadcast()
}

// commit applies ops in order in one transaction and commits it, filling errs; it returns how many ops were
// committed. An op whose apply fails is dropped with its error and the others are tried again in a new transaction.
func (s *Bolt) commit(ops []*writeOp, errs []error) int {
	live := make([]int, len(ops)) // indexes into ops of the ops still in the group
	for i := range live {
		live[i] = i
	}
	for len(live) > 0 {
		culprit := -1
		err := s.db.Update(func(tx *bbolt.Tx) error {
			for j, i := range live {
				if err := ops[i].apply(tx); err != nil {
					culprit = j
					return err
				}
			}
			if hook := s.group.beforeCommit; hook != nil {
				return hook(len(live))
			}
			return nil
		})
		if culprit >= 0 {
			errs[live[culprit]] = err
			live = slices.Delete(live, culprit, culprit+1)
			continue
		}
		for _, i := range live {
			errs[i] = err
		}
		if err != nil {
			return 0
		}
		return len(live)
	}
	return 0
}

// closeWrites refuses new writes and waits until every queued one is committed (or failed) and its outcome
// delivered.
func (s *Bolt) closeWrites() {
	g := s.group
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	s.hurry()
	for g.committing || g.settled < g.tickets {
		g.changed.Wait()
	}
}

// flush waits until every op queued before it has its outcome delivered, and returns the first failure among those
// whose outcome was not delivered yet when it was called.
func (s *Bolt) flush() error {
	g := s.group
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.settled >= g.tickets {
		return nil
	}
	s.hurry()
	f := &flushWaiter{from: g.settled, to: g.tickets}
	g.flushers = append(g.flushers, f)
	for g.settled < f.to {
		g.changed.Wait()
	}
	g.flushers = slices.DeleteFunc(g.flushers, func(x *flushWaiter) bool { return x == f })
	if f.first != nil {
		return fmt.Errorf("journal: flush: %s: %w", f.first.what, f.first.err)
	}
	return nil
}

// groupStats returns the number of successful commits and of the ops they wrote.
func (s *Bolt) groupStats() (commits, written uint64) {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return s.group.commits, s.group.written
}

// CommitStats are the journal's group-commit counters since it was opened.
type CommitStats struct {
	Commits uint64 // transactions committed (each two fdatasync: pages, then meta)
	Written uint64 // records they wrote
}

// CommitStats returns the counters; Written / Commits is the mean group size.
func (s *Bolt) CommitStats() CommitStats {
	c, w := s.groupStats()
	return CommitStats{Commits: c, Written: w}
}
