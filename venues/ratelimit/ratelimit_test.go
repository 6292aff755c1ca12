package ratelimit

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// clockedBase answers every request with status (200 by default) and headers, and records when each was sent.
type clockedBase struct {
	mu      sync.Mutex
	sent    []time.Time
	status  int
	headers http.Header
}

func (b *clockedBase) RoundTrip(req *http.Request) (*http.Response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent = append(b.sent, time.Now())
	st := b.status
	if st == 0 {
		st = http.StatusOK
	}
	rec := httptest.NewRecorder()
	for k, v := range b.headers {
		rec.Header()[k] = v
	}
	rec.WriteHeader(st)
	return rec.Result(), nil
}

func (b *clockedBase) times() []time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]time.Time(nil), b.sent...)
}

func table(n int, window time.Duration) Table {
	return Table{
		Limits: []Limit{{Name: "orders", N: n, Window: window}},
		Cost: func(method, path string, q url.Values) []Draw {
			if path == "/order" {
				return []Draw{{Limit: "orders", N: 1}}
			}
			return nil
		},
		Usage: func(method, path string, h http.Header) []Usage {
			if v := h.Get("X-Used"); v != "" {
				n, _ := strconv.Atoi(v)
				return []Usage{{Limit: "orders", Used: n}}
			}
			return nil
		},
		Stops: map[int]time.Duration{http.StatusTooManyRequests: time.Second, http.StatusTeapot: 2 * time.Minute},
	}
}

func get(t *testing.T, tr *Transport, path string) error {
	t.Helper()
	req := httptest.NewRequest("GET", "http://venue"+path, nil)
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

// maxInWindow is the most requests of ts inside any window of length w.
func maxInWindow(ts []time.Time, w time.Duration) int {
	most := 0
	for i := range ts {
		n := 0
		for j := i; j < len(ts) && ts[j].Sub(ts[i]) < w; j++ {
			n++
		}
		most = max(most, n)
	}
	return most
}

// 200 requests at once against 20 per second: all are sent, never more than 20 in any second.
func TestNeverPastTheLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &clockedBase{}
		tr, err := New(base, table(20, time.Second), nil)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := get(t, tr, "/order"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		ts := base.times()
		if len(ts) != 200 {
			t.Fatalf("sent %d", len(ts))
		}
		if most := maxInWindow(ts, time.Second); most > 20 {
			t.Fatalf("%d requests in one second, limit 20", most)
		}
		// Unlimited endpoints do not wait.
		start := time.Now()
		for i := 0; i < 50; i++ {
			if err := get(t, tr, "/time"); err != nil {
				t.Fatal(err)
			}
		}
		if time.Since(start) != 0 {
			t.Fatal("a request outside every limit waited")
		}
	})
}

// A 429 stops every request until Retry-After; a 418 without one stops them for the table's default.
func TestStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &clockedBase{status: http.StatusTooManyRequests, headers: http.Header{"Retry-After": {"3"}}}
		var events []Event
		tr, _ := New(base, table(100, time.Second), func(e Event) { events = append(events, e) })
		if err := get(t, tr, "/order"); err != nil {
			t.Fatal(err)
		}
		base.status = http.StatusOK
		if err := get(t, tr, "/order"); !errors.Is(err, ErrStopped) {
			t.Fatalf("during the pause: %v", err)
		}
		if len(base.times()) != 1 {
			t.Fatal("a request left during the pause")
		}
		time.Sleep(3*time.Second + time.Millisecond)
		if err := get(t, tr, "/order"); err != nil {
			t.Fatalf("after Retry-After: %v", err)
		}
		base.status, base.headers = http.StatusTeapot, nil
		_ = get(t, tr, "/order")
		time.Sleep(119 * time.Second)
		if err := get(t, tr, "/order"); !errors.Is(err, ErrStopped) {
			t.Fatalf("during the ban: %v", err)
		}
		time.Sleep(2 * time.Second)
		base.status = http.StatusOK
		if err := get(t, tr, "/order"); err != nil {
			t.Fatalf("after the ban: %v", err)
		}
		if len(events) != 2 || events[0].Kind != "stop" || events[1].Status != http.StatusTeapot {
			t.Fatalf("events %+v", events)
		}
	})
}

// What the venue says is used (others share the account) tightens the bucket: the next request waits.
func TestTightenedByTheVenue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &clockedBase{headers: http.Header{"X-Used": {"100"}}}
		tr, _ := New(base, table(100, 10*time.Second), nil)
		start := time.Now()
		if err := get(t, tr, "/order"); err != nil {
			t.Fatal(err)
		}
		base.headers = nil
		if err := get(t, tr, "/order"); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited == 0 {
			t.Fatal("the venue said the limit was used up, and the next request did not wait")
		}
	})
}

// A request whose context ends while it waits is not sent.
func TestWaitBoundedByContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &clockedBase{}
		tr, _ := New(base, table(10, time.Minute), nil)
		for i := 0; i < 10; i++ { // the burst (1) and what the rate gives while they queue
			_ = get(t, tr, "/order")
		}
		n := len(base.times())
		req := httptest.NewRequest("GET", "http://venue/order", nil)
		ctx, cancel := context.WithTimeout(req.Context(), 100*time.Millisecond)
		defer cancel()
		if _, err := tr.RoundTrip(req.WithContext(ctx)); err == nil {
			t.Fatal("sent although the wait outlasts the deadline")
		}
		if len(base.times()) != n {
			t.Fatal("a request past its deadline left")
		}
	})
}

func TestBadTables(t *testing.T) {
	for _, tb := range []Table{
		{},
		{Cost: table(1, time.Second).Cost, Limits: []Limit{{Name: "x", N: 0, Window: time.Second}}},
		{Cost: table(1, time.Second).Cost, Limits: []Limit{{Name: "x", N: 1, Window: time.Second}, {Name: "x", N: 1, Window: time.Second}}},
	} {
		if _, err := New(nil, tb, nil); err == nil {
			t.Fatalf("accepted %+v", tb)
		}
	}
}
