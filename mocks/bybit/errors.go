package bybit

import (
	"fmt"
	"net/http"
)

// apiError is a Bybit error answer: the HTTP status (200 for most business errors) and retCode/retMsg.
type apiError struct {
	Status int
	Code   int
	Msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("http %d retCode %d: %s", e.Status, e.Code, e.Msg)
}

func errParams(format string, args ...any) *apiError {
	return &apiError{http.StatusOK, 10001, fmt.Sprintf(format, args...)}
}

// The retCodes the mock answers with, from https://bybit-exchange.github.io/docs/v5/error.
var (
	errAPIKey  = &apiError{http.StatusUnauthorized, 10003, "API key is invalid."}
	errSign    = &apiError{http.StatusOK, 10004, "error sign! please check your signature generation algorithm."}
	errTooMany = &apiError{http.StatusOK, 10006, "Too many visits. Exceeded the API Rate Limit."}
	errServer  = &apiError{http.StatusServiceUnavailable, 10016, "Server error."}
	// errMaintenance answers every request while an injected maintenance lasts. Bybit's v5 "Error Codes" page gives
	// 10016 as its server error and, in its websocket-trade table, as the code of a service that is restarting; the
	// page's HTTP-status table has no 5xx, so the code comes in the usual envelope with HTTP 200.
	errMaintenance  = &apiError{http.StatusOK, 10016, "Server error."}
	errNoOrder      = &apiError{http.StatusOK, 110001, "order not exists or too late to cancel"}
	errNoAmend      = &apiError{http.StatusOK, 110001, "order not exists or too late to replace"}
	errUnchanged    = &apiError{http.StatusOK, 10001, "The order remains unchanged as the parameters entered match the existing ones."}
	errAmendFilled  = &apiError{http.StatusOK, 110064, "The modified contract quantity cannot be less than or equal to the filled quantity."}
	errBalance      = &apiError{http.StatusOK, 110007, "ab not enough for new order"}
	errReduceOnly   = &apiError{http.StatusOK, 110017, "Reduce-only rule not satisfied"}
	errDuplicate    = &apiError{http.StatusOK, 110072, "OrderLinkedID is duplicate"}
	errQtyMin       = &apiError{http.StatusOK, 10001, "The number of contracts exceeds minimum limit allowed"}
	errQtyMax       = &apiError{http.StatusOK, 10001, "The number of contracts exceeds maximum limit allowed"}
	errPriceRange   = &apiError{http.StatusOK, 110003, "Order price exceeds the allowable range."}
	errSymbol       = &apiError{http.StatusOK, 10001, "params error: symbol invalid"}
	errCategory     = &apiError{http.StatusOK, 10001, "params error: category only support linear"}
	errPositionMode = &apiError{http.StatusOK, 10001, "position idx not match position mode"}
)

func errMinValue(min string) *apiError {
	return &apiError{http.StatusOK, 110094, fmt.Sprintf("Order does not meet minimum order value %sUSDT", min)}
}

// errRecvWindow is 10002, a request whose timestamp is outside the receive window of the venue's clock; the venue's
// message names the request's timestamp, its own and the window, so a client can see its offset.
func errRecvWindow(reqTs, serverTs, window int64) *apiError {
	return &apiError{http.StatusOK, 10002, fmt.Sprintf("invalid request, please check your server timestamp or recv_window param. "+
		"req_timestamp[%d],server_timestamp[%d],recv_window[%d]", reqTs, serverTs, window)}
}
