package bybit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/execd-dev/execd/mocks/mockutil"
)

// answer is a raw answer: the response (body read) and its body.
type answer struct {
	res  *http.Response
	body []byte
}

// env decodes the answer's v5 envelope, failing the test when it is not one.
func (a answer) env(t *testing.T) env {
	t.Helper()
	var e env
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("not an envelope (%d): %s", a.res.StatusCode, a.body)
	}
	return e
}

// send makes a request to s: signed, with the wall clock moved by offset as its timestamp (a client correcting
// its clock), when signed; body (JSON, POST) or query (GET).
func send(t *testing.T, s *Server, method, path, query string, body any, signed bool, offset time.Duration) answer {
	t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	url := s.URL() + path
	if query != "" {
		url += "?" + query
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if signed {
		ts := strconv.FormatInt(time.Now().Add(offset).UnixMilli(), 10)
		payload := query
		if method == http.MethodPost {
			payload = string(raw)
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("X-BAPI-API-KEY", "k")
		req.Header.Set("X-BAPI-TIMESTAMP", ts)
		req.Header.Set("X-BAPI-RECV-WINDOW", "5000")
		req.Header.Set("X-BAPI-SIGN", mockutil.HMACHex("s", ts+"k"+"5000"+payload))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{res, b}
}

// create places a Market buy of 0.010 BTCUSDT with orderLinkId link, signed on the wall clock.
func create(t *testing.T, s *Server, link string) answer {
	t.Helper()
	return send(t, s, http.MethodPost, "/v5/order/create", "", map[string]any{"category": "linear", "symbol": "BTCUSDT",
		"side": "Buy", "orderType": "Market", "qty": "0.010", "orderLinkId": link}, true, 0)
}

// TestFaultsAnswerAsBybit: each fault, switched on, answers an order create with Bybit's own status, body and
// headers and executes nothing; switched off (or used up), the next create executes.
func TestFaultsAnswerAsBybit(t *testing.T) {
	for _, c := range []struct {
		name    string
		on, off func(f *mockutil.Faults)
		check   func(t *testing.T, a answer)
	}{
		{name: "maintenance", on: func(f *mockutil.Faults) { f.Maintenance(time.Hour) }, off: func(f *mockutil.Faults) { f.Maintenance(0) },
			check: func(t *testing.T, a answer) {
				if e := a.env(t); a.res.StatusCode != 200 || e.RetCode != 10016 || e.RetMsg != "Server error." {
					t.Fatalf("%d %s", a.res.StatusCode, a.body)
				}
			}},
		{name: "insufficient margin", on: func(f *mockutil.Faults) { f.InsufficientMargin(1) }, off: func(*mockutil.Faults) {},
			check: func(t *testing.T, a answer) {
				if e := a.env(t); a.res.StatusCode != 200 || e.RetCode != 110007 || e.RetMsg != "ab not enough for new order" {
					t.Fatalf("%d %s", a.res.StatusCode, a.body)
				}
			}},
		{name: "ban", on: func(f *mockutil.Faults) { f.Ban(time.Hour) }, off: func(f *mockutil.Faults) { f.Ban(0) },
			check: func(t *testing.T, a answer) {
				if a.res.StatusCode != 403 || strings.TrimSpace(string(a.body)) != "access too frequent" ||
					!strings.HasPrefix(a.res.Header.Get("Content-Type"), "text/plain") || a.res.Header.Get("Retry-After") != "" {
					t.Fatalf("%d %v %q", a.res.StatusCode, a.res.Header, a.body)
				}
			}},
		{name: "rate limit", on: func(f *mockutil.Faults) { f.RateLimitNext(1) }, off: func(*mockutil.Faults) {},
			check: func(t *testing.T, a answer) {
				e := a.env(t)
				reset, err := strconv.ParseInt(a.res.Header.Get("X-Bapi-Limit-Reset-Timestamp"), 10, 64)
				if a.res.StatusCode != 200 || e.RetCode != 10006 || e.RetMsg != "Too many visits. Exceeded the API Rate Limit." ||
					a.res.Header.Get("X-Bapi-Limit-Status") != "0" || a.res.Header.Get("X-Bapi-Limit") != "10" || err != nil ||
					reset < time.Now().UnixMilli() || reset > time.Now().Add(2*time.Second).UnixMilli() {
					t.Fatalf("%d %v %s", a.res.StatusCode, a.res.Header, a.body)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newServer(t, Config{})
			c.on(s.Faults())
			c.check(t, create(t, s, "f1"))
			if n := len(s.Orders()); n != 0 || !s.Position("BTCUSDT").IsZero() {
				t.Fatalf("executed while refused: %d orders, position %s", n, s.Position("BTCUSDT"))
			}
			c.off(s.Faults())
			if e := create(t, s, "f2").env(t); e.RetCode != 0 {
				t.Fatalf("after the fault: %d %s", e.RetCode, e.RetMsg)
			}
			if n := len(s.Orders()); n != 1 || s.Position("BTCUSDT").String() != "0.01" {
				t.Fatalf("after the fault: %d orders, position %s", n, s.Position("BTCUSDT"))
			}
		})
	}
}

// TestMaintenanceAndBanAnswerEverything: maintenance and a ban answer public requests too, and the ban counts each
// request it answers.
func TestMaintenanceAndBanAnswerEverything(t *testing.T) {
	s := newServer(t, Config{})
	s.Faults().Maintenance(time.Hour)
	for _, path := range []string{"/v5/market/time", "/v5/market/tickers"} {
		a := send(t, s, http.MethodGet, path, "category=linear&symbol=BTCUSDT", nil, false, 0)
		if e := a.env(t); a.res.StatusCode != 200 || e.RetCode != 10016 {
			t.Fatalf("%s under maintenance: %d %s", path, a.res.StatusCode, a.body)
		}
	}
	s.Faults().Maintenance(0)
	s.Faults().Ban(time.Hour)
	for _, path := range []string{"/v5/market/time", "/v5/position/list"} {
		if a := send(t, s, http.MethodGet, path, "category=linear&symbol=BTCUSDT", nil, true, 0); a.res.StatusCode != 403 {
			t.Fatalf("%s banned: %d %s", path, a.res.StatusCode, a.body)
		}
	}
	if n := s.Faults().Bans(); n != 2 {
		t.Fatalf("bans counted %d, want 2", n)
	}
}

// TestClockSkewAndResync: with the venue's clock off by a minute either way, a request stamped by the wall clock is
// 10002 (its message names both timestamps and the window; the envelope's time is the venue's); /v5/market/time
// reports the venue's time, and a client that corrects its offset from it gets through.
func TestClockSkewAndResync(t *testing.T) {
	s := newServer(t, Config{})
	const q = "category=linear&symbol=BTCUSDT"
	for _, skew := range []time.Duration{time.Minute, -time.Minute} {
		s.Faults().ClockSkew(skew)
		var e struct {
			RetCode int    `json:"retCode"`
			RetMsg  string `json:"retMsg"`
			Time    int64  `json:"time"`
		}
		a := send(t, s, http.MethodGet, "/v5/position/list", q, nil, true, 0)
		if err := json.Unmarshal(a.body, &e); err != nil || a.res.StatusCode != 200 || e.RetCode != 10002 {
			t.Fatalf("skew %v, unsynced: %d %s", skew, a.res.StatusCode, a.body)
		}
		const lead = "invalid request, please check your server timestamp or recv_window param. "
		var reqTs, srvTs, window int64
		if !strings.HasPrefix(e.RetMsg, lead) {
			t.Fatalf("message %q", e.RetMsg)
		}
		_, err := fmt.Sscanf(e.RetMsg[len(lead):], "req_timestamp[%d],server_timestamp[%d],recv_window[%d]", &reqTs, &srvTs, &window)
		if err != nil || window != 5000 || absDur(time.Duration(srvTs-reqTs)*time.Millisecond-skew) > time.Second ||
			absDur(time.Duration(e.Time-srvTs)*time.Millisecond) > time.Second {
			t.Fatalf("message %q (%v), time %d", e.RetMsg, err, e.Time)
		}

		before := time.Now()
		var tm struct {
			Result struct{ TimeNano string } `json:"result"`
		}
		a = send(t, s, http.MethodGet, "/v5/market/time", "", nil, false, 0)
		if err := json.Unmarshal(a.body, &tm); err != nil {
			t.Fatal(err)
		}
		nano, _ := strconv.ParseInt(tm.Result.TimeNano, 10, 64)
		off := time.Unix(0, nano).Sub(before.Add(time.Since(before) / 2))
		if absDur(off-skew) > time.Second {
			t.Fatalf("skew %v: server time says offset %v", skew, off)
		}
		if e := send(t, s, http.MethodGet, "/v5/position/list", q, nil, true, off).env(t); e.RetCode != 0 {
			t.Fatalf("skew %v, synced: %d %s", skew, e.RetCode, e.RetMsg)
		}
		// The private websocket's auth checks its expiry on the venue's clock too: one 10 s ahead of the wall clock
		// has expired on a venue a minute ahead, and is fine on one a minute behind.
		if m := wsAuth(t, s, 10*time.Second); m["success"] != (skew < 0) {
			t.Fatalf("skew %v, unsynced auth: %v", skew, m)
		}
		if m := wsAuth(t, s, off+10*time.Second); m["success"] != true {
			t.Fatalf("skew %v, synced auth: %v", skew, m)
		}
	}
	s.Faults().ClockSkew(0)
	if e := send(t, s, http.MethodGet, "/v5/position/list", q, nil, true, 0).env(t); e.RetCode != 0 {
		t.Fatalf("skew off: %d %s", e.RetCode, e.RetMsg)
	}
}

// TestLatency: every request waits the injected latency; Latency(0) turns it off.
func TestLatency(t *testing.T) {
	s := newServer(t, Config{})
	s.Faults().Latency(60 * time.Millisecond)
	start := time.Now()
	if e := create(t, s, "l1").env(t); e.RetCode != 0 || time.Since(start) < 60*time.Millisecond {
		t.Fatalf("with latency: %d %s after %v", e.RetCode, e.RetMsg, time.Since(start))
	}
	s.Faults().Latency(time.Hour)
	s.Faults().Latency(0)
	start = time.Now()
	if a := send(t, s, http.MethodGet, "/v5/market/time", "", nil, false, 0); a.res.StatusCode != 200 || time.Since(start) > time.Second {
		t.Fatalf("latency off: %d after %v", a.res.StatusCode, time.Since(start))
	}
}

func absDur(d time.Duration) time.Duration { return max(d, -d) }

// wsAuth authenticates a new private websocket with an expiry of the wall clock plus ahead, and returns the answer.
func wsAuth(t *testing.T, s *Server, ahead time.Duration) map[string]any {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(s.WSURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	exp := time.Now().Add(ahead).UnixMilli()
	sig := mockutil.HMACHex("s", "GET/realtime"+strconv.FormatInt(exp, 10))
	if err := c.WriteJSON(map[string]any{"op": "auth", "args": []any{"k", exp, sig}}); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m map[string]any
	if err := c.ReadJSON(&m); err != nil {
		t.Fatal(err)
	}
	return m
}
