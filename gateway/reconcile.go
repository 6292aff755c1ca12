package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/journal"
	"github.com/execd-dev/execd/venues"
)

// Observation is what one reconcile pass read at a (venue, instrument) and what the gateway did about it.
type Observation struct {
	Venue      string
	Instrument string
	ReadAt     time.Time       // market clock, when the reads were answered
	Observed   decimal.Decimal // the venue's position, signed base units
	Ledger     decimal.Decimal // the ledger's position when they were compared (before any adjustment)
	Mark       decimal.Decimal // the venue's mark with the position, zero if it gave none
	// Quiet says the comparison was made: nothing of execd's was in flight at this pair from the start of the
	// reads to their answer (no order open, unresolved or waiting for fills, no fill being booked). Otherwise
	// Busy says what was, and nothing is adjusted: the next pass looks again.
	Quiet bool
	Busy  string
	// Adjusted is the external change booked (observed − ledger), zero if none; Explained says the external
	// trades seen since the last comparison sum to it.
	Adjusted  decimal.Decimal
	Explained bool
	// LostFills are fills of execd's own orders the venue has and the gateway had not seen (a stream event
	// lost): they are journaled and booked once, like any fill. ExternalFills are trades of orders that are
	// not execd's (a manual trade, a liquidation): journaled when they carry a client id, reported, and
	// accounted in the ledger by the adjustment of a quiet pass, never booked one by one.
	LostFills     []venues.Fill
	ExternalFills []venues.Fill
	// ForeignOpen are open orders at the venue that are not execd's; StrayOpen carry execd's prefix but no
	// parent here knows them. Both are reported, neither is touched.
	ForeignOpen []venues.Order
	StrayOpen   []venues.Order
	// Seeded: the pair's start-up read had failed; this pass read its position and seeded the ledger with it.
	Seeded bool
}

// Drift is observed − ledger.
func (o Observation) Drift() decimal.Decimal { return o.Observed.Sub(o.Ledger) }

// ErrStopped is returned by Reconcile when the gateway has stopped.
var ErrStopped = errors.New("gateway stopped")

type reconReply struct {
	obs Observation
	err error
}

// reconRead is what a pass's reads brought back.
type reconRead struct {
	fills []venues.Fill
	open  []venues.Order
	pos   []venues.Position
	at    time.Time
}

// reconState is the loop's view of reconciliation. Owned by the run goroutine.
type reconState struct {
	running bool
	waiters []chan<- reconReply // answered by the running pass
	next    []chan<- reconReply // answered by the pass after it
	since   time.Time           // market clock: the next pass reads fills from here
	start   uint64              // epoch when the running pass began
	obs     Observation         // the running pass's observation, while its adjustment is journaled
	// external are the external trades seen since the last comparison (by trade id), for the next adjustment's
	// explanation; fresh those seen since the last pass ended, for its observation.
	external map[string]venues.Fill
	fresh    []venues.Fill
}

// reconOverlap is how far before the previous pass's start a pass reads fills again (deduplicated by trade id),
// so a trade the venue timestamps a little early is not missed.
const reconOverlap = time.Minute

// Reconcile runs one reconcile pass on the gateway's goroutine and returns what it observed: it reads the
// venue's fills since the previous pass, its open orders and its position (through the breaker, like every
// call), books the fills of execd's orders it had not seen, and, if nothing of execd's was in flight meanwhile,
// compares the venue's position with the ledger and books any difference as an external change (journaled
// first). Passes of one gateway never overlap: a call made while one runs gets the next. Safe for concurrent use.
func (g *Gateway) Reconcile(ctx context.Context) (Observation, error) {
	reply := make(chan reconReply, 1)
	if !g.inbox.Put(Request{Kind: reconcile, recon: reply}) {
		return Observation{}, ErrStopped
	}
	select {
	case r := <-reply:
		return r.obs, r.err
	case <-ctx.Done():
		return Observation{}, ctx.Err()
	case <-g.done:
		select {
		case r := <-reply:
			return r.obs, r.err
		default:
			return Observation{}, ErrStopped
		}
	}
}

func (g *Gateway) onReconcile(ctx context.Context, reply chan<- reconReply) {
	if ctx.Err() != nil {
		reply <- reconReply{err: ErrStopped}
		return
	}
	if g.rc.running {
		g.rc.next = append(g.rc.next, reply)
		return
	}
	g.rc.waiters = append(g.rc.waiters, reply)
	g.startPass(ctx)
}

func (g *Gateway) startPass(ctx context.Context) {
	g.rc.running = true
	g.rc.start = g.epoch
	if g.rc.since.IsZero() {
		g.rc.since = g.started.Add(-reconOverlap)
	}
	since := g.rc.since
	g.rc.since = g.clk.Now().Add(-reconOverlap) // advanced now; put back if the pass fails
	g.spawn(func() result {
		var rd reconRead
		var err error
		if _, err := g.Rules(ctx); err != nil { // read once; a pair whose Prepare failed has none yet
			return result{kind: resRecon, err: fmt.Errorf("reading rules: %w", err), since: since}
		}
		rd.fills, err = call(ctx, g, Account, func(ctx context.Context) ([]venues.Fill, error) {
			return g.o.Venue.Fills(ctx, g.o.Instrument, since.UnixMilli())
		})
		if err != nil {
			return result{kind: resRecon, err: fmt.Errorf("reading fills: %w", err), since: since}
		}
		rd.open, err = call(ctx, g, Account, func(ctx context.Context) ([]venues.Order, error) {
			return g.o.Venue.OpenOrders(ctx, g.o.Instrument)
		})
		if err != nil {
			return result{kind: resRecon, err: fmt.Errorf("reading open orders: %w", err), since: since}
		}
		rd.pos, err = call(ctx, g, Account, func(ctx context.Context) ([]venues.Position, error) { return g.o.Venue.Positions(ctx) })
		if err != nil {
			return result{kind: resRecon, err: fmt.Errorf("reading positions: %w", err), since: since}
		}
		rd.at = g.clk.Now()
		return result{kind: resRecon, recon: &rd, since: since}
	})
}

// external reports whether a client order id is another program's: only with a prefix can execd tell.
func (g *Gateway) external(id string) bool { return g.o.ClientIDPrefix != "" && !g.ours(id) }

// busy says what of execd's is in flight at this pair, "" if nothing.
func (g *Gateway) busy() string {
	switch {
	case len(g.live) > 0:
		return fmt.Sprintf("%d order(s) open or unresolved", len(g.live))
	case len(g.watch) > 0:
		return fmt.Sprintf("%d order(s) with fills still to come", len(g.watch))
	case len(g.waiting) > 0:
		return "orders waiting for a mark"
	case g.ownPending > 0:
		return "fills being booked"
	}
	return ""
}

func (g *Gateway) onReconRead(ctx context.Context, r result) {
	if r.err != nil {
		g.rc.since = r.since
		g.endPass(ctx, Observation{}, fmt.Errorf("%s %s: reconcile: %w", g.name, g.o.Instrument, r.err))
		return
	}
	rd := r.recon
	obs := Observation{Venue: g.name, Instrument: g.o.Instrument, ReadAt: rd.at}
	for _, f := range rd.fills {
		if f.Instrument != g.o.Instrument {
			continue
		}
		if _, dup := g.seen[f.TradeID]; dup {
			continue
		}
		if !g.external(f.ClientOrderID) {
			obs.LostFills = append(obs.LostFills, f)
			g.log.Warn("fill the stream did not deliver; booking it", zap.String("child", f.ClientOrderID),
				zap.String("trade", f.TradeID), zap.String("venue_order", f.VenueOrderID))
		}
		g.takeFill(f)
	}
	for _, o := range rd.open {
		switch {
		case g.external(o.ClientOrderID):
			obs.ForeignOpen = append(obs.ForeignOpen, o)
		default:
			if known, ok := g.orders[o.ClientOrderID]; !ok || known.state.Final() {
				obs.StrayOpen = append(obs.StrayOpen, o)
			}
		}
	}
	pos := decimal.Zero
	for _, p := range rd.pos {
		if p.Instrument == g.o.Instrument {
			pos = pos.Add(p.Quantity)
			if p.MarkPrice.IsPositive() {
				obs.Mark = p.MarkPrice
			}
		}
	}
	obs.Observed = pos
	if g.Unprepared() != nil {
		// The pair's first successful read since a failed Prepare: the venue's position is the starting point,
		// as Prepare would have set it, not an external change.
		g.o.Ledger.Set(g.key, pos)
		if obs.Mark.IsPositive() {
			g.o.Ledger.SetMark(g.key, obs.Mark)
		}
		g.unprepared.Store(nil)
		g.log.Info("pair reconciled after a failed start; trading it is allowed", zap.String("position", pos.String()))
		obs.Ledger, obs.Quiet, obs.Seeded = pos, true, true
		g.rc.fresh, g.rc.external = nil, map[string]venues.Fill{}
		g.endPass(ctx, obs, nil)
		return
	}
	obs.Ledger = g.o.Ledger.Position(g.key)
	obs.Busy = g.busy()
	if obs.Busy == "" && g.epoch != g.rc.start {
		obs.Busy = "orders or fills changed during the reads"
	}
	obs.Quiet = obs.Busy == ""
	obs.ExternalFills = g.rc.fresh
	g.rc.fresh = nil
	if !obs.Quiet {
		g.endPass(ctx, obs, nil)
		return
	}
	ext := make([]venues.Fill, 0, len(g.rc.external))
	for _, f := range g.rc.external {
		ext = append(ext, f)
	}
	slices.SortFunc(ext, func(a, b venues.Fill) int { return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.TradeID, b.TradeID)) })
	clear(g.rc.external)
	delta := obs.Drift()
	if delta.IsZero() {
		g.endPass(ctx, obs, nil)
		return
	}
	explained := decimal.Zero
	ids := make([]string, 0, len(ext))
	for _, f := range ext {
		explained = explained.Add(f.Side.Sign().Mul(f.Quantity))
		ids = append(ids, f.TradeID)
	}
	adj := journal.Adjustment{Time: rd.at, Venue: g.name, Instrument: g.o.Instrument, Ledger: obs.Ledger,
		Observed: obs.Observed, Delta: delta, TradeIDs: ids, Explained: explained.Equal(delta)}
	obs.Explained = adj.Explained
	g.rc.obs = obs
	g.spawn(func() result {
		_, err := g.o.Journal.AppendAdjustment(adj)
		return result{kind: resAdjust, err: err}
	})
}

func (g *Gateway) onAdjusted(ctx context.Context, r result) {
	obs := g.rc.obs
	g.rc.obs = Observation{}
	if r.err != nil {
		g.endPass(ctx, obs, fmt.Errorf("%s %s: reconcile: journaling the external change: %w", g.name, g.o.Instrument, r.err))
		return
	}
	delta := obs.Drift()
	g.o.Ledger.Adjust(g.key, delta)
	obs.Adjusted = delta
	g.log.Warn("external position change booked", zap.String("observed", obs.Observed.String()),
		zap.String("ledger", obs.Ledger.String()), zap.String("delta", delta.String()), zap.Bool("explained", obs.Explained))
	g.endPass(ctx, obs, nil)
}

func (g *Gateway) endPass(ctx context.Context, obs Observation, err error) {
	for _, w := range g.rc.waiters {
		w <- reconReply{obs: obs, err: err}
	}
	g.rc.waiters, g.rc.running = nil, false
	if len(g.rc.next) > 0 {
		g.rc.waiters, g.rc.next = g.rc.next, nil
		if ctx.Err() != nil {
			g.endPass(ctx, Observation{}, ErrStopped)
			return
		}
		g.startPass(ctx)
	}
}

// takeExternal notes a trade of another program's order at this pair: reported by the next pass and explaining
// its adjustment, never booked by itself (the position comparison books it, once).
func (g *Gateway) takeExternal(f venues.Fill) {
	if _, dup := g.rc.external[f.TradeID]; dup {
		return
	}
	g.rc.external[f.TradeID] = f
	g.rc.fresh = append(g.rc.fresh, f)
	g.log.Warn("trade of an order that is not execd's", zap.String("trade", f.TradeID), zap.String("client_order", f.ClientOrderID),
		zap.String("venue_order", f.VenueOrderID), zap.String("side", string(f.Side)), zap.String("quantity", f.Quantity.String()),
		zap.String("price", f.Price.String()))
}
