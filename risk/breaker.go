package risk

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/execd-dev/execd/venues"
)

// ErrOpen is wrapped by Allow's error when the venue's breaker is open, or half-open with its probe quota
// already in flight.
var ErrOpen = errors.New("circuit breaker open")

// BreakerSettings configure every venue's breaker. Zero values take gobreaker's defaults except
// ConsecutiveFailures, whose zero means 5.
type BreakerSettings struct {
	ConsecutiveFailures uint32        // consecutive retryable/unknown failures that open the breaker
	OpenTimeout         time.Duration // open → half-open after this long (gobreaker default 60 s)
	HalfOpenMaxRequests uint32        // probes allowed while half-open (gobreaker default 1)
}

// Breakers is one circuit breaker per venue; safe for concurrent use. Breakers for venues not given to
// NewBreakers are created on first Allow.
type Breakers struct {
	settings BreakerSettings
	onChange func(venue, from, to string)

	mu sync.RWMutex
	by map[string]*breaker
}

type transition struct{ from, to string }

type breaker struct {
	cb *gobreaker.TwoStepCircuitBreaker[struct{}]

	mu       sync.Mutex // leaf lock: guards pending and draining only
	pending  []transition
	draining bool
}

// NewBreakers returns breakers for the given venues. onChange (may be nil) is told of every state change with
// the states' names ("closed", "half-open", "open"); it is never called under a lock, and never concurrently
// for one venue.
func NewBreakers(s BreakerSettings, venueNames []string, onChange func(venue, from, to string)) *Breakers {
	b := &Breakers{settings: s, onChange: onChange, by: make(map[string]*breaker, len(venueNames))}
	for _, v := range venueNames {
		b.by[v] = b.newBreaker(v)
	}
	return b
}

func (b *Breakers) newBreaker(venue string) *breaker {
	br := &breaker{}
	trip := b.settings.ConsecutiveFailures
	if trip == 0 {
		trip = 5
	}
	br.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        venue,
		MaxRequests: b.settings.HalfOpenMaxRequests,
		Timeout:     b.settings.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= trip },
		// The venue answered (or there was no error): the venue is up, whatever it said.
		IsSuccessful: func(err error) bool {
			c := venues.ClassOf(err)
			return c != venues.Retryable && c != venues.Unknown
		},
		// Runs under gobreaker's mutex: only record, deliver later from drain.
		OnStateChange: func(_ string, from, to gobreaker.State) {
			br.mu.Lock()
			br.pending = append(br.pending, transition{from.String(), to.String()})
			br.mu.Unlock()
		},
	})
	return br
}

// get returns the venue's breaker, creating it when create is set; nil otherwise for an unknown venue.
func (b *Breakers) get(venue string, create bool) *breaker {
	b.mu.RLock()
	br := b.by[venue]
	b.mu.RUnlock()
	if br != nil || !create {
		return br
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if br = b.by[venue]; br == nil {
		br = b.newBreaker(venue)
		b.by[venue] = br
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
				b.onChange(venue, t.from, t.to)
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
