package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/risk"
	"github.com/execd-dev/execd/twap"
	"github.com/execd-dev/execd/venues"
)

// childSpec is everything a child's venue call needs; immutable once built.
type childSpec struct {
	venue       Trader
	rules       venues.Rules
	id          string
	qty         decimal.Decimal
	req         Request
	slippageBps int
	params      Params
	// beforeSend journals that the request is going out, with its price; if it fails nothing is sent.
	beforeSend func(price decimal.Decimal) error
}

// placeChild prices, checks and places one child, and does not return before its outcome is known: an unknown
// outcome is resolved by querying the venue by client order id and the same order (same id) is resent only when
// the venue says it does not exist (invariant 4). It gives up on an unknown outcome only when ctx ends. A child
// that is still working after the IOC wait is cancelled.
func (e *Engine) placeChild(ctx context.Context, s childSpec) result {
	name := s.venue.Name()
	sctx, cancel := context.WithTimeout(ctx, e.timeout)
	stats, err := s.venue.Stats(sctx, s.req.Instrument)
	cancel()
	if err != nil {
		return result{phase: "prepare", err: err}
	}
	price, err := twap.LimitPrice(s.req.Side, stats.MarkPrice, s.slippageBps, s.req.LimitPrice, s.rules)
	if err != nil {
		return result{phase: "risk", err: err}
	}
	chk := risk.Child{
		Venue: name, Instrument: s.req.Instrument, Side: s.req.Side, Quantity: s.qty, Price: price,
		Mark: stats.MarkPrice, ReduceOnly: s.req.ReduceOnly,
		Position: e.ledger.Position(positionKey(name, s.req.Instrument)),
	}
	limits := risk.Limits{MaxChildNotional: s.params.MaxChildNotional, MaxSlippageBps: s.slippageBps}
	if err := risk.Check(limits, e.state.Get(), chk); err != nil {
		return result{phase: "risk", price: price, err: err}
	}
	order := venues.OrderRequest{
		ClientOrderID: s.id, Instrument: s.req.Instrument, Side: s.req.Side, Type: venues.Limit,
		TimeInForce: venues.IOC, Quantity: s.qty, Price: price, ReduceOnly: s.req.ReduceOnly,
	}
	if err := s.beforeSend(price); err != nil {
		return result{phase: "prepare", price: price, err: err}
	}
	o, err := e.send(ctx, s.venue, order)
	e.failpoint(FailAfterSend)
	if errors.Is(err, risk.ErrOpen) {
		return result{phase: "breaker", price: price, err: err}
	}
	if err != nil {
		if venues.ClassOf(err) != venues.Unknown {
			return result{phase: "place", price: price, sent: venues.ClassOf(err) == venues.Rejected, err: err}
		}
		o, err = e.resolve(ctx, s.venue, order)
		if errors.Is(err, risk.ErrOpen) {
			// The venue said the order does not exist and the breaker forbids sending it again: nothing is there.
			return result{phase: "breaker", price: price, err: err}
		}
		if err != nil {
			return result{phase: "resolve", price: price, sent: true, err: err}
		}
	}
	if !o.Status.Terminal() {
		o, err = e.finish(ctx, s.venue, order)
		if err != nil {
			return result{phase: "resolve", price: price, sent: true, err: err}
		}
	}
	return result{order: o, price: price, sent: true}
}

// send places an order, retrying a retryable failure a few times with the same client order id (safe: a
// retryable failure means the venue did not act on it). Every attempt asks the venue's breaker first and reports
// its outcome to it; an open breaker ends the attempts with an error wrapping risk.ErrOpen.
func (e *Engine) send(ctx context.Context, v Trader, req venues.OrderRequest) (venues.Order, error) {
	backoff := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		done, err := e.breakers.Allow(v.Name())
		if err != nil {
			return venues.Order{}, err
		}
		cctx, cancel := context.WithTimeout(ctx, e.timeout)
		o, err := v.Place(cctx, req)
		cancel()
		done(err)
		if err == nil || venues.ClassOf(err) != venues.Retryable || attempt == 2 {
			return o, err
		}
		if !sleepCtx(ctx, backoff) {
			return o, err
		}
		backoff *= 2
	}
}

// resolve finds out what happened to an order whose placement outcome is unknown.
func (e *Engine) resolve(ctx context.Context, v Trader, req venues.OrderRequest) (venues.Order, error) {
	backoff := 200 * time.Millisecond
	notFound := 0
	for {
		cctx, cancel := context.WithTimeout(ctx, e.timeout)
		o, err := v.Query(cctx, req.Instrument, req.ClientOrderID)
		cancel()
		switch {
		case err == nil:
			return o, nil
		case venues.IsNotFound(err):
			// A venue's read can lag its write: believe "does not exist" only when it says so three times, over
			// the backoff's growing spacing.
			if notFound++; notFound < 3 {
				break
			}
			notFound = 0
			// The venue never took it: send the same order again, same id.
			o, err = e.send(ctx, v, req)
			if err == nil || errors.Is(err, risk.ErrOpen) {
				return o, err
			}
			if venues.ClassOf(err) == venues.Rejected {
				// A refusal of the same id (a duplicate) means the first one exists after all: look once more.
				cctx, cancel := context.WithTimeout(ctx, e.timeout)
				q, qerr := v.Query(cctx, req.Instrument, req.ClientOrderID)
				cancel()
				if qerr == nil {
					return q, nil
				}
				return o, err
			}
		}
		if !sleepCtx(ctx, backoff) {
			return venues.Order{}, &venues.Error{Venue: v.Name(), Op: "resolve", Class: venues.Unknown,
				Msg: fmt.Sprintf("outcome of %s still unknown", req.ClientOrderID), Err: ctx.Err()}
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

// finish waits for an order that is still working to end (an IOC ends at once) and cancels it if it does not.
// A cancel whose outcome is unknown is resolved like a placement: by querying the order until the venue reports
// a final state; it returns only with that state, or an error when ctx ends.
func (e *Engine) finish(ctx context.Context, v Trader, req venues.OrderRequest) (venues.Order, error) {
	deadline := time.Now().Add(time.Second)
	backoff := 200 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, e.timeout)
		o, err := v.Query(cctx, req.Instrument, req.ClientOrderID)
		cancel()
		if err == nil && o.Status.Terminal() {
			return o, nil
		}
		// The venue acknowledged this order: a not-found here is the venue's read lagging its write, not an
		// answer. Keep asking.
		if time.Now().After(deadline) {
			cctx, cancel := context.WithTimeout(ctx, e.timeout)
			_, cerr := v.Cancel(cctx, req.Instrument, req.ClientOrderID)
			cancel()
			if cerr != nil && !venues.IsNotFound(cerr) {
				e.log.Warn("cancel failed; resolving by query", zap.String("venue", v.Name()),
					zap.String("child", req.ClientOrderID), zap.Error(cerr))
			}
		}
		if !sleepCtx(ctx, backoff) {
			return venues.Order{}, &venues.Error{Venue: v.Name(), Op: "cancel", Class: venues.Unknown,
				Msg: "final state of " + req.ClientOrderID + " still unknown", Err: ctx.Err()}
		}
		if backoff < 2*time.Second {
			backoff *= 2
		}
	}
}

// resolvePending finds out, after a restart, what became of a child whose outcome was not journaled. An order the
// venue does not know was never taken: it is not resent (its request died with the process), the schedule
// carries its quantity.
func (e *Engine) resolvePending(ctx context.Context, v Trader, instrument, id string) result {
	backoff := 200 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, e.timeout)
		o, err := v.Query(cctx, instrument, id)
		cancel()
		switch {
		case err == nil && o.Status.Terminal():
			return result{order: o, sent: true}
		case err == nil:
			req := venues.OrderRequest{ClientOrderID: id, Instrument: instrument}
			o, err = e.finish(ctx, v, req)
			if err == nil {
				return result{order: o, sent: true}
			}
		case venues.IsNotFound(err):
			return result{notFound: true}
		}
		if !sleepCtx(ctx, backoff) {
			return result{phase: "resolve", sent: true, err: &venues.Error{Venue: v.Name(), Op: "resolve",
				Class: venues.Unknown, Msg: "outcome of " + id + " still unknown", Err: ctx.Err()}}
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

// sleepCtx waits d of wall time; false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
