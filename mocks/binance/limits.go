package binance

import (
	"sync"
	"time"
)

// Faults injects failures into a Server. Its methods are safe for concurrent use; counts add up.
type Faults struct {
	mu           sync.Mutex
	dropAfter    int
	delayN       int
	delay        time.Duration
	fail5xxAfter int
	fail5xxFirst int
	rateLimit    int
	dropStreams  func()
}

// DropResponseAfterAccept makes the next n accepted order creates execute and then close the connection without
// a response.
func (f *Faults) DropResponseAfterAccept(n int) { f.add(&f.dropAfter, n) }

// DelayResponse makes the next n accepted order creates execute and answer only after d (wall time).
func (f *Faults) DelayResponse(d time.Duration, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay, f.delayN = d, f.delayN+n
}

// Fail5xxAfterAccept makes the next n accepted order creates execute and then answer 503.
func (f *Faults) Fail5xxAfterAccept(n int) { f.add(&f.fail5xxAfter, n) }

// Fail5xxBeforeAccept makes the next n order creates answer 503 without executing anything.
func (f *Faults) Fail5xxBeforeAccept(n int) { f.add(&f.fail5xxFirst, n) }

// RateLimitNext makes the next n requests of any kind answer 429 with code -1003.
func (f *Faults) RateLimitNext(n int) { f.add(&f.rateLimit, n) }

// DropUserStreams closes every open user-data websocket connection now.
func (f *Faults) DropUserStreams() {
	f.mu.Lock()
	drop := f.dropStreams
	f.mu.Unlock()
	if drop != nil {
		drop()
	}
}

func (f *Faults) add(p *int, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*p += n
}

// take consumes one unit of *p if any is left.
func (f *Faults) take(p *int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if *p > 0 {
		*p--
		return true
	}
	return false
}

// afterAccept is what to do with the response of an order create that was executed.
type afterAccept struct {
	drop  bool
	fail  bool
	delay time.Duration
}

func (f *Faults) takeAfterAccept() afterAccept {
	f.mu.Lock()
	defer f.mu.Unlock()
	var a afterAccept
	switch {
	case f.dropAfter > 0:
		f.dropAfter--
		a.drop = true
	case f.fail5xxAfter > 0:
		f.fail5xxAfter--
		a.fail = true
	}
	if f.delayN > 0 {
		f.delayN--
		a.delay = f.delay
	}
	return a
}

// window is a fixed-interval counter, like the venue's: it resets at each interval boundary of the wall clock.
type window struct {
	size  time.Duration
	start time.Time
	n     int
}

func (w *window) add(now time.Time, n int) int {
	if start := now.Truncate(w.size); !start.Equal(w.start) {
		w.start, w.n = start, 0
	}
	w.n += n
	return w.n
}

// limiter counts request weight and orders per wall-clock window.
type limiter struct {
	mu       sync.Mutex
	enforce  bool
	weight   window
	orders10 window
	orders1m window
}

func newLimiter(enforce bool) *limiter {
	return &limiter{enforce: enforce, weight: window{size: time.Minute}, orders10: window{size: 10 * time.Second},
		orders1m: window{size: time.Minute}}
}

const (
	weightLimit    = 2400
	orders10sLimit = 300
	orders1mLimit  = 1200
)

// use adds a request's weight and returns the used weight, or an error when over the limit.
func (l *limiter) use(now time.Time, weight int) (int, *apiError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	used := l.weight.add(now, weight)
	if l.enforce && used > weightLimit {
		return used, errTooMany
	}
	return used, nil
}

// order counts a new order and returns the counts, or an error when over a limit.
func (l *limiter) order(now time.Time) (c10, c1m int, err *apiError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c10, c1m = l.orders10.add(now, 1), l.orders1m.add(now, 1)
	switch {
	case l.enforce && c10 > orders10sLimit:
		return c10, c1m, errTooManyOrders(orders10sLimit, "10 SECONDS")
	case l.enforce && c1m > orders1mLimit:
		return c10, c1m, errTooManyOrders(orders1mLimit, "1 MINUTES")
	}
	return c10, c1m, nil
}
