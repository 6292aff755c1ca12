package okx

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/execd-dev/execd/mocks/internal/mocktest"
	"github.com/execd-dev/execd/mocks/mockutil"
)

func newServer(t *testing.T) *Server {
	t.Helper()
	book, clk := mocktest.Book(t, "okx", 5, "0.01")
	s, err := New(Config{Name: "okx", Book: book, APIKey: "k", APISecret: "s", Passphrase: "p", Clock: clk})
	mocktest.Serve(t, s, err)
	return s
}

// reply is a raw answer: the response (body read) and its body.
type reply struct {
	res  *http.Response
	body []byte
}

// send makes a request to s, signed as OKX wants (its timestamp the wall clock moved by offset: a client
// correcting its clock) when signed.
func send(t *testing.T, s *Server, method, path, body string, signed bool, offset time.Duration) reply {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	if signed {
		ts := time.Now().Add(offset).UTC().Format(tsLayout)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("OK-ACCESS-KEY", "k")
		req.Header.Set("OK-ACCESS-PASSPHRASE", "p")
		req.Header.Set("OK-ACCESS-TIMESTAMP", ts)
		req.Header.Set("OK-ACCESS-SIGN", mockutil.HMACBase64("s", ts+method+path+body))
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
	return reply{res, b}
}

// place sends a market buy of one BTC-USDT-SWAP contract with clOrdId id, signed on the wall clock.
func place(t *testing.T, s *Server, id string) reply {
	t.Helper()
	return send(t, s, http.MethodPost, "/api/v5/trade/order", placeBodyJSON(inst0, "buy", "market", "1", "", id), true, 0)
}

const inst0 = "BTC-USDT-SWAP"

// sameJSON reports whether the raw body is the JSON want, key order aside.
func sameJSON(t *testing.T, raw []byte, want string) bool {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal(raw, &got); err != nil {
		return false
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(exp)
	return bytes.Equal(a, b)
}

// TestFaultsAnswerAsOKX: each fault, switched on, answers an order place with OKX's own status and body (and no
// Retry-After) and executes nothing; switched off (or used up), the next place executes.
func TestFaultsAnswerAsOKX(t *testing.T) {
	const tooMany = `{"code":"50011","msg":"Too Many Requests"}`
	for _, c := range []struct {
		name    string
		on, off func(f *mockutil.Faults)
		status  int
		body    string
	}{
		{name: "maintenance", on: func(f *mockutil.Faults) { f.Maintenance(time.Hour) }, off: func(f *mockutil.Faults) { f.Maintenance(0) },
			status: 503, body: `{"code":"50001","msg":"Service temporarily unavailable. Try again later","data":[]}`},
		{name: "insufficient margin", on: func(f *mockutil.Faults) { f.InsufficientMargin(1) }, off: func(*mockutil.Faults) {},
			status: 200, body: `{"code":"1","msg":"All operations failed","data":[{"clOrdId":"f1","ordId":"","tag":"","ts":"",` +
				`"sCode":"51008","sMsg":"Order failed. Insufficient USDT margin in account"}]}`},
		{name: "ban", on: func(f *mockutil.Faults) { f.Ban(time.Hour) }, off: func(f *mockutil.Faults) { f.Ban(0) },
			status: 429, body: tooMany},
		{name: "rate limit", on: func(f *mockutil.Faults) { f.RateLimitNext(1) }, off: func(*mockutil.Faults) {},
			status: 429, body: tooMany},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newServer(t)
			c.on(s.Faults())
			r := place(t, s, "f1")
			if r.res.StatusCode != c.status || !sameJSON(t, r.body, c.body) || r.res.Header.Get("Retry-After") != "" {
				t.Fatalf("answer %d %s (Retry-After %q), want %d %s", r.res.StatusCode, r.body, r.res.Header.Get("Retry-After"), c.status, c.body)
			}
			if n := len(s.Orders()); n != 0 || !s.Position(inst0).IsZero() {
				t.Fatalf("executed while refused: %d orders, position %s", n, s.Position(inst0))
			}
			c.off(s.Faults())
			var a answer
			r = place(t, s, "f2")
			if err := json.Unmarshal(r.body, &a); err != nil || r.res.StatusCode != 200 || a.Code != "0" || a.Data[0]["sCode"] != "0" {
				t.Fatalf("after the fault: %d %s", r.res.StatusCode, r.body)
			}
			if n := len(s.Orders()); n != 1 || s.Position(inst0).String() != "1" {
				t.Fatalf("after the fault: %d orders, position %s", n, s.Position(inst0))
			}
		})
	}
}

// TestMaintenanceAndBanAnswerEverything: maintenance and a ban answer public requests too, and the ban counts each
// request it answers.
func TestMaintenanceAndBanAnswerEverything(t *testing.T) {
	s := newServer(t)
	s.Faults().Maintenance(time.Hour)
	for _, path := range []string{"/api/v5/public/time", "/api/v5/market/ticker?instId=" + inst0} {
		if r := send(t, s, http.MethodGet, path, "", false, 0); r.res.StatusCode != 503 || !sameJSON(t, r.body,
			`{"code":"50001","msg":"Service temporarily unavailable. Try again later","data":[]}`) {
			t.Fatalf("%s under maintenance: %d %s", path, r.res.StatusCode, r.body)
		}
	}
	s.Faults().Maintenance(0)
	s.Faults().Ban(time.Hour)
	for _, path := range []string{"/api/v5/public/time", "/api/v5/account/balance"} {
		if r := send(t, s, http.MethodGet, path, "", true, 0); r.res.StatusCode != 429 {
			t.Fatalf("%s banned: %d %s", path, r.res.StatusCode, r.body)
		}
	}
	if n := s.Faults().Bans(); n != 2 {
		t.Fatalf("bans counted %d, want 2", n)
	}
}

// TestClockSkewAndResync: with the venue's clock a minute off either way, a request stamped by the wall clock is
// 50102 (HTTP 401); /api/v5/public/time reports the venue's time, and a client that corrects its offset from it
// gets through.
func TestClockSkewAndResync(t *testing.T) {
	s := newServer(t)
	for _, skew := range []time.Duration{time.Minute, -time.Minute} {
		s.Faults().ClockSkew(skew)
		r := send(t, s, http.MethodGet, "/api/v5/account/balance", "", true, 0)
		if r.res.StatusCode != 401 || !sameJSON(t, r.body, `{"code":"50102","msg":"Timestamp request expired","data":[]}`) {
			t.Fatalf("skew %v, unsynced: %d %s", skew, r.res.StatusCode, r.body)
		}
		before := time.Now()
		var a answer
		if err := json.Unmarshal(send(t, s, http.MethodGet, "/api/v5/public/time", "", false, 0).body, &a); err != nil || len(a.Data) != 1 {
			t.Fatalf("server time: %+v %v", a, err)
		}
		ts, _ := strconv.ParseInt(a.Data[0]["ts"], 10, 64)
		off := time.UnixMilli(ts).Sub(before.Add(time.Since(before) / 2))
		if d := off - skew; d < -time.Second || d > time.Second {
			t.Fatalf("skew %v: server time says offset %v", skew, off)
		}
		if r := send(t, s, http.MethodGet, "/api/v5/account/balance", "", true, off); r.res.StatusCode != 200 {
			t.Fatalf("skew %v, synced: %d %s", skew, r.res.StatusCode, r.body)
		}
		// The private websocket's login checks its timestamp on the venue's clock too.
		if m := wsLogin(t, s, 0); m["code"] != "60006" {
			t.Fatalf("skew %v, unsynced login: %v", skew, m)
		}
		if m := wsLogin(t, s, off); m["event"] != "login" || m["code"] != "0" {
			t.Fatalf("skew %v, synced login: %v", skew, m)
		}
	}
	s.Faults().ClockSkew(0)
	if r := send(t, s, http.MethodGet, "/api/v5/account/balance", "", true, 0); r.res.StatusCode != 200 {
		t.Fatalf("skew off: %d %s", r.res.StatusCode, r.body)
	}
}

// TestLatency: every request waits the injected latency; Latency(0) turns it off.
func TestLatency(t *testing.T) {
	s := newServer(t)
	s.Faults().Latency(60 * time.Millisecond)
	start := time.Now()
	if r := place(t, s, "l1"); r.res.StatusCode != 200 || time.Since(start) < 60*time.Millisecond {
		t.Fatalf("with latency: %d %s after %v", r.res.StatusCode, r.body, time.Since(start))
	}
	s.Faults().Latency(time.Hour)
	s.Faults().Latency(0)
	start = time.Now()
	if r := send(t, s, http.MethodGet, "/api/v5/public/time", "", false, 0); r.res.StatusCode != 200 || time.Since(start) > time.Second {
		t.Fatalf("latency off: %d after %v", r.res.StatusCode, time.Since(start))
	}
}

// wsLogin logs in on a new private websocket with the wall clock moved by offset as its timestamp, and returns the
// answer.
func wsLogin(t *testing.T, s *Server, offset time.Duration) map[string]any {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(s.WSURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ts := strconv.FormatInt(time.Now().Add(offset).Unix(), 10)
	login := map[string]any{"op": "login", "args": []map[string]string{{"apiKey": "k", "passphrase": "p", "timestamp": ts,
		"sign": mockutil.HMACBase64("s", ts+"GET/users/self/verify")}}}
	if err := c.WriteJSON(login); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m map[string]any
	if err := c.ReadJSON(&m); err != nil {
		t.Fatal(err)
	}
	return m
}
