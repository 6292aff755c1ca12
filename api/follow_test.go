package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/events"
)

// oneOrder serves a single parent order's current snapshot.
type oneOrder struct {
	mu  sync.Mutex
	rep engine.Report
}

func (o *oneOrder) set(r engine.Report) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rep = r
}

func (o *oneOrder) Submit(context.Context, engine.Request) (engine.Report, bool, error) {
	return engine.Report{}, false, &engine.Error{Kind: engine.KindInvalid, Msg: "not here"}
}

func (o *oneOrder) Get(id string) (engine.Report, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if id != o.rep.ID {
		return engine.Report{}, &engine.Error{Kind: engine.KindNotFound, Msg: "no such order"}
	}
	return o.rep, nil
}

func (o *oneOrder) List() []engine.Report { return nil }

func (o *oneOrder) Cancel(string) (engine.Report, error) {
	return engine.Report{}, &engine.Error{Kind: engine.KindInvalid, Msg: "not here"}
}

type noOps struct{ Ops }

// dropFirst is an event source whose first subscription is overrun (the publisher outpaces its buffer before the
// stream sends anything), so the stream is closed as slow; it reports each subscription on subscribed.
type dropFirst struct {
	bus        *events.Bus
	orders     *oneOrder
	mu         sync.Mutex
	n          int
	subscribed chan events.SubscribeOptions
}

func (s *dropFirst) Subscribe(o events.SubscribeOptions) (*events.Subscription, error) {
	sub, err := s.bus.Subscribe(o)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.n++
	first := s.n == 1
	s.mu.Unlock()
	if first {
		for i := 1; i <= o.Buffer+1; i++ {
			s.orders.set(report("p", engine.Working, i))
			s.bus.Publish(engine.EventOrder, "p", report("p", engine.Working, i))
		}
	}
	s.subscribed <- o
	return sub, nil
}

func report(id string, st engine.State, tenths int) engine.Report {
	return engine.Report{ID: id, State: st, Quantity: decimal.NewFromInt(1), Filled: decimal.New(int64(tenths), -1)}
}

// TestFollowerResumesAfterDrop: the stream is dropped as slow; the follower reads the order once with GET,
// reconnects with since=<last seq it had>, gets what it missed and ends on the report.
func TestFollowerResumesAfterDrop(t *testing.T) {
	orders := &oneOrder{rep: report("p", engine.Working, 0)}
	src := &dropFirst{bus: events.New(events.Options{}), orders: orders, subscribed: make(chan events.SubscribeOptions, 4)}
	srv, err := New(Options{Orders: orders, Ops: noOps{}, Tokens: map[string]Token{"h-v": {Name: "v", Role: "viewer"}},
		Hash: func(s string) string { return "h-" + s }, Events: src, StreamBuffer: 2})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	cl := &Client{Base: hs.URL, Token: "v", HTTP: hs.Client()}
	f, err := NewFollower(context.Background(), cl, "p")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	if o := <-src.subscribed; o.Since != 0 || o.Resume {
		t.Fatalf("first subscription %+v", o)
	}
	type result struct {
		o   Order
		raw json.RawMessage
		err error
	}
	var seen []string
	done := make(chan result, 1)
	go func() {
		o, raw, err := f.Follow(Order{ID: "p", State: StateWorking}, func(o Order) { seen = append(seen, o.Filled.String()) })
		done <- result{o, raw, err}
	}()
	// The first stream carried seqs 1 and 2, then was closed: the follower resumes after 2.
	if o := <-src.subscribed; o.Since != 2 || !o.Resume {
		t.Fatalf("resumed with %+v, want since 2", o)
	}
	src.bus.Publish(engine.EventReport, "p", report("p", engine.Done, 10))
	r := <-done
	if r.err != nil || r.o.State != StateDone || !r.o.Filled.Equal(decimal.NewFromInt(1)) {
		t.Fatalf("follow: %+v %v", r.o, r.err)
	}
	var final Order
	if err := json.Unmarshal(r.raw, &final); err != nil || final.State != StateDone {
		t.Fatalf("final JSON %s: %v", r.raw, err)
	}
	// 0.1 and 0.2 from the first stream, 0.3 from the GET after the drop, 0.3 again replayed, then the report.
	if want := "[0.1 0.2 0.3 0.3 1]"; fmt.Sprint(seen) != want {
		t.Fatalf("progress %v, want %s", seen, want)
	}
}
