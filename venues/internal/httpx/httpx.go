package httpx

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/execd-dev/execd/venues"
)

// DefaultTimeout is the timeout of the client NewClient builds when given none.
const DefaultTimeout = 10 * time.Second

// Info is what the recording transport learned about one call. Safe for concurrent use.
type Info struct {
	mu     sync.Mutex
	status int
	wrote  bool
}

// Status is the HTTP status of the answer, 0 if none arrived.
func (i *Info) Status() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.status
}

// Wrote reports whether the request was fully written to the connection.
func (i *Info) Wrote() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.wrote
}

type infoKey struct{}

// WithInfo returns ctx carrying a fresh Info, which the Recorder fills for the request sent with that context.
func WithInfo(ctx context.Context) (context.Context, *Info) {
	info := &Info{}
	return context.WithValue(ctx, infoKey{}, info), info
}

// Recorder is a RoundTripper that records, in the Info of the request context (see WithInfo), the response status
// and whether the request was fully written, of the latest request sent with it. Requests without an Info pass through untouched.
type Recorder struct{ Base http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	info, _ := req.Context().Value(infoKey{}).(*Info)
	if info != nil {
		// An operation may make several requests with one Info: it describes the latest, the one that failed.
		info.mu.Lock()
		info.status, info.wrote = 0, false
		info.mu.Unlock()
		trace := &httptrace.ClientTrace{WroteRequest: func(w httptrace.WroteRequestInfo) {
			if w.Err == nil {
				info.mu.Lock()
				info.wrote = true
				info.mu.Unlock()
			}
		}}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	}
	resp, err := base.RoundTrip(req)
	if resp != nil && info != nil {
		info.mu.Lock()
		info.status = resp.StatusCode
		info.mu.Unlock()
	}
	return resp, err
}

// NewClient returns a copy of c (nil: a client with DefaultTimeout) whose transport is wrapped in a Recorder.
func NewClient(c *http.Client) *http.Client {
	hc := &http.Client{Timeout: DefaultTimeout}
	if c != nil {
		cp := *c
		hc = &cp
	}
	hc.Transport = Recorder{Base: hc.Transport}
	return hc
}

// Class is the class of a call that failed without a venue error the adapter could read, from what info recorded:
// a 2xx answer that could not be parsed is Unknown for a mutating call (the venue acted) and Rejected for a read
// (retrying would loop); another status is classified by byStatus; written without an answer is Unknown; never
// written is Retryable.
func Class(info *Info, mutating bool, byStatus func(status int) venues.Class) venues.Class {
	status, wrote := info.Status(), info.Wrote()
	switch {
	case status >= 200 && status < 300:
		if mutating {
			return venues.Unknown
		}
		return venues.Rejected
	case status != 0:
		return byStatus(status)
	case wrote:
		return venues.Unknown
	}
	return venues.Retryable
}

// TransportError builds the classified error of a call that failed without a readable venue error (see Class).
// err is sanitized.
func TransportError(venue, op string, info *Info, mutating bool, byStatus func(status int) venues.Class, err error) *venues.Error {
	e := &venues.Error{Venue: venue, Op: op, Status: info.Status(), Class: Class(info, mutating, byStatus), Err: Sanitize(err)}
	if e.Status >= 200 && e.Status < 300 {
		e.Msg = "cannot parse response"
	}
	return e
}

// BadPayload is the error for a 2xx answer whose content the adapter cannot translate: Unknown for a mutating
// call (the venue acted), Rejected for a read.
func BadPayload(venue, op string, mutating bool, err error) *venues.Error {
	class := venues.Rejected
	if mutating {
		class = venues.Unknown
	}
	return &venues.Error{Venue: venue, Op: op, Class: class, Status: http.StatusOK, Msg: "cannot translate response", Err: err}
}

// Sanitize strips the query, fragment and user info (timestamps, signatures, keys) from the URL of a *url.Error
// inside err; other errors are returned as they are.
func Sanitize(err error) error {
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

// Redact replaces every non-empty secret in s with [redacted].
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
