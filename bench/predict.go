package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Predictability measures how well an observer of the child orders could predict the next one.
//
// The observer watches one venue's tape. For each execution and each venue, the venue's children are taken in
// time order (Execution.Children is sorted by At; they are grouped by Venue keeping that order). An interval is
// the difference of consecutive At on the same venue (a venue's first child gives no interval); a size is
// Child.Qty. To pool executions of different parent sizes and venues, each interval is divided by the mean
// interval of its (execution, venue) sequence and each size by the mean size of its sequence, so values are
// around 1. Sequences whose mean is not positive are left out.
//
// R2Time and R2Size are out-of-sample R² of an autoregressive predictor: ordinary least squares with an
// intercept, predicting x_k from x_{k−1}, …, x_{k−Lags} of the same (execution, venue) sequence (a sample exists
// only when Lags previous values exist in the sequence); one model for intervals and one for sizes, each pooled
// over all sequences. The fit is 2-fold by execution: fitted on the executions at even indices of the slice and
// evaluated on the odd ones, and vice versa. R² = 1 − ΣSSE/ΣSST summed over both folds, where SST is taken
// around the training fold's mean of the target, so a useless predictor scores about 0 or below; negative
// values are reported as they are. When the target is constant (ΣSST ≈ 0, e.g. an even TWAP) R² is 1 if ΣSSE ≈
// 0 too (the series is perfectly predictable), −Inf otherwise ("≈ 0" meaning at most 1e-12 of Σ target²).
//
// R2TimeMerged is the same predictor of the next interval for an observer of every venue at once: each
// execution's children of all venues merged in time order (Execution.Children's order) make one sequence.
//
// CVInterval and CVSize are the coefficients of variation (population standard deviation over mean) of all the
// normalized intervals, respectively sizes, pooled; an even TWAP gives 0.
//
// ScheduleError, ScheduleErrorP90 and ScheduleErrorMax are the median, 0.9-quantile (see Quantile) and maximum
// over the executions of ScheduleError(e), executions where it is NaN left out (NaN if all are).
//
// Fields that are NaN or infinite are encoded as JSON null.
type Predictability struct {
	R2Time           float64 `json:"r2_time"`        // out-of-sample R² of predicting a venue's next interval
	R2Size           float64 `json:"r2_size"`        // out-of-sample R² of predicting a venue's next child size
	R2TimeMerged     float64 `json:"r2_time_merged"` // the next interval on all venues' children merged
	CVInterval       float64 `json:"cv_interval"`
	CVSize           float64 `json:"cv_size"`
	ScheduleError    float64 `json:"schedule_error"` // median over executions
	ScheduleErrorP90 float64 `json:"schedule_error_p90"`
	ScheduleErrorMax float64 `json:"schedule_error_max"`
	Lags             int     `json:"lags"`
	Samples          int     `json:"samples"` // (interval) samples used by the fits
}

// predictabilityJSON is Predictability's wire form.
type predictabilityJSON struct {
	R2Time           jsonFloat `json:"r2_time"`
	R2Size           jsonFloat `json:"r2_size"`
	R2TimeMerged     jsonFloat `json:"r2_time_merged"`
	CVInterval       jsonFloat `json:"cv_interval"`
	CVSize           jsonFloat `json:"cv_size"`
	ScheduleError    jsonFloat `json:"schedule_error"`
	ScheduleErrorP90 jsonFloat `json:"schedule_error_p90"`
	ScheduleErrorMax jsonFloat `json:"schedule_error_max"`
	Lags             int       `json:"lags"`
	Samples          int       `json:"samples"`
}

// MarshalJSON encodes p with NaN and infinite fields as null.
func (p Predictability) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(predictabilityJSON{
		R2Time:           jsonFloat(p.R2Time),
		R2Size:           jsonFloat(p.R2Size),
		R2TimeMerged:     jsonFloat(p.R2TimeMerged),
		CVInterval:       jsonFloat(p.CVInterval),
		CVSize:           jsonFloat(p.CVSize),
		ScheduleError:    jsonFloat(p.ScheduleError),
		ScheduleErrorP90: jsonFloat(p.ScheduleErrorP90),
		ScheduleErrorMax: jsonFloat(p.ScheduleErrorMax),
		Lags:             p.Lags,
		Samples:          p.Samples,
	})
	if err != nil {
		return nil, fmt.Errorf("marshal predictability: %w", err)
	}
	return b, nil
}

// Predict measures the predictability of execs' child orders with an AR predictor of lags lags; see
// Predictability for the definitions. It returns an error if execs is empty, lags < 1, or either fold has fewer
// than lags+2 interval or size samples.
func Predict(execs []Execution, lags int) (Predictability, error) {
	if len(execs) == 0 {
		return Predictability{}, errors.New("predict: no executions")
	}
	if lags < 1 {
		return Predictability{}, fmt.Errorf("predict: lags %d < 1", lags)
	}
	var intervals, sizes, merged [2][][]float64 // [fold][sequence][k]
	var allIntervals, allSizes []float64
	for i, e := range execs {
		at := make([]float64, len(e.Children))
		for k, c := range e.Children {
			at[k] = float64(c.At)
		}
		if iv := predNormalize(predDiffs(at)); iv != nil {
			merged[i%2] = append(merged[i%2], iv)
		}
		for _, seq := range predVenueSequences(e.Children) {
			if iv := predNormalize(predDiffs(seq.at)); iv != nil {
				intervals[i%2] = append(intervals[i%2], iv)
				allIntervals = append(allIntervals, iv...)
			}
			if sz := predNormalize(seq.qty); sz != nil {
				sizes[i%2] = append(sizes[i%2], sz)
				allSizes = append(allSizes, sz...)
			}
		}
	}
	r2Time, samples, err := predCrossValidatedR2(intervals, lags)
	if err != nil {
		return Predictability{}, fmt.Errorf("predict intervals: %w", err)
	}
	r2Size, _, err := predCrossValidatedR2(sizes, lags)
	if err != nil {
		return Predictability{}, fmt.Errorf("predict sizes: %w", err)
	}
	r2Merged, _, err := predCrossValidatedR2(merged, lags)
	if err != nil {
		return Predictability{}, fmt.Errorf("predict merged intervals: %w", err)
	}
	var errs []float64
	for _, e := range execs {
		if v := ScheduleError(e); !math.IsNaN(v) {
			errs = append(errs, v)
		}
	}
	maxErr := math.NaN()
	if len(errs) > 0 {
		maxErr = slices.Max(errs)
	}
	return Predictability{
		R2Time:           r2Time,
		R2Size:           r2Size,
		R2TimeMerged:     r2Merged,
		CVInterval:       statCV(allIntervals),
		CVSize:           statCV(allSizes),
		ScheduleError:    Quantile(errs, 0.5),
		ScheduleErrorP90: Quantile(errs, 0.9),
		ScheduleErrorMax: maxErr,
		Lags:             lags,
		Samples:          samples,
	}, nil
}

// ScheduleError is how far e's fills strayed from an even schedule: the largest absolute gap between the
// cumulative filled quantity (all venues together, Child.Filled counted at Child.At) and the linear schedule
// Quantity·t/Horizon over t ∈ [0, Horizon], as a share of e.Quantity. The gap is checked at t = 0, at t =
// Horizon, and just before and just after each child's time; children after the horizon count at their time,
// against the schedule clamped at Quantity (and children before 0 against 0). Both curves being linear or
// constant between these points, this is the exact maximum. It returns NaN if Quantity ≤ 0 or Horizon ≤ 0.
func ScheduleError(e Execution) float64 {
	if !(e.Quantity > 0) || e.Horizon <= 0 {
		return math.NaN()
	}
	h := float64(e.Horizon)
	sched := func(t float64) float64 { return math.Max(0, math.Min(1, t/h)) }
	filled := 0.0 // share of e.Quantity filled so far
	worst := 0.0  // the gap at t = 0 before any fill is 0
	gap := func(t float64) {
		worst = math.Max(worst, math.Abs(filled-sched(t)))
	}
	horizonDone := false
	cs := e.Children
	if len(e.Fills) > 0 {
		cs = e.Fills // a resting child fills after it is placed: the fills' own times
	}
	for i := 0; i < len(cs); {
		t := cs[i].At
		if !horizonDone && t > e.Horizon {
			gap(h)
			horizonDone = true
		}
		tf := float64(t)
		gap(tf)
		for ; i < len(cs) && cs[i].At == t; i++ {
			filled += cs[i].Filled / e.Quantity
		}
		gap(tf)
	}
	if !horizonDone {
		gap(h)
	}
	return worst
}

// predSequence is one venue's children of one execution, in time order.
type predSequence struct {
	at  []float64 // Child.At, ns
	qty []float64 // Child.Qty
}

// predVenueSequences groups children by venue, keeping their order, venues in order of first appearance.
func predVenueSequences(cs []Child) []predSequence {
	idx := map[string]int{}
	var seqs []predSequence
	for _, c := range cs {
		j, ok := idx[c.Venue]
		if !ok {
			j = len(seqs)
			idx[c.Venue] = j
			seqs = append(seqs, predSequence{})
		}
		seqs[j].at = append(seqs[j].at, float64(c.At))
		seqs[j].qty = append(seqs[j].qty, c.Qty)
	}
	return seqs
}

// predDiffs returns the consecutive differences of xs.
func predDiffs(xs []float64) []float64 {
	if len(xs) < 2 {
		return nil
	}
	d := make([]float64, len(xs)-1)
	for i := range d {
		d[i] = xs[i+1] - xs[i]
	}
	return d
}

// predNormalize returns xs divided by their mean, or nil if xs is empty or its mean is not positive and finite.
func predNormalize(xs []float64) []float64 {
	if len(xs) == 0 {
		return nil
	}
	m := statMean(xs)
	if !(m > 0) || math.IsInf(m, 0) {
		return nil
	}
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x / m
	}
	return out
}

// statMean returns the arithmetic mean of xs (NaN if empty).
func statMean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// statCV returns the population standard deviation of xs over their mean (NaN if empty).
func statCV(xs []float64) float64 {
	m := statMean(xs)
	ss := 0.0
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss/float64(len(xs))) / m
}

// predARSamples builds the AR design of seqs: for each k ≥ lags of each sequence, the features x_{k−1..k−lags} and
// the target x_k.
func predARSamples(seqs [][]float64, lags int) (xs [][]float64, ys []float64) {
	for _, s := range seqs {
		for k := lags; k < len(s); k++ {
			row := make([]float64, lags)
			for j := range lags {
				row[j] = s[k-1-j]
			}
			xs = append(xs, row)
			ys = append(ys, s[k])
		}
	}
	return xs, ys
}

// predCrossValidatedR2 returns the 2-fold out-of-sample R² of the AR(lags) predictor over folds, and the number of
// samples.
func predCrossValidatedR2(folds [2][][]float64, lags int) (r2 float64, samples int, err error) {
	var xs [2][][]float64
	var ys [2][]float64
	for f := range folds {
		xs[f], ys[f] = predARSamples(folds[f], lags)
		if len(ys[f]) < lags+2 {
			return 0, 0, fmt.Errorf("fold %d has %d samples, fewer than lags+2 = %d", f, len(ys[f]), lags+2)
		}
		samples += len(ys[f])
	}
	var sse, sst, sumSq float64
	for train := range 2 {
		test := 1 - train
		m := predFitOLS(xs[train], ys[train])
		for i, y := range ys[test] {
			d := y - m.predict(xs[test][i])
			sse += d * d
			c := y - m.yMean
			sst += c * c
			sumSq += y * y
		}
	}
	tol := 1e-12 * sumSq
	if sst <= tol {
		if sse <= tol {
			return 1, samples, nil
		}
		return math.Inf(-1), samples, nil
	}
	return 1 - sse/sst, samples, nil
}

// predOLSModel is a fitted linear model y ≈ intercept + beta·x, with the training mean of y.
type predOLSModel struct {
	intercept float64
	beta      []float64
	yMean     float64
}

// predict returns the model's prediction for x.
func (m predOLSModel) predict(x []float64) float64 {
	p := m.intercept
	for j, b := range m.beta {
		p += b * x[j]
	}
	return p
}

// predFitOLS fits y on x with an intercept by least squares: on centered data, solving the normal equations with
// a tiny ridge (1e-9 of the mean feature variance, so constant features get a zero coefficient) by Cholesky.
// xs must be non-empty.
func predFitOLS(xs [][]float64, ys []float64) predOLSModel {
	n, p := len(xs), len(xs[0])
	xMean := make([]float64, p)
	for _, row := range xs {
		for j, v := range row {
			xMean[j] += v
		}
	}
	for j := range xMean {
		xMean[j] /= float64(n)
	}
	yMean := statMean(ys)
	a := make([][]float64, p) // X'X, centered
	for j := range a {
		a[j] = make([]float64, p)
	}
	b := make([]float64, p) // X'y, centered
	for i, row := range xs {
		yc := ys[i] - yMean
		for j := range p {
			xj := row[j] - xMean[j]
			b[j] += xj * yc
			for k := 0; k <= j; k++ {
				a[j][k] += xj * (row[k] - xMean[k])
			}
		}
	}
	trace := 0.0
	for j := range p {
		trace += a[j][j]
	}
	ridge := 1e-9*trace/float64(p) + math.SmallestNonzeroFloat64
	for j := range p {
		a[j][j] += ridge
	}
	beta := predCholeskySolve(a, b)
	intercept := yMean
	for j, bj := range beta {
		intercept -= bj * xMean[j]
	}
	return predOLSModel{intercept: intercept, beta: beta, yMean: yMean}
}

// predCholeskySolve solves a·x = b for a symmetric positive definite a given by its lower triangle (a is
// overwritten with its Cholesky factor). A non-positive pivot (which the ridge should prevent) zeroes that
// direction.
func predCholeskySolve(a [][]float64, b []float64) []float64 {
	p := len(b)
	for j := range p {
		s := a[j][j]
		for k := range j {
			s -= a[j][k] * a[j][k]
		}
		if s <= 0 {
			for i := j; i < p; i++ {
				a[i][j] = 0
			}
			continue
		}
		d := math.Sqrt(s)
		a[j][j] = d
		for i := j + 1; i < p; i++ {
			t := a[i][j]
			for k := range j {
				t -= a[i][k] * a[j][k]
			}
			a[i][j] = t / d
		}
	}
	y := make([]float64, p) // L y = b
	for i := range p {
		t := b[i]
		for k := range i {
			t -= a[i][k] * y[k]
		}
		if a[i][i] != 0 {
			y[i] = t / a[i][i]
		}
	}
	x := make([]float64, p) // L' x = y
	for i := p - 1; i >= 0; i-- {
		t := y[i]
		for k := i + 1; k < p; k++ {
			t -= a[k][i] * x[k]
		}
		if a[i][i] != 0 {
			x[i] = t / a[i][i]
		}
	}
	return x
}
