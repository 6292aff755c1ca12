package bench

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// predTestExec builds a fully filled execution with one child per time on venue, sized by sizes.
func predTestExec(venue string, times []float64, sizes []float64, horizon time.Duration) Execution {
	e := Execution{Strategy: "test", Horizon: horizon}
	for i, at := range times {
		e.Children = append(e.Children, Child{Venue: venue, At: time.Duration(math.Round(at)), Qty: sizes[i], Filled: sizes[i]})
		e.Quantity += sizes[i]
	}
	return e
}

// predTestCumsum returns the running sums of xs starting from start.
func predTestCumsum(start float64, xs []float64) []float64 {
	out := make([]float64, len(xs))
	acc := start
	for i, x := range xs {
		acc += x
		out[i] = acc
	}
	return out
}

func TestPredictEvenTWAP(t *testing.T) {
	const n = 7 // H/N is not a whole number of nanoseconds: intervals differ by rounding
	h := 60 * time.Second
	var execs []Execution
	for i := range 6 {
		q := float64(10 * (i + 1)) // different parent sizes pool after normalization
		times := make([]float64, n)
		sizes := make([]float64, n)
		for k := range n {
			times[k] = (float64(k) + 0.5) * float64(h) / n
			sizes[k] = q / n
		}
		execs = append(execs, predTestExec("A", times, sizes, h))
	}
	p, err := Predict(execs, 2)
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	if p.R2Time != 1 || p.R2Size != 1 {
		t.Errorf("even TWAP R2Time, R2Size = %v, %v, want 1, 1", p.R2Time, p.R2Size)
	}
	if p.CVInterval > 1e-9 || p.CVSize > 1e-9 {
		t.Errorf("even TWAP CVs = %v, %v, want 0", p.CVInterval, p.CVSize)
	}
	// Exact expected schedule error from the (rounded) times actually used.
	want := 0.0
	for k, c := range execs[0].Children {
		s := float64(c.At) / float64(h)
		want = math.Max(want, math.Max(math.Abs(float64(k)/n-s), math.Abs(float64(k+1)/n-s)))
	}
	if math.Abs(want-1.0/(2*n)) > 1e-9 {
		t.Fatalf("test setup: expected schedule error %v is not ≈ 1/(2N) = %v", want, 1.0/(2*n))
	}
	for name, got := range map[string]float64{"median": p.ScheduleError, "p90": p.ScheduleErrorP90, "max": p.ScheduleErrorMax} {
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("even TWAP schedule error %s = %v, want %v", name, got, want)
		}
	}
	// (n−1) intervals per execution, minus lags for the first samples.
	if want := 6 * (n - 1 - 2); p.Samples != want || p.Lags != 2 {
		t.Errorf("Samples, Lags = %d, %d, want %d, 2", p.Samples, p.Lags, want)
	}
}

func TestPredictGroupsByVenue(t *testing.T) {
	// Two venues, each an even TWAP on its own but with different periods and sizes: interleaved on one tape they
	// would be irregular, per venue they are perfectly regular.
	h := 100 * time.Second
	var execs []Execution
	for range 4 {
		var e Execution
		e.Horizon, e.Quantity = h, 100
		a, b := 0, 0
		for a < 10 || b < 7 {
			ta := (float64(a) + 0.5) * 10e9
			tb := (float64(b) + 0.3) * 14e9
			if b >= 7 || (a < 10 && ta <= tb) {
				e.Children = append(e.Children, Child{Venue: "A", At: time.Duration(ta), Qty: 6, Filled: 6})
				a++
			} else {
				e.Children = append(e.Children, Child{Venue: "B", At: time.Duration(tb), Qty: 40.0 / 7, Filled: 40.0 / 7})
				b++
			}
		}
		execs = append(execs, e)
	}
	p, err := Predict(execs, 1)
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	if p.R2Time != 1 || p.R2Size != 1 || p.CVInterval > 1e-9 || p.CVSize > 1e-9 {
		t.Errorf("per-venue TWAPs: R2Time %v, R2Size %v, CVs %v, %v; want 1, 1, 0, 0", p.R2Time, p.R2Size, p.CVInterval, p.CVSize)
	}
	if want := 4 * ((9 - 1) + (6 - 1)); p.Samples != want {
		t.Errorf("Samples = %d, want %d", p.Samples, want)
	}
}

func TestPredictIID(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const execsN, children = 200, 60
	var execs []Execution
	for i := range execsN {
		gaps := make([]float64, children)
		sizes := make([]float64, children)
		for k := range children {
			gaps[k] = (0.6 + 0.8*rng.Float64()) * 20e9
			sizes[k] = (0.5 + rng.Float64()) * float64(i+1)
		}
		times := predTestCumsum(0, gaps)
		execs = append(execs, predTestExec("A", times, sizes, time.Duration(times[children-1])))
	}
	p, err := Predict(execs, 3)
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	if math.Abs(p.R2Time) > 0.02 || math.Abs(p.R2Size) > 0.02 {
		t.Errorf("iid R2Time, R2Size = %v, %v, want |·| < 0.02", p.R2Time, p.R2Size)
	}
	if want := 0.4 / math.Sqrt(3); math.Abs(p.CVInterval-want) > 0.01 {
		t.Errorf("iid CVInterval = %v, want %v ± 0.01", p.CVInterval, want)
	}
	if want := 0.5 / math.Sqrt(3); math.Abs(p.CVSize-want) > 0.01 {
		t.Errorf("iid CVSize = %v, want %v ± 0.01", p.CVSize, want)
	}
}

func TestPredictAR1Intervals(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const phi, mu, sd = 0.8, 20e9, 3e9 // stationary sd of the intervals
	const execsN, children = 100, 400
	var execs []Execution
	for range execsN {
		gaps := make([]float64, children)
		sizes := make([]float64, children)
		dev := rng.NormFloat64() * sd // start in the stationary distribution
		for k := range children {
			gaps[k] = mu + dev
			dev = phi*dev + rng.NormFloat64()*sd*math.Sqrt(1-phi*phi)
			sizes[k] = 1
		}
		times := predTestCumsum(0, gaps)
		execs = append(execs, predTestExec("A", times, sizes, time.Duration(times[children-1])))
	}
	p, err := Predict(execs, 1)
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	if want := phi * phi; math.Abs(p.R2Time-want) > 0.05 {
		t.Errorf("AR(1) R2Time = %v, want %v ± 0.05", p.R2Time, want)
	}
	if p.R2Size != 1 {
		t.Errorf("constant sizes R2Size = %v, want 1", p.R2Size)
	}
}

func TestPredictGridJitter(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const execsN, children, delta = 100, 100, 20e9
	var execs []Execution
	for range execsN {
		times := make([]float64, children)
		sizes := make([]float64, children)
		for k := range children {
			u := 0.8*rng.Float64() - 0.4
			times[k] = (float64(k) + 0.5 + u) * delta
			sizes[k] = 1
		}
		execs = append(execs, predTestExec("A", times, sizes, time.Duration(children*delta)))
	}
	p, err := Predict(execs, 3)
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	// Intervals Δ(1 + u_{k+1} − u_k) are an MA(1) with θ = −1: the best linear predictor from 3 lags leaves
	// (p+2)/(p+1) = 5/4 of the innovation variance out of 2, so R² = 1 − 5/8 = 0.375.
	if p.R2Time < 0.2 || math.Abs(p.R2Time-0.375) > 0.05 {
		t.Errorf("grid jitter R2Time = %v, want > 0.2 and ≈ 0.375", p.R2Time)
	}
}

func TestPredictErrors(t *testing.T) {
	twap := func(n int) Execution {
		times := make([]float64, n)
		sizes := make([]float64, n)
		for k := range n {
			times[k] = float64(k) * 1e9
			sizes[k] = 1
		}
		return predTestExec("A", times, sizes, time.Duration(n)*time.Second)
	}
	if _, err := Predict(nil, 1); err == nil {
		t.Error("Predict(nil): no error")
	}
	if _, err := Predict([]Execution{twap(20), twap(20)}, 0); err == nil {
		t.Error("Predict with lags 0: no error")
	}
	// One execution: the odd fold is empty.
	if _, err := Predict([]Execution{twap(50)}, 1); err == nil || !strings.Contains(err.Error(), "fewer than lags+2") {
		t.Errorf("Predict with one execution: err = %v, want too few samples", err)
	}
	// 5 children: 4 intervals, 4−lags samples per fold; lags+2 = 4 needs 2 lags → 2 samples: too few.
	if _, err := Predict([]Execution{twap(5), twap(5)}, 2); err == nil {
		t.Error("Predict with 2 samples per fold and lags 2: no error")
	}
	// Enough: 6 children give 5 intervals, 3 samples per fold with lags 2, < 4; 7 children give 4 ≥ 4.
	if _, err := Predict([]Execution{twap(6), twap(6)}, 2); err == nil {
		t.Error("Predict with 3 samples per fold and lags 2: no error")
	}
	if _, err := Predict([]Execution{twap(7), twap(7)}, 2); err != nil {
		t.Errorf("Predict with 4 samples per fold and lags 2: %v", err)
	}
}

func TestScheduleError(t *testing.T) {
	h := 100 * time.Second
	s := time.Second
	cases := []struct {
		name     string
		children []Child
		want     float64
	}{
		{
			// Gaps (share of 100): t=10 before .1 after .3; t=60 before .2 after .1 (filled 10 of 30 asked);
			// t=90 before .4 after .1; t=H 0. Counting Qty instead of Filled would give .3.
			name: "partial fill",
			children: []Child{
				{Venue: "A", At: 10 * s, Qty: 40, Filled: 40},
				{Venue: "B", At: 60 * s, Qty: 30, Filled: 10},
				{Venue: "A", At: 90 * s, Qty: 50, Filled: 50},
			},
			want: 0.4,
		},
		{
			// t=50 before .5 after .3; t=H .8; t=150 before .8 (schedule clamped at 100), after 0.
			name: "after horizon",
			children: []Child{
				{Venue: "A", At: 50 * s, Qty: 20, Filled: 20},
				{Venue: "A", At: 150 * s, Qty: 80, Filled: 80},
			},
			want: 0.8,
		},
		{
			// Two children at the same time count together: t=0 after .6; t=100 before .4, after 0.
			name: "simultaneous at 0",
			children: []Child{
				{Venue: "A", At: 0, Qty: 30, Filled: 30},
				{Venue: "B", At: 0, Qty: 30, Filled: 30},
				{Venue: "A", At: 100 * s, Qty: 40, Filled: 40},
			},
			want: 0.6,
		},
		{name: "nothing filled", want: 1},
	}
	for _, c := range cases {
		e := Execution{Quantity: 100, Horizon: h, Children: c.children}
		if got := ScheduleError(e); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: ScheduleError = %v, want %v", c.name, got, c.want)
		}
	}
	if got := ScheduleError(Execution{Quantity: 0, Horizon: h}); !math.IsNaN(got) {
		t.Errorf("ScheduleError with zero quantity = %v, want NaN", got)
	}
	if got := ScheduleError(Execution{Quantity: 1, Horizon: 0}); !math.IsNaN(got) {
		t.Errorf("ScheduleError with zero horizon = %v, want NaN", got)
	}
}

func TestPredictabilityJSON(t *testing.T) {
	b, err := json.Marshal(Predictability{R2Time: math.Inf(-1), R2Size: 0.5, ScheduleError: math.NaN(), Lags: 2, Samples: 9})
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	want := `{"r2_time":null,"r2_size":0.5,"r2_time_merged":0,"cv_interval":0,"cv_size":0,"schedule_error":null,` +
		`"schedule_error_p90":0,"schedule_error_max":0,"lags":2,"samples":9}`
	if string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}
