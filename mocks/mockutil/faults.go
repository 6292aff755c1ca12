package mockutil

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Faults injects failures into a mock server. The zero value injects nothing. Its methods are safe for concurrent
// use; counts add up.
type Faults struct {
	mu           sync.Mutex
	throttled    int // answers that refused a request for its rate (Throttled)
	dropAfter    int
	delayN       int
	delay        time.Duration
	fail5xxAfter int
	fail5xxFirst int
	rateLimit    int
	lostFills    int
	dropStreams  func()
	bannedUntil  time.Time     // wall
	bans         int           // requests answered with the ban
	retryUntil   time.Time     // wall: the last rate-limit answer's Retry-After
	ignored      int           // requests that came before retryUntil
	latency      time.Duration // added before every REST request
	skew         time.Duration // the venue's clock minus the wall clock
	maintUntil   time.Time     // wall: the end of an injected maintenance
	noMargin     int           // order creates still to refuse for margin
	raceFills    []RaceFill    // fills armed for the next cancel or amend requests, in order
}

// RaceFill is a fill armed to race a client's cancel or amendment (FillBeforeNextChange): the market takes Qty (zero:
// all that is left) of the resting order with client id ClientID.
type RaceFill struct {
	ClientID string
	Qty      decimal.Decimal
}

// Ban makes every request to the server answer with the venue's ban for d (Binance: HTTP 418, code -1003, with
// Retry-After; Bybit: HTTP 403 "access too frequent"; OKX: HTTP 429, code 50011). Ban(0) lifts a ban.
func (f *Faults) Ban(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bannedUntil = time.Now().Add(d)
}

// Banned is how long the ban has left (zero: none); it counts the request it answers as banned.
func (f *Faults) Banned() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	left := time.Until(f.bannedUntil)
	if left <= 0 {
		return 0
	}
	f.bans++
	return left
}

// Bans is how many requests were answered with the ban.
func (f *Faults) Bans() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bans
}

// RateLimited records a rate-limit answer whose Retry-After is d. A client that sends again before it has passed
// is not backing off: after maxIgnored such requests the server bans it for ban (the venue's automated ban).
// NotBackingOff reports, for each request, whether it came too early, and bans once the count is reached.
func (f *Faults) RateLimited(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if until := time.Now().Add(d); until.After(f.retryUntil) {
		f.retryUntil = until
	}
}

// NotBackingOff notes a request; if it came before the last Retry-After passed it counts, and the maxIgnored-th
// such request bans the client for ban.
func (f *Faults) NotBackingOff(maxIgnored int, ban time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if now.Before(f.retryUntil) {
		f.ignored++
		if f.ignored >= maxIgnored {
			f.bannedUntil, f.ignored = now.Add(ban), 0
		}
	}
}

// Latency makes every REST request to the server, from now on, wait an extra d of wall time before the server
// looks at it (limits, signature and timestamp checks included, as for a request that took d longer to arrive);
// 0 turns it off. The wait ends early, with no answer, when the server closes or the request's context ends.
func (f *Faults) Latency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = max(d, 0)
}

// AwaitLatency waits out the injected latency (see Latency). It reports false, at once, if done (the server's
// shutdown channel, may be nil) closes or ctx ends first: the request must then get no answer.
func (f *Faults) AwaitLatency(ctx context.Context, done <-chan struct{}) bool {
	f.mu.Lock()
	d := f.latency
	f.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
	case <-ctx.Done():
	}
	return false
}

// HoldRequest carries out the injected latency on request r before the server handles it: it waits, and if the
// server closes (done) or the client goes away first, closes the connection without an answer. It reports whether
// the server should go on with the request.
func (f *Faults) HoldRequest(w http.ResponseWriter, r *http.Request, done <-chan struct{}) bool {
	if f.AwaitLatency(r.Context(), done) {
		return true
	}
	DropConnection(w)
	return false
}

// ClockSkew sets the venue's clock d ahead of the wall clock (behind when negative), from now on, for everything
// the venue checks or reports about time: the signed-request timestamp and receive window, its server-time
// endpoint and the times in its answers. A client whose clock is not corrected gets the venue's timestamp
// rejection; one that reads the server time and corrects its offset gets through. 0 puts the clocks back together.
func (f *Faults) ClockSkew(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.skew = d
}

// Skew is the venue clock's offset from the wall clock (see ClockSkew).
func (f *Faults) Skew() time.Duration {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.skew
}

// Now is the venue's clock: the wall clock moved by the injected skew. A nil Faults gives the wall clock.
func (f *Faults) Now() time.Time { return time.Now().Add(f.Skew()) }

// Maintenance makes every REST request to the server, for d of wall time from now, answer with the venue's
// maintenance (service unavailable) error; nothing executes. Maintenance(0) ends it.
func (f *Faults) Maintenance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maintUntil = time.Now().Add(d)
}

// UnderMaintenance reports whether the venue is in an injected maintenance now; the server calls it for every REST
// request and, when true, answers with its maintenance error and does nothing else.
func (f *Faults) UnderMaintenance() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Now().Before(f.maintUntil)
}

// InsufficientMargin makes the next n order creates that pass the venue's parameter checks be refused with the
// venue's insufficient-margin rejection, executing nothing.
func (f *Faults) InsufficientMargin(n int) { f.add(&f.noMargin, n) }

// TakeInsufficientMargin consumes one injected insufficient-margin rejection; the server calls it for every order
// create just before executing it and, when it reports true, refuses the order with its margin error instead.
// A nil Faults injects nothing.
func (f *Faults) TakeInsufficientMargin() bool {
	if f == nil {
		return false
	}
	return f.take(&f.noMargin)
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

// Fail5xxAfterAccept makes the next n accepted order creates execute and then answer with a 5xx.
func (f *Faults) Fail5xxAfterAccept(n int) { f.add(&f.fail5xxAfter, n) }

// Fail5xxBeforeAccept makes the next n order creates answer with a 5xx without executing anything.
func (f *Faults) Fail5xxBeforeAccept(n int) { f.add(&f.fail5xxFirst, n) }

// RateLimitNext makes the next n requests of any kind answer with the venue's rate-limit error.
func (f *Faults) RateLimitNext(n int) { f.add(&f.rateLimit, n) }

// FillBeforeNextChange arms a fill that races the client: just before the venue handles its next cancel or amend
// request (whichever order it names), the market takes qty (zero: all that is left) of the resting order with
// client id clientID, that order the maker, at its price. The client's request then meets the order as the fill
// left it: filled (too late to cancel or amend) or partly filled. Armed fills queue, one per such request.
func (f *Faults) FillBeforeNextChange(clientID string, qty decimal.Decimal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.raceFills = append(f.raceFills, RaceFill{ClientID: clientID, Qty: qty})
}

// TakeRaceFill consumes the next armed fill (see FillBeforeNextChange); the server calls it first thing in every
// cancel and amend handler and, when it reports true, has the market fill that order (exchange.Account.FillResting)
// before it looks at the request. A nil Faults arms nothing.
func (f *Faults) TakeRaceFill() (RaceFill, bool) {
	if f == nil {
		return RaceFill{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.raceFills) == 0 {
		return RaceFill{}, false
	}
	rf := f.raceFills[0]
	f.raceFills = f.raceFills[1:]
	return rf, true
}

// LoseStreamFills makes the private stream drop the next n executions (the trade and the order update it comes
// with), as a stream that misses a message would; the venue's REST records keep them.
func (f *Faults) LoseStreamFills(n int) { f.add(&f.lostFills, n) }

// TakeLostFill consumes one injected lost execution; the server calls it for every execution it would push and,
// when it reports true, pushes nothing for it.
func (f *Faults) TakeLostFill() bool { return f.take(&f.lostFills) }

// DropUserStreams cuts every open private websocket connection of the server now.
func (f *Faults) DropUserStreams() {
	f.mu.Lock()
	drop := f.dropStreams
	f.mu.Unlock()
	if drop != nil {
		drop()
	}
}

// OnDropUserStreams sets what DropUserStreams does; the server calls it once when it is built.
func (f *Faults) OnDropUserStreams(drop func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropStreams = drop
}

// TakeRateLimit consumes one injected rate-limit answer; the server calls it for every request and, when it
// reports true, answers with its rate-limit error.
func (f *Faults) TakeRateLimit() bool { return f.take(&f.rateLimit) }

// TakeBeforeAccept consumes one injected 5xx-before-accept; the server calls it for every order create before
// executing it and, when it reports true, answers with its 5xx without executing.
func (f *Faults) TakeBeforeAccept() bool { return f.take(&f.fail5xxFirst) }

// TakeAfterAccept consumes the faults that apply to the response of an order create that was executed.
func (f *Faults) TakeAfterAccept() AfterAccept {
	f.mu.Lock()
	defer f.mu.Unlock()
	var a AfterAccept
	switch {
	case f.dropAfter > 0:
		f.dropAfter--
		a.Drop = true
	case f.fail5xxAfter > 0:
		f.fail5xxAfter--
		a.Fail = true
	}
	if f.delayN > 0 {
		f.delayN--
		a.Delay = f.delay
	}
	return a
}

// Throttled counts one answer that refused a request for its rate (429, a ban, a rate-limit code), whether the
// mock's own limits or an injected fault gave it. Nil-safe.
func (f *Faults) Throttled() {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttled++
}

// Throttles is how many requests the server refused for their rate, banned included (see Throttled).
func (f *Faults) Throttles() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.throttled
}

func (f *Faults) add(p *int, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*p += n
}

func (f *Faults) take(p *int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if *p > 0 {
		*p--
		return true
	}
	return false
}

// AfterAccept is what to do with the response of an executed order create: wait Delay, then drop the connection
// (Drop), answer with a 5xx (Fail), or answer normally.
type AfterAccept struct {
	Drop  bool
	Fail  bool
	Delay time.Duration
}

// Apply carries out a on the response w of request r. done (the server's shutdown channel, may be nil) ends a delay
// early. fail writes the venue's own 5xx answer. Apply reports whether the handler should still answer normally.
func (a AfterAccept) Apply(w http.ResponseWriter, r *http.Request, done <-chan struct{}, fail func(http.ResponseWriter)) bool {
	if a.Delay > 0 {
		t := time.NewTimer(a.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-done:
			return false
		case <-r.Context().Done():
			return false
		}
	}
	switch {
	case a.Drop:
		DropConnection(w)
		return false
	case a.Fail:
		fail(w)
		return false
	}
	return true
}

// DropConnection closes the client connection of w without writing a response. It must be the handler's last act.
func DropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http closes the connection without a response
}
