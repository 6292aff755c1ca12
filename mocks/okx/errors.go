package okx

import (
	"fmt"
	"net/http"
)

// apiError is an OKX error answer: HTTP status, top-level code and msg, and for per-order failures the data rows
// carrying sCode/sMsg.
type apiError struct {
	Status int
	Code   string
	Msg    string
	Data   []any
}

func (e *apiError) Error() string { return fmt.Sprintf("http %d code %s: %s", e.Status, e.Code, e.Msg) }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// The top-level errors the mock gives, with OKX's codes and HTTP statuses.
var (
	errKeyEmpty        = &apiError{http.StatusUnauthorized, "50103", `Request header "OK-ACCESS-KEY" cannot be empty.`, nil}
	errPassphraseEmpty = &apiError{http.StatusUnauthorized, "50104", `Request header "OK-ACCESS-PASSPHRASE" cannot be empty.`, nil}
	errPassphrase      = &apiError{http.StatusUnauthorized, "50105", `Request header "OK-ACCESS-PASSPHRASE" incorrect.`, nil}
	errSignEmpty       = &apiError{http.StatusUnauthorized, "50106", `Request header "OK-ACCESS-SIGN" cannot be empty.`, nil}
	errTimestampEmpty  = &apiError{http.StatusUnauthorized, "50107", `Request header "OK-ACCESS-TIMESTAMP" cannot be empty.`, nil}
	errKey             = &apiError{http.StatusUnauthorized, "50111", "Invalid OK-ACCESS-KEY", nil}
	errTimestamp       = &apiError{http.StatusUnauthorized, "50112", "Invalid OK-ACCESS-TIMESTAMP", nil}
	errExpired         = &apiError{http.StatusUnauthorized, "50102", "Timestamp request expired", nil}
	errSign            = &apiError{http.StatusUnauthorized, "50113", "Invalid Sign", nil}
	// errRateLimit is OKX's answer to a request over a rate limit: HTTP 429, code 50011, written without a data
	// array (see writeErr). OKX's API docs (rate limits, error codes) give no Retry-After, and none is sent.
	errRateLimit   = &apiError{http.StatusTooManyRequests, "50011", "Too Many Requests", nil}
	errUnavailable = &apiError{http.StatusServiceUnavailable, "50001", "Service temporarily unavailable. Try again later", nil}
	// errMaintenance answers every request while an injected maintenance lasts: in the general codes of the OKX v5
	// API "Error Code" page, 50001 at HTTP 503 is the service being unavailable for now (earlier versions of that
	// row described it as the matching engine being upgraded), as opposed to 50004 (a timeout whose outcome is
	// unknown) or 50013 (busy).
	errMaintenance = errUnavailable
	errJSON        = &apiError{http.StatusBadRequest, "50002", "JSON syntax error", nil}
	errNoOrder     = &apiError{http.StatusOK, "51603", "Order does not exist", nil}
	errInstrument  = &apiError{http.StatusOK, "51001", "Instrument ID does not exist", nil}
)

func errEmpty(param string) *apiError {
	return errf(http.StatusOK, "50014", "Parameter %s can not be empty.", param)
}

func errParam(param string) *apiError {
	return errf(http.StatusOK, "51000", "Parameter %s error", param)
}

// Per-order failure codes (sCode).
const (
	sParam       = "51000" // Parameter {param0} error
	sInstrument  = "51001" // Instrument ID does not exist
	sBalance     = "51008" // Order failed. Insufficient USDT margin in account
	sDuplicate   = "51016" // Duplicated clOrdId
	sMinSize     = "51020" // Order amount should be greater than the min available amount
	sLotSize     = "51121" // Order quantity must be a multiple of the lot size
	sReduceOnly  = "51169" // no position in this direction to reduce or close
	sCancelFinal = "51400" // cancellation failed: the order has been filled, canceled or does not exist
	sAmendNoArg  = "51500" // Either order price or amount is required
	sAmendMargin = "51502" // Order modification failed for insufficient margin
	sAmendNone   = "51503" // Order modification failed as the order does not exist
	sAmendCxl    = "51509" // Modification failed as the order has been canceled
	sAmendDone   = "51510" // Modification failed as the order has been completed
	// sAmendPostOnly refuses an amendment whose new price would make a post_only order take liquidity (the "Error
	// Code" page of the v5 docs); the order stays as it was.
	sAmendPostOnly = "51511"
)

// msgBalance is the sMsg of sBalance for the account's USDT margin.
const msgBalance = "Order failed. Insufficient USDT margin in account"

// orderFailed is the answer to a place, amend or cancel that failed for the order: code "1", the reason in data[0].
func orderFailed(clOrdID, ordID, sCode, sMsg string) *apiError {
	return &apiError{Status: http.StatusOK, Code: "1", Msg: "All operations failed",
		Data: []any{map[string]any{"clOrdId": clOrdID, "ordId": ordID, "tag": "", "ts": "", "sCode": sCode, "sMsg": sMsg}}}
}
