package okx

import (
	"net/http"
	"net/url"
	"time"

	"github.com/execd-dev/execd/venues/ratelimit"
)

// Limits are OKX v5's published per-endpoint limits, each per 2 s (orders 60 per instrument, positions and
// balance 10, instruments and tickers 20, ...); OKX answers a request past one with HTTP 429 and code 50011 and no
// Retry-After. The order limits are kept per endpoint, not per instrument: stricter than OKX's, never looser.
func Limits() ratelimit.Table {
	per2s := map[string]int{
		"POST /api/v5/trade/order": 60, "POST /api/v5/trade/batch-orders": 300, "POST /api/v5/trade/cancel-order": 60,
		"POST /api/v5/trade/amend-order": 60, "GET /api/v5/trade/order": 60, "GET /api/v5/trade/orders-pending": 60,
		"GET /api/v5/trade/orders-history": 40, "GET /api/v5/trade/fills": 60, "GET /api/v5/trade/fills-history": 10,
		"GET /api/v5/account/positions": 10, "GET /api/v5/account/balance": 10, "GET /api/v5/public/instruments": 20,
		"GET /api/v5/market/ticker": 20, "GET /api/v5/public/mark-price": 10, "GET /api/v5/public/funding-rate": 20,
		"GET /api/v5/market/books": 40, "GET /api/v5/public/time": 10,
	}
	var limits []ratelimit.Limit
	for name, n := range per2s {
		limits = append(limits, ratelimit.Limit{Name: name, N: n, Window: 2 * time.Second})
	}
	return ratelimit.Table{
		Limits: limits,
		Cost: func(method, path string, q url.Values) []ratelimit.Draw {
			key := method + " " + path
			if _, ok := per2s[key]; ok {
				return []ratelimit.Draw{{Limit: key, N: 1}}
			}
			return nil
		},
		Stops: map[int]time.Duration{http.StatusTooManyRequests: time.Second},
	}
}
