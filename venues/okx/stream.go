package okx

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/wsstream"
)

const (
	pingEvery = 25 * time.Second // OKX cuts a connection idle for 30 s
	// streamIdle breaks a connection on which not even the pong to a ping arrived: a dead peer.
	streamIdle  = 2 * pingEvery
	openTimeout = 10 * time.Second
)

// wsMessage is any message of the private websocket: an event (login, subscribe, error) or a push.
type wsMessage struct {
	Event string `json:"event"`
	Code  string `json:"code"`
	Msg   string `json:"msg"`
	Arg   struct {
		Channel string `json:"channel"`
	} `json:"arg"`
	Data json.RawMessage `json:"data"`
}

// Stream delivers order updates and fills from the private websocket until ctx ends, through wsstream.Run: each
// connection logs in and subscribes to the orders and positions channels of swaps, pings every 25 s and
// reconnects with backoff. A refused login (bad key, passphrase or signature) ends Stream at once.
func (a *Adapter) Stream(ctx context.Context, out chan<- venues.Event) error {
	return wsstream.Run(ctx, wsstream.Config{
		Venue:          a.cfg.Name,
		Open:           a.openStream,
		Decode:         a.decode,
		KeepaliveEvery: pingEvery,
		ReadTimeout:    streamIdle,
		Keepalive: func(_ context.Context, conn *websocket.Conn) error {
			_ = conn.SetWriteDeadline(time.Now().Add(openTimeout))
			return conn.WriteMessage(websocket.TextMessage, []byte("ping"))
		},
		Logger: a.log,
	}, out)
}

// openStream dials, logs in and subscribes, waiting for each acknowledgement.
func (a *Adapter) openStream(ctx context.Context) (*websocket.Conn, error) {
	if err := a.insts.Ensure(ctx, "stream"); err != nil {
		return nil, err
	}
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, a.cfg.WSURL, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, &venues.Error{Venue: a.cfg.Name, Op: "stream", Class: venues.Retryable, Msg: "dial failed", Err: err}
	}
	if err := a.login(conn); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

func (a *Adapter) login(conn *websocket.Conn) error {
	deadline := time.Now().Add(openTimeout)
	_ = conn.SetWriteDeadline(deadline)
	_ = conn.SetReadDeadline(deadline)
	ts := strconv.FormatInt(a.venueNow().Unix(), 10)
	login := map[string]any{"op": "login", "args": []map[string]string{{"apiKey": a.cfg.APIKey,
		"passphrase": a.cfg.Passphrase.Reveal(), "timestamp": ts, "sign": a.sign(ts + "GET/users/self/verify")}}}
	if err := conn.WriteJSON(login); err != nil {
		return a.streamErr("login write", err)
	}
	if err := a.await(conn, "login", 1); err != nil {
		return err
	}
	sub := map[string]any{"op": "subscribe", "args": []map[string]string{
		{"channel": "orders", "instType": "SWAP"}, {"channel": "positions", "instType": "SWAP"}}}
	if err := conn.WriteJSON(sub); err != nil {
		return a.streamErr("subscribe write", err)
	}
	if err := a.await(conn, "subscribe", 2); err != nil {
		return err
	}
	_ = conn.SetReadDeadline(time.Time{})
	_ = conn.SetWriteDeadline(time.Time{})
	return nil
}

// await reads until n events of kind arrive; an error event fails (Rejected for credentials, Retryable else).
func (a *Adapter) await(conn *websocket.Conn, kind string, n int) error {
	for n > 0 {
		_, raw, err := conn.ReadMessage()
		if err != nil {
			return a.streamErr(kind+" answer", err)
		}
		var m wsMessage
		if string(raw) == "pong" || json.Unmarshal(raw, &m) != nil {
			continue
		}
		switch m.Event {
		case kind:
			n--
		case "error":
			class := venues.Retryable
			switch m.Code {
			case "60005", "60007", "60009", "60024", "60011", "60018", "60031":
				class = venues.Rejected // bad key, sign, passphrase; not logged in; no such channel
			}
			return &venues.Error{Venue: a.cfg.Name, Op: "stream", Class: class, Code: m.Code, Msg: m.Msg}
		}
	}
	return nil
}

func (a *Adapter) streamErr(what string, err error) error {
	return &venues.Error{Venue: a.cfg.Name, Op: "stream", Class: venues.Retryable, Msg: what + " failed", Err: err}
}

// decode translates one message: orders-channel rows become events; acks, pongs and positions pushes none. An
// error event or an untranslatable row is an error (the connection is rebuilt and the consumer recovers by query).
func (a *Adapter) decode(raw []byte) ([]venues.Event, error) {
	if string(raw) == "pong" {
		return nil, nil
	}
	var m wsMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("message: %w", err)
	}
	switch {
	case m.Event == "error":
		return nil, fmt.Errorf("venue error event %s: %s", m.Code, m.Msg)
	case m.Event != "":
		return nil, nil
	case m.Arg.Channel != "orders":
		return nil, nil
	}
	var rows []orderRow
	if err := json.Unmarshal(m.Data, &rows); err != nil {
		return nil, fmt.Errorf("orders push: %w", err)
	}
	evs := make([]venues.Event, 0, len(rows))
	for _, r := range rows {
		in, ok := a.insts.ByVenue(r.InstID)
		if !ok {
			a.log.Warn("order update for an unmapped instrument", zap.String("instId", r.InstID))
			continue
		}
		ev, err := toEvent(a.cfg.Name, in, r)
		if err != nil {
			a.log.Error("order update not translatable", zap.Error(err))
			return nil, err
		}
		evs = append(evs, ev)
	}
	return evs, nil
}
