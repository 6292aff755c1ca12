package binance

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync"

	"github.com/adshao/go-binance/v2/common"

	"execd/venues"
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
	case status >= 500:
		return venues.Unknown
	case code == -1000 || code == -1001 || code == -1006 || code == -1007: // "execution status unknown"
		return venues.Unknown
	case status >= 400:
		return venues.Rejected
	}
	return venues.Unknown
}

// notFound reports whether a code says the order does not exist (query) or is not open (cancel).
func notFound(code int64) bool { return code == -2013 || code == -2011 }

// callInfo is what the recording transport learned about one call.
type callInfo struct {
	mu     sync.Mutex
	status int
	wrote  bool
}

func (c *callInfo) get() (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, c.wrote
}

type callInfoKey struct{}

// recorder is the RoundTripper the adapter puts around the injected client's transport: it records, in the
// callInfo of the request context, the response status and whether the request was fully written.
type recorder struct{ base http.RoundTripper }

func (t recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	info, _ := req.Context().Value(callInfoKey{}).(*callInfo)
	if info != nil {
		trace := &httptrace.ClientTrace{WroteRequest: func(w httptrace.WroteRequestInfo) {
			if w.Err == nil {
				info.mu.Lock()
				info.wrote = true
				info.mu.Unlock()
			}
		}}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	}
	resp, err := t.base.RoundTrip(req)
	if resp != nil && info != nil {
		info.mu.Lock()
		info.status = resp.StatusCode
		info.mu.Unlock()
	}
	return resp, err
}

// classify turns the error of one call into a *venues.Error. mutating says whether the call changes state at the
// venue (place, cancel), which decides the class of a 2xx answer that could not be parsed.
func (a *Adapter) classify(op string, info *callInfo, mutating bool, err error) error {
	status, wrote := info.get()
	e := &venues.Error{Venue: a.cfg.Name, Op: op, Status: status}
	var apiErr *common.APIError
	switch {
	case errors.As(err, &apiErr):
		e.Class = Classify(status, apiErr.Code)
		if apiErr.Code != 0 {
			e.Code = strconv.FormatInt(apiErr.Code, 10)
		}
		e.Msg = apiErr.Message
		if !apiErr.IsValid() {
			e.Msg = "unparseable error body"
		}
		if notFound(apiErr.Code) {
			e.Err = venues.ErrNotFound
		}
	case status >= 200 && status < 300:
		e.Msg = "cannot parse response"
		e.Err = sanitize(err)
		e.Class = venues.Rejected
		if mutating {
			e.Class = venues.Unknown
		}
	case status != 0:
		e.Class = Classify(status, 0)
		e.Err = sanitize(err)
	case wrote:
		e.Class = venues.Unknown // sent, no answer: the venue may have acted
		e.Err = sanitize(err)
	default:
		e.Class = venues.Retryable // never left: refused, DNS, ctx done before sending
		e.Err = sanitize(err)
	}
	return e
}

// badPayload is the error for a 2xx answer whose content the adapter cannot translate.
func (a *Adapter) badPayload(op string, mutating bool, err error) error {
	class := venues.Rejected
	if mutating {
		class = venues.Unknown
	}
	return &venues.Error{Venue: a.cfg.Name, Op: op, Class: class, Status: http.StatusOK, Msg: "cannot translate response", Err: err}
}

// sanitize strips the query (timestamp, signature) from URLs inside transport errors.
func sanitize(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	u := ue.URL
	if p, perr := url.Parse(u); perr == nil {
		p.RawQuery, p.Fragment, p.User = "", "", nil
		u = p.String()
	} else {
		u = "[redacted url]"
	}
	return &url.Error{Op: ue.Op, URL: u, Err: ue.Err}
}

// withInfo returns ctx carrying a fresh callInfo.
func withInfo(ctx context.Context) (context.Context, *callInfo) {
	info := &callInfo{}
	return context.WithValue(ctx, callInfoKey{}, info), info
}
