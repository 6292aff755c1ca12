package binance

import (
	"sync"
	"time"

	"github.com/execd-dev/execd/mocks/mockutil"
)

// limiter counts request weight and orders per wall-clock window.
type limiter struct {
	mu       sync.Mutex
	enforce  bool
	weight   *mockutil.Window
	orders10 *mockutil.Window
	orders1m *mockutil.Window
}

func newLimiter(enforce bool) *limiter {
	return &limiter{enforce: enforce, weight: mockutil.NewWindow(time.Minute), orders10: mockutil.NewWindow(10 * time.Second),
		orders1m: mockutil.NewWindow(time.Minute)}
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
	used, _ := l.weight.Add(now, weight)
	if l.enforce && used > weightLimit {
		return used, errTooMany
	}
	return used, nil
}

// order counts a new order and returns the counts, or an error when over a limit.
func (l *limiter) order(now time.Time) (c10, c1m int, err *apiError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c10, _ = l.orders10.Add(now, 1)
	c1m, _ = l.orders1m.Add(now, 1)
	switch {
	case l.enforce && c10 > orders10sLimit:
		return c10, c1m, errTooManyOrders(orders10sLimit, "10 SECONDS")
	case l.enforce && c1m > orders1mLimit:
		return c10, c1m, errTooManyOrders(orders1mLimit, "1 MINUTES")
	}
	return c10, c1m, nil
}
