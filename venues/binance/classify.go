package binance

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/adshao/go-binance/v2/common"

	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/httpx"
)

// Classify maps an HTTP status and a Binance error code (0 if none) to what the caller may do next.
func Classify(status int, code int64) venues.Class {
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusTeapot:
		return venues.Retryable
	case code == -1003 || code == -1015 || code == -1008: // rate limits, system throttle: not processed
		return venues.Retryable
	case code == -1021: // timestamp outside recvWindow: rejected before processing (clock skew)
		return venues.Retryable
	case code == codeGTXReject: // a business refusal, whatever the status: nothing was executed or recorded
		return venues.Rejected
	case status >= 500:
		return venues.Unknown
	case code == -1000 || code == -1001 || code == -1006 || code == -1007: // "execution status unknown"
		return venues.Unknown
	case status >= 400:
		return venues.Rejected
	}
	return venues.Unknown
}

// codeGTXReject is Binance's refusal of a post-only (GTX) order that would execute as taker.
const codeGTXReject = -5022

// notFound reports whether a code says the order does not exist (query) or is not open (cancel).
func notFound(code int64) bool { return code == -2013 || code == -2011 }

// classify turns the error of one call into a *venues.Error. mutating says whether the call changes state at the
// venue (place, cancel), which decides the class of a 2xx answer that could not be parsed.
func (a *Adapter) classify(op string, info *httpx.Info, mutating bool, err error) error {
	var apiErr *common.APIError
	if !errors.As(err, &apiErr) {
		return httpx.TransportError(a.cfg.Name, op, info, mutating, func(status int) venues.Class { return Classify(status, 0) }, err)
	}
	e := &venues.Error{Venue: a.cfg.Name, Op: op, Status: info.Status(), Class: Classify(info.Status(), apiErr.Code),
		Msg: apiErr.Message}
	if apiErr.Code != 0 {
		e.Code = strconv.FormatInt(apiErr.Code, 10)
	}
	if !apiErr.IsValid() {
		e.Msg = "unparseable error body"
	}
	if notFound(apiErr.Code) {
		e.Err = venues.ErrNotFound
	}
	return e
}

// badPayload is the error for a 2xx answer whose content the adapter cannot translate.
func (a *Adapter) badPayload(op string, mutating bool, err error) error {
	return httpx.BadPayload(a.cfg.Name, op, mutating, err)
}
