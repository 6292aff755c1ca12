package journal

import (
	"fmt"
	"slices"
	"sync"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Group commit.
//
// A write is validated and encoded by its caller, then queued as a writeOp and waited for. The caller that finds no
// commit in progress becomes the committer: it takes every queued op, applies them in queue order in one bbolt
// read-write transaction and commits it (one fsync), then hands the committer's role to the first op queued in the
// meantime (if any) and wakes every op of its group with the group's outcome. Ops queued during a commit thus form
// the next group, committed by one of their own callers; no goroutine is started and nothing waits on a timer, so a
// lone writer pays exactly one transaction, as before.
//
// A commit that fails (or a transaction that cannot start) fails every op of its group with the same error and,
// bbolt rolling the transaction back, leaves none of their records. An op whose own apply fails inside the
// transaction — which validation before queueing should make impossible — is dropped with its own error, and the
// rest of its group is applied again in a fresh transaction: no other op pays for it, and nothing of the failed
// attempt was written.

// writeOp is one queued write.
type writeOp struct {
	// apply makes the write in tx. It may run more than once (each time in a fresh transaction, the previous one
	// rolled back), so it must set all its results on every run.
	apply func(tx *bbolt.Tx) error
	// wake receives, exactly once, either a nil-error "lead" message (commit the queue) followed later by the
	// outcome, or directly the outcome. Buffered (1), so a sender never blocks.
	wake chan wakeMsg
}

type wakeMsg struct {
	lead bool
	err  error
}

// group is the group-commit state of a Bolt. Its zero value is not usable: see newGroup.
type group struct {
	mu         sync.Mutex
	idle       *sync.Cond // signalled when committing becomes false
	queue      []*writeOp // waiting for the next group, in arrival order
	committing bool       // a committer holds the role; invariant: len(queue) > 0 implies committing
	closed     bool       // Close was called: no new op is queued

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

func newGroup() *group {
	g := &group{}
	g.idle = sync.NewCond(&g.mu)
	return g
}

// write queues apply and returns once it is durable, or with the error that kept it (and its whole group, if the
// commit failed) from being written.
func (s *Bolt) write(apply func(tx *bbolt.Tx) error) error {
	g := s.group
	op := &writeOp{apply: apply, wake: make(chan wakeMsg, 1)}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return berrors.ErrDatabaseNotOpen
	}
	g.queue = append(g.queue, op)
	if !g.committing {
		g.committing = true
		s.lead() // unlocks g.mu
	} else {
		g.mu.Unlock()
	}
	for {
		m := <-op.wake
		if !m.lead {
			return m.err
		}
		g.mu.Lock()
		s.lead() // op is first in the queue, so in the group this commits
	}
}

// lead commits everything queued as one group. It is called with g.mu held and g.committing set by (or handed to)
// the caller, and returns with g.mu released.
func (s *Bolt) lead() {
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
		// be left waiting, nor the committer's role left held. The committer's own caller gets the panic, as it
		// would have without group commit.
		r := recover()
		for i := range errs {
			errs[i] = fmt.Errorf("commit panicked: %v", r)
		}
		s.finish(ops, errs, 0)
		if r != nil {
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

// finish hands the committer's role on (or gives it up) and wakes the ops of the group just committed.
func (s *Bolt) finish(ops []*writeOp, errs []error, committed int) {
	g := s.group
	g.mu.Lock()
	if committed > 0 {
		g.commits++
		g.written += uint64(committed)
	}
	if len(g.queue) > 0 {
		g.queue[0].wake <- wakeMsg{lead: true}
	} else {
		g.committing = false
		g.idle.Broadcast()
	}
	g.mu.Unlock()
	for i, op := range ops {
		op.wake <- wakeMsg{err: errs[i]}
	}
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

// closeWrites refuses new writes and waits until every queued one is committed (or failed).
func (s *Bolt) closeWrites() {
	g := s.group
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for g.committing {
		g.idle.Wait()
	}
}

// groupStats returns the number of successful commits and of the ops they wrote.
func (s *Bolt) groupStats() (commits, written uint64) {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return s.group.commits, s.group.written
}
