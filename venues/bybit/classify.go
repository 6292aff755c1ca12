package bybit

import (
	"net/http"

	"github.com/execd-dev/execd/venues"
)

// Bybit v5 retCodes the adapter acts on (https://bybit-exchange.github.io/docs/v5/error).
const (
	codeOK            = 0
	codeServerTimeout = 10000 // server timeout: the request may have been processed
	codeParams        = 10001
	codeTimeWindow    = 10002 // timestamp outside recv_window: refused before processing
	codeAPIKey        = 10003
	codeSign          = 10004
	codeTooMany       = 10006 // per-UID API rate limit (HTTP 200)
	codeServerError   = 10016 // server error or restarting
	codeIPLimit       = 10018 // per-IP rate limit
	codeNoOrder       = 110001
)

// Classify maps an HTTP status and a Bybit retCode (0 if none) to what the caller may do next:
//   - rate limits (retCode 10006 / 10018, HTTP 403 "access too frequent", HTTP 429 system protection) and a
//     timestamp outside the recv window (10002) were refused before processing: Retryable;
//   - 5xx, server timeout (10000) and server error (10016) may have been acted on: Unknown;
//   - every other retCode, and other 4xx, is a refusal: Rejected (110001 "order does not exist" too; callers wrap
//     venues.ErrNotFound for it).
func Classify(status int, retCode int) venues.Class {
	switch retCode {
	case codeTooMany, codeIPLimit, codeTimeWindow:
		return venues.Retryable
	case codeServerTimeout, codeServerError:
		return venues.Unknown
	}
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusForbidden:
		return venues.Retryable
	case status >= 500:
		return venues.Unknown
	}
	return venues.Rejected
}

// classifyStatus classifies an HTTP status without a readable body.
func classifyStatus(status int) venues.Class { return Classify(status, codeOK) }
