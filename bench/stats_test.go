package bench

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestQuantileType7(t *testing.T) {
	xs := []float64{10, 1, 4, 2, 3} // sorted: 1 2 3 4 10
	orig := slices.Clone(xs)
	cases := []struct{ p, want float64 }{
		{0, 1},
		{1, 10},
		{0.5, 3},
		{0.25, 2},   // h = 1
		{0.9, 7.6},  // h = 3.6: 4 + 0.6·6
		{0.1, 1.4},  // h = 0.4: 1 + 0.4·1
		{0.95, 8.8}, // h = 3.8: 4 + 0.8·6
	}
	for _, c := range cases {
		if got := Quantile(xs, c.p); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v, %v) = %v, want %v", xs, c.p, got, c.want)
		}
	}
	if !slices.Equal(xs, orig) {
		t.Errorf("Quantile modified its input: %v, was %v", xs, orig)
	}
	if got := Quantile([]float64{7}, 0.3); got != 7 {
		t.Errorf("Quantile of one value = %v, want 7", got)
	}
	if got := Quantile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("Quantile(nil) = %v, want NaN", got)
	}
}

func TestSummarize(t *testing.T) {
	xs := []float64{5, 1, 3, 2, 4, 10, 6, 7, 9, 8} // 1..10
	orig := slices.Clone(xs)
	s := Summarize(xs)
	// type 7 on 1..10: h = 9p, so p10 = 1.9, median = 5.5, p90 = 9.1.
	want := Summary{Median: 5.5, P10: 1.9, P90: 9.1, Mean: 5.5, N: 10}
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"Median", s.Median, want.Median},
		{"P10", s.P10, want.P10},
		{"P90", s.P90, want.P90},
		{"Mean", s.Mean, want.Mean},
	} {
		if math.Abs(f.got-f.want) > 1e-12 {
			t.Errorf("Summarize %s = %v, want %v", f.name, f.got, f.want)
		}
	}
	if s.N != 10 {
		t.Errorf("Summarize N = %d, want 10", s.N)
	}
	if !slices.Equal(xs, orig) {
		t.Errorf("Summarize modified its input: %v, was %v", xs, orig)
	}

	e := Summarize(nil)
	if e.N != 0 || !math.IsNaN(e.Median) || !math.IsNaN(e.P10) || !math.IsNaN(e.P90) || !math.IsNaN(e.Mean) {
		t.Errorf("Summarize(nil) = %+v, want NaN fields and N 0", e)
	}
}

func TestSummaryJSON(t *testing.T) {
	b, err := json.Marshal(Summarize(nil))
	if err != nil {
		t.Fatalf("marshal empty summary: %v", err)
	}
	if want := `{"median":null,"p10":null,"p90":null,"mean":null,"n":0}`; string(b) != want {
		t.Errorf("empty summary JSON = %s, want %s", b, want)
	}

	b, err = json.Marshal(Summary{Median: 1.5, P10: math.Inf(-1), P90: math.Inf(1), Mean: -2, N: 3})
	if err != nil {
		t.Fatalf("marshal summary with Inf: %v", err)
	}
	if want := `{"median":1.5,"p10":null,"p90":null,"mean":-2,"n":3}`; string(b) != want {
		t.Errorf("summary JSON = %s, want %s", b, want)
	}

	// Inside another struct, by value and by pointer, and round-tripped.
	type wrap struct {
		S Summary  `json:"s"`
		P *Summary `json:"p"`
	}
	in := wrap{S: Summary{Median: 2, P10: 1, P90: 3, Mean: 2.25, N: 4}, P: &Summary{Median: math.NaN(), N: 0}}
	b, err = json.Marshal(in)
	if err != nil {
		t.Fatalf("marshal wrapped summary: %v", err)
	}
	if !strings.Contains(string(b), `"s":{"median":2,"p10":1,"p90":3,"mean":2.25,"n":4}`) ||
		!strings.Contains(string(b), `"p":{"median":null,"p10":0,"p90":0,"mean":0,"n":0}`) {
		t.Errorf("wrapped summary JSON = %s", b)
	}
	var out wrap
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	if out.S != in.S {
		t.Errorf("round trip S = %+v, want %+v", out.S, in.S)
	}
	if out.P == nil || !math.IsNaN(out.P.Median) || out.P.P10 != 0 || out.P.N != 0 {
		t.Errorf("round trip P = %+v, want NaN median and zero rest", out.P)
	}
	if err := json.Unmarshal([]byte(`{"median":"x"}`), &out.S); err == nil {
		t.Error("unmarshal of a string median: no error")
	}
}
