package ratelimit

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is one published limit: at most N units in any window of Window.
type Limit struct {
	Name   string
	N      int
	Window time.Duration
}

// Draw is what a request takes from one limit.
type Draw struct {
	Limit string
	N     int
}

// Usage is how much of a limit the venue says is used in its current window (Used), or how much is left (Left,
// when Remaining is set).
type Usage struct {
	Limit     string
	Used      int
	Left      int
	Remaining bool
}

// Table is a venue protocol's limits and the cost of each request.
type Table struct {
	Limits []Limit
	// Cost lists the limits a request draws on. It must be a pure function of the request line.
	Cost func(method, path string, query url.Values) []Draw
	// Usage reads what an answer's headers say of the limits of the request that got it; nil: nothing.
	Usage func(method, path string, h http.Header) []Usage
	// Stops say, per HTTP status, that the venue wants no request for a while, and how long when the answer has
	// no Retry-After (e.g. 429: 1s; 418: 2m).
	Stops map[int]time.Duration
}

// ErrStopped is wrapped by the error of a request not sent because the venue asked for a pause (429) or banned
// the client (418): it never left.
var ErrStopped = errors.New("venue asked for a pause: request not sent")

// Event is something the transport did: a stop, a tightening.
type Event struct {
	Kind   string // "stop", "tighten"
	Limit  string
	Status int
	Until  time.Time
	Detail string
}

// Transport is an http.RoundTripper that paces one venue's requests. Safe for concurrent use.
type Transport struct {
	base    http.RoundTripper
	table   Table
	buckets map[string]*rate.Limiter
	limits  map[string]Limit
	onEvent func(Event)

	mu    sync.Mutex
	until time.Time // no request before this (wall)
	why   string
}

// New wraps base (nil: http.DefaultTransport) with the table's limits. onEvent, if set, is told of stops and
// tightenings (on the requesting goroutine; it must not block).
func New(base http.RoundTripper, t Table, onEvent func(Event)) (*Transport, error) {
	if base == nil {
		base = http.DefaultTransport
	}
	if t.Cost == nil {
		return nil, errors.New("ratelimit: a table needs a Cost function")
	}
	tr := &Transport{base: base, table: t, buckets: map[string]*rate.Limiter{}, limits: map[string]Limit{}, onEvent: onEvent}
	for _, l := range t.Limits {
		if l.Name == "" || l.N < 1 || l.Window <= 0 {
			return nil, fmt.Errorf("ratelimit: limit %+v: want a name, N ≥ 1 and a positive window", l)
		}
		if _, dup := tr.buckets[l.Name]; dup {
			return nil, fmt.Errorf("ratelimit: limit %s twice", l.Name)
		}
		tr.buckets[l.Name] = bucket(l)
		tr.limits[l.Name] = l
	}
	return tr, nil
}

// bucket is a token bucket that never lets more than l.N through in any window of l.Window: a burst of a tenth
// of N and a steady rate of nine tenths of N per window (burst + rate × window = N).
func bucket(l Limit) *rate.Limiter {
	burst := max(1, l.N/10)
	perSec := float64(l.N-burst) / l.Window.Seconds()
	if perSec <= 0 {
		perSec = float64(l.N) / l.Window.Seconds() / 2
	}
	return rate.NewLimiter(rate.Limit(perSec), burst)
}

// Stopped says until when the venue wants no request (zero if it does not) and why.
func (t *Transport) Stopped() (time.Time, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if time.Now().After(t.until) {
		return time.Time{}, ""
	}
	return t.until, t.why
}

// RoundTrip waits for the request's tokens (bounded by its context), sends it, and reads what the answer says of
// the limits.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if until, why := t.Stopped(); !until.IsZero() {
		return nil, fmt.Errorf("%w until %s (%s)", ErrStopped, until.Format(time.RFC3339), why)
	}
	draws := t.table.Cost(req.Method, req.URL.Path, req.URL.Query())
	for _, d := range draws {
		b, ok := t.buckets[d.Limit]
		if !ok || d.N <= 0 {
			continue
		}
		n := min(d.N, b.Burst()) // a request heavier than the burst takes the whole burst, then waits its turn
		if err := b.WaitN(req.Context(), n); err != nil {
			return nil, fmt.Errorf("ratelimit: waiting for %d of %s: %w", d.N, d.Limit, err)
		}
		if extra := d.N - n; extra > 0 {
			b.ReserveN(time.Now(), min(extra, b.Burst())) // the rest is owed by the next requests
		}
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	t.observe(req, resp)
	return resp, nil
}

func (t *Transport) observe(req *http.Request, resp *http.Response) {
	if d, stop := t.table.Stops[resp.StatusCode]; stop {
		if ra := retryAfter(resp.Header); ra > 0 {
			d = ra
		}
		until := time.Now().Add(d)
		why := fmt.Sprintf("http %d on %s %s", resp.StatusCode, req.Method, req.URL.Path)
		t.mu.Lock()
		if until.After(t.until) {
			t.until, t.why = until, why
		}
		t.mu.Unlock()
		if t.onEvent != nil {
			t.onEvent(Event{Kind: "stop", Status: resp.StatusCode, Until: until, Detail: why})
		}
	}
	if t.table.Usage == nil {
		return
	}
	for _, u := range t.table.Usage(req.Method, req.URL.Path, resp.Header) {
		b, ok := t.buckets[u.Limit]
		if !ok {
			continue
		}
		l := t.limits[u.Limit]
		left := u.Left
		if !u.Remaining {
			left = l.N - u.Used
		}
		// The venue counts what others sharing the account or address sent too: never hold more tokens than it
		// says are left.
		if have := int(b.Tokens()); have > left {
			burn := min(have-max(left, 0), b.Burst())
			if burn > 0 {
				b.ReserveN(time.Now(), burn)
				if t.onEvent != nil {
					t.onEvent(Event{Kind: "tighten", Limit: u.Limit, Detail: fmt.Sprintf("venue says %d left, had %d", left, have)})
				}
			}
		}
	}
}

// retryAfter reads a Retry-After header in seconds (the form the venues use); zero if absent or malformed.
func retryAfter(h http.Header) time.Duration {
	s := h.Get("Retry-After")
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
