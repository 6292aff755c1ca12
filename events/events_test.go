package events

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// manualNow is a clock that advances one millisecond on each read.
func manualNow() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

func drain(t *testing.T, s *Subscription, n int) []Event {
	t.Helper()
	out := make([]Event, 0, n)
	for len(out) < n {
		e, ok := <-s.C()
		if !ok {
			t.Fatalf("channel closed after %d of %d events (err %v)", len(out), n, s.Err())
		}
		out = append(out, e)
	}
	return out
}

func seqs(es []Event) []uint64 {
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

func TestConcurrentPublishersGaplessOrdered(t *testing.T) {
	const publishers, each = 8, 2000
	b := New(Options{Replay: publishers * each, Buffer: publishers * each, Now: manualNow()})
	all, err := b.Subscribe(SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				b.Publish("order", fmt.Sprintf("p%d", p), i)
			}
		}()
	}
	wg.Wait()
	got := drain(t, all, publishers*each)
	next := map[string]int{}
	for i, e := range got {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
		if i > 0 && e.Time.Before(got[i-1].Time) {
			t.Fatalf("seq %d time %s before seq %d's %s", e.Seq, e.Time, got[i-1].Seq, got[i-1].Time)
		}
		// Each publisher's own events keep their order.
		if e.Data.(int) != next[e.Key] {
			t.Fatalf("publisher %s: got payload %d, want %d", e.Key, e.Data, next[e.Key])
		}
		next[e.Key]++
	}
	if b.Last() != publishers*each {
		t.Fatalf("last %d", b.Last())
	}
	if st := b.Stats(); st.Published != publishers*each || st.Subscribers != 1 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFilter(t *testing.T) {
	b := New(Options{})
	orders, _ := b.Subscribe(SubscribeOptions{Filter: Filter{Kinds: []string{"order", "report"}}})
	p1, _ := b.Subscribe(SubscribeOptions{Filter: Filter{Keys: []string{"p1"}}})
	both, _ := b.Subscribe(SubscribeOptions{Filter: Filter{Kinds: []string{"fill"}, Keys: []string{"p2"}}})
	b.Publish("order", "p1", nil)  // 1
	b.Publish("fill", "p1", nil)   // 2
	b.Publish("fill", "p2", nil)   // 3
	b.Publish("venue", "a", nil)   // 4
	b.Publish("report", "p2", nil) // 5
	b.Publish("sentinel", "z", nil)
	check := func(name string, s *Subscription, want ...uint64) {
		t.Helper()
		s.Close()
		var got []uint64
		for e := range s.C() {
			got = append(got, e.Seq)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	check("kinds", orders, 1, 5)
	check("keys", p1, 1, 2)
	check("kinds and keys", both, 3)
	if !(Filter{}).Match(Event{Kind: "x"}) {
		t.Error("the empty filter must match anything")
	}
}

func TestReplaySince(t *testing.T) {
	b := New(Options{Replay: 10})
	for i := range 7 {
		b.Publish([]string{"order", "fill"}[i%2], "p", i)
	}
	s, err := b.Subscribe(SubscribeOptions{Since: 3})
	if err != nil {
		t.Fatal(err)
	}
	f, err := b.Subscribe(SubscribeOptions{Since: 3, Filter: Filter{Kinds: []string{"fill"}}})
	if err != nil {
		t.Fatal(err)
	}
	live, _ := b.Subscribe(SubscribeOptions{})
	b.Publish("order", "p", 7)
	b.Publish("fill", "p", 8)
	if got := seqs(drain(t, s, 6)); fmt.Sprint(got) != "[4 5 6 7 8 9]" {
		t.Fatalf("since 3: %v", got)
	}
	if got := seqs(drain(t, f, 3)); fmt.Sprint(got) != "[4 6 9]" {
		t.Fatalf("since 3, fills: %v", got)
	}
	if got := seqs(drain(t, live, 2)); fmt.Sprint(got) != "[8 9]" {
		t.Fatalf("live: %v", got)
	}
	// Since the last event: nothing to replay, then live.
	tail, err := b.Subscribe(SubscribeOptions{Since: b.Last()})
	if err != nil {
		t.Fatal(err)
	}
	b.Publish("order", "p", 9)
	if got := seqs(drain(t, tail, 1)); fmt.Sprint(got) != "[10]" {
		t.Fatalf("since last: %v", got)
	}
	// Resume from 0: everything from seq 1 while it is retained.
	r0, err := b.Subscribe(SubscribeOptions{Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(drain(t, r0, 10)); got[0] != 1 || got[9] != 10 {
		t.Fatalf("resume from 0: %v", got)
	}
}

func TestTooOldAndAhead(t *testing.T) {
	b := New(Options{Replay: 4})
	if _, err := b.Subscribe(SubscribeOptions{Resume: true}); err != nil {
		t.Fatalf("resume from 0 on an empty bus: %v", err)
	}
	for range 10 {
		b.Publish("order", "p", nil)
	} // retained: 7 8 9 10
	if _, err := b.Subscribe(SubscribeOptions{Since: 6}); err != nil {
		t.Fatalf("since 6 (next is 7, retained): %v", err)
	}
	_, err := b.Subscribe(SubscribeOptions{Since: 5})
	var too *TooOldError
	if !errors.Is(err, ErrTooOld) || !errors.As(err, &too) || too.Oldest != 7 || too.Since != 5 {
		t.Fatalf("since 5: %v", err)
	}
	if _, err := b.Subscribe(SubscribeOptions{Resume: true}); !errors.Is(err, ErrTooOld) {
		t.Fatalf("resume from 0 after eviction: %v", err)
	}
	if _, err := b.Subscribe(SubscribeOptions{Since: 11}); !errors.Is(err, ErrAhead) {
		t.Fatalf("since after the last event: %v", err)
	}
	all, err := b.Subscribe(SubscribeOptions{FromStart: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(drain(t, all, 4)); fmt.Sprint(got) != "[7 8 9 10]" {
		t.Fatalf("from start: %v", got)
	}
	if st := b.Stats(); st.Subscribers != 3 {
		t.Fatalf("failed subscriptions were registered: %+v", st)
	}
}

// TestSlowSubscriberDropped: a subscriber that never reads is dropped once its buffer is full, counted, and the
// publisher is never held up by it (100k publishes return with no reader at all).
func TestSlowSubscriberDropped(t *testing.T) {
	b := New(Options{Replay: 16, Buffer: 8})
	stuck, _ := b.Subscribe(SubscribeOptions{})
	other, _ := b.Subscribe(SubscribeOptions{Filter: Filter{Kinds: []string{"rare"}}})
	const n = 100_000
	for i := range n {
		b.Publish("order", "p", i)
	}
	b.Publish("rare", "p", nil)
	if err := stuck.Err(); !errors.Is(err, ErrSlow) {
		t.Fatalf("err %v, want ErrSlow", err)
	}
	// What was buffered before the drop is still delivered, then the channel reads as closed.
	var got []uint64
	for e := range stuck.C() {
		got = append(got, e.Seq)
	}
	if fmt.Sprint(got) != "[1 2 3 4 5 6 7 8]" {
		t.Fatalf("buffered before the drop: %v", got)
	}
	if e := <-other.C(); e.Seq != n+1 || other.Err() != nil {
		t.Fatalf("the other subscriber: %+v, %v", e, other.Err())
	}
	if st := b.Stats(); st.Dropped != 1 || st.Subscribers != 1 || st.Published != n+1 {
		t.Fatalf("stats %+v", st)
	}
	stuck.Close() // after a drop: harmless, keeps ErrSlow
	if !errors.Is(stuck.Err(), ErrSlow) {
		t.Fatalf("after Close: %v", stuck.Err())
	}
}

func TestReplayGetsRoomOfItsOwn(t *testing.T) {
	b := New(Options{Replay: 100})
	for range 50 {
		b.Publish("order", "p", nil)
	}
	s, err := b.Subscribe(SubscribeOptions{FromStart: true, Buffer: 2})
	if err != nil {
		t.Fatal(err)
	}
	b.Publish("order", "p", nil)
	b.Publish("order", "p", nil)
	if s.Err() != nil {
		t.Fatalf("dropped although its live buffer had room: %v", s.Err())
	}
	b.Publish("order", "p", nil)
	if !errors.Is(s.Err(), ErrSlow) {
		t.Fatalf("not dropped when its buffer overflowed: %v", s.Err())
	}
	if got := len(drainAll(s)); got != 52 {
		t.Fatalf("delivered %d, want 52", got)
	}
}

func drainAll(s *Subscription) []Event {
	var out []Event
	for e := range s.C() {
		out = append(out, e)
	}
	return out
}

func TestClose(t *testing.T) {
	b := New(Options{})
	s, _ := b.Subscribe(SubscribeOptions{})
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	b.Publish("order", "p", nil)
	s.Close()
	s.Close()
	if !errors.Is(s.Err(), ErrClosed) {
		t.Fatalf("err %v", s.Err())
	}
	if got := drainAll(s); len(got) != 1 {
		t.Fatalf("buffered events after close: %d", len(got))
	}
	b.Publish("order", "p", nil) // no panic on a closed channel
	if st := b.Stats(); st.Subscribers != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestConcurrentSubscribeResume: subscribers that resume at random points while publishers run see exactly the
// events after their resume point, in order, with no gap and no duplicate.
func TestConcurrentSubscribeResume(t *testing.T) {
	const total = 20000
	b := New(Options{Replay: total, Buffer: total})
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range total / 4 {
				b.Publish("order", fmt.Sprint(p), nil)
			}
		}()
	}
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			since := b.Last()
			s, err := b.Subscribe(SubscribeOptions{Since: since, Resume: true})
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			want := since + 1
			for want <= total {
				e := <-s.C()
				if e.Seq != want {
					errs <- fmt.Errorf("since %d: got seq %d, want %d", since, e.Seq, want)
					return
				}
				want++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSubscriptionSince(t *testing.T) {
	b := New(Options{Replay: 3})
	for range 5 {
		b.Publish("order", "p", nil)
	}
	for _, tc := range []struct {
		o    SubscribeOptions
		want uint64
	}{
		{SubscribeOptions{}, 5},
		{SubscribeOptions{Since: 3}, 3},
		{SubscribeOptions{FromStart: true}, 2},
	} {
		s, err := b.Subscribe(tc.o)
		if err != nil {
			t.Fatal(err)
		}
		if s.Since() != tc.want {
			t.Errorf("%+v: since %d, want %d", tc.o, s.Since(), tc.want)
		}
	}
}
