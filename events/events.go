package events

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Event is one change, as published.
type Event struct {
	Seq  uint64    // 1, 2, 3 … assigned by Publish, gapless
	Time time.Time // from Options.Now at publish; never earlier than the previous event's
	Kind string    // "order", "child", "fill", "venue", "report", "ops", …
	Key  string    // parent id for order/child/fill/report, venue name for venue, actor for ops
	Data any       // the publisher's payload (immutable once published)
}

// Filter selects events. An empty slice matches anything.
type Filter struct {
	Kinds []string
	Keys  []string
}

// Match reports whether e passes the filter.
func (f Filter) Match(e Event) bool {
	return (len(f.Kinds) == 0 || slices.Contains(f.Kinds, e.Kind)) && (len(f.Keys) == 0 || slices.Contains(f.Keys, e.Key))
}

// Options configure a Bus.
type Options struct {
	Replay int              // events kept for replay (a ring); default 4096
	Buffer int              // default per-subscriber channel capacity; default 1024
	Now    func() time.Time // default time.Now
}

// Errors of subscriptions. Use errors.Is: ErrTooOld comes wrapped in a *TooOldError.
var (
	// ErrTooOld: the events after Since are no longer all retained; the reader must re-read state and subscribe
	// afresh.
	ErrTooOld = errors.New("events: since is older than the oldest retained event")
	// ErrAhead: Since is after the last event published, so it was not handed out by this bus (a reader that
	// outlived a restart of the daemon).
	ErrAhead = errors.New("events: since is after the last published event")
	// ErrSlow: the subscriber was dropped because its buffer was full.
	ErrSlow = errors.New("events: subscriber dropped: too slow")
	// ErrClosed: the subscription was closed by its owner.
	ErrClosed = errors.New("events: subscription closed")
)

// TooOldError says which events a resuming reader asked for and which are still there. It matches ErrTooOld.
type TooOldError struct {
	Since  uint64 // the reader asked for every event after this one
	Oldest uint64 // the oldest event still retained
}

func (e *TooOldError) Error() string {
	return fmt.Sprintf("%v: since %d, oldest retained %d", ErrTooOld, e.Since, e.Oldest)
}

// Is makes errors.Is(err, ErrTooOld) true.
func (e *TooOldError) Is(target error) bool { return target == ErrTooOld }

// Bus sequences events, keeps the last ones for replay and hands them to subscribers. Safe for concurrent use.
type Bus struct {
	now    func() time.Time
	buffer int

	mu      sync.Mutex
	last    uint64  // seq of the last event published
	ring    []Event // the last len(ring) ≤ cap events; ring[(head+i)%cap] is the i-th oldest
	head    int
	subs    map[*Subscription]struct{}
	dropped uint64
}

// New builds a bus.
func New(o Options) *Bus {
	if o.Replay <= 0 {
		o.Replay = 4096
	}
	if o.Buffer <= 0 {
		o.Buffer = 1024
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Bus{now: o.Now, buffer: o.Buffer, ring: make([]Event, 0, o.Replay), subs: map[*Subscription]struct{}{}}
}

// Publish assigns the next sequence number to an event, keeps it for replay and offers it to every matching
// subscriber without waiting: a subscriber whose buffer is full is dropped. It returns the event's sequence number.
// data must not be changed afterwards. Safe for concurrent use; never blocks on a reader.
func (b *Bus) Publish(kind, key string, data any) uint64 {
	t := b.now() // outside the lock: the clock is the caller's code
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last++
	if n := len(b.ring); n > 0 {
		if prev := b.at(n - 1); t.Before(prev.Time) {
			t = prev.Time // concurrent publishers may read the clock out of order; times follow seqs
		}
	}
	e := Event{Seq: b.last, Time: t, Kind: kind, Key: key, Data: data}
	if len(b.ring) < cap(b.ring) {
		b.ring = append(b.ring, e)
	} else {
		b.ring[b.head] = e
		b.head = (b.head + 1) % cap(b.ring)
	}
	for s := range b.subs {
		if !s.filter.Match(e) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			b.endLocked(s, ErrSlow)
			b.dropped++
		}
	}
	return e.Seq
}

// at is the i-th oldest retained event. b.mu held.
func (b *Bus) at(i int) Event { return b.ring[(b.head+i)%cap(b.ring)] }

// endLocked unregisters s and closes its channel. b.mu held.
func (b *Bus) endLocked(s *Subscription, err error) {
	delete(b.subs, s)
	s.err = err
	close(s.ch)
}

// SubscribeOptions say what a subscriber wants.
type SubscribeOptions struct {
	Filter Filter
	// Since: replay every retained event with Seq > Since that matches the filter, then the live ones. 0 (unless
	// Resume or FromStart): live events only.
	Since uint64
	// Resume makes Since a resume point even when it is 0 (a reader that has seen nothing yet wants everything from
	// seq 1): the subscription fails with ErrTooOld if an event after Since is no longer retained. Since > 0 implies
	// it.
	Resume bool
	// FromStart replays every retained event, however old the oldest is; Since and Resume are then ignored.
	FromStart bool
	// Buffer is the channel's capacity for live events (the replay gets room of its own); default Options.Buffer.
	Buffer int
}

// Subscribe registers a subscriber. The replay and the registration happen atomically, so the subscriber sees
// every matching event after Since exactly once, in order. It fails with an error matching ErrTooOld (a
// *TooOldError) when events after Since are no longer retained, and with ErrAhead when Since is after the last
// event published.
func (b *Bus) Subscribe(o SubscribeOptions) (*Subscription, error) {
	if o.Buffer <= 0 {
		o.Buffer = b.buffer
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	from := b.last + 1 // the first seq the subscriber gets
	switch {
	case o.FromStart:
		from = b.last + 1 - uint64(len(b.ring))
	case o.Since > 0 || o.Resume:
		if o.Since > b.last {
			return nil, fmt.Errorf("%w: since %d, last %d", ErrAhead, o.Since, b.last)
		}
		oldest := b.last + 1 - uint64(len(b.ring))
		if o.Since+1 < oldest {
			return nil, &TooOldError{Since: o.Since, Oldest: oldest}
		}
		from = o.Since + 1
	}
	var replay []Event
	first := int(from - (b.last + 1 - uint64(len(b.ring)))) // ring index of seq from
	for i := first; i < len(b.ring); i++ {
		if e := b.at(i); o.Filter.Match(e) {
			replay = append(replay, e)
		}
	}
	s := &Subscription{
		bus:    b,
		since:  from - 1,
		filter: Filter{Kinds: slices.Clone(o.Filter.Kinds), Keys: slices.Clone(o.Filter.Keys)},
		ch:     make(chan Event, len(replay)+o.Buffer),
	}
	for _, e := range replay {
		s.ch <- e // room was made for it
	}
	b.subs[s] = struct{}{}
	return s, nil
}

// Last is the sequence number of the last event published, 0 if none.
func (b *Bus) Last() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// Stats are the bus's counters.
type Stats struct {
	Published   uint64 // events published
	Subscribers uint64 // subscribers registered now
	Dropped     uint64 // subscribers dropped as slow
}

// Stats reads the counters.
func (b *Bus) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Stats{Published: b.last, Subscribers: uint64(len(b.subs)), Dropped: b.dropped}
}

// Subscription is one subscriber's stream of events.
type Subscription struct {
	bus    *Bus
	since  uint64
	filter Filter
	ch     chan Event
	err    error // guarded by bus.mu; set when the subscription ends
}

// Since is the subscription's starting point: it delivers the matching events with Seq > Since. A reader that
// has not read any event yet resumes from here.
func (s *Subscription) Since() uint64 { return s.since }

// C delivers the events in sequence order. It is closed when the subscription ends: by Close, or because the
// subscriber was too slow (see Err); events already buffered are still delivered before it reads as closed.
func (s *Subscription) C() <-chan Event { return s.ch }

// Err is nil while the subscription is open, ErrSlow if it was dropped because its buffer was full, ErrClosed
// after Close.
func (s *Subscription) Err() error {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	return s.err
}

// Close ends the subscription and closes its channel. Idempotent; a subscription already dropped as slow keeps
// ErrSlow.
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	if s.err == nil {
		s.bus.endLocked(s, ErrClosed)
	}
}
