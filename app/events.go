package app

import (
	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/engine"
	"github.com/execd-dev/execd/risk"
)

// opsActor keys the daemon's "ops" events. The API authenticates roles, not people, so the actor is the role that
// may make ops changes.
const opsActor = "ops"

// publishVenueOps tells the bus that ops changed a venue's settings; vp is what applies now.
func (a *App) publishVenueOps(venue string, vp engine.VenueParams) {
	w, en := vp.Weight, vp.Enabled
	a.bus.Publish(api.KindOps, opsActor, api.OpsEvent{
		Actor: opsActor, Change: api.OpsVenue, Venue: venue, Weight: &w, Enabled: &en, Time: a.clk.Now(),
	})
}

// publishStateOps tells the bus that ops changed the trading state.
func (a *App) publishStateOps(st risk.State) {
	a.bus.Publish(api.KindOps, opsActor, api.OpsEvent{
		Actor: opsActor, Change: api.OpsTradingState, State: string(st), Time: a.clk.Now(),
	})
}
