package binance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/adshao/go-binance/v2/futures"
	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/venues"
	"github.com/execd-dev/execd/venues/internal/wsstream"
)

const keepaliveEvery = 30 * time.Minute

// errStreamBroken ends one connection; Stream reconnects after it.
var errStreamBroken = errors.New("user-data stream broken")

// Stream delivers order updates and fills from the user-data stream until ctx ends, through wsstream.Run. Each
// connection first creates the listenKey (POST returns the live key, extending it, or a new one when it expired);
// a Rejected answer (bad key) ends Stream at once. The key is kept alive every 30 minutes; on any read error the
// stream reconnects with capped exponential backoff and sends Event{Reconnected}.
func (a *Adapter) Stream(ctx context.Context, out chan<- venues.Event) error {
	var key string // touched only by the hooks, which wsstream runs on this goroutine
	return wsstream.Run(ctx, wsstream.Config{
		Venue: a.cfg.Name,
		Open: func(ctx context.Context) (*websocket.Conn, error) {
			nk, err := a.startListenKey(ctx)
			switch {
			case err == nil:
				key = nk
			case key == "" || venues.ClassOf(err) == venues.Rejected || ctx.Err() != nil:
				return nil, err
			default:
				a.log.Warn("listenKey renewal failed", zap.Error(err)) // try the key we have
			}
			conn, resp, err := websocket.DefaultDialer.DialContext(ctx, a.cfg.WSURL+"/"+key, nil)
			if resp != nil && resp.Body != nil {
				_ = resp.Body.Close()
			}
			if err != nil {
				a.log.Warn("user-data stream dial failed", zap.String("error", redactKey(err.Error(), key)))
			}
			return conn, err
		},
		Decode: func(msg []byte) ([]venues.Event, error) {
			ev, ok, err := a.decode(msg)
			if err != nil {
				a.log.Error("user-data event not translatable", zap.Error(err))
				return nil, err
			}
			if !ok {
				return nil, nil
			}
			return []venues.Event{ev}, nil
		},
		KeepaliveEvery: keepaliveEvery,
		Keepalive: func(ctx context.Context, _ *websocket.Conn) error {
			err := a.do(ctx, "stream", false, func(ctx context.Context, c *futures.Client) error {
				return c.NewKeepaliveUserStreamService().ListenKey(key).Do(ctx)
			})
			if err != nil {
				a.log.Warn("listenKey keepalive failed", zap.Error(err))
				if venues.ClassOf(err) != venues.Rejected {
					return nil
				}
			}
			return err
		},
		Redact: func(s string) string { return redactKey(s, key) },
		Logger: a.log,
	}, out)
}

// decode translates one stream message; ok is false for events execd does not consume.
func (a *Adapter) decode(msg []byte) (venues.Event, bool, error) {
	// Most pushes (ACCOUNT_UPDATE, margin calls, config changes) carry nothing execd books: read only their type
	// first, and decode in full the two kinds it acts on.
	event, ok := leadingEventType(msg)
	if !ok {
		var head struct {
			Event futures.UserDataEventType `json:"e"`
			Time  int64                     `json:"E"` // named, or encoding/json's case-insensitive match puts "E" in Event
		}
		if err := json.Unmarshal(msg, &head); err != nil {
			return venues.Event{}, false, err
		}
		event = head.Event
	}
	switch event {
	case futures.UserDataEventTypeListenKeyExpired:
		return venues.Event{}, false, errors.Join(errStreamBroken, errors.New("listenKey expired"))
	case futures.UserDataEventTypeOrderTradeUpdate:
	default:
		return venues.Event{}, false, nil
	}
	// The order update's own part of go-binance's event type, decoded straight from the message (WsUserDataEvent's
	// UnmarshalJSON parses the whole message once more into a generic tree before doing the same).
	var ev futures.WsUserDataOrderTradeUpdate
	if err := json.Unmarshal(msg, &ev); err != nil {
		return venues.Event{}, false, err
	}
	u := &ev.OrderTradeUpdate
	inst, ok := a.instrumentOf(u.Symbol)
	if !ok {
		a.log.Warn("order update for an unmapped symbol", zap.String("symbol", u.Symbol))
		return venues.Event{}, false, nil
	}
	out, err := toEvent(a.cfg.Name, inst, u)
	if err != nil {
		return venues.Event{}, false, err
	}
	a.rememberClientID(u.ID, u.ClientOrderID)
	return out, true, nil
}

// leadingEventType reads the event type of a push that begins with it, as the venue's do ({"e":"ORDER_TRADE_UPDATE",…),
// without parsing the rest; ok is false for any other shape, which is then decoded in full.
func leadingEventType(msg []byte) (futures.UserDataEventType, bool) {
	const lead = `{"e":"`
	if !bytes.HasPrefix(msg, []byte(lead)) {
		return "", false
	}
	rest := msg[len(lead):]
	end := bytes.IndexByte(rest, '"')
	if end <= 0 {
		return "", false
	}
	for _, c := range rest[:end] {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_') { // the venue's event types are such names
			return "", false
		}
	}
	return futures.UserDataEventType(rest[:end]), true
}

func (a *Adapter) startListenKey(ctx context.Context) (string, error) {
	if err := a.symbols.Ensure(ctx, "stream"); err != nil {
		return "", err
	}
	var key string
	err := a.do(ctx, "stream", false, func(ctx context.Context, c *futures.Client) (err error) {
		key, err = c.NewStartUserStreamService().Do(ctx)
		return err
	})
	if err == nil && (key == "" || url.PathEscape(key) != key) {
		err = a.badPayload("stream", false, errors.New("bad listenKey in answer"))
	}
	return key, err
}

// redactKey keeps the listenKey (a bearer credential for the stream) out of logs.
func redactKey(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "[listenKey]")
}
