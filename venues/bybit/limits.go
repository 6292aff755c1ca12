package bybit

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/execd-dev/execd/venues/ratelimit"
)

// Limits are Bybit v5's published limits for a unified account's linear trading: order create, amend and cancel
// 10 per second, the other private endpoints 50 per second (per UID), and 600 requests per 5 s per IP; an answer
// says what is left of its endpoint's limit in X-Bapi-Limit-Status. Past the IP limit Bybit answers 403 and
// refuses the address for a while without saying how long: a minute here.
func Limits() ratelimit.Table {
	const orders, private, ip = "orders", "private", "ip"
	isOrder := func(path string) bool {
		return path == "/v5/order/create" || path == "/v5/order/amend" || path == "/v5/order/cancel"
	}
	isPrivate := func(path string) bool {
		for _, p := range []string{"/v5/order/", "/v5/execution/", "/v5/position/", "/v5/account/", "/v5/user/"} {
			if strings.HasPrefix(path, p) {
				return true
			}
		}
		return false
	}
	return ratelimit.Table{
		Limits: []ratelimit.Limit{{Name: orders, N: 10, Window: time.Second}, {Name: private, N: 50, Window: time.Second},
			{Name: ip, N: 600, Window: 5 * time.Second}},
		Cost: func(method, path string, q url.Values) []ratelimit.Draw {
			switch {
			case isOrder(path):
				return []ratelimit.Draw{{Limit: orders, N: 1}, {Limit: ip, N: 1}}
			case isPrivate(path):
				return []ratelimit.Draw{{Limit: private, N: 1}, {Limit: ip, N: 1}}
			}
			return []ratelimit.Draw{{Limit: ip, N: 1}}
		},
		Usage: func(method, path string, h http.Header) []ratelimit.Usage {
			v := h.Get("X-Bapi-Limit-Status")
			n, err := strconv.Atoi(v)
			if v == "" || err != nil || n < 0 {
				return nil
			}
			limit := private
			if isOrder(path) {
				limit = orders
			}
			return []ratelimit.Usage{{Limit: limit, Left: n, Remaining: true}}
		},
		Stops: map[int]time.Duration{http.StatusForbidden: time.Minute, http.StatusTooManyRequests: time.Second},
	}
}
