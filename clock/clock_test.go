package clock

import (
	"testing"
	"time"
)

func TestManualFiresInOrderAndStops(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewManual(t0)
	a := m.NewTimer(2 * time.Second)
	b := m.NewTimer(time.Second)
	c := m.NewTimer(3 * time.Second)
	if !c.Stop() || c.Stop() {
		t.Fatal("Stop should succeed once")
	}
	m.Advance(1500 * time.Millisecond)
	select {
	case at := <-b.C():
		if !at.Equal(t0.Add(time.Second)) {
			t.Fatalf("b fired at %v", at)
		}
	default:
		t.Fatal("b did not fire")
	}
	select {
	case <-a.C():
		t.Fatal("a fired early")
	default:
	}
	m.Advance(time.Hour)
	select {
	case <-a.C():
	default:
		t.Fatal("a did not fire")
	}
	select {
	case <-c.C():
		t.Fatal("stopped timer fired")
	default:
	}
	if m.Pending() != 0 {
		t.Fatalf("pending %d", m.Pending())
	}
	m.Set(t0) // never backwards
	if !m.Now().Equal(t0.Add(time.Hour + 1500*time.Millisecond)) {
		t.Fatalf("clock went backwards: %v", m.Now())
	}
	if z := m.NewTimer(0); len(z.C()) != 1 {
		t.Fatal("a zero timer fires at once")
	}
}

func TestScaledRunsFaster(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewScaled(t0, 1000)
	tm := s.NewTimer(10 * time.Second) // 10 ms of wall time
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	select {
	case at := <-tm.C():
		if at.Sub(t0) < 10*time.Second {
			t.Fatalf("fired at %v of scaled time, want at least 10s", at.Sub(t0))
		}
	case <-deadline.C:
		t.Fatal("scaled timer did not fire")
	}
	if s.WallDuration(time.Second) != time.Millisecond {
		t.Fatalf("wall duration %v", s.WallDuration(time.Second))
	}
}

func TestScaledFromAgreesAcrossInstances(t *testing.T) {
	epoch := time.Now().Add(-time.Minute)
	a, b := NewScaledFrom(epoch, 10), NewScaledFrom(epoch, 10)
	ta, tb := a.Now(), b.Now()
	if d := tb.Sub(ta); d < 0 || d > time.Second {
		t.Fatalf("two clocks from one epoch differ by %v", d)
	}
	if el := ta.Sub(epoch); el < 9*time.Minute {
		t.Fatalf("a minute of wall time at ×10 read as %v", el)
	}
}
