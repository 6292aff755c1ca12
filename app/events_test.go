package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/configs"
	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/events"
)

// eventConn is a websocket on GET /v1/events.
type eventConn struct {
	t *testing.T
	c *websocket.Conn
}

func openEvents(t *testing.T, a *app.App, query string) *eventConn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+a.Addr()+"/v1/events"+query,
		http.Header{"Authorization": {"Bearer " + viewerToken}})
	if err != nil {
		if resp != nil {
			t.Fatalf("GET /v1/events%s: %v (status %d)", query, err, resp.StatusCode)
		}
		t.Fatalf("GET /v1/events%s: %v", query, err)
	}
	t.Cleanup(func() { c.Close() })
	return &eventConn{t: t, c: c}
}

// next reads one event. The deadline is a safety net for a broken daemon, not a synchronization.
func (ec *eventConn) next() (api.Event, error) {
	_ = ec.c.SetReadDeadline(time.Now().Add(60 * time.Second))
	var e api.Event
	err := ec.c.ReadJSON(&e)
	return e, err
}

// eventLog is what a stream delivered, in order.
type eventLog []api.Event

func (l eventLog) seqs() []uint64 {
	out := make([]uint64, len(l))
	for i, e := range l {
		out[i] = e.Seq
	}
	return out
}

// TestEventStreamFollowsParent watches a parent's whole life on GET /v1/events: order events with a filled that
// never decreases, child and fill events, and a final report that agrees with GET /v1/orders/{id}. One client
// disconnects mid-way and resumes with since=<last seq>: what it gets is exactly what it missed, judged against a
// client that stayed connected throughout.
func TestEventStreamFollowsParent(t *testing.T) {
	a := startDaemon(t, 40, nil)
	const id = "rb-events"
	query := "?key=" + id
	full := openEvents(t, a, query)
	partial := openEvents(t, a, query)

	// The client that stays connected reads on its own goroutine until the final report.
	fullCh := make(chan api.Event, 1<<16)
	fullErr := make(chan error, 1)
	go func() {
		defer close(fullCh)
		for {
			e, err := full.next()
			if err != nil {
				fullErr <- err
				return
			}
			fullCh <- e
			if e.Type == api.KindReport {
				return
			}
		}
	}()

	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder(id), nil); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	// The partial client reads until half the parent is filled, then goes away.
	var got eventLog
	for half := false; !half; {
		e, err := partial.next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
		switch e.Type {
		case api.KindOrder:
			var o api.Order
			if err := e.Decode(&o); err != nil {
				t.Fatal(err)
			}
			half = o.Filled.Mul(d("2")).GreaterThanOrEqual(o.Quantity)
		case api.KindReport:
			t.Fatal("the parent ended before the partial client left")
		}
	}
	partial.c.Close()
	last := got[len(got)-1].Seq

	// Let events happen while it is away: the connected client sees three more (or the end).
	var fullLog eventLog
	for missed := 0; missed < 3; {
		e, ok := <-fullCh
		if !ok {
			break
		}
		fullLog = append(fullLog, e)
		if e.Seq > last {
			missed++
		}
	}
	// Resume where it stopped, and read to the end.
	resumed := openEvents(t, a, fmt.Sprintf("%s&since=%d", query, last))
	for got[len(got)-1].Type != api.KindReport {
		e, err := resumed.next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	for e := range fullCh {
		fullLog = append(fullLog, e)
	}
	select {
	case err := <-fullErr:
		t.Fatalf("the connected client: %v", err)
	default:
	}

	// Same events, same order, no gap, no duplicate: the resumed client and the connected one agree message for
	// message.
	if len(got) != len(fullLog) {
		t.Fatalf("resumed client got %d events %v, connected client %d %v", len(got), got.seqs(), len(fullLog), fullLog.seqs())
	}
	for i := range got {
		if got[i].Seq != fullLog[i].Seq || got[i].Type != fullLog[i].Type || string(got[i].Data) != string(fullLog[i].Data) ||
			!got[i].Time.Equal(fullLog[i].Time) {
			t.Fatalf("event %d: resumed %d %s, connected %d %s", i, got[i].Seq, got[i].Type, fullLog[i].Seq, fullLog[i].Type)
		}
		if i > 0 && got[i].Seq <= got[i-1].Seq {
			t.Fatalf("seqs not increasing: %d after %d", got[i].Seq, got[i-1].Seq)
		}
	}

	// The parent's life as the stream tells it.
	filled, fills := decimal.Zero, decimal.Zero
	count := map[string]int{}
	var final api.Order
	for _, e := range got {
		count[e.Type]++
		if e.Key != id {
			t.Fatalf("event %d keyed %q", e.Seq, e.Key)
		}
		switch e.Type {
		case api.KindOrder, api.KindReport:
			var o api.Order
			if err := e.Decode(&o); err != nil {
				t.Fatal(err)
			}
			if o.ID != id || o.Filled.LessThan(filled) {
				t.Fatalf("order event %d: id %s filled %s after %s", e.Seq, o.ID, o.Filled, filled)
			}
			filled = o.Filled
			final = o
		case api.KindChild:
			var c api.ChildEvent
			if err := e.Decode(&c); err != nil || c.Parent != id || c.ClientOrderID == "" || c.State == "" {
				t.Fatalf("child event %d: %+v %v", e.Seq, c, err)
			}
		case api.KindFill:
			var f api.Fill
			if err := e.Decode(&f); err != nil || f.Parent != id || !f.Quantity.IsPositive() || !f.Price.IsPositive() {
				t.Fatalf("fill event %d: %+v %v", e.Seq, f, err)
			}
			fills = fills.Add(f.Quantity)
		}
	}
	if count[api.KindOrder] < 3 || count[api.KindChild] == 0 || count[api.KindFill] == 0 || count[api.KindReport] != 1 {
		t.Fatalf("event counts %v", count)
	}
	if last := got[len(got)-1]; last.Type != api.KindReport {
		t.Fatalf("the last event is %s, want the report", last.Type)
	}
	var rep api.Order
	call(t, a, viewerToken, "GET", "/v1/orders/"+id, nil, &rep)
	if final.State != api.StateDone || !final.Filled.Equal(rep.Filled) || rep.State != final.State || !fills.Equal(rep.Filled) {
		t.Fatalf("report event: %s filled %s; GET: %s filled %s; fill events sum to %s", final.State, final.Filled, rep.State, rep.Filled, fills)
	}
	t.Logf("%d events (%v); resumed after seq %d", len(got), count, last)
}

// TestSlowSubscriberDoesNotSlowTheEngine: a subscriber that never reads is dropped and counted, and the parent
// still finishes.
func TestSlowSubscriberDoesNotSlowTheEngine(t *testing.T) {
	a := startDaemon(t, 40, nil)
	stuck, err := a.Events().Subscribe(events.SubscribeOptions{Buffer: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	watch, err := a.Events().Subscribe(events.SubscribeOptions{Filter: events.Filter{Kinds: []string{api.KindReport}}})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-slow"), nil); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	rep := waitDone(t, a, "rb-slow", 45*time.Second)
	if rep.State != engine.Done || !rep.Filled.Equal(d("2.216")) {
		t.Fatalf("state %s filled %s (%s)", rep.State, rep.Filled, rep.Reason)
	}
	if e := <-watch.C(); e.Kind != api.KindReport || e.Key != "rb-slow" {
		t.Fatalf("report event %+v", e)
	}
	if !errors.Is(stuck.Err(), events.ErrSlow) {
		t.Fatalf("the stuck subscriber: %v, want ErrSlow", stuck.Err())
	}
	if st := a.Events().Stats(); st.Dropped < 1 || st.Published < 3 {
		t.Fatalf("bus stats %+v", st)
	}
}

// TestOpsEvents: ops changes to a venue and to the trading state are published, through the API client's stream.
func TestOpsEvents(t *testing.T) {
	a := startDaemon(t, 1, nil)
	cl := &api.Client{Base: "http://" + a.Addr(), Token: viewerToken, HTTP: &http.Client{Timeout: 10 * time.Second}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, end, err := cl.Events(ctx, api.EventsRequest{Kinds: []string{api.KindOps}})
	if err != nil {
		t.Fatal(err)
	}
	if code := call(t, a, opsToken, "PUT", "/v1/venues/a", map[string]any{"weight": "0.5", "enabled": false}, nil); code != 200 {
		t.Fatalf("put venue: %d", code)
	}
	if code := call(t, a, opsToken, "PUT", "/v1/trading-state", map[string]string{"state": "halted"}, nil); code != 200 {
		t.Fatalf("halt: %d", code)
	}
	var v, s api.OpsEvent
	e1, e2 := <-ch, <-ch
	if err := e1.Decode(&v); err != nil || e1.Type != api.KindOps || v.Change != api.OpsVenue || v.Venue != "a" ||
		v.Weight == nil || !v.Weight.Equal(d("0.5")) || v.Enabled == nil || *v.Enabled || v.Actor == "" {
		t.Fatalf("venue change: %+v %s", e1, e1.Data)
	}
	if err := e2.Decode(&s); err != nil || s.Change != api.OpsTradingState || s.State != "halted" || e2.Seq <= e1.Seq {
		t.Fatalf("state change: %+v %s", e2, e2.Data)
	}
	cancel()
	for range ch {
	}
	if err := end(); err != nil {
		t.Fatalf("stream end: %v", err)
	}
}

// TestEventStreamEndsOnStop: Stop does not hang on an open event stream; the client is told the server is going
// away and where to resume.
func TestEventStreamEndsOnStop(t *testing.T) {
	// Started by hand: this test stops it itself (startDaemon's cleanup would stop it twice).
	cfg, err := config.Parse(bytes.NewReader(configs.Seed))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Auth.Tokens = []config.TokenConfig{{Name: "v", Role: config.RoleViewer, SHA256: config.HashToken(viewerToken)}}
	a, err := app.New(cfg, app.Options{Clock: clock.NewScaled(time.Now().UTC(), 1), Listen: "127.0.0.1:0", JournalDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	cl := &api.Client{Base: "http://" + a.Addr(), Token: viewerToken, HTTP: &http.Client{Timeout: 10 * time.Second}}
	ch, end, err := cl.Events(context.Background(), api.EventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for range ch {
	}
	var sc *api.StreamClosedError
	if err := end(); !errors.As(err, &sc) || sc.Code != websocket.CloseGoingAway || !strings.Contains(sc.Reason, "since=") {
		t.Fatalf("stream end: %v", err)
	}
}
