package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

// Summary is a distribution's median, 10th and 90th percentiles, mean and count.
// Fields that are NaN or infinite (e.g. every statistic of an empty sample) are
// encoded as JSON null by MarshalJSON, and decoded back from null as NaN.
type Summary struct {
	Median float64 `json:"median"`
	P10    float64 `json:"p10"`
	P90    float64 `json:"p90"`
	Mean   float64 `json:"mean"`
	N      int     `json:"n"`
}

// Summarize returns xs's median, 10th and 90th percentiles (see Quantile for the
// interpolation rule), mean and count. For empty input every float field is NaN
// and N is 0. It does not modify xs.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		nan := math.NaN()
		return Summary{Median: nan, P10: nan, P90: nan, Mean: nan}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	return Summary{
		Median: statQuantileSorted(s, 0.5),
		P10:    statQuantileSorted(s, 0.1),
		P90:    statQuantileSorted(s, 0.9),
		Mean:   sum / float64(len(s)),
		N:      len(s),
	}
}

// Quantile returns the p-quantile (0 ≤ p ≤ 1; p is clamped to that range) of xs
// by linear interpolation between order statistics, the "type 7" rule: with the
// sorted values x_0 ≤ … ≤ x_{n−1} and h = (n−1)·p, it is
// x_⌊h⌋ + (h−⌊h⌋)·(x_⌊h⌋+1 − x_⌊h⌋). It returns NaN for empty input or a NaN p.
// It does not modify xs.
func Quantile(xs []float64, p float64) float64 {
	if len(xs) == 0 || math.IsNaN(p) {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return statQuantileSorted(s, p)
}

// statQuantileSorted is Quantile on an already sorted, non-empty slice.
func statQuantileSorted(s []float64, p float64) float64 {
	p = math.Max(0, math.Min(1, p))
	h := float64(len(s)-1) * p
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// jsonFloat is a float64 that encodes as JSON null when NaN or infinite and
// decodes null as NaN.
type jsonFloat float64

// MarshalJSON implements json.Marshaler.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal float: %w", err)
	}
	return b, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonFloat(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("unmarshal float: %w", err)
	}
	*f = jsonFloat(v)
	return nil
}

// summaryJSON is Summary's wire form.
type summaryJSON struct {
	Median jsonFloat `json:"median"`
	P10    jsonFloat `json:"p10"`
	P90    jsonFloat `json:"p90"`
	Mean   jsonFloat `json:"mean"`
	N      int       `json:"n"`
}

// MarshalJSON encodes s with NaN and infinite fields as null.
func (s Summary) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(summaryJSON{
		Median: jsonFloat(s.Median),
		P10:    jsonFloat(s.P10),
		P90:    jsonFloat(s.P90),
		Mean:   jsonFloat(s.Mean),
		N:      s.N,
	})
	if err != nil {
		return nil, fmt.Errorf("marshal summary: %w", err)
	}
	return b, nil
}

// UnmarshalJSON decodes s, reading null (or absent) float fields as NaN.
func (s *Summary) UnmarshalJSON(b []byte) error {
	nan := jsonFloat(math.NaN())
	w := summaryJSON{Median: nan, P10: nan, P90: nan, Mean: nan}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("unmarshal summary: %w", err)
	}
	*s = Summary{
		Median: float64(w.Median),
		P10:    float64(w.P10),
		P90:    float64(w.P90),
		Mean:   float64(w.Mean),
		N:      w.N,
	}
	return nil
}
