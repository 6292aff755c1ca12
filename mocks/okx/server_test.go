package okx

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/execd-dev/execd/mocks/internal/mocktest"
)

// TestPingPong: the private websocket answers a text "ping" with a text "pong", before any login.
func TestPingPong(t *testing.T) {
	book, clk := mocktest.Book(t, "okx", 5, "0.01")
	s, err := New(Config{Name: "okx", Book: book, APIKey: "k", APISecret: "s", Passphrase: "p", Clock: clk})
	mocktest.Serve(t, s, err)
	conn, _, err := websocket.DefaultDialer.Dial(s.WSURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.WriteMessage(websocket.TextMessage, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	typ, msg, err := conn.ReadMessage()
	if err != nil || typ != websocket.TextMessage || string(msg) != "pong" {
		t.Fatalf("answer %d %q %v, want text pong", typ, msg, err)
	}
}
