package app_test

import (
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/config"
)

// wireLog is a transport wrapper that notes, for each Binance order placement, the newClientOrderId it carried
// (go-binance sends the order's parameters in the form body) and when the request was written.
type wireLog struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    int                  // requests seen, any path
	at   map[string]time.Time // client order id → written
}

func (l *wireLog) RoundTrip(req *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.n++
	l.mu.Unlock()
	if req.Method == http.MethodPost && req.URL.Path == "/fapi/v1/order" && req.GetBody != nil {
		body, err := req.GetBody()
		if err == nil {
			b, _ := io.ReadAll(body)
			body.Close()
			if q, err := url.ParseQuery(string(b)); err == nil && q.Get("newClientOrderId") != "" {
				id := q.Get("newClientOrderId")
				req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
					WroteRequest: func(w httptrace.WroteRequestInfo) {
						if w.Err == nil {
							l.mu.Lock()
							if _, ok := l.at[id]; !ok {
								l.at[id] = time.Now()
							}
							l.mu.Unlock()
						}
					},
				}))
			}
		}
	}
	return l.base.RoundTrip(req)
}

// TestBenchmarkHooks checks the two instrumentation hooks: OnChildDecision fires on the engine's decision with
// the client order id of every child the venues received, and WrapTransport sees each of those orders written to
// the wire after its decision.
func TestBenchmarkHooks(t *testing.T) {
	var mu sync.Mutex
	decided := map[string]time.Time{}
	wire := &wireLog{at: map[string]time.Time{}}
	// Taker children, as the throughput benchmark these hooks serve sends: a post-only child that would cross is
	// refused by Binance without a record (-5022), so the venue's orders would not match the report's count.
	a := startDaemonOpts(t, 100, func(c *config.Config) { c.TWAP.Execution = "taker" }, app.Options{
		OnChildDecision: func(id string, at time.Time) {
			mu.Lock()
			decided[id] = at
			mu.Unlock()
		},
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			wire.base = rt
			return wire
		},
	})
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-hooks"), nil); code != http.StatusCreated {
		t.Fatalf("create: status %d", code)
	}
	rep := waitDone(t, a, "rb-hooks", 45*time.Second)
	mu.Lock()
	defer mu.Unlock()
	wire.mu.Lock()
	defer wire.mu.Unlock()
	if wire.n == 0 {
		t.Fatal("the wrapped transport saw no request")
	}
	orders := 0
	for _, name := range []string{"a", "b"} {
		for _, o := range a.Mocks().Venue(name).Control.Orders() {
			orders++
			at, ok := decided[o.ClientOrderID]
			if !ok {
				t.Errorf("%s order %s: no decision reported", name, o.ClientOrderID)
				continue
			}
			w, ok := wire.at[o.ClientOrderID]
			if !ok {
				t.Errorf("%s order %s: not seen written to the wire", name, o.ClientOrderID)
				continue
			}
			if w.Before(at) {
				t.Errorf("%s order %s written %s before its decision", name, o.ClientOrderID, at.Sub(w))
			}
		}
	}
	if orders == 0 || orders != rep.ChildOrders {
		t.Fatalf("venues hold %d orders, the report counts %d", orders, rep.ChildOrders)
	}
	if len(decided) < orders {
		t.Fatalf("%d decisions for %d orders", len(decided), orders)
	}
}
