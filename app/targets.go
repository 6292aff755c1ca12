package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/reconcile"
	"github.com/execd-dev/execd/venues"
)

// startReconcile builds the reconcile loop over the engine's gateways and the target keeper; runReconcile runs
// them. Split so that the loop exists before the engine's streams can report a reconnect.
func (a *App) buildReconcile(cfg *config.Config) error {
	pairs := []reconcile.Pair{}
	for _, gw := range a.eng.Gateways() {
		pairs = append(pairs, gw)
	}
	loop, err := reconcile.NewLoop(reconcile.LoopOptions{Clock: a.clk, Interval: cfg.Reconcile.Interval,
		MinGap: cfg.Reconcile.MinGap, Pairs: pairs, Logger: a.log, OnPass: a.onPass})
	if err != nil {
		return err
	}
	a.loop = loop
	return nil
}

func (a *App) buildKeeper(cfg *config.Config) error {
	k, err := reconcile.NewKeeper(reconcile.KeeperOptions{
		Clock: a.clk, Logger: a.log, Orders: a.eng, Store: a.jrnl, Positions: a.ledger, Ready: a.loop,
		Instruments: a.eng.Instruments(),
		Tolerance:   reconcile.Tolerance{Base: cfg.Reconcile.ToleranceBase, Notional: cfg.Reconcile.ToleranceNotional},
		AutoCorrect: cfg.Reconcile.IsAutoCorrect(), CorrectDuration: cfg.Reconcile.CorrectDuration,
		MaxCorrections: cfg.Reconcile.MaxCorrections, StartJitter: *cfg.TWAP.StartJitter,
		Publish: func(kind, key string, data any) {
			if ev, ok := data.(reconcile.TargetEvent); ok {
				a.bus.Publish(api.KindTarget, key, api.TargetEvent{Kind: ev.Kind, TargetID: ev.TargetID,
					Instrument: ev.Instrument, Position: ev.Target, Aggregate: ev.Aggregate, Drift: ev.Drift,
					Parent: ev.Parent, Reason: ev.Reason, Time: ev.Time})
			}
		},
	})
	if err != nil {
		return err
	}
	a.keeper = k
	return nil
}

func (a *App) runReconcile() {
	ctx, cancel := context.WithCancel(context.Background())
	a.recStop = cancel
	a.recWG.Add(2)
	go func() {
		defer a.recWG.Done()
		a.loop.Run(ctx)
	}()
	go func() {
		defer a.recWG.Done()
		a.keeper.Run(ctx)
	}()
}

func (a *App) stopReconcile() {
	if a.recStop != nil {
		a.recStop()
		a.recWG.Wait()
		a.recStop = nil
	}
}

// onPass publishes what a reconcile pass found (a pass that found nothing and changed nothing is not an event)
// and asks the keeper to look at the instrument when the ledger moved or the pair's readability changed.
func (a *App) onPass(st reconcile.Status) {
	obs := st.Pass
	first := st.Passes == 1
	if st.Flagged {
		a.bus.Publish(api.KindReconcile, st.Venue+"/"+st.Instrument, api.ReconcileEvent{Venue: st.Venue,
			Instrument: st.Instrument, Error: st.Err, Time: a.clk.Now()})
		return
	}
	interesting := first || obs.Seeded || !obs.Adjusted.IsZero() || len(obs.LostFills) > 0 || len(obs.ExternalFills) > 0 ||
		len(obs.StrayOpen) > 0 || st.Recovered
	if interesting {
		ev := api.ReconcileEvent{Venue: st.Venue, Instrument: st.Instrument, Observed: obs.Observed, Ledger: obs.Ledger,
			Quiet: obs.Quiet, Busy: obs.Busy, Adjusted: obs.Adjusted, Explained: obs.Explained, Seeded: obs.Seeded, Time: obs.ReadAt,
			LostFills: trades(obs.LostFills), External: trades(obs.ExternalFills)}
		for _, o := range obs.StrayOpen {
			ev.StrayOpen = append(ev.StrayOpen, o.ClientOrderID)
		}
		for _, o := range obs.ForeignOpen {
			ev.ForeignOpen = append(ev.ForeignOpen, o.VenueOrderID)
		}
		a.bus.Publish(api.KindReconcile, st.Venue+"/"+st.Instrument, ev)
	}
	if a.keeper != nil && (first || obs.Seeded || !obs.Adjusted.IsZero() || len(obs.LostFills) > 0) {
		a.keeper.Trigger(st.Instrument)
	}
}

func trades(fs []venues.Fill) []api.ForeignTrade {
	out := make([]api.ForeignTrade, 0, len(fs))
	for _, f := range fs {
		out = append(out, api.ForeignTrade{TradeID: f.TradeID, VenueOrderID: f.VenueOrderID, ClientOrderID: f.ClientOrderID,
			Side: string(f.Side), Quantity: f.Quantity, Price: f.Price, Time: f.Time})
	}
	return out
}

// SetTarget records a target (api.Targets).
func (a *App) SetTarget(ctx context.Context, s api.TargetSpec) (api.Target, bool, error) {
	if a.keeper == nil {
		return api.Target{}, false, errors.New("not started")
	}
	for _, v := range s.Venues {
		found := false
		for _, n := range a.eng.VenueNames() {
			found = found || n == v
		}
		if !found {
			return api.Target{}, false, fmt.Errorf("%w: venue %s does not exist", api.ErrTargetInvalid, v)
		}
	}
	v, created, err := a.keeper.Set(reconcile.TargetRequest{ID: s.ID, Instrument: s.Instrument, Position: s.Position,
		Duration: s.Duration, StartAt: s.StartAt, EndAt: s.EndAt, MaxSlippageBps: s.MaxSlippageBps, Venues: s.Venues,
		Execution: s.Execution})
	switch {
	case errors.Is(err, reconcile.ErrConflict):
		return api.Target{}, false, fmt.Errorf("%w: %v", api.ErrTargetConflict, err)
	case errors.Is(err, reconcile.ErrInvalid):
		return api.Target{}, false, fmt.Errorf("%w: %v", api.ErrTargetInvalid, err)
	case err != nil:
		return api.Target{}, false, err
	}
	return targetView(v), created, nil
}

// Targets lists every instrument's current target (api.Targets).
func (a *App) Targets() []api.Target {
	if a.keeper == nil {
		return nil
	}
	var out []api.Target
	for _, v := range a.keeper.List() {
		out = append(out, targetView(v))
	}
	return out
}

// TargetDetail is an instrument's current target and history (api.Targets).
func (a *App) TargetDetail(instrument string) (api.TargetDetail, bool) {
	if a.keeper == nil {
		return api.TargetDetail{}, false
	}
	known := false
	for _, i := range a.eng.Instruments() {
		known = known || i == instrument
	}
	if !known {
		return api.TargetDetail{}, false
	}
	d := api.TargetDetail{Instrument: instrument, History: []api.Target{}}
	if v, ok := a.keeper.Current(instrument); ok {
		t := targetView(v)
		d.Target = &t
	}
	for _, v := range a.keeper.History(instrument) {
		d.History = append(d.History, targetView(v))
	}
	return d, true
}

func targetView(v reconcile.TargetView) api.Target {
	t := v.Target
	out := api.Target{ID: t.ID, Instrument: t.Instrument, Position: t.Position, StartAt: t.StartAt, EndAt: t.EndAt,
		MaxSlippageBps: t.MaxSlippageBps, Venues: append([]string{}, t.Venues...), Execution: t.Execution,
		State: t.State, Reason: t.Reason,
		Aggregate: v.Aggregate, Drift: v.Drift, Reached: t.Reached, Working: v.Working,
		Parents: append([]string{}, t.Parents...), SupersededBy: t.SupersededBy, CreatedAt: t.Created, UpdatedAt: t.Updated}
	if t.Duration > 0 {
		out.Duration = t.Duration.String()
	}
	return out
}

// reconStatus returns the reconcile loop's status per (venue, instrument).
func (a *App) reconStatus() map[[2]string]reconcile.Status {
	out := map[[2]string]reconcile.Status{}
	if a.loop == nil {
		return out
	}
	for _, st := range a.loop.Status() {
		out[[2]string{st.Venue, st.Instrument}] = st
	}
	return out
}

var (
	_ api.Targets      = (*App)(nil)
	_ reconcile.Pair   = (*gateway.Gateway)(nil)
	_ reconcile.Orders = (*engine.Engine)(nil)
)

// ReconcilePass runs a reconcile pass of one (venue, instrument) now and waits for it (at most 10 s of wall
// time); tests and ops tooling use it.
func (a *App) ReconcilePass(venue, instrument string) (reconcile.Status, error) {
	if a.loop == nil {
		return reconcile.Status{}, errors.New("not started")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return a.loop.Pass(ctx, venue, instrument)
}

// Reconcile is each pair's reconciliation counters (api.Ops, for /metrics).
func (a *App) Reconcile() []api.ReconcileStatus {
	var out []api.ReconcileStatus
	if a.loop == nil {
		return out
	}
	for _, st := range a.loop.Status() {
		out = append(out, api.ReconcileStatus{Venue: st.Venue, Instrument: st.Instrument, Passes: st.Passes,
			Failures: st.Failures, LostFills: st.LostFills, ExternalFills: st.ExternalFills, Adjusted: st.Adjustments,
			Flagged: st.Flagged})
	}
	return out
}
