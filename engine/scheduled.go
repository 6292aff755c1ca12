package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/internal/mailbox"
	"github.com/execd-dev/execd/journal"
)

// A parent set ahead (start_at in the future) is accepted at once and journaled as scheduled, with no plan: the
// venues' shares, the arrival price and the schedule are those of the moment it starts, drawn within the start
// jitter after start_at. Its runner waits for that moment, then plans and runs it like any other parent; a
// cancel before then ends it cancelled, with nothing sent.

// minWindow is the shortest time a parent may have to trade (the API's shortest duration).
const minWindow = 10 * time.Second

// window checks a request's start and end against now and returns it with Duration set to the time it will have
// (from its start, or from now, to end_at); scheduled says whether it starts later.
func window(req Request, now time.Time) (Request, bool, error) {
	start := now
	scheduled := !req.StartAt.IsZero() && req.StartAt.After(now)
	if scheduled {
		start = req.StartAt
	}
	if !req.EndAt.IsZero() {
		if req.Duration != 0 {
			return req, false, errorf(KindInvalid, "give duration or end_at, not both")
		}
		if left := req.EndAt.Sub(start); left < minWindow {
			return req, false, errorf(KindInvalid, "end_at %s leaves %s from the start %s: want at least %s",
				req.EndAt.Format(time.RFC3339), left.Round(time.Second), start.Format(time.RFC3339), minWindow)
		}
		req.Duration = req.EndAt.Sub(start)
	}
	if req.Duration < time.Second {
		return req, false, errorf(KindInvalid, "duration %s is too short", req.Duration)
	}
	return req, scheduled, nil
}

// startTime is when a scheduled parent starts: start_at plus a jitter drawn from its id's seed within the
// configured start jitter and a quarter of its window, so a restart draws the same moment.
func startTime(salt []byte, req Request, jitter time.Duration) time.Time {
	jitter = min(jitter, req.Duration/4)
	if jitter <= 0 {
		return req.StartAt
	}
	rng := rand.New(rand.NewPCG(scheduleSeed(salt, req.ID), startStream))
	return req.StartAt.Add(time.Duration(rng.Int64N(int64(jitter))))
}

// startStream is the second PCG word of a parent's start-jitter stream (the venues' schedules use venueStream).
const startStream = 0x5354415254 // "START"

// newScheduled returns the runner of a parent set ahead, before its start.
func newScheduled(e *Engine, req Request, created time.Time) *parent {
	p := &parent{e: e, req: req, log: e.log.With(zap.String("parent", req.ID)), inbox: mailbox.New[Event](),
		done: make(chan struct{}), created: created, startAt: startTime(e.salt, req, e.Params().StartJitter)}
	r := p.scheduledReport(Scheduled, "", nil)
	p.snap.Store(&r)
	return p
}

// deadline is a scheduled parent's end: end_at, or its start plus its duration.
func (p *parent) deadline() time.Time {
	if !p.req.EndAt.IsZero() {
		return p.req.EndAt
	}
	return p.startAt.Add(p.req.Duration)
}

// scheduledReport is the snapshot of a parent that never started: nothing filled, no venues.
func (p *parent) scheduledReport(st State, reason string, ended *time.Time) Report {
	r := Report{ID: p.req.ID, State: st, Instrument: p.req.Instrument, Side: p.req.Side, Quantity: p.req.Quantity,
		ReduceOnly: p.req.ReduceOnly, Duration: p.req.Duration.String(), MaxSlippageBps: p.req.MaxSlippageBps,
		Unfilled: p.req.Quantity, CreatedAt: p.created, Deadline: p.deadline(), UpdatedAt: p.e.clk.Now(), EndedAt: ended,
		Reason: reason}
	if !p.req.StartAt.IsZero() {
		s := p.req.StartAt
		r.StartAt = &s
	}
	if p.req.LimitPrice.IsPositive() {
		s := p.req.LimitPrice.String()
		r.LimitPrice = &s
	}
	return r
}

// scheduledRecord is the journal record of a parent that has not started (state scheduled) or ended before it
// started (cancelled, failed: with its summary).
func (p *parent) scheduledRecord(st State, reason string, ended *time.Time) journal.Parent {
	r := journal.Parent{ID: p.req.ID, State: string(st), Reason: reason, Created: p.created, Deadline: p.deadline(),
		SlippageBps: p.req.MaxSlippageBps, Seed: scheduleSeed(p.e.salt, p.req.ID), Params: paramsRecord(p.e.Params()),
		Stranded: decimal.Zero, Fees: decimal.Zero, Ended: ended, Updated: p.e.clk.Now(), Request: requestRecord(p.req)}
	if st != Scheduled {
		s := summaryRecord(p.scheduledReport(st, reason, ended))
		r.Summary = &s
	}
	return r
}

// awaitStart waits for a scheduled parent's start, then plans it and builds its machine. It reports false when
// the runner must end: cancelled or failed before the start (journaled, published), or the engine stopping (the
// parent stays scheduled in the journal).
func (p *parent) awaitStart(ctx context.Context) bool {
	var timer clock.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	at := p.startAt
	for {
		timer = p.e.clk.NewTimer(at.Sub(p.e.clk.Now()))
		select {
		case <-ctx.Done():
			return false
		case <-p.inbox.Ready():
			for _, ev := range p.inbox.Drain(nil) {
				switch ev.Kind {
				case EvCancel:
					p.endUnstarted(Cancelled, "cancelled before its start")
					return false
				case EvStop:
					return false
				}
			}
		case <-timer.C():
			ok, retry := p.startNow(ctx)
			if ok {
				return true
			}
			if !retry {
				return false
			}
			at = p.e.clk.Now().Add(p.e.Params().RetryInterval)
		}
		timer.Stop()
	}
}

// startNow plans the parent now; retry says the venues could not be read and the window is still open.
func (p *parent) startNow(ctx context.Context) (ok, retry bool) {
	now := p.e.clk.Now()
	req := p.req // the machine ignores StartAt; its report shows it
	if !req.EndAt.IsZero() {
		req.Duration = req.EndAt.Sub(now)
	} else {
		req.Duration = p.deadline().Sub(now)
	}
	if req.Duration < time.Second {
		p.endUnstarted(Failed, "its window passed before it could start")
		return false, false
	}
	pl, err := p.e.plan(ctx, req)
	switch {
	case err != nil && KindOf(err) == KindUnavailable && ctx.Err() == nil:
		p.log.Warn("scheduled parent could not be planned at its start; trying again", zap.Error(err))
		return false, true
	case err != nil:
		p.endUnstarted(Failed, "could not start: "+err.Error())
		return false, false
	}
	pl.deadline = p.deadline()
	p.m = newMachine(req, pl, p.e.Params(), p.e.salt)
	if err := p.persist(); err != nil {
		p.log.Error("started parent not journaled; the next change retries", zap.Error(err))
	}
	p.log.Info("scheduled parent started", zap.Time("start_at", p.req.StartAt), zap.Time("deadline", pl.deadline))
	p.publish()
	return true, false
}

// endUnstarted ends a parent that never started: journaled with its summary, then published.
func (p *parent) endUnstarted(st State, reason string) {
	now := p.e.clk.Now()
	if err := p.e.journal.PutParent(p.scheduledRecord(st, reason, &now)); err != nil {
		p.log.Error("parent's end not journaled", zap.Error(err))
	}
	r := p.scheduledReport(st, reason, &now)
	p.snap.Store(&r)
	p.e.publishEvent(EventOrder, r.ID, r)
	p.e.publishEvent(EventReport, r.ID, r)
	p.log.Info("parent ended before its start", zap.String("state", string(st)), zap.String("reason", reason))
}

// restoreScheduled rebuilds a parent journaled as scheduled: it waits for the same start as before.
func (e *Engine) restoreScheduled(rec journal.Parent) (*parent, error) {
	req, err := requestFromRecord(rec.ID, rec.Request)
	if err != nil {
		return nil, err
	}
	if req.StartAt.IsZero() {
		return nil, fmt.Errorf("scheduled parent %s has no start_at", rec.ID)
	}
	return newScheduled(e, req, rec.Created), nil
}
