package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Client calls a daemon's v1 API with a bearer token: what the demo and the benchmarks use, and the shape a
// rebalancer's client takes. Safe for concurrent use.
type Client struct {
	Base  string // e.g. "http://127.0.0.1:8080"
	Token string
	HTTP  *http.Client
}

// StatusError is a 4xx or 5xx answer: its status and the API's error code and message (empty when the body was
// not the API's error body).
type StatusError struct {
	Method, Path  string
	Status        int
	Code, Message string
}

func (e *StatusError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("%s %s: status %d", e.Method, e.Path, e.Status)
	}
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, e.Code, e.Message)
}

// Do sends body (if not nil) as JSON and decodes a 2xx answer into out (if not nil). A 4xx or 5xx comes back as a
// *StatusError.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	_, err := c.Call(ctx, method, path, body, out)
	return err
}

// Call is Do that also returns the answer's status (0 when there was none), for a caller to whom 200 and 201
// differ (an order created or one already there).
func (c *Client) Call(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		se := &StatusError{Method: method, Path: path, Status: resp.StatusCode}
		var eb ErrorBody
		if json.Unmarshal(data, &eb) == nil {
			se.Code, se.Message = eb.Error.Code, eb.Error.Message
		}
		return resp.StatusCode, se
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decoding: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// EventsRequest says which events Client.Events streams.
type EventsRequest struct {
	// Since resumes after that sequence number: every retained event after it, then the live ones. Without Resume
	// and with Since 0, the stream carries live events only.
	Since uint64
	// Resume sends Since even when it is 0 (everything from the first event); Since > 0 implies it.
	Resume bool
	Kinds  []string // e.g. "order", "report"; empty: every kind
	Key    string   // a parent order id or a venue name; empty: every key
}

// StreamClosedError is how an event stream ended when the server closed it: Code is the websocket close code
// (1013 for a consumer too slow to keep up, 1001 when the server shuts down) and Reason says from which seq to
// resume.
type StreamClosedError struct {
	Code   int
	Reason string
}

func (e *StreamClosedError) Error() string {
	return fmt.Sprintf("event stream closed by the server (%d): %s", e.Code, e.Reason)
}

// Events opens GET /v1/events. Refusals before the stream opens (bad parameters, too old, auth) come back as the
// error, with the API's code and message. The events arrive on the channel in sequence order; it is closed when
// the stream ends: when ctx is done, when the server closes it, or on a network error. The function returned
// says why, once the channel is closed: nil after ctx was done, a *StreamClosedError if the server closed the
// stream, else the network error. The caller must read the channel until it is closed or cancel ctx.
func (c *Client) Events(ctx context.Context, req EventsRequest) (<-chan Event, func() error, error) {
	u, err := url.Parse(c.Base + "/v1/events")
	if err != nil {
		return nil, nil, fmt.Errorf("events: %w", err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	q := url.Values{}
	if req.Since > 0 || req.Resume {
		q.Set("since", strconv.FormatUint(req.Since, 10))
	}
	if len(req.Kinds) > 0 {
		q.Set("kinds", strings.Join(req.Kinds, ","))
	}
	if req.Key != "" {
		q.Set("key", req.Key)
	}
	u.RawQuery = q.Encode()
	d := websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 10 * time.Second}
	if c.HTTP != nil && c.HTTP.Timeout > 0 {
		d.HandshakeTimeout = c.HTTP.Timeout
	}
	conn, resp, err := d.DialContext(ctx, u.String(), http.Header{"Authorization": {"Bearer " + c.Token}})
	if err != nil {
		if resp != nil {
			defer resp.Body.Close()
			data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			var eb ErrorBody
			if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
				return nil, nil, fmt.Errorf("GET /v1/events: %d %s: %s", resp.StatusCode, eb.Error.Code, eb.Error.Message)
			}
			return nil, nil, fmt.Errorf("GET /v1/events: status %d: %w", resp.StatusCode, err)
		}
		return nil, nil, fmt.Errorf("GET /v1/events: %w", err)
	}
	out := make(chan Event, 64)
	var end error
	done := make(chan struct{})
	stop := make(chan struct{})
	go func() { // ctx ends the stream
		select {
		case <-ctx.Done():
			_ = conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			_ = conn.Close()
		case <-stop:
		}
	}()
	go func() {
		defer close(done)
		defer close(out)
		defer conn.Close()
		defer close(stop)
		for {
			var e Event
			err := conn.ReadJSON(&e)
			if err != nil {
				var ce *websocket.CloseError
				switch {
				case ctx.Err() != nil:
				case errors.As(err, &ce):
					end = &StreamClosedError{Code: ce.Code, Reason: ce.Text}
				default:
					end = fmt.Errorf("GET /v1/events: %w", err)
				}
				return
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, func() error { <-done; return end }, nil
}
