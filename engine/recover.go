package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/execd-dev/execd/venues"
)

// recover loads every parent from the journal. Ended parents come back as their final reports (for GET and
// idempotent retries). Working parents are rebuilt with their children and booked fills; then, per venue and
// instrument they trade, the fills the venue made while execd was down are read and journaled (they are already
// in the positions the ledger was seeded from, so the ledger only marks them seen), and open orders carrying
// execd's client order id prefix that no pending child accounts for are cancelled. Children whose outcome was not
// journaled are resolved with the venue by their owner when it starts. It returns the parents to resume.
func (e *Engine) recover(ctx context.Context) ([]*parent, error) {
	recs, err := e.journal.Parents()
	if err != nil {
		return nil, fmt.Errorf("engine: reading the journal: %w", err)
	}
	var working []*parent
	since := map[string]time.Time{} // venue + "\x00" + instrument → earliest parent creation
	for _, rec := range recs {
		if rec.State != string(Working) {
			p, err := e.restoreEnded(rec)
			if err != nil {
				return nil, fmt.Errorf("engine: restoring %s: %w", rec.ID, err)
			}
			e.parents[rec.ID] = p
			continue
		}
		children, err := e.journal.Children(rec.ID)
		if err != nil {
			return nil, fmt.Errorf("engine: restoring %s: %w", rec.ID, err)
		}
		p, err := e.restore(rec, children, e.journal.FillsFor)
		if err != nil {
			return nil, fmt.Errorf("engine: restoring %s: %w", rec.ID, err)
		}
		e.parents[rec.ID] = p
		for id := range p.byID {
			e.byClient[id] = p
		}
		for _, w := range p.work {
			k := w.name + "\x00" + p.req.Instrument
			if t, ok := since[k]; !ok || rec.Created.Before(t) {
				since[k] = rec.Created
			}
		}
		working = append(working, p)
	}
	for k, t := range since {
		venue, instrument, _ := strings.Cut(k, "\x00")
		if err := e.sweep(ctx, venue, instrument, t.Add(-time.Minute)); err != nil {
			return nil, err
		}
	}
	if len(recs) > 0 {
		e.log.Info("journal recovered", zap.Int("parents", len(recs)), zap.Int("working", len(working)))
	}
	return working, nil
}

// sweep journals the fills a venue made since t and cancels stray open orders of execd's.
func (e *Engine) sweep(ctx context.Context, venue, instrument string, t time.Time) error {
	v := e.venues[venue]
	cctx, cancel := context.WithTimeout(ctx, e.timeout)
	fills, err := v.Fills(cctx, instrument, t.UnixMilli())
	cancel()
	if err != nil {
		return fmt.Errorf("engine: recovery: reading %s fills on %s: %w", instrument, venue, err)
	}
	for _, f := range fills {
		if !strings.HasPrefix(f.ClientOrderID, ClientIDPrefix) {
			continue
		}
		fresh, err := e.journal.AddFill(f)
		if err != nil {
			return fmt.Errorf("engine: recovery: journaling fill %s/%s: %w", venue, f.TradeID, err)
		}
		// The venue's positions, which seeded the ledger, already include this trade.
		e.ledger.MarkSeen(f.Venue, f.TradeID)
		if fresh {
			if p := e.byClient[f.ClientOrderID]; p != nil {
				p.onFill(f)
			}
		}
	}
	cctx, cancel = context.WithTimeout(ctx, e.timeout)
	open, err := v.OpenOrders(cctx, instrument)
	cancel()
	if err != nil {
		return fmt.Errorf("engine: recovery: reading open orders on %s: %w", venue, err)
	}
	for _, o := range open {
		if !strings.HasPrefix(o.ClientOrderID, ClientIDPrefix) {
			continue
		}
		if p := e.byClient[o.ClientOrderID]; p != nil && p.byID[o.ClientOrderID].pending {
			continue // its owner resolves it (and cancels it if it still works)
		}
		cctx, cancel := context.WithTimeout(ctx, e.timeout)
		_, err := v.Cancel(cctx, instrument, o.ClientOrderID)
		cancel()
		if err != nil && !venues.IsNotFound(err) {
			return fmt.Errorf("engine: recovery: cancelling stray order %s on %s: %w", o.ClientOrderID, venue, err)
		}
		e.log.Warn("stray open order cancelled", zap.String("venue", venue), zap.String("child", o.ClientOrderID))
	}
	for _, p := range e.parents {
		for _, w := range p.work {
			if w.name == venue {
				p.publish()
			}
		}
	}
	return nil
}
