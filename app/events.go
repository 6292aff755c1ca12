package app

import (
	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/risk"
)

// opsKey keys the daemon's "ops" events on the bus.
const opsKey = "ops"

// publishVenueOps tells the bus that actor changed (or reset) a venue's settings; vp is what applies now.
func (a *App) publishVenueOps(actor, venue string, vp engine.VenueParams, reset bool) {
	w, en := vp.Weight, vp.Enabled
	a.bus.Publish(api.KindOps, opsKey, api.OpsEvent{
		Actor: actor, Change: api.OpsVenue, Venue: venue, Weight: &w, Enabled: &en, Reset: reset, Time: a.clk.Now(),
	})
}

// publishStateOps tells the bus that ops changed the trading state.
func (a *App) publishStateOps(actor string, st risk.State) {
	a.bus.Publish(api.KindOps, opsKey, api.OpsEvent{
		Actor: actor, Change: api.OpsTradingState, State: string(st), Time: a.clk.Now(),
	})
}
