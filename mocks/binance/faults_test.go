package binance

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/execd-dev/execd/mocks/mockutil"
)

// send makes a request to s and decodes the answer. With params it is signed, its timestamp the wall clock moved by
// offset (a client correcting its clock); without, it is sent bare.
func send(t *testing.T, s *Server, method, path string, params url.Values, offset time.Duration) (*http.Response, map[string]any) {
	t.Helper()
	q := ""
	if params != nil {
		params.Set("timestamp", strconv.FormatInt(time.Now().Add(offset).UnixMilli(), 10))
		q = params.Encode()
		q = "?" + q + "&signature=" + mockutil.HMACHex("s", q)
	}
	req, err := http.NewRequest(method, s.URL()+path+q, nil)
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
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return res, body
}

// marketBuy is a MARKET buy of 0.010 BTCUSDT (about 105 USDT, over the 100 minimum notional).
func marketBuy(id string) url.Values {
	return url.Values{"symbol": {"BTCUSDT"}, "side": {"BUY"}, "type": {"MARKET"}, "quantity": {"0.010"},
		"newClientOrderId": {id}}
}

// TestFaultsAnswerAsBinance: each fault, switched on, answers an order create with Binance's own status, code,
// message and headers and executes nothing; switched off (or used up), the next create executes.
func TestFaultsAnswerAsBinance(t *testing.T) {
	for _, c := range []struct {
		name    string
		on, off func(f *mockutil.Faults)
		status  int
		code    float64
		msg     string // the whole message, or its start when prefix
		prefix  bool
		header  func(h http.Header) bool
	}{
		{name: "maintenance", on: func(f *mockutil.Faults) { f.Maintenance(time.Hour) }, off: func(f *mockutil.Faults) { f.Maintenance(0) },
			status: 503, code: -1001, msg: "Internal error; unable to process your request. Please try again."},
		{name: "insufficient margin", on: func(f *mockutil.Faults) { f.InsufficientMargin(1) }, off: func(*mockutil.Faults) {},
			status: 400, code: -2019, msg: "Margin is insufficient."},
		{name: "ban", on: func(f *mockutil.Faults) { f.Ban(time.Hour) }, off: func(f *mockutil.Faults) { f.Ban(0) },
			status: 418, code: -1003, msg: "Way too many requests; IP banned until ", prefix: true,
			header: func(h http.Header) bool { ra, _ := strconv.Atoi(h.Get("Retry-After")); return ra > 3500 && ra <= 3601 }},
		{name: "rate limit", on: func(f *mockutil.Faults) { f.RateLimitNext(1) }, off: func(*mockutil.Faults) {},
			status: 429, code: -1003, msg: errTooMany.Msg, header: func(h http.Header) bool { return h.Get("Retry-After") == "1" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newServer(t, Config{})
			c.on(s.Faults())
			res, body := send(t, s, http.MethodPost, "/fapi/v1/order", marketBuy("f1"), 0)
			msg, _ := body["msg"].(string)
			if res.StatusCode != c.status || body["code"] != c.code || (c.prefix && !strings.HasPrefix(msg, c.msg)) ||
				(!c.prefix && msg != c.msg) || len(body) != 2 {
				t.Fatalf("answer %d %v, want %d %v %q", res.StatusCode, body, c.status, c.code, c.msg)
			}
			if c.header != nil && !c.header(res.Header) {
				t.Fatalf("headers %v", res.Header)
			}
			if n := len(s.Orders()); n != 0 || !s.Position("BTCUSDT").IsZero() {
				t.Fatalf("executed while refused: %d orders, position %s", n, s.Position("BTCUSDT"))
			}
			c.off(s.Faults())
			res, body = send(t, s, http.MethodPost, "/fapi/v1/order", marketBuy("f2"), 0)
			if res.StatusCode != 200 || body["clientOrderId"] != "f2" {
				t.Fatalf("after the fault: %d %v", res.StatusCode, body)
			}
			if n := len(s.Orders()); n != 1 || s.Position("BTCUSDT").String() != "0.01" {
				t.Fatalf("after the fault: %d orders, position %s", n, s.Position("BTCUSDT"))
			}
		})
	}
}

// TestMaintenanceAndBanAnswerEverything: maintenance and a ban answer public and key-only requests too, and the
// ban counts each request it answers.
func TestMaintenanceAndBanAnswerEverything(t *testing.T) {
	s := newServer(t, Config{})
	s.Faults().Maintenance(time.Hour)
	for _, path := range []string{"/fapi/v1/time", "/fapi/v1/exchangeInfo", "/fapi/v1/depth?symbol=BTCUSDT"} {
		if res, body := send(t, s, http.MethodGet, path, nil, 0); res.StatusCode != 503 || body["code"] != float64(-1001) {
			t.Fatalf("%s under maintenance: %d %v", path, res.StatusCode, body)
		}
	}
	if res, body := send(t, s, http.MethodPost, "/fapi/v1/listenKey", nil, 0); res.StatusCode != 503 || body["code"] != float64(-1001) {
		t.Fatalf("listenKey under maintenance: %d %v", res.StatusCode, body)
	}
	s.Faults().Maintenance(0)
	s.Faults().Ban(time.Hour)
	for _, path := range []string{"/fapi/v1/time", "/fapi/v1/ping"} {
		if res, _ := send(t, s, http.MethodGet, path, nil, 0); res.StatusCode != 418 {
			t.Fatalf("%s banned: %d", path, res.StatusCode)
		}
	}
	if n := s.Faults().Bans(); n != 2 {
		t.Fatalf("bans counted %d, want 2", n)
	}
}

// TestClockSkewAndResync: with the venue's clock a minute ahead, a request stamped by the wall clock is outside the
// recvWindow (-1021); /fapi/v1/time (and exchangeInfo) report the venue's time, and a client that corrects its
// offset from it gets through. A venue clock behind gives the "ahead of the server's time" -1021.
func TestClockSkewAndResync(t *testing.T) {
	s := newServer(t, Config{})
	offset := func() time.Duration {
		t.Helper()
		before := time.Now()
		res, body := send(t, s, http.MethodGet, "/fapi/v1/time", nil, 0)
		st, ok := body["serverTime"].(float64)
		if res.StatusCode != 200 || !ok {
			t.Fatalf("server time: %d %v", res.StatusCode, body)
		}
		mid := before.Add(time.Since(before) / 2)
		return time.UnixMilli(int64(st)).Sub(mid)
	}
	for _, c := range []struct {
		skew time.Duration
		msg  string
	}{
		{time.Minute, "Timestamp for this request is outside of the recvWindow."},
		{-time.Minute, "Timestamp for this request was 1000ms ahead of the server's time."},
	} {
		s.Faults().ClockSkew(c.skew)
		res, body := send(t, s, http.MethodGet, "/fapi/v3/account", url.Values{}, 0)
		if res.StatusCode != 400 || body["code"] != float64(-1021) || body["msg"] != c.msg {
			t.Fatalf("skew %v, unsynced: %d %v", c.skew, res.StatusCode, body)
		}
		off := offset()
		if d := off - c.skew; d < -time.Second || d > time.Second {
			t.Fatalf("skew %v: server time says offset %v", c.skew, off)
		}
		var info map[string]any
		if code := call(t, s, http.MethodGet, "/fapi/v1/exchangeInfo", nil, "", &info); code != 200 {
			t.Fatalf("exchangeInfo %d", code)
		} else if st, _ := info["serverTime"].(float64); time.Until(time.UnixMilli(int64(st)))-c.skew > time.Second ||
			time.Until(time.UnixMilli(int64(st)))-c.skew < -time.Second {
			t.Fatalf("exchangeInfo serverTime %v, skew %v", st, c.skew)
		}
		if res, body := send(t, s, http.MethodGet, "/fapi/v3/account", url.Values{}, off); res.StatusCode != 200 {
			t.Fatalf("skew %v, synced: %d %v", c.skew, res.StatusCode, body)
		}
		if res, body := send(t, s, http.MethodPost, "/fapi/v1/order", marketBuy("sk"+strconv.Itoa(int(c.skew.Seconds()))), off); res.StatusCode != 200 {
			t.Fatalf("skew %v, synced order: %d %v", c.skew, res.StatusCode, body)
		}
	}
	s.Faults().ClockSkew(0)
	if res, body := send(t, s, http.MethodGet, "/fapi/v3/account", url.Values{}, 0); res.StatusCode != 200 {
		t.Fatalf("skew off: %d %v", res.StatusCode, body)
	}
}

// TestLatency: every request waits the injected latency; one that waits past its recvWindow arrives too late
// (-1021); Latency(0) turns it off.
func TestLatency(t *testing.T) {
	s := newServer(t, Config{})
	s.Faults().Latency(60 * time.Millisecond)
	start := time.Now()
	if res, body := send(t, s, http.MethodPost, "/fapi/v1/order", marketBuy("l1"), 0); res.StatusCode != 200 {
		t.Fatalf("with latency: %d %v", res.StatusCode, body)
	}
	if took := time.Since(start); took < 60*time.Millisecond {
		t.Fatalf("answered after %v, latency 60ms", took)
	}
	if res, _ := send(t, s, http.MethodGet, "/fapi/v1/ping", nil, 0); res.StatusCode != 200 {
		t.Fatalf("public request with latency: %d", res.StatusCode)
	}
	res, body := send(t, s, http.MethodGet, "/fapi/v3/account", url.Values{"recvWindow": {"20"}}, 0)
	if res.StatusCode != 400 || body["code"] != float64(-1021) {
		t.Fatalf("late past its recvWindow: %d %v", res.StatusCode, body)
	}
	s.Faults().Latency(time.Hour)
	s.Faults().Latency(0)
	start = time.Now()
	if res, _ := send(t, s, http.MethodGet, "/fapi/v1/ping", nil, 0); res.StatusCode != 200 || time.Since(start) > time.Second {
		t.Fatalf("latency off: %d after %v", res.StatusCode, time.Since(start))
	}
}
