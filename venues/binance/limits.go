package binance

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/execd-dev/execd/venues/ratelimit"
)

// Limits are Binance USDⓈ-M futures' published limits (2,400 request weight per minute, 300 orders per 10 s and
// 1,200 per minute) and each endpoint's weight, as its API docs give them, with the X-MBX-* answer headers that
// say how much is used. A 429 carries Retry-After; a 418 is an IP ban (Retry-After gives its end).
func Limits() ratelimit.Table {
	const weight, o10s, o1m = "weight", "orders-10s", "orders-1m"
	w := func(n int) []ratelimit.Draw { return []ratelimit.Draw{{Limit: weight, N: n}} }
	bySymbol := func(q url.Values, with, without int) []ratelimit.Draw {
		if q.Get("symbol") != "" {
			return w(with)
		}
		return w(without)
	}
	return ratelimit.Table{
		Limits: []ratelimit.Limit{{Name: weight, N: 2400, Window: time.Minute}, {Name: o10s, N: 300, Window: 10 * time.Second},
			{Name: o1m, N: 1200, Window: time.Minute}},
		Cost: func(method, path string, q url.Values) []ratelimit.Draw {
			switch method + " " + path {
			case "POST /fapi/v1/order": // weight 0 on the IP limit; one order on each order limit
				return []ratelimit.Draw{{Limit: o10s, N: 1}, {Limit: o1m, N: 1}}
			case "PUT /fapi/v1/order":
				return []ratelimit.Draw{{Limit: weight, N: 1}, {Limit: o10s, N: 1}, {Limit: o1m, N: 1}}
			case "GET /fapi/v1/openOrders":
				return bySymbol(q, 1, 40)
			case "GET /fapi/v1/ticker/24hr":
				return bySymbol(q, 1, 40)
			case "GET /fapi/v1/premiumIndex":
				return bySymbol(q, 1, 10)
			case "GET /fapi/v1/allOrders", "GET /fapi/v1/userTrades", "GET /fapi/v2/positionRisk", "GET /fapi/v3/positionRisk",
				"GET /fapi/v2/account", "GET /fapi/v3/account", "GET /fapi/v2/balance", "GET /fapi/v3/balance", "GET /fapi/v1/trades":
				return w(5)
			case "GET /fapi/v1/depth":
				switch n, _ := strconv.Atoi(q.Get("limit")); {
				case n == 0 || n > 100 && n <= 500:
					return w(10)
				case n <= 50:
					return w(2)
				case n <= 100:
					return w(5)
				}
				return w(20)
			}
			return w(1)
		},
		Usage: func(method, path string, h http.Header) []ratelimit.Usage {
			var out []ratelimit.Usage
			for name, header := range map[string]string{weight: "X-Mbx-Used-Weight-1m", o10s: "X-Mbx-Order-Count-10s", o1m: "X-Mbx-Order-Count-1m"} {
				if v := h.Get(header); v != "" {
					if n, err := strconv.Atoi(v); err == nil && n >= 0 {
						out = append(out, ratelimit.Usage{Limit: name, Used: n})
					}
				}
			}
			return out
		},
		Stops: map[int]time.Duration{http.StatusTooManyRequests: time.Second, http.StatusTeapot: 2 * time.Minute},
	}
}
