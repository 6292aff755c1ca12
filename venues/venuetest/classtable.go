package venuetest

import (
	"fmt"
	"testing"

	"github.com/execd-dev/execd/venues"
)

// ClassCase is one venue answer and the class it must map to.
type ClassCase struct {
	Venue    string // "binance", "bybit", "okx"
	Status   int    // HTTP status, 0 if none
	Code     string // venue error code, "" if none
	Want     venues.Class
	NotFound bool // the answer says the order does not exist
	Note     string
}

// ErrorTable is the shared table of venue error answers.
func ErrorTable() []ClassCase {
	const b = "binance"
	return []ClassCase{
		{b, 429, "-1003", venues.Retryable, false, "request weight over the limit"},
		{b, 418, "-1003", venues.Retryable, false, "IP banned after repeated 429s"},
		{b, 429, "-1015", venues.Retryable, false, "too many new orders (10 s / 1 min)"},
		{b, 429, "", venues.Retryable, false, "429 without a body"},
		{b, 400, "-1021", venues.Retryable, false, "timestamp outside recvWindow: refused before processing; resync clock"},
		{b, 503, "-1008", venues.Retryable, false, "request throttled by system protection, not processed"},
		{b, 503, "", venues.Unknown, false, "service unavailable: execution status unknown"},
		{b, 500, "", venues.Unknown, false, "internal error"},
		{b, 502, "", venues.Unknown, false, "bad gateway"},
		{b, 503, "-1001", venues.Unknown, false, "disconnected"},
		{b, 400, "-1000", venues.Unknown, false, "unknown error while processing"},
		{b, 400, "-1006", venues.Unknown, false, "unexpected response from message bus: execution status unknown"},
		{b, 408, "-1007", venues.Unknown, false, "backend timeout: send and execution status unknown"},
		{b, 400, "-1022", venues.Rejected, false, "bad signature"},
		{b, 401, "-2014", venues.Rejected, false, "API-key format invalid"},
		{b, 401, "-2015", venues.Rejected, false, "invalid API-key, IP, or permissions"},
		{b, 400, "-1102", venues.Rejected, false, "mandatory parameter missing"},
		{b, 400, "-1111", venues.Rejected, false, "precision over the maximum"},
		{b, 400, "-1115", venues.Rejected, false, "invalid timeInForce"},
		{b, 400, "-1116", venues.Rejected, false, "invalid orderType"},
		{b, 400, "-1117", venues.Rejected, false, "invalid side"},
		{b, 400, "-1121", venues.Rejected, false, "invalid symbol"},
		{b, 400, "-2019", venues.Rejected, false, "margin is insufficient"},
		{b, 400, "-2022", venues.Rejected, false, "reduce-only order would increase the position"},
		{b, 400, "-4003", venues.Rejected, false, "quantity less than zero"},
		{b, 400, "-4014", venues.Rejected, false, "price not increased by tick size"},
		{b, 400, "-4116", venues.Rejected, false, "clientOrderId duplicated among open orders"},
		{b, 400, "-4164", venues.Rejected, false, "notional below the minimum (reduce-only exempt)"},
		{b, 400, "-2013", venues.Rejected, true, "order does not exist (query)"},
		{b, 400, "-2011", venues.Rejected, true, "unknown order sent (cancel of unknown or final order)"},
		{b, 400, "-5025", venues.Rejected, false, "modify: only limit orders can be modified"},
		{b, 400, "-5027", venues.Rejected, false, "modify: no need to modify the order (nothing changes)"},
		{b, 400, "-5022", venues.Rejected, false, "GTX (post-only) order would execute as taker: refused, not recorded"},
		{b, 503, "-5022", venues.Rejected, false, "the -5022 refusal is a refusal whatever the status"},
		{b, 404, "", venues.Rejected, false, "not found: wrong path"},
		// OKX v5 (okx.com/docs-v5, "Error Code"): business errors come with HTTP 200 and a code; per-order ones as sCode.
		{"okx", 429, "50011", venues.Retryable, false, "rate limit reached"},
		{"okx", 429, "", venues.Retryable, false, "429 without a body"},
		{"okx", 200, "50061", venues.Retryable, false, "sub-account rate limit reached"},
		{"okx", 401, "50102", venues.Retryable, false, "timestamp request expired: refused before processing; resync clock"},
		{"okx", 401, "50112", venues.Retryable, false, "invalid OK-ACCESS-TIMESTAMP"},
		{"okx", 503, "50001", venues.Unknown, false, "service temporarily unavailable"},
		{"okx", 400, "50004", venues.Unknown, false, "endpoint request timeout: does not mean success or failure"},
		{"okx", 200, "50013", venues.Unknown, false, "system is busy"},
		{"okx", 500, "50026", venues.Unknown, false, "system error"},
		{"okx", 502, "", venues.Unknown, false, "bad gateway"},
		{"okx", 401, "50111", venues.Rejected, false, "invalid OK-ACCESS-KEY"},
		{"okx", 401, "50113", venues.Rejected, false, "invalid sign"},
		{"okx", 401, "50105", venues.Rejected, false, "OK-ACCESS-PASSPHRASE incorrect"},
		{"okx", 200, "51000", venues.Rejected, false, "parameter error"},
		{"okx", 200, "51001", venues.Rejected, false, "instrument ID does not exist"},
		{"okx", 200, "51008", venues.Rejected, false, "insufficient balance / margin"},
		{"okx", 200, "51016", venues.Rejected, false, "duplicated clOrdId"},
		{"okx", 200, "51020", venues.Rejected, false, "order amount below the minimum"},
		{"okx", 200, "51121", venues.Rejected, false, "order quantity not a multiple of the lot size"},
		{"okx", 200, "51169", venues.Rejected, false, "reduce-only: no position in this direction to reduce"},
		{"okx", 200, "51400", venues.Rejected, false, "cancel failed: filled, canceled or does not exist (adapter queries)"},
		{"okx", 200, "51603", venues.Rejected, true, "order does not exist"},
		{"okx", 200, "51500", venues.Rejected, false, "amend: either order price or amount is required"},
		{"okx", 200, "51502", venues.Rejected, false, "amend: insufficient margin"},
		{"okx", 200, "51503", venues.Rejected, false, "amend: order does not exist (or has ended; adapter queries)"},
		{"okx", 200, "51509", venues.Rejected, false, "amend: the order has been canceled (adapter queries)"},
		{"okx", 200, "51510", venues.Rejected, false, "amend: the order has been completed (adapter queries)"},
		{"okx", 200, "51511", venues.Rejected, false, "amend: new price would make a post_only order take liquidity; order unchanged"},
		{"okx", 404, "", venues.Rejected, false, "not found: wrong path"},
		// Bybit v5 (https://bybit-exchange.github.io/docs/v5/error, /v5/rate-limit): business errors come with HTTP 200.
		{"bybit", 200, "10006", venues.Retryable, false, "per-UID API rate limit: Too many visits"},
		{"bybit", 200, "10018", venues.Retryable, false, "per-IP rate limit exceeded"},
		{"bybit", 403, "", venues.Retryable, false, "IP rate limit: access too frequent"},
		{"bybit", 429, "", venues.Retryable, false, "system-level frequency protection"},
		{"bybit", 200, "10002", venues.Retryable, false, "timestamp outside recv_window: refused; resync clock"},
		{"bybit", 200, "10000", venues.Unknown, false, "server timeout: may have been processed"},
		{"bybit", 200, "10016", venues.Unknown, false, "server error or restarting"},
		{"bybit", 503, "10016", venues.Unknown, false, "service unavailable"},
		{"bybit", 500, "", venues.Unknown, false, "internal error"},
		{"bybit", 502, "", venues.Unknown, false, "bad gateway"},
		{"bybit", 504, "", venues.Unknown, false, "gateway timeout"},
		{"bybit", 200, "10001", venues.Rejected, false, "request parameter error"},
		{"bybit", 401, "10003", venues.Rejected, false, "API key invalid"},
		{"bybit", 200, "10003", venues.Rejected, false, "API key invalid (HTTP 200)"},
		{"bybit", 200, "10004", venues.Rejected, false, "sign error"},
		{"bybit", 200, "10005", venues.Rejected, false, "permission denied"},
		{"bybit", 200, "10010", venues.Rejected, false, "unmatched IP"},
		{"bybit", 200, "110003", venues.Rejected, false, "order price out of range"},
		{"bybit", 200, "110007", venues.Rejected, false, "insufficient available balance"},
		{"bybit", 200, "110017", venues.Rejected, false, "reduce-only rule not satisfied"},
		{"bybit", 200, "110072", venues.Rejected, false, "orderLinkId duplicate"},
		{"bybit", 200, "110094", venues.Rejected, false, "order value below the minimum"},
		{"bybit", 200, "110001", venues.Rejected, true, "order does not exist or too late to cancel / replace (amend queries)"},
		{"bybit", 200, "110064", venues.Rejected, false, "amend: quantity not above the filled quantity"},
		{"bybit", 404, "", venues.Rejected, false, "wrong path or category"},
	}
}

// RunClassTable checks classify against every row of the table for venue.
func RunClassTable(t *testing.T, venue string, classify func(status int, code string) venues.Class) {
	t.Helper()
	n := 0
	for _, c := range ErrorTable() {
		if c.Venue != venue {
			continue
		}
		n++
		t.Run(fmt.Sprintf("%d_%s", c.Status, c.Code), func(t *testing.T) {
			if got := classify(c.Status, c.Code); got != c.Want {
				t.Errorf("status %d code %q (%s): got %s, want %s", c.Status, c.Code, c.Note, got, c.Want)
			}
		})
	}
	if n == 0 {
		t.Fatalf("no error-table rows for venue %q", venue)
	}
}
