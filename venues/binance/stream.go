package binance

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/adshao/go-binance/v2/futures"
	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"execd/venues"
)

const (
	keepaliveEvery = 30 * time.Minute
	backoffMin     = 100 * time.Millisecond
	backoffMax     = 10 * time.Second
)

// errStreamBroken ends one connection; Stream reconnects after it.
var errStreamBroken = errors.New("user-data stream broken")

// Stream delivers order updates and fills from the user-data stream until ctx ends. It creates a listenKey (an
// error at once if the venue refuses, e.g. a bad key), keeps it alive every 30 minutes, and on any read error
// reconnects with capped exponential backoff, re-creating the listenKey as needed, then sends Event{Reconnected}.
func (a *Adapter) Stream(ctx context.Context, out chan<- venues.Event) error {
	key, err := a.startListenKey(ctx)
	if err != nil {
		return err
	}
	backoff := backoffMin
	for connected := false; ; {
		conn, resp, err := websocket.DefaultDialer.DialContext(ctx, a.cfg.WSURL+"/"+key, nil)
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		if err == nil {
			if connected {
				select {
				case out <- venues.Event{Venue: a.cfg.Name, Reconnected: true}:
				case <-ctx.Done():
					_ = conn.Close()
					return ctx.Err()
				}
			}
			connected, backoff = true, backoffMin
			err = a.readLoop(ctx, conn, key, out)
		} else {
			a.log.Warn("user-data stream dial failed", zap.String("error", redactKey(err.Error(), key)))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.log.Info("user-data stream reconnecting", zap.String("reason", redactKey(err.Error(), key)), zap.Duration("backoff", backoff))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, backoffMax)
		// POST listenKey returns the live key (extending it) or a new one when it expired.
		nk, kerr := a.startListenKey(ctx)
		switch {
		case kerr == nil:
			key = nk
		case venues.ClassOf(kerr) == venues.Rejected:
			return kerr
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			a.log.Warn("listenKey renewal failed", zap.Error(kerr))
		}
	}
}

// readLoop reads one connection until it breaks or ctx ends, keeping the listenKey alive.
func (a *Adapter) readLoop(ctx context.Context, conn *websocket.Conn, key string, out chan<- venues.Event) error {
	msgs := make(chan []byte)
	readErr := make(chan error, 1)
	done := make(chan struct{})
	defer func() {
		close(done)
		_ = conn.Close()
	}()
	go func() {
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				readErr <- err
				return
			}
			select {
			case msgs <- msg:
			case <-done:
				return
			}
		}
	}()
	keepalive := time.NewTicker(keepaliveEvery)
	defer keepalive.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			return err
		case <-keepalive.C:
			if err := a.do(ctx, "stream", false, func(ctx context.Context, c *futures.Client) error {
				return c.NewKeepaliveUserStreamService().ListenKey(key).Do(ctx)
			}); err != nil {
				a.log.Warn("listenKey keepalive failed", zap.Error(err))
				if venues.ClassOf(err) == venues.Rejected {
					return err
				}
			}
		case msg := <-msgs:
			ev, ok, err := a.decode(msg)
			if err != nil {
				// A payload the adapter cannot translate must not be dropped silently: break the stream so the
				// consumer gets Reconnected and recovers by query, where the same error surfaces.
				a.log.Error("user-data event not translatable", zap.Error(err))
				return err
			}
			if !ok {
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// decode translates one stream message; ok is false for events execd does not consume.
func (a *Adapter) decode(msg []byte) (venues.Event, bool, error) {
	var ev futures.WsUserDataEvent
	if err := json.Unmarshal(msg, &ev); err != nil {
		if strings.Contains(err.Error(), "unexpected event type") {
			return venues.Event{}, false, nil
		}
		return venues.Event{}, false, err
	}
	switch ev.Event {
	case futures.UserDataEventTypeListenKeyExpired:
		return venues.Event{}, false, errors.Join(errStreamBroken, errors.New("listenKey expired"))
	case futures.UserDataEventTypeOrderTradeUpdate:
	default:
		return venues.Event{}, false, nil
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

func (a *Adapter) startListenKey(ctx context.Context) (string, error) {
	if err := a.ensureSymbols(ctx, "stream"); err != nil {
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
