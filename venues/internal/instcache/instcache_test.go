package instcache

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestCache runs on a fake clock (testing/synctest): time.Now, which the cache reads for its age, is the bubble's,
// so the TTL elapses exactly when the test says.
func TestCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var loads int
		var fail bool
		c := &Cache[int]{TTL: time.Hour, What: "test", Load: func(ctx context.Context, op string) (Set[int], error) {
			loads++
			if fail {
				return Set[int]{}, errors.New("down")
			}
			s := NewSet[int]()
			s.Add("BTC-USDT-PERP", "BTCUSDT", 7)
			return s, nil
		}}
		ctx := context.Background()
		if c.Loaded() {
			t.Fatal("loaded before any load")
		}
		if v, ok, err := c.Lookup(ctx, "rules", "BTC-USDT-PERP"); err != nil || !ok || v != 7 {
			t.Fatalf("lookup: %v %v %v", v, ok, err)
		}
		if _, ok, err := c.Lookup(ctx, "rules", "ETH-USDT-PERP"); err != nil || ok {
			t.Fatalf("unlisted: %v %v", ok, err)
		}
		if loads != 2 {
			t.Fatalf("loads %d, want 2 (an unlisted instrument reloads)", loads)
		}
		if err := c.Ensure(ctx, "positions"); err != nil || loads != 2 {
			t.Fatalf("ensure on a fresh cache: %v, loads %d", err, loads)
		}
		if inst, ok := c.Instrument("BTCUSDT"); !ok || inst != "BTC-USDT-PERP" {
			t.Fatalf("instrument: %s %v", inst, ok)
		}
		if v, ok := c.ByVenue("BTCUSDT"); !ok || v != 7 {
			t.Fatalf("by venue: %v %v", v, ok)
		}
		if _, ok := c.ByVenue("ETHUSDT"); ok {
			t.Fatal("unknown symbol found")
		}
		// Just short of the TTL the cache is fresh: no load.
		time.Sleep(time.Hour - time.Nanosecond)
		if v, ok, err := c.Lookup(ctx, "rules", "BTC-USDT-PERP"); err != nil || !ok || v != 7 || loads != 2 {
			t.Fatalf("lookup just before the TTL: %v %v %v, loads %d", v, ok, err, loads)
		}
		// Stale and the refresh fails: the cached entry is served; an unknown instrument gets the error.
		fail = true
		time.Sleep(time.Nanosecond) // the last load is now exactly TTL old
		if v, ok, err := c.Lookup(ctx, "rules", "BTC-USDT-PERP"); err != nil || !ok || v != 7 || loads != 3 {
			t.Fatalf("stale lookup: %v %v %v, loads %d (want 3: a stale entry reloads)", v, ok, err, loads)
		}
		if _, _, err := c.Lookup(ctx, "rules", "ETH-USDT-PERP"); err == nil {
			t.Fatal("failed load of an uncached instrument: no error")
		}
		if err := c.Ensure(ctx, "positions"); err == nil {
			t.Fatal("ensure on a stale cache with a failing load: no error")
		}
	})
}
