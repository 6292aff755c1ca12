package httpx

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/execd-dev/execd/venues"
)

func byStatus(status int) venues.Class {
	if status == http.StatusTooManyRequests {
		return venues.Retryable
	}
	if status >= 500 {
		return venues.Unknown
	}
	return venues.Rejected
}

func TestRecorderStatusAndWrote(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	hc := NewClient(nil)
	ctx, info := WithInfo(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if info.Status() != 503 || !info.Wrote() {
		t.Fatalf("status %d wrote %v", info.Status(), info.Wrote())
	}
	if c := Class(info, true, byStatus); c != venues.Unknown {
		t.Fatalf("class %s", c)
	}
}

func TestNeverSentIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL + "/x?signature=abc&timestamp=1"
	srv.Close()
	hc := NewClient(nil)
	ctx, info := WithInfo(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	_, err := hc.Do(req)
	if err == nil {
		t.Fatal("want an error")
	}
	e := TransportError("v", "op", info, true, byStatus, err)
	if e.Class != venues.Retryable || strings.Contains(e.Error(), "signature") {
		t.Fatalf("error %v", e)
	}
}

func TestWrittenNoAnswerIsUnknown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }))
	defer srv.Close()
	hc := NewClient(nil)
	ctx, info := WithInfo(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"?sign=zzz", strings.NewReader("x"))
	_, err := hc.Do(req)
	if err == nil {
		t.Fatal("want an error")
	}
	if c := Class(info, true, byStatus); c != venues.Unknown {
		t.Fatalf("class %s", c)
	}
	var ue *url.Error
	if s := Sanitize(err); !errors.As(s, &ue) || strings.Contains(s.Error(), "zzz") {
		t.Fatalf("sanitized %v", s)
	}
}

func TestRedact(t *testing.T) {
	if got := Redact("key s3cret and pass", "s3cret", ""); got != "key [redacted] and pass" {
		t.Fatal(got)
	}
}

// An operation that makes two requests with one Info is classified by the second: an answered first request does
// not make an unsent second one look answered.
func TestInfoDescribesTheLatestRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	refuse := errors.New("not sent")
	first := true
	c := NewClient(&http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if first {
			first = false
			return http.DefaultTransport.RoundTrip(req)
		}
		return nil, refuse
	})})
	ctx, info := WithInfo(context.Background())
	for i := 0; i < 2; i++ {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	if info.Status() != 0 || info.Wrote() {
		t.Fatalf("status %d wrote %v: the first request's answer leaked into the second's", info.Status(), info.Wrote())
	}
	if got := Class(info, false, func(int) venues.Class { return venues.Rejected }); got != venues.Retryable {
		t.Fatalf("class %s, want retryable", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
