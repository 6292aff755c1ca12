package risk

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// The seed: a reduce-only buy closing part of a −11.988 BTC short at ~10490.
func seedChild() Child {
	return Child{
		Venue: "a", Instrument: "BTC-USDT-PERP", Side: venues.Buy,
		Quantity: d("0.1"), Price: d("10500"), Mark: d("10490"),
		ReduceOnly: true, Position: d("-4.7952"), OpenReducing: d("0.2"),
	}
}

func TestCheck(t *testing.T) {
	limits := Limits{MaxChildNotional: d("5000"), MaxSlippageBps: 50}
	tests := []struct {
		name   string
		st     State
		edit   func(*Child)
		limits *Limits
		code   string // "" passes; "-" a non-violation error
	}{
		{name: "seed passes", st: Active},
		{name: "non reduce-only passes", st: Active, edit: func(c *Child) { c.ReduceOnly = false; c.Position = d("0") }},
		{name: "halted refuses", st: Halted, code: CodeHalted},
		{name: "halted refuses even bad price", st: Halted, edit: func(c *Child) { c.Price = d("20000") }, code: CodeHalted},
		{name: "reducing passes a reducing child", st: Reducing, edit: func(c *Child) { c.ReduceOnly = false }},
		{name: "reducing refuses growth", st: Reducing, edit: func(c *Child) { c.ReduceOnly = false; c.Side = venues.Sell; c.Price = d("10480") }, code: CodeReducing},
		{name: "reducing refuses flat position", st: Reducing, edit: func(c *Child) { c.Position = decimal.Zero }, code: CodeReducing},
		{name: "reducing refuses overshoot", st: Reducing, edit: func(c *Child) { c.Quantity = d("4.6") }, code: CodeReducing},
		{name: "reduce-only wrong side", st: Active, edit: func(c *Child) { c.Position = d("4.7952") }, code: CodeReduceOnly},
		{name: "reduce-only exactly closes", st: Active, edit: func(c *Child) { c.Quantity = d("0.4"); c.Position = d("-0.6") }},
		{name: "reduce-only with open orders overshoots", st: Active, edit: func(c *Child) { c.Quantity = d("0.41"); c.Position = d("-0.6") }, code: CodeReduceOnly},
		{name: "reduce-only sell of a long", st: Active, edit: func(c *Child) { c.Side = venues.Sell; c.Price = d("10480"); c.Position = d("1") }},
		{name: "notional at the cap", st: Active, edit: func(c *Child) { c.Quantity = d("0.5"); c.Price = d("10000") }},
		{name: "notional above the cap", st: Active, edit: func(c *Child) { c.Quantity = d("0.5") }, code: CodeMaxChildNotional},
		{name: "no notional cap", st: Active, limits: &Limits{MaxSlippageBps: 50}, edit: func(c *Child) { c.Quantity = d("4") }},
		{name: "buy at the band", st: Active, edit: func(c *Child) { c.Price = d("10542.45") }},
		{name: "buy above the band", st: Active, edit: func(c *Child) { c.Price = d("10542.5") }, code: CodePriceBand},
		{name: "sell at the band", st: Active, edit: func(c *Child) { c.Side = venues.Sell; c.Position = d("1"); c.Price = d("10437.55") }},
		{name: "sell below the band", st: Active, edit: func(c *Child) { c.Side = venues.Sell; c.Position = d("1"); c.Price = d("10437.5") }, code: CodePriceBand},
		{name: "zero bps: buy at mark only", st: Active, limits: &Limits{}, edit: func(c *Child) { c.Price = d("10490.1") }, code: CodePriceBand},
		{name: "zero quantity", st: Active, edit: func(c *Child) { c.Quantity = decimal.Zero }, code: CodeBadChild},
		{name: "negative price", st: Active, edit: func(c *Child) { c.Price = d("-1") }, code: CodeBadChild},
		{name: "zero mark", st: Active, edit: func(c *Child) { c.Mark = decimal.Zero }, code: CodeBadChild},
		{name: "bad side", st: Active, edit: func(c *Child) { c.Side = "hold" }, code: CodeBadChild},
		{name: "bad child beats halted", st: Halted, edit: func(c *Child) { c.Quantity = d("-1") }, code: CodeBadChild},
		{name: "unknown state", st: "paused", code: "-"},
		{name: "negative bps limit", st: Active, limits: &Limits{MaxSlippageBps: -1}, code: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, l := seedChild(), limits
			if tt.edit != nil {
				tt.edit(&c)
			}
			if tt.limits != nil {
				l = *tt.limits
			}
			err := Check(l, tt.st, c)
			var v *Violation
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.code == "-":
				if err == nil || errors.As(err, &v) {
					t.Fatalf("err = %v, want a plain error", err)
				}
			case tt.code != "":
				if !errors.As(err, &v) || v.Code != tt.code {
					t.Fatalf("err = %v, want code %s", err, tt.code)
				}
				if !errors.Is(err, &Violation{Code: tt.code}) {
					t.Errorf("errors.Is by code failed for %v", err)
				}
			}
		})
	}
}

func TestParseState(t *testing.T) {
	for _, s := range []string{"active", "reducing", "halted"} {
		if got, err := ParseState(s); err != nil || string(got) != s {
			t.Errorf("ParseState(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "Active", "paused"} {
		if _, err := ParseState(s); err == nil {
			t.Errorf("ParseState(%q) accepted", s)
		}
	}
}

func TestSwitch(t *testing.T) {
	var s Switch
	if s.Get() != Active {
		t.Fatalf("zero value = %q", s.Get())
	}
	if err := s.Set(Reducing); err != nil || s.Get() != Reducing {
		t.Fatalf("Set(reducing): %v, %q", err, s.Get())
	}
	if err := s.Set("paused"); err == nil || s.Get() != Reducing {
		t.Fatalf("Set(paused): %v, state %q", err, s.Get())
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 1000 {
				if (i+j)%2 == 0 {
					_ = s.Set(Halted)
				} else {
					_ = s.Get()
				}
			}
		})
	}
	wg.Wait()
	if s.Get() != Halted {
		t.Fatalf("after concurrent sets: %q", s.Get())
	}
}

var (
	errRetry    = &venues.Error{Venue: "a", Op: "place", Class: venues.Retryable, Status: 429}
	errUnknown  = &venues.Error{Venue: "a", Op: "place", Class: venues.Unknown, Status: 503}
	errRejected = &venues.Error{Venue: "a", Op: "place", Class: venues.Rejected, Code: "-4164", Msg: "min notional"}
	errPlain    = errors.New("connection reset") // unclassified: Unknown
)

// call runs one guarded call with outcome err; it reports whether the breaker allowed it.
func call(t *testing.T, b *Breakers, venue string, err error) bool {
	t.Helper()
	done, aerr := b.Allow(venue)
	if aerr != nil {
		if !errors.Is(aerr, ErrOpen) {
			t.Fatalf("Allow error %v does not wrap ErrOpen", aerr)
		}
		return false
	}
	done(err)
	return true
}

type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) add(venue, from, to string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf("%s:%s>%s", venue, from, to))
}

func (r *recorder) String() string { r.mu.Lock(); defer r.mu.Unlock(); return fmt.Sprint(r.got) }

func TestBreakerTrips(t *testing.T) {
	tests := []struct {
		name     string
		outcomes []error
		state    string
	}{
		{"three retryable open", []error{errRetry, errRetry, errRetry}, "open"},
		{"unknown and unclassified count", []error{errUnknown, errPlain, errRetry}, "open"},
		{"two are not enough", []error{errRetry, errRetry}, "closed"},
		{"rejections are the venue answering", []error{errRejected, errRejected, errRejected, errRejected}, "closed"},
		{"a rejection breaks the run", []error{errRetry, errRetry, errRejected, errRetry, errRetry}, "closed"},
		{"a success breaks the run", []error{errRetry, errRetry, nil, errRetry, errRetry}, "closed"},
		{"wrapped retryable counts", []error{fmt.Errorf("x: %w", errRetry), errRetry, errRetry}, "open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBreakers(BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: time.Hour}, []string{"a"}, nil)
			for _, e := range tt.outcomes {
				call(t, b, "a", e)
			}
			if got := b.State("a"); got != tt.state {
				t.Fatalf("state %s, want %s", got, tt.state)
			}
			if b.Healthy("a") != (tt.state != "open") {
				t.Fatalf("Healthy = %v in state %s", b.Healthy("a"), tt.state)
			}
		})
	}
}

// The full cycle on a fake clock (testing/synctest): gobreaker reads time.Now, which the bubble controls, so
// the open timeout passes instantly and deterministically.
func TestBreakerCycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		var b *Breakers
		b = NewBreakers(BreakerSettings{ConsecutiveFailures: 2, OpenTimeout: 10 * time.Second, HalfOpenProbes: 1}, []string{"a", "b"},
			func(venue, from, to string) {
				// Calls back into the breakers: would deadlock if run under gobreaker's or our lock.
				_ = b.State(venue)
				rec.add(venue, from, to)
			})
		call(t, b, "a", errRetry)
		call(t, b, "a", errUnknown)
		if b.State("a") != "open" || b.State("b") != "closed" {
			t.Fatalf("a %s b %s", b.State("a"), b.State("b"))
		}
		if call(t, b, "a", nil) {
			t.Fatal("open breaker allowed a call")
		}
		time.Sleep(9 * time.Second)
		if b.State("a") != "open" {
			t.Fatalf("half-open too early: %s", b.State("a"))
		}
		time.Sleep(2 * time.Second)
		if b.State("a") != "half-open" {
			t.Fatalf("after timeout: %s", b.State("a"))
		}
		// One probe at a time while half-open.
		done, err := b.Allow("a")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Allow("a"); !errors.Is(err, ErrOpen) {
			t.Fatalf("second probe: %v", err)
		}
		done(errRetry) // probe failed: open again
		done(nil)      // ignored
		if b.State("a") != "open" {
			t.Fatalf("failed probe: %s", b.State("a"))
		}
		time.Sleep(11 * time.Second)
		if !call(t, b, "a", errRejected) { // the venue answered: closes
			t.Fatal("probe refused")
		}
		if b.State("a") != "closed" {
			t.Fatalf("after good probe: %s", b.State("a"))
		}
		want := "[a:closed>open a:open>half-open a:half-open>open a:open>half-open a:half-open>closed]"
		if rec.String() != want {
			t.Fatalf("transitions\n got %s\nwant %s", rec, want)
		}
	})
}

func TestBreakersLazyAndUnknown(t *testing.T) {
	b := NewBreakers(BreakerSettings{ConsecutiveFailures: 1, OpenTimeout: time.Hour}, nil, nil)
	if b.State("x") != "closed" || !b.Healthy("x") {
		t.Fatal("unknown venue not closed")
	}
	call(t, b, "x", errPlain)
	if b.State("x") != "open" || b.Healthy("x") {
		t.Fatalf("lazily created breaker: %s", b.State("x"))
	}
	if b.State("y") != "closed" {
		t.Fatal("breakers are not per venue")
	}
}

func TestBreakersConcurrent(t *testing.T) {
	rec := &recorder{}
	b := NewBreakers(BreakerSettings{ConsecutiveFailures: 1000000, OpenTimeout: time.Hour}, []string{"a"}, rec.add)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 500 {
				venue := []string{"a", "b", "c"}[(i+j)%3]
				if done, err := b.Allow(venue); err == nil {
					done(errRejected)
				}
				_ = b.Healthy(venue)
			}
		})
	}
	wg.Wait()
	if rec.String() != "[]" {
		t.Fatalf("unexpected transitions %s", rec)
	}
}

func BenchmarkCheck(b *testing.B) {
	l := Limits{MaxChildNotional: d("5000"), MaxSlippageBps: 50}
	c := seedChild()
	b.ReportAllocs()
	for b.Loop() {
		if err := Check(l, Reducing, c); err != nil {
			b.Fatal(err)
		}
	}
}

// A failure ratio trips a breaker that failures in a row would not, once the window holds enough calls.
func TestBreakerFailureRatio(t *testing.T) {
	b := NewBreakers(BreakerSettings{ConsecutiveFailures: 100, FailureRatio: 0.5, MinRequests: 10, Window: time.Minute,
		OpenTimeout: time.Hour}, []string{"a"}, nil)
	for i := range 4 {
		call(t, b, "a", errRetry) // 4 of 4 failed, but fewer than MinRequests calls
		if b.State("a") != "closed" {
			t.Fatalf("open after %d calls", i+1)
		}
	}
	for range 5 {
		call(t, b, "a", nil)
	}
	if b.State("a") != "closed" {
		t.Fatal("open at 4 failures of 9 calls")
	}
	call(t, b, "a", errUnknown) // 5 of 10: the ratio is reached
	if st := b.Status("a"); st.State != "open" || len(st.Transitions) != 1 || st.Transitions[0].To != "open" {
		t.Fatalf("status %+v", st)
	}
	if err := b.Update(BreakerSettings{FailureRatio: 1.5}); err == nil {
		t.Fatal("ratio 1.5 accepted")
	}
	if s := b.Settings(); s.FailureRatio != 0.5 || s.ConsecutiveFailures != 100 {
		t.Fatalf("a refused update changed the settings: %+v", s)
	}
}

// Update rebuilds a closed breaker at once with the new settings (its counts start again); a breaker that is
// open keeps its open timeout until it closes, then is rebuilt with the new settings; its transitions stay in its
// status across the rebuild.
func TestBreakerUpdateLive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBreakers(BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: 10 * time.Second}, []string{"a", "b"}, nil)
		for range 3 {
			call(t, b, "a", errRetry)
		}
		call(t, b, "b", errRetry)
		if err := b.Update(BreakerSettings{ConsecutiveFailures: 2, OpenTimeout: time.Second}); err != nil {
			t.Fatal(err)
		}
		call(t, b, "b", errRetry)
		if b.State("b") != "closed" {
			t.Fatalf("b %s after one failure under the new rule: a closed breaker's count starts again", b.State("b"))
		}
		call(t, b, "b", errRetry)
		if b.State("b") != "open" {
			t.Fatalf("b %s after two failures under the new rule", b.State("b"))
		}
		time.Sleep(1100 * time.Millisecond)
		if b.State("b") != "half-open" {
			t.Fatalf("b %s: the new open timeout", b.State("b"))
		}
		time.Sleep(time.Second)
		if b.State("a") != "open" {
			t.Fatal("a took the new open timeout while open; it keeps the one it opened with")
		}
		time.Sleep(8 * time.Second)
		if !call(t, b, "a", nil) || b.State("a") != "closed" {
			t.Fatalf("a %s after its probe", b.State("a"))
		}
		call(t, b, "a", errRetry)
		call(t, b, "a", errRetry)
		time.Sleep(1100 * time.Millisecond)
		st := b.Status("a")
		if st.State != "half-open" || st.Settings.OpenTimeout != time.Second || st.Settings.ConsecutiveFailures != 2 {
			t.Fatalf("a rebuilt: %+v", st)
		}
		var path []string
		for _, tr := range st.Transitions {
			path = append(path, tr.From+">"+tr.To)
		}
		if got := fmt.Sprint(path); got != "[closed>open open>half-open half-open>closed closed>open open>half-open]" {
			t.Fatalf("transitions %s", got)
		}
	})
}
