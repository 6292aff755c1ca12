package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/events"
)

// EventSource is what the API needs of the event bus (*events.Bus). Safe for concurrent use.
type EventSource interface {
	Subscribe(o events.SubscribeOptions) (*events.Subscription, error)
}

// Event is one message of GET /v1/events: a websocket text message holding one JSON object. Data is the API's type
// for the kind: Order for "order" and "report", ChildEvent for "child", Fill for "fill", VenueHealthEvent for
// "venue", OpsEvent for "ops"; null for a payload this version does not know.
type Event struct {
	Seq  uint64          `json:"seq"`
	Time time.Time       `json:"time"`
	Type string          `json:"type"`
	Key  string          `json:"key"`
	Data json.RawMessage `json:"data"`
}

// Decode unmarshals the event's data into v (e.g. an *Order for an "order" event).
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("event %d (%s): %w", e.Seq, e.Type, err)
	}
	return nil
}

// Websocket timings (wall clock: they are network timeouts).
const (
	defaultPing    = 20 * time.Second
	defaultWrite   = 10 * time.Second
	closeGrace     = time.Second // how long to wait for the client's answer to our close frame
	maxClientFrame = 4 << 10     // clients send nothing but control frames
)

// streamQuery parses and checks the query of GET /v1/events.
func streamQuery(q url.Values) (events.SubscribeOptions, error) {
	var o events.SubscribeOptions
	var errs []string
	for k, v := range q {
		switch k {
		case "since", "kinds", "key":
			if len(v) != 1 {
				errs = append(errs, fmt.Sprintf("%s: given %d times, want once", k, len(v)))
			}
		default:
			errs = append(errs, fmt.Sprintf("unknown parameter %q (have since, kinds, key)", k))
		}
	}
	if q.Has("since") {
		v := q.Get("since")
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Sprintf("since %q: want the decimal sequence number of the last event received", v))
		}
		o.Since, o.Resume = n, true
	}
	if q.Has("kinds") {
		for _, k := range strings.Split(q.Get("kinds"), ",") {
			if !knownKind(k) {
				errs = append(errs, fmt.Sprintf("kinds: %q is not an event kind (have %s, %s, %s, %s, %s, %s, %s, %s)", k,
					KindOrder, KindChild, KindFill, KindVenue, KindReport, KindOps, KindTarget, KindReconcile))
				continue
			}
			o.Filter.Kinds = append(o.Filter.Kinds, k)
		}
	}
	if q.Has("key") {
		if k := q.Get("key"); !idRe.MatchString(k) {
			errs = append(errs, fmt.Sprintf("key %q: want a parent order id or a venue name", k))
		} else {
			o.Filter.Keys = []string{k}
		}
	}
	if len(errs) > 0 {
		return events.SubscribeOptions{}, errors.New(strings.Join(errs, "; "))
	}
	return o, nil
}

// stream is GET /v1/events. Everything that can be refused is refused with a JSON error before the upgrade: bad
// parameters (400), not a websocket handshake (426), a resume point no longer retained (410), shutting down (503).
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	if s.o.Events == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "this daemon has no event stream")
		return
	}
	so, err := streamQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		writeError(w, http.StatusUpgradeRequired, "upgrade_required", "GET /v1/events is a websocket: send a websocket handshake")
		return
	}
	so.Buffer = s.o.StreamBuffer
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "shutting_down", "the server is shutting down")
		return
	}
	s.streams.Add(1)
	s.mu.Unlock()
	defer func() {
		s.streams.Done()
		if s.streamEnded != nil {
			s.streamEnded()
		}
	}()
	sub, err := s.o.Events.Subscribe(so)
	var tooOld *events.TooOldError
	switch {
	case errors.As(err, &tooOld):
		writeError(w, http.StatusGone, "too_old", fmt.Sprintf("since %d: the events after it are no longer retained; "+
			"the oldest still retained is %d: re-read the state you need and subscribe without since", tooOld.Since, tooOld.Oldest))
		return
	case errors.Is(err, events.ErrAhead):
		writeError(w, http.StatusGone, "unknown_seq", fmt.Sprintf("since %d: no such event here (did the daemon restart?): "+
			"re-read the state you need and subscribe without since", so.Since))
		return
	case err != nil:
		s.o.Logger.Error("api: subscribing to events", zap.Error(err))
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	defer sub.Close()
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered with a JSON error
	}
	defer conn.Close()
	s.pump(conn, sub)
}

// pump sends the subscription's events to the client until the client goes away, the subscription is dropped as
// slow, or the server shuts down.
func (s *Server) pump(conn *websocket.Conn, sub *events.Subscription) {
	ping, write := s.o.StreamPing, s.o.StreamWriteTimeout
	// The reader: answers pings, takes pongs as a sign of life, and notices when the client closes or vanishes.
	gone := make(chan struct{})
	conn.SetReadLimit(maxClientFrame)
	_ = conn.SetReadDeadline(time.Now().Add(3 * ping))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(3 * ping)) })
	go func() {
		defer close(gone)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	// closeWith sends a close frame and waits a moment for the client's answer, so that the frame is read before
	// the connection goes.
	closeWith := func(code int, reason string) {
		msg := websocket.FormatCloseMessage(code, reason)
		if err := conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(write)); err != nil {
			return
		}
		t := time.NewTimer(closeGrace)
		defer t.Stop()
		select {
		case <-gone:
		case <-t.C:
		}
	}
	defer func() {
		_ = conn.Close() // ends the reader
		<-gone
	}()
	tick := time.NewTicker(ping)
	defer tick.Stop()
	last := sub.Since()
	for {
		select {
		case e, ok := <-sub.C():
			if !ok {
				if errors.Is(sub.Err(), events.ErrSlow) {
					closeWith(websocket.CloseTryAgainLater, fmt.Sprintf("slow consumer; resume with since=%d", last))
				}
				return
			}
			msg := Event{Seq: e.Seq, Time: e.Time, Type: e.Kind, Key: e.Key, Data: json.RawMessage("null")}
			if d, ok := eventData(e.Data); ok {
				b, err := json.Marshal(d)
				if err != nil {
					s.o.Logger.Error("api: encoding an event", zap.Uint64("seq", e.Seq), zap.Error(err))
				} else {
					msg.Data = b
				}
			} else if e.Data != nil {
				s.o.Logger.Warn("api: event payload of an unknown type", zap.Uint64("seq", e.Seq), zap.String("kind", e.Kind),
					zap.String("type", fmt.Sprintf("%T", e.Data)))
			}
			_ = conn.SetWriteDeadline(time.Now().Add(write))
			if err := conn.WriteJSON(msg); err != nil {
				return
			}
			last = e.Seq
		case <-tick.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(write)); err != nil {
				return
			}
		case <-gone:
			return
		case <-s.done:
			closeWith(websocket.CloseGoingAway, fmt.Sprintf("server shutting down; resume with since=%d", last))
			return
		}
	}
}

// Close ends every open event stream (each gets a close frame, 1001 going away, saying where to resume) and waits
// for their handlers to return; streams asked for afterwards are refused. The HTTP server does not wait for
// websockets, so the daemon registers this with http.Server.RegisterOnShutdown. Idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.mu.Unlock()
	s.streams.Wait()
}
