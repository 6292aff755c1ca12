package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/api"
	"github.com/execd-dev/execd/app"
	"github.com/execd-dev/execd/configs"
	"github.com/execd-dev/execd/engine"
)

// TestThreeVenuesThreeProtocols runs the seed-sized rebalance on the default config: Binance USDⓈ-M, Bybit v5 and
// OKX v5 mocks, each through its own adapter. Each venue's filled share is within 5 points of its volume share,
// OKX quantities are whole contracts, the total is on the lot grid, and the venues' records agree.
func TestThreeVenuesThreeProtocols(t *testing.T) {
	a := startDaemonConfig(t, configs.Default, 40, nil, app.Options{})
	var before api.PositionsView
	call(t, a, viewerToken, "GET", "/v1/positions", nil, &before)
	if !before.Aggregate[0].Position.Equal(d("-11.988")) {
		t.Fatalf("start %s", before.Aggregate[0].Position)
	}
	if code := call(t, a, rebalancerToken, "POST", "/v1/orders", seedOrder("rb-three"), nil); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	rep := waitDone(t, a, "rb-three", 45*time.Second)
	if rep.State != engine.Done || !rep.Filled.Equal(d("2.216")) || !rep.Residual.Equal(d("0.0006")) {
		t.Fatalf("state %s filled %s residual %s (%s)", rep.State, rep.Filled, rep.Residual, rep.Reason)
	}
	shares := map[string]decimal.Decimal{"binance": d("0.55"), "bybit": d("0.23"), "okx": d("0.22")}
	if len(rep.Venues) != 3 {
		t.Fatalf("venues %+v", rep.Venues)
	}
	for _, v := range rep.Venues {
		got := v.Filled.Div(rep.Filled)
		if got.Sub(shares[v.Venue]).Abs().GreaterThan(d("0.05")) {
			t.Errorf("%s filled share %s, volume share %s", v.Venue, got.Round(4), shares[v.Venue])
		}
		t.Logf("%s allocated %s filled %s children %d", v.Venue, v.Allocated, v.Filled, v.ChildOrders)
	}
	contract := d("0.01")
	for _, o := range a.Mocks().Venue("okx").Control.Orders() {
		if !o.Quantity.Mod(contract).IsZero() || !o.Executed.Mod(contract).IsZero() {
			t.Errorf("okx order %s: %s / %s BTC is not whole contracts", o.ClientOrderID, o.Quantity, o.Executed)
		}
	}
	checkAgainstVenues(t, a, rep)
	var after api.PositionsView
	call(t, a, viewerToken, "GET", "/v1/positions", nil, &after)
	if !after.Aggregate[0].Position.Equal(d("-9.772")) {
		t.Fatalf("aggregate after %s", after.Aggregate[0].Position)
	}
}
