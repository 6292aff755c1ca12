package gateway_test

import (
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/execd-dev/execd/gateway"
	"github.com/execd-dev/execd/journal"
)

// Every own fill's markout reaches its parent at each of the horizons (1 s, 10 s, 60 s): the mark read when the
// horizon falls due against the fill price, side-signed, with the fill's quantity — after the order has ended,
// with no other activity at the venue to prompt a read.
func TestFillMarkouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newFake()
		r := newRig(t, v, rigConfig{capable: true, stream: true, pos: "0"})
		s := &sink{}
		r.place("p1", "c1", "0.5", s)
		settle(journal.AsyncWindow)
		f := s.one(t, "c1", gateway.Filled).Fill
		v.mu.Lock()
		v.mark = dec("10100")
		v.mu.Unlock()
		settle(500 * time.Millisecond)
		if ms := s.markouts(); len(ms) != 0 {
			t.Fatalf("markouts before the first horizon: %+v", ms)
		}
		settle(61 * time.Second)
		ms := s.markouts()
		horizons := []time.Duration{time.Second, 10 * time.Second, time.Minute}
		if len(ms) != len(horizons) {
			t.Fatalf("%d markouts, want %d: %+v", len(ms), len(horizons), ms)
		}
		px := f.Price.InexactFloat64()
		want := (10100 - px) / px * 1e4
		for i, m := range ms {
			x := m.Markout
			if m.ClientOrderID != "c1" || m.Venue != v.name || x.Horizon != horizons[i] || math.Abs(x.Bps-want) > 1e-9 ||
				!x.Qty.Equal(f.Quantity) || x.Maker != f.Maker {
				t.Errorf("markout %d: %+v, want horizon %v, %.4f bps of %s", i, m, horizons[i], want, f.Quantity)
			}
		}
		settle(time.Minute)
		if n := len(s.markouts()); n != len(horizons) {
			t.Fatalf("%d markouts a minute later, want %d: each horizon once", n, len(horizons))
		}
	})
}
