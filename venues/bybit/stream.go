package bybit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/execd-dev/execd/secret"
	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/wsstream"
)

const (
	pingEvery      = 20 * time.Second // Bybit recommends a ping every 20 s
	streamIdle     = 60 * time.Second // no message (not even a pong) for this long: the peer is gone
	handshakeLimit = 10 * time.Second
	authTTL        = 10 * time.Second
)

// privateTopics are the topics Stream subscribes to.
var privateTopics = []string{"order", "execution", "position"}

// sign is the hex HMAC-SHA256 of msg under the secret.
func sign(sec secret.String, msg string) string {
	m := hmac.New(sha256.New, []byte(sec.Reveal()))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// Stream delivers order updates and fills from the private websocket until ctx ends, through wsstream.Run. Each
// connection authenticates ({"op":"auth","args":[apiKey, expires, HMAC(secret,"GET/realtime"+expires)]}) and
// subscribes to order, execution and position; a refused auth (bad key or signature) ends Stream at once. It pings
// every 20 s, treats 60 s of silence as a dead peer, and after every reconnect sends Event{Reconnected}.
func (a *Adapter) Stream(ctx context.Context, out chan<- venues.Event) error {
	return wsstream.Run(ctx, wsstream.Config{
		Venue: a.cfg.Name,
		Open:  func(ctx context.Context) (*websocket.Conn, error) { return a.openStream(ctx, out) },
		Decode: func(msg []byte) ([]venues.Event, error) {
			return decodeStream(a.cfg.Name, msg, a.instrumentOf)
		},
		KeepaliveEvery: pingEvery,
		Keepalive: func(_ context.Context, conn *websocket.Conn) error {
			_ = conn.SetWriteDeadline(time.Now().Add(handshakeLimit))
			return conn.WriteJSON(map[string]string{"req_id": "ping", "op": "ping"})
		},
		ReadTimeout: streamIdle,
		Redact:      a.redact,
		Logger:      a.log,
	}, out)
}

// openStream dials, authenticates and subscribes. Topic pushes that arrive before the subscribe answer are
// delivered on out, never dropped.
func (a *Adapter) openStream(ctx context.Context, out chan<- venues.Event) (*websocket.Conn, error) {
	if err := a.insts.EnsureLoaded(ctx, "stream"); err != nil { // Decode needs the symbol map
		return nil, err
	}
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, a.cfg.WSURL, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, &venues.Error{Venue: a.cfg.Name, Op: "stream", Class: venues.Retryable, Msg: "dial: " + a.redact(err.Error())}
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	fail := func(class venues.Class, msg string) (*websocket.Conn, error) {
		_ = conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &venues.Error{Venue: a.cfg.Name, Op: "stream", Class: class, Msg: a.redact(msg)}
	}
	deadline := time.Now().Add(handshakeLimit)
	_ = conn.SetWriteDeadline(deadline)
	_ = conn.SetReadDeadline(deadline)
	expires := time.Now().Add(authTTL).UnixMilli() - a.offset.Load()
	auth := map[string]any{"req_id": "auth", "op": "auth",
		"args": []any{a.cfg.APIKey, expires, sign(a.cfg.Secret, "GET/realtime"+strconv.FormatInt(expires, 10))}}
	if err := conn.WriteJSON(auth); err != nil {
		return fail(venues.Retryable, "send auth: "+err.Error())
	}
	if ok, msg, err := a.awaitOp(ctx, conn, "auth", out); err != nil {
		return fail(venues.Retryable, err.Error())
	} else if !ok {
		class := venues.Retryable // "Request expired": clock skew, retry
		if msg != "Request expired" {
			class = venues.Rejected
		}
		return fail(class, "auth refused: "+msg)
	}
	if err := conn.WriteJSON(map[string]any{"req_id": "subscribe", "op": "subscribe", "args": privateTopics}); err != nil {
		return fail(venues.Retryable, "send subscribe: "+err.Error())
	}
	if ok, msg, err := a.awaitOp(ctx, conn, "subscribe", out); err != nil {
		return fail(venues.Retryable, err.Error())
	} else if !ok {
		return fail(venues.Rejected, "subscribe refused: "+msg)
	}
	_ = conn.SetReadDeadline(time.Time{})
	_ = conn.SetWriteDeadline(time.Time{})
	if a.subscribed != nil {
		a.subscribed()
	}
	return conn, nil
}

// awaitOp reads until the answer to op, delivering any topic pushes read meanwhile.
func (a *Adapter) awaitOp(ctx context.Context, conn *websocket.Conn, op string, out chan<- venues.Event) (bool, string, error) {
	for {
		_, raw, err := conn.ReadMessage()
		if err != nil {
			return false, "", fmt.Errorf("await %s answer: %w", op, err)
		}
		var m streamMsg
		if err := json.Unmarshal(raw, &m); err != nil {
			return false, "", fmt.Errorf("await %s answer: %w", op, err)
		}
		if m.Op == op {
			return m.Success != nil && *m.Success, m.RetMsg, nil
		}
		if m.Topic == "" {
			continue
		}
		evs, err := decodeStream(a.cfg.Name, raw, a.instrumentOf)
		if err != nil {
			return false, "", err
		}
		for _, ev := range evs {
			select {
			case out <- ev:
			case <-ctx.Done():
				return false, "", ctx.Err()
			}
		}
	}
}
