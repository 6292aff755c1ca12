package mockutil

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
)

func TestFaultsCounts(t *testing.T) {
	var f Faults
	f.RateLimitNext(2)
	f.Fail5xxBeforeAccept(1)
	f.DropResponseAfterAccept(1)
	f.Fail5xxAfterAccept(1)
	f.DelayResponse(time.Millisecond, 1)
	if !f.TakeRateLimit() || !f.TakeRateLimit() || f.TakeRateLimit() {
		t.Fatal("rate limit count")
	}
	if !f.TakeBeforeAccept() || f.TakeBeforeAccept() {
		t.Fatal("before-accept count")
	}
	if a := f.TakeAfterAccept(); !a.Drop || a.Fail || a.Delay != time.Millisecond {
		t.Fatalf("first after-accept %+v", a)
	}
	if a := f.TakeAfterAccept(); a.Drop || !a.Fail || a.Delay != 0 {
		t.Fatalf("second after-accept %+v", a)
	}
	if a := f.TakeAfterAccept(); a != (AfterAccept{}) {
		t.Fatalf("third after-accept %+v", a)
	}
	dropped := false
	f.OnDropUserStreams(func() { dropped = true })
	f.DropUserStreams()
	if !dropped {
		t.Fatal("DropUserStreams did not call the dropper")
	}
}

func TestWindow(t *testing.T) {
	w := NewWindow(time.Second)
	t0 := time.Unix(100, 0)
	if n, reset := w.Add(t0, 1); n != 1 || !reset.Equal(time.Unix(101, 0)) {
		t.Fatalf("n %d reset %v", n, reset)
	}
	if n, _ := w.Add(t0.Add(999*time.Millisecond), 2); n != 3 {
		t.Fatalf("n %d", n)
	}
	if n, _ := w.Add(t0.Add(time.Second), 1); n != 1 {
		t.Fatalf("n %d after reset", n)
	}
}

func TestHMAC(t *testing.T) {
	// RFC 4231 test case 2.
	if got := HMACHex("Jefe", "what do ya want for nothing?"); got != "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Fatal(got)
	}
	if got := HMACBase64("Jefe", "what do ya want for nothing?"); got != "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=" {
		t.Fatal(got)
	}
}

func TestApplyFail(t *testing.T) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	ok := AfterAccept{Fail: true}.Apply(rec, req, nil, func(w http.ResponseWriter) { _ = WriteJSON(w, 503, map[string]int{"code": 1}) })
	if ok || rec.Code != 503 || !strings.Contains(rec.Body.String(), `"code":1`) {
		t.Fatalf("ok %v code %d body %s", ok, rec.Code, rec.Body)
	}
	if !(AfterAccept{}).Apply(rec, req, nil, nil) {
		t.Fatal("no fault should answer normally")
	}
}

func TestHubPublishTagsAndCut(t *testing.T) {
	h := NewHub()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := h.Upgrade(w, r, r.URL.Query().Get("tag"))
		if err != nil {
			return
		}
		for {
			msg, err := c.Read()
			if err != nil {
				break
			}
			c.Send(map[string]string{"echo": string(msg)})
		}
		c.Close()
	}))
	defer srv.Close()
	defer h.Close()
	dial := func(tag string) *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/?tag="+tag, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a, b := dial("a"), dial("b")
	// An echo round trip on each proves both are registered.
	for _, c := range []*websocket.Conn{a, b} {
		_ = c.WriteMessage(websocket.TextMessage, []byte("hi"))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.Publish(map[string]int{"x": 1}, Tagged("a")); n != 1 {
		t.Fatalf("published to %d", n)
	}
	_, msg, err := a.ReadMessage()
	var v map[string]int
	if err != nil || json.Unmarshal(msg, &v) != nil || v["x"] != 1 {
		t.Fatalf("a got %s %v", msg, err)
	}
	h.Cut(nil)
	if _, _, err := b.ReadMessage(); err == nil {
		t.Fatal("b not cut")
	}
}

// TestHubWaitTagged: WaitTagged returns once enough open connections carry the tag, woken by the tagging itself;
// a cut connection stops counting; Close ends the wait.
func TestHubWaitTagged(t *testing.T) {
	h := NewHub()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := h.Upgrade(w, r)
		if err != nil {
			return
		}
		for {
			msg, err := c.Read()
			if err != nil {
				break
			}
			c.Send(map[string]string{"ack": string(msg)})
			c.Tag(string(msg)) // after the answer is queued, as the mocks tag TagSubscribed
		}
		c.Close()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done, stop := context.WithCancel(context.Background())
	stop() // a wait on an ended context reports whether the condition holds now, without blocking
	if err := h.WaitTagged(done, TagSubscribed, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("no connection: %v", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- h.WaitTagged(ctx, TagSubscribed, 1) }()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteMessage(websocket.TextMessage, []byte(TagSubscribed)); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil { // bounded by ctx
		t.Fatalf("wait for the tag: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, msg, err := c.ReadMessage(); err != nil || !strings.Contains(string(msg), `"ack":"subscribed"`) {
		t.Fatalf("the answer queued before the tag: %s %v", msg, err)
	}
	if err := h.WaitTagged(done, TagSubscribed, 1); err != nil {
		t.Fatalf("one tagged connection, want 1: %v", err)
	}
	if err := h.WaitTagged(done, TagSubscribed, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("one tagged connection, want 2: %v", err)
	}
	h.Cut(nil)
	if err := h.WaitTagged(done, TagSubscribed, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cut connection still counts: %v", err)
	}
	go func() { waited <- h.WaitTagged(ctx, TagSubscribed, 1) }()
	h.Close()
	if err := <-waited; !errors.Is(err, ErrHubClosed) {
		t.Fatalf("wait across Close: %v", err)
	}
}
