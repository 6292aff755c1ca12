package lifecycle

import "testing"

func TestParseRoundTrip(t *testing.T) {
	for _, s := range All {
		got, err := Parse(string(s))
		if err != nil || got != s {
			t.Fatalf("Parse(%q) = %q, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "final", "FILLED", "open "} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): want an error", bad)
		}
	}
}

func TestFinalStatesAreNeverLeft(t *testing.T) {
	for _, from := range All {
		if !from.Final() {
			continue
		}
		for _, to := range All {
			if to != from && CanMove(from, to) {
				t.Errorf("%s → %s allowed; a final state must not be left", from, to)
			}
		}
	}
}

func TestEveryLiveStateCanEnd(t *testing.T) {
	// From every non-final state some path reaches a final state, and every state is reachable from Intent.
	reach := map[State]bool{Intent: true}
	for changed := true; changed; {
		changed = false
		for from := range reach {
			for _, to := range moves[from] {
				if !reach[to] {
					reach[to], changed = true, true
				}
			}
		}
	}
	// canEnd: the states from which some path of moves reaches a final state.
	canEnd := map[State]bool{}
	for _, s := range All {
		canEnd[s] = s.Final()
	}
	for changed := true; changed; {
		changed = false
		for from, tos := range moves {
			for _, to := range tos {
				if canEnd[to] && !canEnd[from] {
					canEnd[from], changed = true, true
				}
			}
		}
	}
	for _, s := range All {
		if !reach[s] {
			t.Errorf("%s is not reachable from intent", s)
		}
		if !canEnd[s] {
			t.Errorf("no path from %s reaches a final state", s)
		}
	}
}

func TestLiveAndFinalPartition(t *testing.T) {
	for _, s := range All {
		if s.Live() && s.Final() {
			t.Errorf("%s is both live and final", s)
		}
		if s != Intent && !s.Live() && !s.Final() {
			t.Errorf("%s is neither live nor final", s)
		}
	}
	if Intent.MayHaveReached() || NotSent.MayHaveReached() || !Unknown.MayHaveReached() {
		t.Error("MayHaveReached wrong")
	}
}

func TestEnded(t *testing.T) {
	for status, want := range map[string]State{"filled": Filled, "canceled": Cancelled, "expired": Expired, "rejected": Rejected} {
		if got, ok := Ended(status); !ok || got != want || !got.Final() {
			t.Errorf("Ended(%q) = %s, %v; want %s", status, got, ok, want)
		}
	}
	for _, status := range []string{"new", "partially_filled", "", "cancelled", "FILLED"} {
		if _, ok := Ended(status); ok {
			t.Errorf("Ended(%q) says final", status)
		}
	}
}
