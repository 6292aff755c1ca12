package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/journal"
	"github.com/execd-dev/execd/risk"
)

// Ops' word over the config file's. A venue's weight and enabled flag are the file's, overlaid by what ops set
// through the API (each field on its own); a reload applies the new file beneath the overlay, so it never undoes
// an ops change, and a reset removes a venue's overlay. Every ops change is journaled, with its actor, before it
// applies: a change the journal refused did not happen, and a restart replays the log into the same overlay.

// venueOps is ops' setting of one venue: a nil field is the file's.
type venueOps struct {
	weight  *decimal.Decimal
	enabled *bool
}

// SignalActor is the actor the audit records for a reload a SIGHUP asked for.
const SignalActor = "signal"

// effective is cfg's engine parameters with ops' overlay applied. Call with a.mu held.
func (a *App) effective(cfg *config.Config) engine.Params {
	p := engineParams(cfg)
	for name, o := range a.overlay {
		vp, ok := p.Venues[name]
		if !ok {
			continue
		}
		if o.weight != nil {
			vp.Weight = *o.weight
		}
		if o.enabled != nil {
			vp.Enabled = *o.enabled
		}
		p.Venues[name] = vp
	}
	return p
}

// overlayOps folds one journaled venue change into the overlay.
func (a *App) overlayOps(o journal.Ops) {
	if a.overlay == nil {
		a.overlay = map[string]venueOps{}
	}
	if o.Reset {
		delete(a.overlay, o.Venue)
		return
	}
	v := a.overlay[o.Venue]
	if o.Weight != nil {
		w := *o.Weight
		v.weight = &w
	}
	if o.Enabled != nil {
		en := *o.Enabled
		v.enabled = &en
	}
	a.overlay[o.Venue] = v
}

// replayOps rebuilds ops' overlay and trading state from the ops log of earlier runs, so an operator's decision
// survives a restart, and applies them over the config.
func (a *App) replayOps() error {
	ops, err := a.jrnl.Ops()
	if err != nil {
		return fmt.Errorf("journal: ops: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	known := engineParams(a.cfg).Venues
	for _, o := range ops {
		switch o.Kind {
		case journal.OpsVenue:
			if _, ok := known[o.Venue]; !ok {
				a.log.Warn("journaled ops change for a venue no longer configured", zap.String("venue", o.Venue),
					zap.Uint64("seq", o.Seq))
				continue
			}
			a.overlayOps(o)
		case journal.OpsTradingState:
			st, err := risk.ParseState(o.State)
			if err != nil {
				return fmt.Errorf("journal: ops %d: %w", o.Seq, err)
			}
			if err := a.state.Set(st); err != nil {
				return err
			}
		case journal.OpsReload: // a record for the audit; the file is what applies
		default:
			return fmt.Errorf("journal: ops %d: unknown kind %q", o.Seq, o.Kind)
		}
	}
	return a.eng.SetParams(a.effective(a.cfg))
}

// journalOps appends an ops record before its change applies; an error means it must not apply.
func (a *App) journalOps(o journal.Ops) error {
	o.Time = a.clk.Now()
	if _, err := a.jrnl.AppendOps(o); err != nil {
		return &engine.Error{Kind: engine.KindUnavailable, Msg: "ops change not journaled, so not applied: " + err.Error()}
	}
	return nil
}

// --- reloads ---

// Reload applies a new config's reloadable part (weights and enabled flags beneath ops' overlay, twap and risk
// limits, breakers, API tokens, the log level) atomically: it is validated whole and checked against what needs a
// restart first, so a bad reload changes nothing.
func (a *App) Reload(next *config.Config) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reload(next)
}

// reload is Reload with a.mu held.
func (a *App) reload(next *config.Config) error {
	if err := next.Validate(); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	if err := a.cfg.Reloadable(next); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	if err := breakerSettings(next).Validate(); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	lvl, err := zapcore.ParseLevel(next.LogLevel)
	if err != nil {
		return fmt.Errorf("reload: log_level: %w", err) // validated above: not reached
	}
	if err := a.eng.SetParams(a.effective(next)); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	// Validated above, so none of these fails.
	if err := a.brk.Update(breakerSettings(next)); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	if a.apiSrv != nil {
		if err := a.apiSrv.SetTokens(apiTokens(next)); err != nil {
			return fmt.Errorf("reload: %w", err)
		}
	}
	if a.opts.Level != nil {
		a.opts.Level.SetLevel(lvl)
	}
	a.cfg = next
	return nil
}

// ReloadConfig reads the config from Options.ConfigSource and applies it (Reload), for actor; the attempt and
// its outcome are journaled for the audit. Serve's SIGHUP and POST /v1/config/reload both come here.
func (a *App) ReloadConfig(actor string) (api.ReloadResult, error) {
	if a.opts.ConfigSource == nil {
		return api.ReloadResult{}, &engine.Error{Kind: engine.KindUnavailable,
			Msg: "this daemon was not started from a config file: nothing to reload"}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	rec := journal.Ops{Kind: journal.OpsReload, Actor: actor}
	next, err := a.opts.ConfigSource()
	if err == nil {
		rec.ConfigHash = next.Hash
		err = a.reload(next)
	}
	if err != nil {
		rec.Refused = err.Error()
	}
	if jerr := a.journalOps(rec); jerr != nil {
		// The outcome stands (a reload is not replayed); only its audit record is missing, and the caller hears
		// the reload's own answer.
		a.log.Warn("config reload not journaled for the audit", zap.String("actor", actor), zap.Error(jerr))
	}
	if err != nil {
		return api.ReloadResult{}, err
	}
	a.log.Info("config reloaded", zap.String("actor", actor), zap.String("config_hash", next.Hash))
	return api.ReloadResult{ConfigHash: next.Hash, Time: a.clk.Now()}, nil
}

// apiTokens are the API's tokens from a config.
func apiTokens(cfg *config.Config) map[string]api.Token {
	t := make(map[string]api.Token, len(cfg.Auth.Tokens))
	for _, tk := range cfg.Auth.Tokens {
		t[tk.SHA256] = api.Token{Name: tk.Name, Role: tk.Role}
	}
	return t
}

// --- api.Ops: changes ---

// SetVenue changes a venue's weight and enabled flag live, or resets it to the config file's, for actor:
// journaled first, then applied, then published.
func (a *App) SetVenue(actor, name string, ch api.VenueChange) (api.VenueStatus, error) {
	a.mu.Lock()
	if _, ok := engineParams(a.cfg).Venues[name]; !ok {
		a.mu.Unlock()
		return api.VenueStatus{}, &engine.Error{Kind: engine.KindNotFound, Msg: "venue " + name + " does not exist"}
	}
	if ch.Weight != nil && ch.Weight.IsNegative() {
		a.mu.Unlock()
		return api.VenueStatus{}, &engine.Error{Kind: engine.KindInvalid, Msg: "weight must not be negative"}
	}
	rec := journal.Ops{Kind: journal.OpsVenue, Venue: name, Weight: ch.Weight, Enabled: ch.Enabled, Reset: ch.Reset, Actor: actor}
	if err := a.journalOps(rec); err != nil {
		a.mu.Unlock()
		return api.VenueStatus{}, err
	}
	a.overlayOps(rec)
	vp := a.effective(a.cfg).Venues[name] // the file's values show through the fields ops did not set
	err := a.eng.SetVenue(name, vp)
	a.mu.Unlock()
	if err != nil {
		// Checked above (the venue exists, the weight is not negative): not reached.
		return api.VenueStatus{}, err
	}
	a.log.Info("venue settings changed", zap.String("actor", actor), zap.String("venue", name),
		zap.String("weight", vp.Weight.String()), zap.Bool("enabled", vp.Enabled), zap.Bool("reset", ch.Reset))
	a.publishVenueOps(actor, name, vp, ch.Reset)
	for _, s := range a.Venues(context.Background()) {
		if s.Venue == name {
			return s, nil
		}
	}
	return api.VenueStatus{}, errors.New("venue vanished")
}

// TradingState is the current trading state.
func (a *App) TradingState() string { return string(a.state.Get()) }

// SetTradingState halts, resumes or restricts trading for actor: journaled first, then applied.
func (a *App) SetTradingState(actor, s string) error {
	st, err := risk.ParseState(s)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.journalOps(journal.Ops{Kind: journal.OpsTradingState, State: string(st), Actor: actor}); err != nil {
		return err
	}
	if err := a.eng.SetTrading(st); err != nil {
		return err // ParseState accepted it, and Set takes what it accepts: not reached
	}
	a.log.Warn("trading state changed", zap.String("actor", actor), zap.String("state", string(st)))
	a.publishStateOps(actor, st)
	return nil
}

// Audit is the ops log after since, oldest first, at most limit entries.
func (a *App) Audit(since uint64, limit int) ([]api.AuditEntry, error) {
	ops, err := a.jrnl.Ops()
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	out := []api.AuditEntry{}
	for _, o := range ops {
		if o.Seq <= since {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, api.AuditEntry{Seq: o.Seq, Time: o.Time.UTC(), Actor: o.Actor, Kind: o.Kind, Venue: o.Venue,
			Weight: o.Weight, Enabled: o.Enabled, Reset: o.Reset, State: o.State, ConfigHash: o.ConfigHash, Refused: o.Refused})
	}
	return out, nil
}
