package clock

import (
	"testing"
	"testing/synctest"
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

// Jump moves the time forward at once: a timer due by then fires now, one due after keeps its time, a stopped
// one never fires; in a synctest bubble the wall time is the bubble's, so this takes no time.
func TestScaledJump(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
		s := NewScaled(t0, 10)
		due := s.NewTimer(30 * time.Minute)
		later := s.NewTimer(2 * time.Hour)
		stopped := s.NewTimer(time.Minute)
		stopped.Stop()
		s.Jump(time.Hour)
		if got := s.Now().Sub(t0); got < time.Hour || got > time.Hour+time.Second {
			t.Fatalf("after the jump the clock reads +%s", got)
		}
		synctest.Wait()
		select {
		case at := <-due.C():
			if at.Sub(t0) < time.Hour {
				t.Fatalf("fired reading +%s", at.Sub(t0))
			}
		default:
			t.Fatal("a timer due by the jump did not fire")
		}
		select {
		case <-later.C():
			t.Fatal("a timer due after the jump fired early")
		case <-stopped.C():
			t.Fatal("a stopped timer fired")
		default:
		}
		time.Sleep(6*time.Minute + time.Second) // an hour of the clock's time at ×10
		select {
		case at := <-later.C():
			if at.Sub(t0) < 2*time.Hour {
				t.Fatalf("fired reading +%s, want +2h", at.Sub(t0))
			}
		default:
			t.Fatal("the later timer did not fire at its time")
		}
	})
}
