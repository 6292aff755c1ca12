package binance

import (
	"net/http"
	"net/url"
	"testing"
)

func TestLimitsTable(t *testing.T) {
	tb := Limits()
	cost := func(method, path string, q url.Values) map[string]int {
		out := map[string]int{}
		for _, d := range tb.Cost(method, path, q) {
			out[d.Limit] += d.N
		}
		return out
	}
	if c := cost("POST", "/fapi/v1/order", nil); c["weight"] != 0 || c["orders-10s"] != 1 || c["orders-1m"] != 1 {
		t.Fatalf("new order: %v", c)
	}
	if c := cost("GET", "/fapi/v2/positionRisk", nil); c["weight"] != 5 || c["orders-10s"] != 0 {
		t.Fatalf("positionRisk: %v", c)
	}
	if c := cost("GET", "/fapi/v1/openOrders", url.Values{}); c["weight"] != 40 {
		t.Fatalf("openOrders without a symbol: %v", c)
	}
	if c := cost("GET", "/fapi/v1/openOrders", url.Values{"symbol": {"BTCUSDT"}}); c["weight"] != 1 {
		t.Fatalf("openOrders with a symbol: %v", c)
	}
	h := http.Header{}
	h.Set("X-MBX-USED-WEIGHT-1M", "2300")
	h.Set("X-MBX-ORDER-COUNT-10S", "12")
	used := map[string]int{}
	for _, u := range tb.Usage("GET", "/fapi/v1/order", h) {
		used[u.Limit] = u.Used
	}
	if used["weight"] != 2300 || used["orders-10s"] != 12 || len(used) != 2 {
		t.Fatalf("usage %v", used)
	}
	if tb.Stops[429] == 0 || tb.Stops[418] == 0 {
		t.Fatal("429 and 418 must stop requests")
	}
}
