package wsstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/execd-dev/execd/venues"
)

// server sends "fill" on every connection, then "bad" on the first, and keeps the others open.
func server(t *testing.T) (string, *atomic.Int32) {
	var n atomic.Int32
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		i := n.Add(1)
		_ = c.WriteMessage(websocket.TextMessage, []byte("fill"))
		if i == 1 {
			_ = c.WriteMessage(websocket.TextMessage, []byte("bad"))
		}
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), &n
}

func dialer(url string) func(ctx context.Context) (*websocket.Conn, error) {
	return func(ctx context.Context) (*websocket.Conn, error) {
		c, resp, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		return c, err
	}
}

func decode(msg []byte) ([]venues.Event, error) {
	if string(msg) == "fill" {
		return []venues.Event{{Venue: "v", Fill: &venues.Fill{TradeID: "1"}}}, nil
	}
	return nil, errors.New("cannot translate")
}

func TestDecodeErrorReconnects(t *testing.T) {
	url, n := server(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan venues.Event, 8)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Venue: "v", Open: dialer(url), Decode: decode, BackoffMin: time.Millisecond}, out)
	}()
	want := []string{"fill", "reconnected", "fill"}
	for _, w := range want {
		select {
		case ev := <-out:
			if got := map[bool]string{true: "reconnected", false: "fill"}[ev.Reconnected]; got != w {
				t.Fatalf("got %s, want %s", got, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("timed out waiting for %s", w)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("run ended with %v", err)
	}
	if n.Load() != 2 {
		t.Fatalf("%d connections", n.Load())
	}
}

func TestRejectedOpenIsFatal(t *testing.T) {
	bad := &venues.Error{Venue: "v", Op: "stream", Class: venues.Rejected, Code: "60009"}
	err := Run(context.Background(), Config{Open: func(context.Context) (*websocket.Conn, error) { return nil, bad },
		Decode: decode}, make(chan venues.Event))
	if !errors.Is(err, bad) {
		t.Fatalf("got %v", err)
	}
}

func TestRetryableOpenRetriesAndCtxEnds(t *testing.T) {
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	err := Run(ctx, Config{BackoffMin: time.Millisecond, Open: func(context.Context) (*websocket.Conn, error) {
		if calls.Add(1) == 3 {
			cancel()
		}
		return nil, &venues.Error{Class: venues.Retryable}
	}, Decode: decode}, make(chan venues.Event))
	if !errors.Is(err, context.Canceled) || calls.Load() != 3 {
		t.Fatalf("err %v after %d opens", err, calls.Load())
	}
}

func TestNeverBlocksOnOutAfterCancel(t *testing.T) {
	url, _ := server(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	opened := make(chan struct{})
	open := dialer(url)
	go func() {
		done <- Run(ctx, Config{Open: func(ctx context.Context) (*websocket.Conn, error) {
			c, err := open(ctx)
			close(opened)
			return c, err
		}, Decode: decode}, make(chan venues.Event)) // nobody reads out
	}()
	<-opened
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run blocked on out")
	}
}

func TestKeepaliveRuns(t *testing.T) {
	url, _ := server(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pinged := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Open: dialer(url), Decode: func([]byte) ([]venues.Event, error) { return nil, nil },
			KeepaliveEvery: time.Millisecond, Keepalive: func(_ context.Context, c *websocket.Conn) error {
				select {
				case pinged <- struct{}{}:
				default:
				}
				return c.WriteMessage(websocket.TextMessage, []byte("ping"))
			}}, make(chan venues.Event))
	}()
	select {
	case <-pinged:
	case <-time.After(5 * time.Second):
		t.Fatal("keepalive never ran")
	}
	cancel()
	<-done
}
