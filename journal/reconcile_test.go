package journal

import (
	"errors"
	"math"
	"testing"
	"time"
)

func sampleTarget(id string) Target {
	return Target{ID: id, Instrument: "BTC-USDT-PERP", Position: dec("-9.7734"), Duration: 10 * time.Minute,
		MaxSlippageBps: 50, Venues: []string{"a", "b"}, State: TargetWorking, Parents: []string{"tgt-" + id + "-1"},
		Created: t0(), Updated: t0()}
}

func TestTargetsRoundTripAndReopen(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	a, b := sampleTarget("t2"), sampleTarget("t1")
	b.Created = a.Created.Add(-time.Minute)
	for _, x := range []Target{a, b} {
		if err := s.PutTarget(x); err != nil {
			t.Fatal(err)
		}
	}
	a.State, a.SupersededBy, a.Reached = TargetSuperseded, "t3", dec("-10.5")
	if err := s.PutTarget(a); err != nil { // replace by id
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir)
	defer s.Close()
	got, err := s.Targets()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "t1" || got[1].ID != "t2" {
		t.Fatalf("targets: %+v", got)
	}
	sameEncoding(t, "target", a, got[1])
}

func TestTargetInvalidChangesNothing(t *testing.T) {
	s := openT(t, t.TempDir())
	defer s.Close()
	for i, bad := range []Target{
		{},
		func() Target { x := sampleTarget("x"); x.Instrument = "BTCUSDT"; return x }(),
		func() Target { x := sampleTarget("x"); x.State = "done"; return x }(),
		func() Target { x := sampleTarget("x"); x.Duration = -1; return x }(),
		func() Target { x := sampleTarget("x"); x.Created = time.Time{}; return x }(),
	} {
		if err := s.PutTarget(bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%d: %v, want ErrInvalid", i, err)
		}
	}
	if got, err := s.Targets(); err != nil || len(got) != 0 {
		t.Fatalf("stored: %v %v", got, err)
	}
}

func TestAdjustmentsLog(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	adj := Adjustment{Time: t0(), Venue: "a", Instrument: "BTC-USDT-PERP", Ledger: dec("-4.795"), Observed: dec("-4.295"),
		Delta: dec("0.5"), TradeIDs: []string{"991"}, Explained: true, Seq: 42}
	for i := 1; i <= 2; i++ {
		seq, err := s.AppendAdjustment(adj)
		if err != nil || seq != uint64(i) {
			t.Fatalf("append %d: seq %d, %v", i, seq, err)
		}
	}
	bad := adj
	bad.Delta = dec("0.4") // does not match observed − ledger
	if _, err := s.AppendAdjustment(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("inconsistent delta: %v", err)
	}
	zero := adj
	zero.Observed, zero.Delta = zero.Ledger, dec("0")
	if _, err := s.AppendAdjustment(zero); !errors.Is(err, ErrInvalid) {
		t.Fatalf("zero delta: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir)
	defer s.Close()
	got, err := s.Adjustments()
	if err != nil || len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 || !got[1].Delta.Equal(dec("0.5")) {
		t.Fatalf("adjustments: %+v %v", got, err)
	}
	if seq, err := s.AppendAdjustment(adj); err != nil || seq != 3 {
		t.Fatalf("after reopen: seq %d, %v", seq, err)
	}
}

// Markouts round-trip; an older snapshot (fewer samples) written late does not replace a newer one; a bad one is
// refused and changes nothing.
func TestMarkouts(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	if _, ok, err := s.MarkoutsOf("p1"); ok || err != nil {
		t.Fatalf("none stored: ok %v err %v", ok, err)
	}
	newer := Markouts{Parent: "p1", Samples: 5, By: []MarkoutSum{
		{Horizon: time.Second, Sum: -1.5, Qty: dec("0.3")},
		{Horizon: 10 * time.Second, Sum: 2.25, Qty: dec("0.2")}}}
	older := Markouts{Parent: "p1", Samples: 3, By: newer.By[:1]}
	for _, m := range []Markouts{newer, older} {
		if err := s.PutMarkouts(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []Markouts{
		{Parent: "", Samples: 9},
		{Parent: "p1", Samples: 9, By: []MarkoutSum{{Horizon: 10 * time.Second}, {Horizon: time.Second}}},
		{Parent: "p1", Samples: 9, By: []MarkoutSum{{Horizon: time.Second, Sum: math.NaN()}}},
		{Parent: "p1", Samples: -1},
	} {
		if err := s.PutMarkouts(bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%+v: %v, want ErrInvalid", bad, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir)
	got, ok, err := s.MarkoutsOf("p1")
	if err != nil || !ok || got.Samples != 5 || len(got.By) != 2 || got.By[1].Sum != 2.25 || !got.By[0].Qty.Equal(newer.By[0].Qty) {
		t.Fatalf("after reopening: %+v ok %v err %v", got, ok, err)
	}
}
