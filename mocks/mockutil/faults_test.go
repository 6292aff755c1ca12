package mockutil

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shopspring/decimal"
)

// TestLatencyWaitsAndEndsEarly: with no latency AwaitLatency goes on at once; with one it waits it out; a closed
// server (done) or an ended request context ends the wait at once with false; Latency(0) turns it off.
func TestLatencyWaitsAndEndsEarly(t *testing.T) {
	var f Faults
	if !f.AwaitLatency(context.Background(), nil) {
		t.Fatal("no latency injected: the request should go on")
	}
	f.Latency(20 * time.Millisecond)
	start := time.Now()
	if !f.AwaitLatency(context.Background(), nil) || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("latency: went on after %v", time.Since(start))
	}

	f.Latency(time.Hour)
	done := make(chan struct{})
	close(done)
	start = time.Now()
	if f.AwaitLatency(context.Background(), done) || time.Since(start) > time.Second {
		t.Fatal("a closed server should end the wait at once, with no answer")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if f.AwaitLatency(ctx, nil) {
		t.Fatal("an ended request should end the wait, with no answer")
	}

	// A server closing while requests wait ends every one of them.
	open := make(chan struct{})
	var wg sync.WaitGroup
	results := make(chan bool, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- f.AwaitLatency(context.Background(), open)
		}()
	}
	close(open)
	wg.Wait()
	close(results)
	for r := range results {
		if r {
			t.Fatal("a wait went on after the server closed")
		}
	}

	f.Latency(0)
	if !f.AwaitLatency(context.Background(), done) {
		t.Fatal("Latency(0) should turn the latency off")
	}
}

// TestHoldRequestDropsOnClose: a request held by the latency when the server closes gets its connection closed
// without an answer; without latency it goes on.
func TestHoldRequestDropsOnClose(t *testing.T) {
	var f Faults
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.HoldRequest(w, r, done) {
			return
		}
		_ = WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("no latency: %v %v", res, err)
	}
	_ = res.Body.Close()

	f.Latency(time.Hour)
	close(done) // the server is closing: a held request gets no answer
	start := time.Now()
	if res, err := http.Get(srv.URL); err == nil {
		_ = res.Body.Close()
		t.Fatalf("got an answer (%d) from a closing server", res.StatusCode)
	}
	if time.Since(start) > time.Second {
		t.Fatalf("the held request took %v to end", time.Since(start))
	}
}

// TestClockSkew: the venue's clock runs the skew ahead of (or behind) the wall clock; 0 puts them back together;
// a nil Faults is the wall clock.
func TestClockSkew(t *testing.T) {
	var f Faults
	near := func(got, want time.Time) bool { d := got.Sub(want); return d > -time.Second && d < time.Second }
	if f.Skew() != 0 || !near(f.Now(), time.Now()) {
		t.Fatal("no skew injected")
	}
	f.ClockSkew(time.Minute)
	if f.Skew() != time.Minute || !near(f.Now(), time.Now().Add(time.Minute)) {
		t.Fatalf("ahead: skew %v now %v", f.Skew(), f.Now())
	}
	f.ClockSkew(-time.Hour)
	if !near(f.Now(), time.Now().Add(-time.Hour)) {
		t.Fatalf("behind: now %v", f.Now())
	}
	f.ClockSkew(0)
	if !near(f.Now(), time.Now()) {
		t.Fatal("ClockSkew(0) should put the clocks back together")
	}
	var none *Faults
	if none.Skew() != 0 || !near(none.Now(), time.Now()) {
		t.Fatal("a nil Faults should be the wall clock")
	}
}

// TestMaintenanceExpires: a maintenance lasts its duration of wall time; Maintenance(0) ends one early.
func TestMaintenanceExpires(t *testing.T) {
	// In a synctest bubble the wall clock the fault reads is the bubble's: the wait below is fake time.
	synctest.Test(t, func(t *testing.T) {
		var f Faults
		if f.UnderMaintenance() {
			t.Fatal("zero value under maintenance")
		}
		f.Maintenance(time.Hour)
		if !f.UnderMaintenance() {
			t.Fatal("not under maintenance")
		}
		f.Maintenance(0)
		if f.UnderMaintenance() {
			t.Fatal("Maintenance(0) should end it")
		}
		f.Maintenance(30 * time.Millisecond)
		time.Sleep(29 * time.Millisecond)
		if !f.UnderMaintenance() {
			t.Fatal("a 30ms maintenance over after 29ms")
		}
		time.Sleep(2 * time.Millisecond)
		if f.UnderMaintenance() {
			t.Fatal("the maintenance outlasted its duration")
		}
	})
}

// TestInsufficientMarginCounts: n injected rejections are taken once each, counts add up, and a nil Faults injects
// none.
func TestInsufficientMarginCounts(t *testing.T) {
	var f Faults
	f.InsufficientMargin(1)
	f.InsufficientMargin(1)
	if !f.TakeInsufficientMargin() || !f.TakeInsufficientMargin() || f.TakeInsufficientMargin() {
		t.Fatal("insufficient-margin count")
	}
	var none *Faults
	if none.TakeInsufficientMargin() {
		t.Fatal("a nil Faults injected a rejection")
	}
}

// TestBanLifted: Ban(0) lifts a ban; every request answered while banned counts.
func TestBanLifted(t *testing.T) {
	var f Faults
	f.Ban(time.Hour)
	if f.Banned() <= 0 || f.Banned() <= 0 || f.Bans() != 2 {
		t.Fatalf("banned: bans %d", f.Bans())
	}
	f.Ban(0)
	if f.Banned() != 0 || f.Bans() != 2 {
		t.Fatalf("after Ban(0): bans %d", f.Bans())
	}
}

// TestRaceFillsQueue: armed race fills come back in order, one per take; a nil Faults arms none.
func TestRaceFillsQueue(t *testing.T) {
	var f Faults
	f.FillBeforeNextChange("a", decimal.Zero)
	f.FillBeforeNextChange("b", decimal.NewFromInt(2))
	first, ok1 := f.TakeRaceFill()
	second, ok2 := f.TakeRaceFill()
	_, ok3 := f.TakeRaceFill()
	if !ok1 || !ok2 || ok3 || first.ClientID != "a" || !first.Qty.IsZero() || second.ClientID != "b" ||
		!second.Qty.Equal(decimal.NewFromInt(2)) {
		t.Fatalf("race fills %+v %+v", first, second)
	}
	var none *Faults
	if _, ok := none.TakeRaceFill(); ok {
		t.Fatal("a nil Faults armed a fill")
	}
}
