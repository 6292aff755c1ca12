package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/events"
	"github.com/execd-dev/execd/lifecycle"
)

// streamServer is an API with an event bus, served on loopback.
func streamServer(t *testing.T, src EventSource, edit func(*Options)) (*Server, *httptest.Server) {
	t.Helper()
	o := Options{Orders: &fakeOrders{}, Ops: fakeOps{}, Tokens: map[string]Token{"h-reb": {"reb", "rebalancer"}, "h-view": {"view", "viewer"}, "h-ops": {"ops", "ops"}},
		Instruments: []string{"BTC-USDT-PERP"}, Hash: func(s string) string { return "h-" + s }, Events: src}
	if edit != nil {
		edit(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		s.Close()
		hs.Close()
	})
	return s, hs
}

func wsURL(hs *httptest.Server, query string) string {
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/v1/events" + query
}

func dial(t *testing.T, hs *httptest.Server, token, query string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	c, resp, err := websocket.DefaultDialer.Dial(wsURL(hs, query), h)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

func errorBodyOf(t *testing.T, resp *http.Response) ErrorBody {
	t.Helper()
	defer resp.Body.Close()
	var eb ErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
		t.Fatalf("status %d without a JSON error body: %v", resp.StatusCode, err)
	}
	if resp.Header.Get("Content-Type") != "application/json" || eb.Error.Code == "" || eb.Error.Message == "" {
		t.Fatalf("status %d: error body %+v, content type %q", resp.StatusCode, eb, resp.Header.Get("Content-Type"))
	}
	return eb
}

func TestEventsBadParams(t *testing.T) {
	bus := events.New(events.Options{})
	_, hs := streamServer(t, bus, nil)
	for _, q := range []string{
		"?since=-1", "?since=abc", "?since=1.5", "?since=18446744073709551616", "?since=", "?since=1&since=2",
		"?kinds=order,bogus", "?kinds=", "?kinds=order,", "?key=a%20b", "?key=", "?key=a&key=b", "?token=x", "?bogus=1",
	} {
		_, resp, err := dial(t, hs, "view", q)
		if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %v, response %v: want 400", q, err, resp)
			continue
		}
		if eb := errorBodyOf(t, resp); eb.Error.Code != "invalid_request" {
			t.Errorf("%s: code %s", q, eb.Error.Code)
		}
	}
	if st := bus.Stats(); st.Subscribers != 0 {
		t.Fatalf("refused streams left subscribers: %+v", st)
	}
	// Not a websocket handshake: 426 with a JSON body.
	req, _ := http.NewRequest("GET", hs.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer view")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusUpgradeRequired || errorBodyOf(t, resp).Error.Code != "upgrade_required" {
		t.Fatalf("plain GET: %d", resp.StatusCode)
	}
}

func TestEventsAuth(t *testing.T) {
	bus := events.New(events.Options{})
	_, hs := streamServer(t, bus, nil)
	for _, tok := range []string{"", "nope"} {
		_, resp, err := dial(t, hs, tok, "")
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized || errorBodyOf(t, resp).Error.Code != "unauthorized" {
			t.Fatalf("token %q: %v %v", tok, err, resp)
		}
	}
	// A token in the query is not accepted.
	_, resp, err := dial(t, hs, "", "?token=view")
	if err == nil || resp.StatusCode == http.StatusSwitchingProtocols {
		t.Fatal("a token in the query opened a stream")
	}
	for _, tok := range []string{"view", "reb", "ops"} {
		c, _, err := dial(t, hs, tok, "")
		if err != nil {
			t.Fatalf("role of %s: %v", tok, err)
		}
		c.Close()
	}
}

func TestEventsTooOld(t *testing.T) {
	bus := events.New(events.Options{Replay: 3})
	for range 6 {
		bus.Publish(engine.EventOrder, "p", engine.Report{ID: "p"})
	} // retained: 4 5 6
	_, hs := streamServer(t, bus, nil)
	_, resp, err := dial(t, hs, "view", "?since=2")
	if err == nil || resp == nil || resp.StatusCode != http.StatusGone {
		t.Fatalf("since 2: %v %v", err, resp)
	}
	eb := errorBodyOf(t, resp)
	if eb.Error.Code != "too_old" || !strings.Contains(eb.Error.Message, "oldest still retained is 4") {
		t.Fatalf("since 2: %+v", eb)
	}
	// since=0 asks for everything from seq 1: gone as well.
	if _, resp, _ := dial(t, hs, "view", "?since=0"); resp == nil || resp.StatusCode != http.StatusGone {
		t.Fatalf("since 0: %v", resp)
	}
	// A seq this bus never handed out (a daemon restart).
	if _, resp, _ := dial(t, hs, "view", "?since=99"); resp == nil || resp.StatusCode != http.StatusGone || errorBodyOf(t, resp).Error.Code != "unknown_seq" {
		t.Fatalf("since 99: %v", resp)
	}
	// since=3: 4, 5, 6 are all there.
	cl := &Client{Base: hs.URL, Token: "view", HTTP: hs.Client()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, _, err := cl.Events(ctx, EventsRequest{Since: 3})
	if err != nil {
		t.Fatal(err)
	}
	for want := uint64(4); want <= 6; want++ {
		if e := <-ch; e.Seq != want {
			t.Fatalf("got seq %d, want %d", e.Seq, want)
		}
	}
	// The client reports a refusal with the API's code.
	if _, _, err := cl.Events(ctx, EventsRequest{Since: 1}); err == nil || !strings.Contains(err.Error(), "410 too_old") {
		t.Fatalf("client, since 1: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestEventsStream: each kind's payload is mapped onto the API's type, decimals as strings; filters and resume
// work end to end through the client.
func TestEventsStream(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	bus := events.New(events.Options{Now: func() time.Time { return now }})
	_, hs := streamServer(t, bus, nil)
	cl := &Client{Base: hs.URL, Token: "view", HTTP: hs.Client()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	all, allErr, err := cl.Events(ctx, EventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	p1, _, err := cl.Events(ctx, EventsRequest{Kinds: []string{"order", "report"}, Key: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	avg := "10490.5"
	rep := engine.Report{ID: "p1", State: engine.Working, Instrument: "BTC-USDT-PERP", Side: "buy",
		Quantity: decimal.RequireFromString("2.2166"), Filled: decimal.RequireFromString("0.5"), AvgPrice: &avg,
		Venues: []engine.VenueReport{{Venue: "a", Allocated: decimal.RequireFromString("0.8866"), Filled: decimal.RequireFromString("0.5")}}}
	bus.Publish(engine.EventOrder, "p1", rep)
	bus.Publish(engine.EventChild, "p1", engine.ChildEvent{Parent: "p1", Venue: "a", ClientOrderID: "x1", Seq: 3,
		State: lifecycle.Filled, Side: "buy", Quantity: decimal.RequireFromString("0.1"), Price: decimal.RequireFromString("10490")})
	bus.Publish(engine.EventFill, "p1", engine.FillEvent{Parent: "p1", Venue: "a", TradeID: "t1", Quantity: decimal.RequireFromString("0.1"),
		Price: decimal.RequireFromString("10490"), Fee: decimal.RequireFromString("0.52"), FeeAsset: "USDT"})
	bus.Publish(engine.EventVenue, "a", engine.VenueEvent{Venue: "a", Instrument: "BTC-USDT-PERP", Health: engine.HealthDown, Reason: "breaker open"})
	bus.Publish(KindOps, "ops", OpsEvent{Actor: "ops", Change: OpsVenue, Venue: "a", Weight: ptr(decimal.RequireFromString("0.5")), Enabled: ptr(true)})
	bus.Publish("mystery", "z", struct{ X float64 }{1})
	done := rep
	done.State = engine.Done
	bus.Publish(engine.EventReport, "p1", done)

	want := []struct {
		typ, key string
		json     []string // fragments of the data's JSON
	}{
		{"order", "p1", []string{`"state":"working"`, `"filled":"0.5"`, `"quantity":"2.2166"`, `"avg_price":"10490.5"`, `"venues":[{"venue":"a"`, `"allocated":"0.8866"`}},
		{"child", "p1", []string{`"client_order_id":"x1"`, `"seq":3`, `"state":"filled"`, `"price":"10490"`}},
		{"fill", "p1", []string{`"trade_id":"t1"`, `"fee":"0.52"`, `"fee_asset":"USDT"`}},
		{"venue", "a", []string{`"health":"down"`, `"reason":"breaker open"`}},
		{"ops", "ops", []string{`"change":"venue"`, `"weight":"0.5"`, `"enabled":true`}},
		{"mystery", "z", []string{`null`}},
		{"report", "p1", []string{`"state":"done"`}},
	}
	for i, w := range want {
		e := <-all
		if e.Seq != uint64(i+1) || e.Type != w.typ || e.Key != w.key || !e.Time.Equal(now) {
			t.Fatalf("event %d: %+v, want seq %d %s %s", i, e, i+1, w.typ, w.key)
		}
		for _, f := range w.json {
			if !strings.Contains(string(e.Data), f) {
				t.Errorf("%s data %s lacks %s", w.typ, e.Data, f)
			}
		}
	}
	var o Order
	if e := <-p1; e.Seq != 1 || e.Decode(&o) != nil || !o.Filled.Equal(decimal.RequireFromString("0.5")) {
		t.Fatalf("filtered stream: %+v %+v", e, o)
	}
	if e := <-p1; e.Seq != 7 || e.Type != "report" {
		t.Fatalf("filtered stream: %+v", e)
	}
	// Resume after seq 4: 5, 6, 7.
	again, _, err := cl.Events(ctx, EventsRequest{Since: 4})
	if err != nil {
		t.Fatal(err)
	}
	for want := uint64(5); want <= 7; want++ {
		if e := <-again; e.Seq != want {
			t.Fatalf("resumed: seq %d, want %d", e.Seq, want)
		}
	}
	cancel()
	for range all {
	}
	if err := allErr(); err != nil {
		t.Fatalf("after cancel: %v", err)
	}
}

// slowSource hands out subscriptions that are already dropped as slow: after subscribing it publishes more
// events than the buffer holds, before the handler reads any.
type slowSource struct{ bus *events.Bus }

func (s slowSource) Subscribe(o events.SubscribeOptions) (*events.Subscription, error) {
	sub, err := s.bus.Subscribe(o)
	if err != nil {
		return nil, err
	}
	for range o.Buffer + 1 {
		s.bus.Publish(engine.EventOrder, "p", engine.Report{ID: "p"})
	}
	return sub, nil
}

func TestEventsSlowConsumerClosed(t *testing.T) {
	bus := events.New(events.Options{})
	bus.Publish(engine.EventOrder, "p", engine.Report{ID: "p"}) // seq 1
	_, hs := streamServer(t, slowSource{bus}, func(o *Options) { o.StreamBuffer = 3 })
	cl := &Client{Base: hs.URL, Token: "view", HTTP: hs.Client()}
	ch, errf, err := cl.Events(context.Background(), EventsRequest{Since: 1})
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for e := range ch {
		got = append(got, e.Seq)
	}
	// The buffer held 2, 3, 4; 5 overflowed it.
	if len(got) != 3 || got[0] != 2 || got[2] != 4 {
		t.Fatalf("delivered %v", got)
	}
	var sc *StreamClosedError
	if err := errf(); !errors.As(err, &sc) || sc.Code != websocket.CloseTryAgainLater || sc.Reason != "slow consumer; resume with since=4" {
		t.Fatalf("end: %v", err)
	}
	if st := bus.Stats(); st.Dropped != 1 || st.Subscribers != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Resuming where it said picks up 5.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, _, err = cl.Events(ctx, EventsRequest{Since: 4})
	if err != nil {
		t.Fatal(err)
	}
	if e := <-ch; e.Seq != 5 {
		t.Fatalf("resumed at %d", e.Seq)
	}
}

// TestEventsEndOnClose: Close (what the daemon registers with http.Server.RegisterOnShutdown) ends every open
// stream with a going-away close frame and returns once their handlers have; later streams are refused.
func TestEventsEndOnClose(t *testing.T) {
	bus := events.New(events.Options{})
	s, hs := streamServer(t, bus, nil)
	cl := &Client{Base: hs.URL, Token: "view", HTTP: hs.Client()}
	ch, errf, err := cl.Events(context.Background(), EventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	bus.Publish(engine.EventOrder, "p", engine.Report{ID: "p"})
	if e := <-ch; e.Seq != 1 {
		t.Fatalf("seq %d", e.Seq)
	}
	s.Close()
	for range ch {
	}
	var sc *StreamClosedError
	if err := errf(); !errors.As(err, &sc) || sc.Code != websocket.CloseGoingAway || !strings.Contains(sc.Reason, "since=1") {
		t.Fatalf("end: %v", err)
	}
	if st := bus.Stats(); st.Subscribers != 0 {
		t.Fatalf("subscribers after close: %+v", st)
	}
	_, resp, err := dial(t, hs, "view", "")
	if err == nil || resp.StatusCode != http.StatusServiceUnavailable || errorBodyOf(t, resp).Error.Code != "shutting_down" {
		t.Fatalf("after close: %v %v", err, resp)
	}
}

// TestEventsClientGoesAway: when the client disconnects, the handler ends and its subscription is closed.
func TestEventsClientGoesAway(t *testing.T) {
	bus := events.New(events.Options{})
	s, hs := streamServer(t, bus, nil)
	ended := make(chan struct{})
	s.streamEnded = func() { close(ended) }
	c, _, err := dial(t, hs, "view", "")
	if err != nil {
		t.Fatal(err)
	}
	bus.Publish(engine.EventOrder, "p", engine.Report{ID: "p"})
	if _, _, err := c.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// The handler must end by itself although the client sent no close frame (the server is not closing).
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not end after its client left")
	}
	if st := bus.Stats(); st.Subscribers != 0 {
		t.Fatalf("subscribers after the client left: %+v", st)
	}
}

func TestEventsWithoutBus(t *testing.T) {
	_, hs := streamServer(t, nil, nil)
	_, resp, err := dial(t, hs, "view", "")
	if err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("%v %v", err, resp)
	}
}
