package gateway

import (
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/venues"
)

// TestMakerFallback: maker fills are scored MarkoutHorizon after they happened, against the mark then; once the
// latest markoutWindow of them average worse than minus the fee saving (3 bps by default), pegged places go out as
// takers for MakerFallback, and not before, nor for a milder adverse selection.
func TestMakerFallback(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		markouts []float64 // bps the fills mark out at, in turn
		fallback bool
	}{
		{"mild adverse selection", []float64{-1}, false},
		{"adverse selection eats the fee saving", []float64{-4}, true},
		{"below the saving on average, but as noisy as a price path", []float64{-10, 3}, false},
		{"below the saving beyond doubt", []float64{-5.5, -3.5}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewManual(t0)
			g := &Gateway{clk: clk, retry: Retry{}.withDefaults(), log: zap.NewNop()}
			mark := decimal.NewFromInt(10000)
			// A buy filled at p marks out at x bps when the mark is p·(1 + x/1e4).
			want := 0.0
			for i := 0; i < markoutWindow; i++ {
				x := tc.markouts[i%len(tc.markouts)]
				want += x / markoutWindow
				price := mark.Div(decimal.NewFromFloat(1 + x/1e4))
				if i == markoutWindow-1 {
					g.matureMarkouts(mark)
					if g.makerOff() {
						t.Fatalf("off after %d of %d fills were scored", g.Maker().Fills, markoutWindow)
					}
				}
				g.noteMakerFill(venues.Fill{Side: venues.Buy, Price: price, Quantity: decimal.NewFromInt(1), Maker: true})
				clk.Advance(time.Second)
			}
			g.noteMakerFill(venues.Fill{Side: venues.Sell, Price: mark, Quantity: decimal.NewFromInt(1)}) // a taker: not scored
			clk.Advance(g.retry.MarkoutHorizon)
			g.matureMarkouts(mark)
			s := g.Maker()
			if s.Fills != markoutWindow || len(g.mk.pending) != 0 {
				t.Fatalf("scored %d fills, %d pending; want %d, 0", s.Fills, len(g.mk.pending), markoutWindow)
			}
			if d := s.MarkoutBps - want; d > 1e-6 || d < -1e-6 {
				t.Fatalf("average markout %v bps, want %v", s.MarkoutBps, want)
			}
			if g.makerOff() != tc.fallback {
				t.Fatalf("maker children off: %v, want %v (stats %+v)", g.makerOff(), tc.fallback, s)
			}
			if !tc.fallback {
				return
			}
			clk.Advance(g.retry.MakerFallback)
			if g.makerOff() {
				t.Fatalf("still off after the fallback period (until %v, now %v)", s.FallbackUntil, clk.Now())
			}
		})
	}
}

// TestPegUrgency: a maker child's urgency (the Request's, clamped to [0, 1]) prices it, and every re-peg, further
// inside the spread: one tick inside when on schedule, one tick inside the other side when as far behind as it
// may be.
func TestPegUrgency(t *testing.T) {
	g := &Gateway{clk: clock.NewManual(time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)), retry: Retry{}.withDefaults(), log: zap.NewNop()}
	rules := venues.Rules{TickSize: decimal.RequireFromString("0.1"), LotSize: decimal.RequireFromString("0.001")}
	q := Quote{Mark: decimal.RequireFromString("100.5"), Bid: decimal.RequireFromString("100"), Ask: decimal.RequireFromString("101")}
	for _, tc := range []struct {
		urgency float64
		want    string
	}{{0, "100.1"}, {0.5, "100.5"}, {1, "100.9"}, {7, "100.9"}, {-1, "100.1"}, {math.NaN(), "100.1"}} {
		o := &order{req: venues.OrderRequest{Side: venues.Buy}, bps: 100, urgency: unit(tc.urgency)}
		px, ok := g.pegPrice(o, rules, q)
		if !ok || !px.Equal(decimal.RequireFromString(tc.want)) {
			t.Errorf("urgency %v: %s %v, want %s", tc.urgency, px, ok, tc.want)
		}
	}
}
