package mockutil

import (
	"sync"
	"time"
)

// Window counts requests in fixed intervals of the wall clock, the way venues count rate limits: the count resets at
// each multiple of the window's size. It is safe for concurrent use.
type Window struct {
	size  time.Duration
	mu    sync.Mutex
	start time.Time
	n     int
}

// NewWindow returns a counter over intervals of size (> 0).
func NewWindow(size time.Duration) *Window {
	if size <= 0 {
		size = time.Second
	}
	return &Window{size: size}
}

// Add adds n at wall time now and returns the count in the current interval and when that interval ends.
func (w *Window) Add(now time.Time, n int) (count int, reset time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if start := now.Truncate(w.size); !start.Equal(w.start) {
		w.start, w.n = start, 0
	}
	w.n += n
	return w.n, w.start.Add(w.size)
}
