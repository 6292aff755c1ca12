package binance

import (
	"fmt"
	"net/http"
	"time"
)

// apiError is a Binance error answer: an HTTP status and the {"code","msg"} body.
type apiError struct {
	Status int
	Code   int64
	Msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("http %d code %d: %s", e.Status, e.Code, e.Msg) }

func errf(status int, code int64, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// The error answers the mock gives, with the real venue's codes and messages.
// errBanned is Binance's answer to a banned address: HTTP 418, code -1003.
func errBanned(until time.Time) *apiError {
	return errf(http.StatusTeapot, -1003, "Way too many requests; IP banned until %d. Please use the websocket for live updates to avoid bans.", until.UnixMilli())
}

func errMandatory(param string) *apiError {
	return errf(http.StatusBadRequest, -1102, "Mandatory parameter '%s' was not sent, was empty/null, or malformed.", param)
}

func errIllegal(param string) *apiError {
	return errf(http.StatusBadRequest, -1100, "Illegal characters found in parameter '%s'.", param)
}

var (
	errBadKeyFormat = &apiError{http.StatusUnauthorized, -2014, "API-key format invalid."}
	errRejectedKey  = &apiError{http.StatusUnauthorized, -2015, "Invalid API-key, IP, or permissions for action."}
	errSignature    = &apiError{http.StatusBadRequest, -1022, "Signature for this request is not valid."}
	errRecvWindow   = &apiError{http.StatusBadRequest, -1021, "Timestamp for this request is outside of the recvWindow."}
	errAhead        = &apiError{http.StatusBadRequest, -1021, "Timestamp for this request was 1000ms ahead of the server's time."}
	errPrecision    = &apiError{http.StatusBadRequest, -1111, "Precision is over the maximum defined for this asset."}
	errTick         = &apiError{http.StatusBadRequest, -4014, "Price not increased by tick size."}
	errStep         = &apiError{http.StatusBadRequest, -4023, "Quantity not increased by step size."}
	errQtyZero      = &apiError{http.StatusBadRequest, -4003, "Quantity less than zero."}
	errQtyMin       = &apiError{http.StatusBadRequest, -4004, "Quantity less than min quantity."}
	errQtyMax       = &apiError{http.StatusBadRequest, -4005, "Quantity greater than max quantity."}
	errPriceZero    = &apiError{http.StatusBadRequest, -4001, "Price less than 0."}
	errPriceMin     = &apiError{http.StatusBadRequest, -4013, "Price less than min price."}
	errPriceMax     = &apiError{http.StatusBadRequest, -4002, "Price greater than max price."}
	errOrderType    = &apiError{http.StatusBadRequest, -1116, "Invalid orderType."}
	errTIF          = &apiError{http.StatusBadRequest, -1115, "Invalid timeInForce."}
	errSide         = &apiError{http.StatusBadRequest, -1117, "Invalid side."}
	errSymbol       = &apiError{http.StatusBadRequest, -1121, "Invalid symbol."}
	errRespType     = &apiError{http.StatusBadRequest, -1136, "Invalid newOrderRespType."}
	errClientID     = &apiError{http.StatusBadRequest, -4015, "Client order id is not valid."}
	errDuplicate    = &apiError{http.StatusBadRequest, -4116, "ClientOrderId is duplicated."}
	errReduceOnly   = &apiError{http.StatusBadRequest, -2022, "ReduceOnly Order is rejected."}
	errMargin       = &apiError{http.StatusBadRequest, -2019, "Margin is insufficient."}
	errNoSuchOrder  = &apiError{http.StatusBadRequest, -2013, "Order does not exist."}
	errUnknownOrder = &apiError{http.StatusBadRequest, -2011, "Unknown order sent."}
	errListenKey    = &apiError{http.StatusBadRequest, -1125, "This listenKey does not exist."}
	errModifyLimit  = &apiError{http.StatusBadRequest, -5025, "Only limit order is supported."}
	errNoModify     = &apiError{http.StatusBadRequest, -5027, "No need to modify the order."}
	// errGTXReject refuses a post-only (GTX) order that would execute as taker; the USDⓈ-M "Error Codes" page lists
	// it as -5022 GTX_ORDER_REJECT, and the venue keeps no record of the order.
	errGTXReject = &apiError{http.StatusBadRequest, -5022, "Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history"}
	errTooMany   = &apiError{http.StatusTooManyRequests, -1003, "Too many requests; current limit is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API."}
	errInternal  = &apiError{http.StatusServiceUnavailable, -1001, "Internal error; unable to process your request. Please try again."}
	errTimeout   = &apiError{http.StatusServiceUnavailable, -1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown."}
	// errMaintenance answers every request while an injected maintenance lasts. The USDⓈ-M futures "General Info"
	// page (HTTP return codes) names three 503 answers; of those, the one with this message (code -1001,
	// DISCONNECTED, on the "Error Codes" page) is a request that failed without being processed and may be sent
	// again — what a venue that is down for maintenance gives. The page's other failure wording, "Service
	// Unavailable.", comes with no documented code, so the mock does not use it.
	errMaintenance = errInternal
)

func errMinNotional(min string) *apiError {
	return errf(http.StatusBadRequest, -4164, "Order's notional must be no smaller than %s (unless you choose reduce only).", min)
}

func errTooManyOrders(limit int, window string) *apiError {
	return errf(http.StatusTooManyRequests, -1015, "Too many new orders; current limit is %d orders per %s.", limit, window)
}
