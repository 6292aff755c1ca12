package binance

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/mocks/internal/mocktest"
	"github.com/execd-dev/execd/mocks/mockutil"
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

// signed sends a signed request with params in the query string and returns the status and the decoded body.
func signed(t *testing.T, s *Server, method, path string, params url.Values) (int, map[string]any) {
	t.Helper()
	params.Set("timestamp", strconv.FormatInt(time.Now().UnixMilli(), 10))
	q := params.Encode()
	q += "&signature=" + mockutil.HMACHex("s", q)
	req, err := http.NewRequest(method, s.URL()+path+"?"+q, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-MBX-APIKEY", "k")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

// TestModifyWire: PUT /fapi/v1/order needs side, quantity and price; the side must be the order's; an unknown order
// is -2013; a modify that changes nothing is -5027; a modified order keeps its ids.
func TestModifyWire(t *testing.T) {
	s := newServer(t, Config{})
	bid := s.cfg.Book.Quote().Bid
	px := bid.Sub(bid.Mod(s.cfg.TickSize)).Sub(s.cfg.TickSize.Mul(decimal.NewFromInt(500)))
	status, o := signed(t, s, http.MethodPost, "/fapi/v1/order", url.Values{"symbol": {"BTCUSDT"}, "side": {"BUY"},
		"type": {"LIMIT"}, "timeInForce": {"GTC"}, "quantity": {"0.010"}, "price": {px.String()},
		"newClientOrderId": {"m1"}})
	if status != 200 || o["status"] != "NEW" {
		t.Fatalf("place %d %v", status, o)
	}
	base := url.Values{"symbol": {"BTCUSDT"}, "origClientOrderId": {"m1"}, "side": {"BUY"}, "quantity": {"0.020"},
		"price": {px.String()}}
	for _, c := range []struct {
		drop, key, val string
		code           float64
	}{
		{drop: "price", code: -1102},
		{drop: "side", code: -1102},
		{key: "side", val: "SELL", code: -1117},
		{key: "origClientOrderId", val: "nope", code: -2013},
		{key: "quantity", val: "0.010", code: -5027},
		{key: "quantity", val: "0.0105", code: -1111},
	} {
		p := url.Values{}
		for k, v := range base {
			p[k] = append([]string(nil), v...)
		}
		if c.drop != "" {
			p.Del(c.drop)
		} else {
			p.Set(c.key, c.val)
		}
		if status, body := signed(t, s, http.MethodPut, "/fapi/v1/order", p); status != 400 || body["code"] != c.code {
			t.Errorf("%+v: %d %v", c, status, body)
		}
	}
	status, m := signed(t, s, http.MethodPut, "/fapi/v1/order", base)
	if status != 200 || m["origQty"] != "0.020" || m["orderId"] != o["orderId"] || m["clientOrderId"] != "m1" || m["status"] != "NEW" {
		t.Fatalf("modify %d %v", status, m)
	}
}

// A 429 says how long to wait (Retry-After); a client that goes on sending inside it is banned with a 418 whose
// Retry-After is the ban's end; an injected ban answers 418 to everything until it ends.
func TestRetryAfterAndBan(t *testing.T) {
	s := newServer(t, Config{})
	get := func() *http.Response {
		t.Helper()
		res, err := http.Get(s.URL() + "/fapi/v1/ping")
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		return res
	}
	s.Faults().RateLimitNext(1)
	if res := get(); res.StatusCode != 429 || res.Header.Get("Retry-After") != "1" {
		t.Fatalf("429: status %d Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	var last *http.Response
	for i := 0; i < banAfterIgnored; i++ { // not backing off
		last = get()
	}
	ra, _ := strconv.Atoi(last.Header.Get("Retry-After"))
	if last.StatusCode != 418 || ra < 100 || ra > 121 {
		t.Fatalf("after ignoring Retry-After: status %d Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}
	s2 := newServer(t, Config{})
	s2.Faults().Ban(5 * time.Second)
	res, err := http.Get(s2.URL() + "/fapi/v1/exchangeInfo")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); res.StatusCode != 418 || ra < 1 || ra > 5 {
		t.Fatalf("injected ban: status %d Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if s2.Faults().Bans() != 1 {
		t.Fatalf("bans counted %d", s2.Faults().Bans())
	}
}
