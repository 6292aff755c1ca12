package risk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/execd-dev/execd/venues"
)

// ErrOpen is wrapped by Allow's error when the venue's breaker is open, or half-open with its probe quota
// already in flight.
var ErrOpen = errors.New("circuit breaker open")

// BreakerSettings configure every venue's breaker. A breaker trips (closed → open) on ConsecutiveFailures
// retryable or unknown failures in a row, or, when FailureRatio is set, when at least MinRequests calls in the
// last Window failed in that ratio or more. Open, it refuses every call for OpenTimeout, then lets
// HalfOpenProbes calls through (half-open): a success closes it, a failure opens it again.
type BreakerSettings struct {
	ConsecutiveFailures uint32        // failures in a row that trip it (0: 5)
	FailureRatio        float64       // 0: off; else the failed share of the window's calls that trips it (0 < r ≤ 1)
	MinRequests         uint32        // calls in the window before the ratio counts (0: 10)
	Window              time.Duration // the rolling window the ratio is measured over (0: 60 s)
	OpenTimeout         time.Duration // open → half-open after this long (0: 60 s)
	HalfOpenProbes      uint32        // calls let through while half-open (0: 1)
}

// withDefaults fills the zero fields.
func (s BreakerSettings) withDefaults() BreakerSettings {
	if s.ConsecutiveFailures == 0 {
		s.ConsecutiveFailures = 5
	}
	if s.MinRequests == 0 {
		s.MinRequests = 10
	}
	if s.Window <= 0 {
		s.Window = time.Minute
	}
	if s.OpenTimeout <= 0 {
		s.OpenTimeout = time.Minute
	}
	if s.HalfOpenProbes == 0 {
		s.HalfOpenProbes = 1
	}
	return s
}

// Validate says what is wrong with the settings, if anything.
func (s BreakerSettings) Validate() error {
	var errs []error
	if s.FailureRatio < 0 || s.FailureRatio > 1 {
		errs = append(errs, fmt.Errorf("failure ratio %v: want 0 (off) or a share in (0, 1]", s.FailureRatio))
	}
	if s.Window < 0 || s.OpenTimeout < 0 {
		errs = append(errs, fmt.Errorf("window %s and open timeout %s must not be negative", s.Window, s.OpenTimeout))
	}
	return errors.Join(errs...)
}

// Transition is one change of a breaker's state, at wall time At.
type Transition struct {
	From, To string
	At       time.Time
}

// BreakerStatus is a venue's breaker as Status reads it.
type BreakerStatus struct {
	State string // closed, half-open or open
	// Requests, Failures and ConsecutiveFailures are the calls counted in the current window (closed) or state.
	Requests, Failures, ConsecutiveFailures uint32
	Settings                                BreakerSettings // in force for this breaker (defaults filled)
	Transitions                             []Transition    // the latest maxTransitions, oldest first
}

// maxTransitions is how many transitions a breaker keeps for Status.
const maxTransitions = 20

// Breakers is one circuit breaker per venue; safe for concurrent use. Breakers for venues not given to
// NewBreakers are created on first Allow. Update changes the settings live: a closed breaker is rebuilt with them
// at once (its counts start again); one that is open or half-open keeps its open timeout, window and probes until
// it closes, and trips by the new rule from then on.
type Breakers struct {
	onChange func(venue, from, to string)
	current  atomic.Pointer[versioned]

	mu sync.RWMutex
	by map[string]*breaker
}

type versioned struct {
	s       BreakerSettings
	version uint64
}

type breaker struct {
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	version  uint64          // the settings it was built with
	settings BreakerSettings // those settings

	mu       sync.Mutex // leaf lock: guards pending, draining and history only
	pending  []Transition
	draining bool
	history  []Transition
}

// NewBreakers returns breakers for the given venues. onChange (may be nil) is told of every state change with
// the states' names ("closed", "half-open", "open"); it is never called under a lock, and never concurrently
// for one venue.
func NewBreakers(s BreakerSettings, venueNames []string, onChange func(venue, from, to string)) *Breakers {
	b := &Breakers{onChange: onChange, by: make(map[string]*breaker, len(venueNames))}
	b.current.Store(&versioned{s: s.withDefaults(), version: 1})
	for _, v := range venueNames {
		b.by[v] = b.newBreaker(v, nil)
	}
	return b
}

// Update changes the settings of every breaker (see Breakers). Invalid settings are refused and change nothing.
func (b *Breakers) Update(s BreakerSettings) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("risk: breaker settings: %w", err)
	}
	for {
		old := b.current.Load()
		if b.current.CompareAndSwap(old, &versioned{s: s.withDefaults(), version: old.version + 1}) {
			break
		}
	}
	b.mu.RLock()
	names := make([]string, 0, len(b.by))
	for v := range b.by {
		names = append(names, v)
	}
	b.mu.RUnlock()
	for _, v := range names {
		b.get(v, false) // rebuilds the closed ones now
	}
	return nil
}

// Settings are the settings in force for breakers built from now on (defaults filled).
func (b *Breakers) Settings() BreakerSettings { return b.current.Load().s }

// newBreaker builds a venue's breaker from the current settings, carrying over prev's history.
func (b *Breakers) newBreaker(venue string, prev *breaker) *breaker {
	cur := b.current.Load()
	s := cur.s
	br := &breaker{version: cur.version, settings: s}
	if prev != nil {
		prev.mu.Lock()
		br.history = append([]Transition(nil), prev.history...)
		prev.mu.Unlock()
	}
	br.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         venue,
		MaxRequests:  s.HalfOpenProbes,
		Interval:     s.Window,
		BucketPeriod: s.Window / 10,
		Timeout:      s.OpenTimeout,
		// The trip rule reads the settings in force at each failure: a reload changes it at once.
		ReadyToTrip: func(c gobreaker.Counts) bool {
			s := b.current.Load().s
			if c.ConsecutiveFailures >= s.ConsecutiveFailures {
				return true
			}
			return s.FailureRatio > 0 && c.Requests >= s.MinRequests &&
				float64(c.TotalFailures) >= s.FailureRatio*float64(c.Requests)
		},
		// The venue answered (or there was no error): the venue is up, whatever it said.
		IsSuccessful: func(err error) bool {
			c := venues.ClassOf(err)
			return c != venues.Retryable && c != venues.Unknown
		},
		// execd giving up a call (stopping) says nothing of the venue.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		// Runs under gobreaker's mutex: only record, deliver later from drain.
		OnStateChange: func(_ string, from, to gobreaker.State) {
			t := Transition{From: from.String(), To: to.String(), At: time.Now()}
			br.mu.Lock()
			br.pending = append(br.pending, t)
			br.history = append(br.history, t)
			if len(br.history) > maxTransitions {
				br.history = append([]Transition(nil), br.history[len(br.history)-maxTransitions:]...)
			}
			br.mu.Unlock()
		},
	})
	return br
}

// get returns the venue's breaker, creating it when create is set; nil otherwise for an unknown venue. A closed
// breaker built with older settings is rebuilt with the current ones.
func (b *Breakers) get(venue string, create bool) *breaker {
	cur := b.current.Load().version
	b.mu.RLock()
	br := b.by[venue]
	b.mu.RUnlock()
	if br == nil && !create {
		return nil
	}
	if br != nil && (br.version == cur || br.cb.State() != gobreaker.StateClosed) {
		return br
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch prev := b.by[venue]; {
	case prev == nil:
		br = b.newBreaker(venue, nil)
		b.by[venue] = br
	case prev.version != b.current.Load().version && prev.cb.State() == gobreaker.StateClosed:
		br = b.newBreaker(venue, prev)
		b.by[venue] = br
	default:
		br = prev
	}
	return br
}

// drain delivers the venue's recorded transitions to onChange outside every lock. If another goroutine is
// already delivering for this venue it will pick these up too, keeping them in order.
func (b *Breakers) drain(venue string, br *breaker) {
	br.mu.Lock()
	if br.draining {
		br.mu.Unlock()
		return
	}
	br.draining = true
	for len(br.pending) > 0 {
		batch := br.pending
		br.pending = nil
		br.mu.Unlock()
		if b.onChange != nil {
			for _, t := range batch {
				b.onChange(venue, t.From, t.To)
			}
		}
		br.mu.Lock()
	}
	br.draining = false
	br.mu.Unlock()
}

// Allow asks the venue's breaker for permission to make one call. On success done must be called exactly
// once with the call's error (nil for success); later calls of done are ignored. Only errors whose
// venues.ClassOf is Retryable or Unknown count as failures. When the breaker refuses, err wraps ErrOpen.
func (b *Breakers) Allow(venue string) (done func(err error), err error) {
	br := b.get(venue, true)
	cbDone, err := br.cb.Allow()
	b.drain(venue, br)
	switch {
	case errors.Is(err, gobreaker.ErrTooManyRequests):
		return nil, fmt.Errorf("venue %s: half-open, probes in flight: %w", venue, ErrOpen)
	case err != nil:
		return nil, fmt.Errorf("venue %s: %w", venue, ErrOpen)
	}
	var once sync.Once
	return func(callErr error) {
		once.Do(func() {
			cbDone(callErr)
			b.drain(venue, br)
		})
	}, nil
}

// State is the venue's breaker state: "closed", "half-open" or "open". A venue never seen is "closed".
func (b *Breakers) State(venue string) string {
	br := b.get(venue, false)
	if br == nil {
		return gobreaker.StateClosed.String()
	}
	s := br.cb.State() // may move open → half-open when the timeout has passed
	b.drain(venue, br)
	return s.String()
}

// Healthy reports whether the venue's breaker is not open.
func (b *Breakers) Healthy(venue string) bool {
	return b.State(venue) != gobreaker.StateOpen.String()
}

// Status reads the venue's breaker: state, counts, the settings it runs with and its latest transitions.
func (b *Breakers) Status(venue string) BreakerStatus {
	br := b.get(venue, false)
	if br == nil {
		return BreakerStatus{State: gobreaker.StateClosed.String(), Settings: b.Settings()}
	}
	st := br.cb.State()
	b.drain(venue, br)
	c := br.cb.Counts()
	out := BreakerStatus{State: st.String(), Requests: c.Requests, Failures: c.TotalFailures,
		ConsecutiveFailures: c.ConsecutiveFailures, Settings: br.settings}
	// The trip rule is always the current one; the timeouts, window and probes are the breaker's own.
	cur := b.Settings()
	out.Settings.ConsecutiveFailures, out.Settings.FailureRatio, out.Settings.MinRequests =
		cur.ConsecutiveFailures, cur.FailureRatio, cur.MinRequests
	br.mu.Lock()
	out.Transitions = append([]Transition(nil), br.history...)
	br.mu.Unlock()
	return out
}
