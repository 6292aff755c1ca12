package binance

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/execd-dev/execd/mocks/internal/mocktest"
)

func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	book, clk := mocktest.Book(t, "a", 5, "0.001")
	cfg.Book, cfg.APIKey, cfg.APISecret, cfg.Clock = book, "k", "s", clk
	s, err := New(cfg)
	mocktest.Serve(t, s, err)
	return s
}

func TestWeightHeaderAndRateLimitFault(t *testing.T) {
	s := newServer(t, Config{})
	res, err := http.Get(s.URL() + "/fapi/v1/exchangeInfo")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-MBX-USED-WEIGHT-1M") != "1" {
		t.Fatalf("status %d weight %q", res.StatusCode, res.Header.Get("X-MBX-USED-WEIGHT-1M"))
	}
	s.Faults().RateLimitNext(1)
	res, err = http.Get(s.URL() + "/fapi/v1/ping")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Code int64  `json:"code"`
		Msg  string `json:"msg"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	_ = res.Body.Close()
	if res.StatusCode != 429 || body.Code != -1003 {
		t.Fatalf("status %d body %+v", res.StatusCode, body)
	}
}

func TestWeightLimitEnforced(t *testing.T) {
	s := newServer(t, Config{})
	var last int
	for i := 0; i < weightLimit/40+2; i++ { // ticker without symbol weighs 40
		res, err := http.Get(s.URL() + "/fapi/v1/ticker/24hr")
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		last = res.StatusCode
	}
	if last != 429 {
		t.Fatalf("last status %d, want 429", last)
	}
	s2 := newServer(t, Config{DisableRateLimits: true})
	for i := 0; i < weightLimit/40+2; i++ {
		res, err := http.Get(s2.URL() + "/fapi/v1/ticker/24hr")
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("status %d with limits disabled", res.StatusCode)
		}
	}
}

func TestListenKeyExpiry(t *testing.T) {
	s := newServer(t, Config{ListenKeyTTL: 100 * time.Millisecond, MatchInterval: 10 * time.Millisecond})
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/fapi/v1/listenKey", nil)
	req.Header.Set("X-MBX-APIKEY", "k")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var lk struct{ ListenKey string }
	_ = json.NewDecoder(res.Body).Decode(&lk)
	_ = res.Body.Close()
	conn, _, err := websocket.DefaultDialer.Dial(s.WSURL()+"/"+lk.ListenKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		E string `json:"e"`
	}
	if json.Unmarshal(msg, &ev); ev.E != "listenKeyExpired" {
		t.Fatalf("event %s", msg)
	}
	if _, _, err := conn.ReadMessage(); err == nil {
		t.Fatal("stream not closed after expiry")
	}
	if _, res, err := websocket.DefaultDialer.Dial(s.WSURL()+"/"+lk.ListenKey, nil); err == nil || res.StatusCode != 400 {
		t.Fatal("expired listenKey still accepted")
	}
}

func TestMissingAPIKey(t *testing.T) {
	s := newServer(t, Config{})
	res, err := http.Get(s.URL() + "/fapi/v2/positionRisk?timestamp=1&signature=x")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("status %d", res.StatusCode)
	}
}
