package okx

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/mocks/exchange"
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

// TestOrdersPendingPagedByAfter: orders-pending pages newest first with after=ordId, as the adapter reads it.
func TestOrdersPendingPagedByAfter(t *testing.T) {
	book, clk := mocktest.Book(t, "okx", 5, "0.01")
	s, err := New(Config{Name: "okx", Book: book, APIKey: "k", APISecret: "s", Passphrase: "p", Clock: clk})
	mocktest.Serve(t, s, err)
	px := book.Quote().Bid.Mul(decimal.RequireFromString("0.9")).Round(1)
	for i := range 5 {
		body := fmt.Sprintf(`{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","ordType":"limit","sz":"1","px":"%s","clOrdId":"p%d"}`, px, i)
		if _, err := s.acct.placeOrder(&request{body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	page := func(q url.Values) []string {
		res, aerr := s.acct.ordersPending(&request{query: q})
		if aerr != nil {
			t.Fatal(aerr)
		}
		var ids []string
		for _, row := range res.([]any) {
			ids = append(ids, row.(map[string]string)["clOrdId"])
		}
		return ids
	}
	first := page(url.Values{"limit": {"2"}})
	if !slices.Equal(first, []string{"p4", "p3"}) {
		t.Fatalf("first page %v", first)
	}
	o, _ := s.acct.ex.Find(exchange.Ref{ClientID: "p3"})
	if next := page(url.Values{"limit": {"2"}, "after": {ordID(o.Seq)}}); !slices.Equal(next, []string{"p2", "p1"}) {
		t.Fatalf("next page %v", next)
	}
	if newer := page(url.Values{"before": {ordID(o.Seq)}}); !slices.Equal(newer, []string{"p4"}) {
		t.Fatalf("before %v", newer)
	}
}
