package mockutil

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Lifecycle is a mock server's listener, HTTP server and background goroutines: Start listens and serves and runs
// a wall-clock ticker (the resting-order sweep), Close stops them all once. The zero value is ready to use.
type Lifecycle struct {
	mu     sync.Mutex
	srv    *http.Server
	ln     net.Listener
	done   chan struct{}
	wg     sync.WaitGroup
	closed bool
}

func (l *Lifecycle) doneLocked() chan struct{} {
	if l.done == nil {
		l.done = make(chan struct{})
	}
	return l.done
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves h until Close; every interval it calls tick
// (if not nil) until Close. name prefixes the listen error, e.g. "binance mock".
func (l *Lifecycle) Start(name, addr string, h http.Handler, log *zap.Logger, interval time.Duration, tick func()) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s listen %s: %w", name, addr, err)
	}
	l.mu.Lock()
	l.ln = ln
	l.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	srv, done := l.srv, l.doneLocked()
	l.mu.Unlock()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("serve", zap.Error(err))
		}
	}()
	if tick != nil {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					tick()
				}
			}
		}()
	}
	return nil
}

// Addr is the listen address, e.g. 127.0.0.1:40123, or "" before Start.
func (l *Lifecycle) Addr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln == nil {
		return ""
	}
	return l.ln.Addr().String()
}

// Done is closed by Close; delays (AfterAccept.Apply) end early on it.
func (l *Lifecycle) Done() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.doneLocked()
}

// Hold counts a goroutine Close waits for (e.g. a websocket handler); call the returned func when it ends.
func (l *Lifecycle) Hold() func() {
	l.wg.Add(1)
	return l.wg.Done
}

// Close stops the HTTP server, runs stop (closing the websockets, say), and waits for the goroutines. Only the
// first call does anything.
func (l *Lifecycle) Close(stop func()) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.doneLocked())
	srv := l.srv
	l.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Close()
	}
	if stop != nil {
		stop()
	}
	l.wg.Wait()
	return err
}

// Tail is the venue-neutral end of a mock's request pipeline, after its own rate limits and authentication. E is the
// mock's error answer type (a pointer; nil is no error).
type Tail[E comparable] struct {
	Faults *Faults
	Done   <-chan struct{} // Lifecycle.Done: ends an after-accept delay early
	Sweep  func()          // the resting-order sweep, run before every handler
	Before E               // the answer to an order create failed by a 5xx fault before acceptance
	After  E               // the answer to an executed order create failed by a 5xx fault
	Fail   func(http.ResponseWriter, E)
	OK     func(http.ResponseWriter, any)
}

// Run answers request r: for an order create (order), a 5xx fault before acceptance; then the sweep and handle;
// for an order create, the after-accept faults (dropped, delayed or 5xx answer); then the answer.
func (t *Tail[E]) Run(w http.ResponseWriter, r *http.Request, order bool, handle func() (any, E)) {
	var none E
	if order && t.Faults.TakeBeforeAccept() {
		t.Fail(w, t.Before)
		return
	}
	t.Sweep()
	res, err := handle()
	if err != none {
		t.Fail(w, err)
		return
	}
	if order && !t.Faults.TakeAfterAccept().Apply(w, r, t.Done, func(w http.ResponseWriter) { t.Fail(w, t.After) }) {
		return
	}
	t.OK(w, res)
}
