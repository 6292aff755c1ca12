// Package clock is the injectable time source of execd. The simulated market, the TWAP schedule, the engine's
// timers and the reports all read time through a Clock, so tests run on a manual clock and the demo on an
// accelerated one. Request signing, recvWindow checks and network timeouts use the wall clock directly (see
// DESIGN.md, "Two clocks").
package clock

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells the time and makes timers. Implementations are safe for concurrent use.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, d of this clock's time from now.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer on some Clock. C delivers the clock's time when it fires.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it stopped it.
	Stop() bool
}

// Real is the wall clock.
type Real struct{}

var _ Clock = Real{}

func (Real) Now() time.Time { return time.Now() }

func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

// Scaled is a clock that starts at Start and runs Speed times faster than the wall clock: one wall second is Speed
// seconds of its time. Its timers are wall timers of d/Speed that deliver the scaled time.
type Scaled struct {
	start     time.Time
	wallStart time.Time
	speed     float64

	jumped atomic.Int64 // nanoseconds added by Jump

	mu     sync.Mutex                 // guards timers and their time.Timers
	timers map[*scaledTimer]time.Time // pending timers and the time each fires at, for Jump
}

var _ Clock = (*Scaled)(nil)

// NewScaled returns a clock reading start now and advancing speed times as fast as the wall clock. speed must be > 0.
func NewScaled(start time.Time, speed float64) *Scaled {
	if speed <= 0 {
		speed = 1
	}
	return &Scaled{start: start, wallStart: time.Now(), speed: speed, timers: map[*scaledTimer]time.Time{}}
}

// NewScaledFrom returns a clock anchored at the wall time epoch: it reads epoch + (wall now − epoch) × speed. Two
// processes given the same epoch and speed agree on the time, so a restarted daemon and a long-lived simulated
// market stay on one clock.
func NewScaledFrom(epoch time.Time, speed float64) *Scaled {
	if speed <= 0 {
		speed = 1
	}
	return &Scaled{start: epoch, wallStart: epoch, speed: speed, timers: map[*scaledTimer]time.Time{}}
}

// Speed is the acceleration factor.
func (s *Scaled) Speed() float64 { return s.speed }

func (s *Scaled) Now() time.Time {
	el := time.Since(s.wallStart)
	return s.start.Add(time.Duration(float64(el)*s.speed) + time.Duration(s.jumped.Load()))
}

// Jump moves the clock forward by d at once (a demo skipping to a window set ahead): every pending timer due by
// then fires now, the others keep their time. Two clocks made with NewScaledFrom no longer agree after a jump.
func (s *Scaled) Jump(d time.Duration) {
	if d <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jumped.Add(int64(d))
	now := s.Now()
	for t, at := range s.timers {
		if t.t.Stop() {
			t.t = time.AfterFunc(s.wallUntil(now, at), func() { s.fire(t) })
		}
	}
}

// wallUntil is the wall time from now until the clock reads at, rounded up (zero if it is due).
func (s *Scaled) wallUntil(now, at time.Time) time.Duration {
	d := at.Sub(now)
	if d <= 0 {
		return 0
	}
	return s.WallDuration(d) + 1
}

// fire delivers a timer's tick and forgets it.
func (s *Scaled) fire(t *scaledTimer) {
	s.mu.Lock()
	delete(s.timers, t)
	s.mu.Unlock()
	now := s.Now()
	select {
	case t.c <- now:
	default:
	}
}

// WallDuration converts a duration of this clock's time to wall time.
func (s *Scaled) WallDuration(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.speed)
}

// NewTimer fires once this clock reads at least its time now plus d: the wall wait is rounded up, so a timer
// never fires at a reading just short of the time it was set for (a caller waiting for that time would arm
// the same timer again and again at the same instant).
func (s *Scaled) NewTimer(d time.Duration) Timer {
	st := &scaledTimer{s: s, c: make(chan time.Time, 1)}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	at := now.Add(max(d, 0))
	s.timers[st] = at
	st.t = time.AfterFunc(s.wallUntil(now, at), func() { s.fire(st) })
	return st
}

type scaledTimer struct {
	s *Scaled
	t *time.Timer // replaced by Jump, under s.mu
	c chan time.Time
}

func (t *scaledTimer) C() <-chan time.Time { return t.c }

func (t *scaledTimer) Stop() bool {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	delete(t.s.timers, t)
	return t.t.Stop()
}

// Manual is a clock that moves only when Advance or Set is called; timers fire during those calls. For tests.
type Manual struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

var _ Clock = (*Manual)(nil)

// NewManual returns a manual clock reading now.
func NewManual(now time.Time) *Manual { return &Manual{now: now} }

func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *Manual) NewTimer(d time.Duration) Timer {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := &manualTimer{m: m, at: m.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.fired = true
		t.c <- m.now
		return t
	}
	m.timers = append(m.timers, t)
	return t
}

// Advance moves the clock forward by d, firing the timers that fall due in order.
func (m *Manual) Advance(d time.Duration) { m.Set(m.Now().Add(d)) }

// Set moves the clock to t (never backwards), firing due timers.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.Before(m.now) {
		return
	}
	m.now = t
	sort.SliceStable(m.timers, func(i, j int) bool { return m.timers[i].at.Before(m.timers[j].at) })
	kept := m.timers[:0]
	for _, tm := range m.timers {
		if tm.stopped {
			continue
		}
		if !tm.at.After(t) {
			tm.fired = true
			tm.c <- tm.at
			continue
		}
		kept = append(kept, tm)
	}
	m.timers = kept
}

// Pending is the number of timers not yet fired or stopped.
func (m *Manual) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, t := range m.timers {
		if !t.stopped && !t.fired {
			n++
		}
	}
	return n
}

type manualTimer struct {
	m       *Manual
	at      time.Time
	c       chan time.Time
	fired   bool
	stopped bool
}

func (t *manualTimer) C() <-chan time.Time { return t.c }

func (t *manualTimer) Stop() bool {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	if t.fired || t.stopped {
		return false
	}
	t.stopped = true
	return true
}
