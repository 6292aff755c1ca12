package wsstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/venues"
)

// Defaults for Config's zero values.
const (
	DefaultBackoffMin = 100 * time.Millisecond
	DefaultBackoffMax = 10 * time.Second
)

// Config is one venue's private stream.
type Config struct {
	// Venue is the venue name put on Reconnected events.
	Venue string
	// Open dials and prepares one connection (login, subscribe; for Binance, create the listenKey first). An error
	// of class venues.Rejected ends Run with that error; any other error is retried after backoff.
	Open func(ctx context.Context) (*websocket.Conn, error)
	// Decode translates one message into events (none for acks, pongs and events execd does not use). An error
	// breaks the connection.
	Decode func(msg []byte) ([]venues.Event, error)
	// Keepalive, if set, runs every KeepaliveEvery on the open connection (a text ping, a listenKey keepalive).
	// An error breaks the connection; a venues.Rejected error ends Run.
	Keepalive      func(ctx context.Context, conn *websocket.Conn) error
	KeepaliveEvery time.Duration
	// ReadTimeout, if positive, breaks a connection on which nothing arrives for that long (a dead peer).
	ReadTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait between reconnects (defaults 100 ms and 10 s), doubling per failure.
	BackoffMin, BackoffMax time.Duration
	// Redact, if set, is applied to error texts before they are logged (listenKeys, tokens).
	Redact func(string) string
	Logger *zap.Logger
}

// ErrDecode wraps a Decode failure that broke a connection.
var ErrDecode = errors.New("stream message not translatable")

// Run delivers events on out until ctx ends (it returns ctx.Err()) or a Rejected failure (it returns it).
func Run(ctx context.Context, cfg Config, out chan<- venues.Event) error {
	if cfg.Open == nil || cfg.Decode == nil {
		return errors.New("wsstream: Open and Decode are required")
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = DefaultBackoffMin
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(DefaultBackoffMax, cfg.BackoffMin)
	}
	if cfg.Redact == nil {
		cfg.Redact = func(s string) string { return s }
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	backoff := cfg.BackoffMin
	for connected := false; ; {
		conn, err := cfg.Open(ctx)
		switch {
		case err == nil:
			if connected {
				select {
				case out <- venues.Event{Venue: cfg.Venue, Reconnected: true}:
				case <-ctx.Done():
					_ = conn.Close()
					return ctx.Err()
				}
			}
			connected, backoff = true, cfg.BackoffMin
			err = readLoop(ctx, &cfg, conn, out)
		case ctx.Err() != nil:
			return ctx.Err()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !errors.Is(err, ErrDecode) && venues.ClassOf(err) == venues.Rejected {
			return err
		}
		log.Info("private stream reconnecting", zap.String("reason", cfg.Redact(err.Error())), zap.Duration("backoff", backoff))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, cfg.BackoffMax)
	}
}

// readLoop reads one connection until it breaks or ctx ends; it always closes conn.
func readLoop(ctx context.Context, cfg *Config, conn *websocket.Conn, out chan<- venues.Event) error {
	msgs := make(chan []byte)
	readErr := make(chan error, 1)
	done := make(chan struct{})
	defer func() {
		close(done)
		_ = conn.Close() // unblocks the reader
	}()
	go func() {
		for {
			if cfg.ReadTimeout > 0 {
				_ = conn.SetReadDeadline(time.Now().Add(cfg.ReadTimeout))
			}
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
	var tick <-chan time.Time
	if cfg.Keepalive != nil && cfg.KeepaliveEvery > 0 {
		t := time.NewTicker(cfg.KeepaliveEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			return err
		case <-tick:
			if err := cfg.Keepalive(ctx, conn); err != nil {
				return err
			}
		case msg := <-msgs:
			evs, err := cfg.Decode(msg)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrDecode, err)
			}
			for _, ev := range evs {
				select {
				case out <- ev:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	}
}
