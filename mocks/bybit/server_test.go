package bybit

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/mocks/internal/mocktest"
	"github.com/execd-dev/execd/mocks/mockutil"
)

func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	book, clk := mocktest.Book(t, "c", 5.5, "0.001")
	cfg.Book, cfg.APIKey, cfg.APISecret, cfg.Clock = book, "k", "s", clk
	s, err := New(cfg)
	mocktest.Serve(t, s, err)
	return s
}

type env struct {
	RetCode int             `json:"retCode"`
	RetMsg  string          `json:"retMsg"`
	Result  json.RawMessage `json:"result"`
}

func signedGet(t *testing.T, s *Server, path, query string) (*http.Response, env) {
	t.Helper()
	ts := time.Now().UnixMilli()
	req, _ := http.NewRequest(http.MethodGet, s.URL()+path+"?"+query, nil)
	tsS := decimal.NewFromInt(ts).String()
	req.Header.Set("X-BAPI-API-KEY", "k")
	req.Header.Set("X-BAPI-TIMESTAMP", tsS)
	req.Header.Set("X-BAPI-RECV-WINDOW", "5000")
	req.Header.Set("X-BAPI-SIGN", mockutil.HMACHex("s", tsS+"k"+"5000"+query))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e env
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	return res, e
}

func TestLimitHeadersAndInjectedRateLimit(t *testing.T) {
	s := newServer(t, Config{})
	res, e := signedGet(t, s, "/v5/position/list", "category=linear&symbol=BTCUSDT")
	if e.RetCode != 0 || res.Header.Get("X-Bapi-Limit") != "50" || res.Header.Get("X-Bapi-Limit-Status") != "49" ||
		res.Header.Get("X-Bapi-Limit-Reset-Timestamp") == "" {
		t.Fatalf("retCode %d headers %v", e.RetCode, res.Header)
	}
	s.Faults().RateLimitNext(1)
	res, e = signedGet(t, s, "/v5/position/list", "category=linear&symbol=BTCUSDT")
	if res.StatusCode != 200 || e.RetCode != 10006 {
		t.Fatalf("status %d retCode %d", res.StatusCode, e.RetCode)
	}
}

func TestSignatureAndTimestamp(t *testing.T) {
	s := newServer(t, Config{})
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v5/position/list?category=linear&symbol=BTCUSDT", nil)
	req.Header.Set("X-BAPI-API-KEY", "k")
	req.Header.Set("X-BAPI-TIMESTAMP", "1")
	req.Header.Set("X-BAPI-SIGN", mockutil.HMACHex("s", "1k"+"category=linear&symbol=BTCUSDT"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e env
	_ = json.NewDecoder(res.Body).Decode(&e)
	_ = res.Body.Close()
	if e.RetCode != 10002 {
		t.Fatalf("stale timestamp: retCode %d %s", e.RetCode, e.RetMsg)
	}
	req.Header.Set("X-BAPI-SIGN", "00")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(res.Body).Decode(&e)
	_ = res.Body.Close()
	if e.RetCode != 10004 {
		t.Fatalf("bad sign: retCode %d", e.RetCode)
	}
}

func TestPrivateStreamHandshake(t *testing.T) {
	s := newServer(t, Config{})
	c, _, err := websocket.DefaultDialer.Dial(s.WSURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	read := func() map[string]any {
		var m map[string]any
		if err := c.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	_ = c.WriteJSON(map[string]any{"op": "subscribe", "args": []string{"order"}})
	if m := read(); m["success"] != false {
		t.Fatalf("unauthenticated subscribe: %v", m)
	}
	ended, end := context.WithCancel(context.Background())
	end() // a wait on an ended context only reports the state now
	if err := s.WaitSubscribed(ended, 1); err == nil {
		t.Fatal("subscribed after a refused subscribe")
	}
	exp := time.Now().Add(10 * time.Second).UnixMilli()
	expS := decimal.NewFromInt(exp).String()
	_ = c.WriteJSON(map[string]any{"op": "auth", "args": []any{"k", exp, mockutil.HMACHex("s", "GET/realtime"+expS)}})
	if m := read(); m["success"] != true || m["op"] != "auth" {
		t.Fatalf("auth: %v", m)
	}
	_ = c.WriteJSON(map[string]any{"op": "subscribe", "args": []string{"order", "execution", "position"}})
	if m := read(); m["success"] != true {
		t.Fatalf("subscribe: %v", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitSubscribed(ctx, 1); err != nil {
		t.Fatalf("not subscribed after the subscribe answer: %v", err)
	}
	_ = c.WriteJSON(map[string]any{"op": "ping"})
	if m := read(); m["op"] != "pong" {
		t.Fatalf("ping: %v", m)
	}
	s.SetPosition("BTCUSDT", decimal.RequireFromString("-1"), decimal.RequireFromString("10000"))
	m := read()
	if m["topic"] != "position" || !strings.Contains(func() string { b, _ := json.Marshal(m); return string(b) }(), `"side":"Sell"`) {
		t.Fatalf("position push: %v", m)
	}
}
