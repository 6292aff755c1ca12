package bench

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestThroughputEndToEnd runs both phases briefly and checks that they measured something. It asserts no
// throughput or latency threshold: those depend on the machine.
func TestThroughputEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := Throughput(ctx, ThroughputOptions{Concurrency: 2, Window: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	t.Logf("%s", b)
	if r.FullPathChildren <= 0 || r.BareOrders <= 0 {
		t.Fatalf("full path %d children, bare loop %d orders: want both positive", r.FullPathChildren, r.BareOrders)
	}
	if r.FullPathFilled <= 0 || r.BareFilled <= 0 {
		t.Errorf("filled: full path %d, bare %d: want both positive", r.FullPathFilled, r.BareFilled)
	}
	if !(r.Ratio > 0) {
		t.Errorf("ratio %v, want > 0", r.Ratio)
	}
	if r.LatencySamples <= 0 {
		t.Fatalf("no decision-to-wire samples")
	}
	if r.DecisionToWireP50Ms <= 0 || r.DecisionToWireP99Ms < r.DecisionToWireP50Ms {
		t.Errorf("decision-to-wire p50 %v ms, p99 %v ms: want 0 < p50 <= p99", r.DecisionToWireP50Ms, r.DecisionToWireP99Ms)
	}
	if q, ok := r.FullPathRequests["POST /fapi/v1/order"]; !ok || q.Count <= 0 {
		t.Errorf("no order placements counted: %+v", r.FullPathRequests)
	}
	if r.Concurrency != 2 || r.WindowSeconds < 0.3 {
		t.Errorf("concurrency %d, window %v s", r.Concurrency, r.WindowSeconds)
	}
}

func TestThroughputWindowTooLong(t *testing.T) {
	if _, err := Throughput(context.Background(), ThroughputOptions{Window: time.Minute}); err == nil {
		t.Fatal("a one-minute window was accepted")
	}
}
