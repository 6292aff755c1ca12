package reconcile

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/gateway"
)

// Pair is one (venue, instrument) pair's reconcile pass: the gateway that owns the pair. Reconcile must be safe
// for concurrent use; the Loop never calls it twice at once for one pair.
type Pair interface {
	Venue() string
	Instrument() string
	Reconcile(ctx context.Context) (gateway.Observation, error)
}

// LoopOptions configure a Loop.
type LoopOptions struct {
	Clock clock.Clock // the market's clock: intervals and back-offs run on it
	// Interval is the time between passes of one pair; MinBackoff the first pause after a failed pass, doubling
	// up to Interval.
	Interval   time.Duration
	MinBackoff time.Duration
	// MinGap is the least wall time between the starts of two passes of one pair, whatever the market clock
	// says: a pass is three requests to the venue, and venues count requests in wall time (an accelerated
	// simulation would otherwise poll them hard). Zero: no floor.
	MinGap time.Duration
	Pairs  []Pair
	Logger *zap.Logger
	// OnPass, if set, is told the pair's status after every pass, failed or not, on the pair's goroutine. It must
	// not block for long: the pair's next pass waits for it.
	OnPass func(Status)
}

// Status is where reconciliation of one pair stands.
type Status struct {
	Venue      string
	Instrument string
	// Last is the last successful pass's observation; LastAt its market time (zero before the first).
	Last   gateway.Observation
	LastAt time.Time
	// Passes and Failures count passes; Err is the last pass's failure, "" if it succeeded.
	Passes   int
	Failures int
	Err      string
	// Flagged: the last pass failed, so the pair's position as the venue holds it is not known now.
	Flagged bool
	// Recovered: this pass succeeded after a failed one (OnPass only).
	Recovered bool
	// Cumulative counts over the loop's life: lost fills of execd's booked, other programs' fills seen, external
	// changes booked.
	LostFills, ExternalFills, Adjustments int
	// Pass is this status's own pass's observation (OnPass only); zero for a failed pass.
	Pass gateway.Observation
}

// Loop runs reconcile passes for every pair. Its methods are safe for concurrent use.
type Loop struct {
	o     LoopOptions
	pairs []*pairLoop
}

type pairLoop struct {
	p    Pair
	kick chan struct{} // capacity 1: a trigger while a pass runs asks for one more pass
	mu   sync.Mutex
	st   Status
	// waiters are told the status of the next pass that ends (Pass).
	waiters []chan Status
}

// NewLoop builds a loop; Run runs it.
func NewLoop(o LoopOptions) (*Loop, error) {
	if o.Clock == nil {
		return nil, errors.New("reconcile: a clock is required")
	}
	if o.Interval <= 0 {
		return nil, errors.New("reconcile: the interval must be positive")
	}
	if o.MinBackoff <= 0 || o.MinBackoff > o.Interval {
		o.MinBackoff = min(time.Second, o.Interval)
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	l := &Loop{o: o}
	seen := map[[2]string]bool{}
	for _, p := range o.Pairs {
		k := [2]string{p.Venue(), p.Instrument()}
		if seen[k] {
			return nil, errors.New("reconcile: pair " + k[0] + " " + k[1] + " twice")
		}
		seen[k] = true
		l.pairs = append(l.pairs, &pairLoop{p: p, kick: make(chan struct{}, 1),
			st: Status{Venue: k[0], Instrument: k[1]}})
	}
	return l, nil
}

// Run runs every pair's goroutine until ctx ends; each starts with a pass at once.
func (l *Loop) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, pl := range l.pairs {
		wg.Add(1)
		go func(pl *pairLoop) {
			defer wg.Done()
			l.runPair(ctx, pl)
		}(pl)
	}
	wg.Wait()
}

// Trigger asks for a pass of every pair of a venue ("" for every pair) as soon as the running one, if any, ends.
func (l *Loop) Trigger(venue string) {
	for _, pl := range l.pairs {
		if venue == "" || pl.p.Venue() == venue {
			select {
			case pl.kick <- struct{}{}:
			default:
			}
		}
	}
}

// Pass triggers a pass of one pair and waits for a pass that started after the call to end; it returns that
// pass's status. Tests and the start-up use it.
func (l *Loop) Pass(ctx context.Context, venue, instrument string) (Status, error) {
	for _, pl := range l.pairs {
		if pl.p.Venue() != venue || pl.p.Instrument() != instrument {
			continue
		}
		ch := make(chan Status, 1)
		pl.mu.Lock()
		pl.waiters = append(pl.waiters, ch)
		pl.mu.Unlock()
		select {
		case pl.kick <- struct{}{}:
		default:
		}
		select {
		case st := <-ch:
			return st, nil
		case <-ctx.Done():
			return Status{}, ctx.Err()
		}
	}
	return Status{}, errors.New("reconcile: no pair " + venue + " " + instrument)
}

// Status returns every pair's status, sorted by instrument then venue.
func (l *Loop) Status() []Status {
	out := make([]Status, 0, len(l.pairs))
	for _, pl := range l.pairs {
		pl.mu.Lock()
		out = append(out, pl.st)
		pl.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Instrument != out[j].Instrument {
			return out[i].Instrument < out[j].Instrument
		}
		return out[i].Venue < out[j].Venue
	})
	return out
}

func (l *Loop) runPair(ctx context.Context, pl *pairLoop) {
	backoff := time.Duration(0)
	wait := time.Duration(0) // the first pass at once
	var began time.Time      // wall: the last pass's start
	for {
		if gap := l.o.MinGap - time.Since(began); l.o.MinGap > 0 && gap > 0 {
			wt := time.NewTimer(gap)
			select {
			case <-wt.C:
			case <-ctx.Done():
				wt.Stop()
				return
			}
		}
		t := l.o.Clock.NewTimer(wait)
		select {
		case <-t.C():
		case <-pl.kick:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return
		}
		// Waiters registered before this pass starts are answered by it.
		pl.mu.Lock()
		waiters := pl.waiters
		pl.waiters = nil
		pl.mu.Unlock()
		began = time.Now()
		obs, err := pl.p.Reconcile(ctx)
		if ctx.Err() != nil {
			return
		}
		now := l.o.Clock.Now()
		pl.mu.Lock()
		pl.st.Passes++
		pl.st.Pass = gateway.Observation{}
		pl.st.Recovered = err == nil && pl.st.Flagged
		if err != nil {
			pl.st.Failures++
			pl.st.Err, pl.st.Flagged = err.Error(), true
			backoff = min(max(2*backoff, l.o.MinBackoff), l.o.Interval)
			wait = backoff
		} else {
			pl.st.Last, pl.st.LastAt, pl.st.Pass = obs, now, obs
			pl.st.Err, pl.st.Flagged = "", false
			pl.st.LostFills += len(obs.LostFills)
			pl.st.ExternalFills += len(obs.ExternalFills)
			if !obs.Adjusted.IsZero() {
				pl.st.Adjustments++
			}
			backoff, wait = 0, l.o.Interval
			if !obs.Quiet && obs.Busy != "" {
				// Compared nothing: look again sooner than a whole interval later.
				wait = max(l.o.MinBackoff, l.o.Interval/4)
			}
		}
		st := pl.st
		pl.mu.Unlock()
		if err != nil {
			l.o.Logger.Warn("reconcile pass failed; the pair is flagged", zap.String("venue", st.Venue),
				zap.String("instrument", st.Instrument), zap.Duration("retry_in", wait), zap.Error(err))
		}
		if l.o.OnPass != nil {
			l.o.OnPass(st)
		}
		for _, w := range waiters {
			w <- st
		}
	}
}

// Reconciled says whether every pair of an instrument has had a successful pass and none is flagged now, and if
// not, why.
func (l *Loop) Reconciled(instrument string) (bool, string) {
	found := false
	for _, pl := range l.pairs {
		if pl.p.Instrument() != instrument {
			continue
		}
		found = true
		pl.mu.Lock()
		st := pl.st
		pl.mu.Unlock()
		switch {
		case st.Flagged:
			return false, st.Venue + ": " + st.Err
		case st.LastAt.IsZero():
			return false, st.Venue + ": not reconciled yet"
		}
	}
	if !found {
		return false, "no venue trades " + instrument
	}
	return true, ""
}
