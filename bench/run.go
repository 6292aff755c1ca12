package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/config"
)

// Options of a benchmark run.
type Options struct {
	Config     *config.Config // the daemon config whose market and venues are benchmarked (configs/execd.yaml)
	Seeds      int            // market seeds 1..Seeds, each worked as a buy and as a sell
	Horizon    time.Duration  // every parent's duration
	Fractions  []float64      // parent sizes as fractions of the largest venue's volume over the horizon
	BandBps    int            // IOC band
	Speed      float64        // the daemon runs' simulated clock acceleration
	Parallel   int            // daemon runs at once
	FloorIters int            // optimizer iterations per start
	Lags       int            // the predictor's autoregressive order
	Throughput ThroughputOptions
	Progress   io.Writer // progress lines; nil: none
	// Dump, if set, receives every execution as one JSON line (children, fills and figures): the raw material
	// for looking into a figure.
	Dump   io.Writer
	Logger *zap.Logger
}

// Ratios are execd's schedule worked with taker children (execd_taker) against each other taker strategy at one
// size, by trading cost. (The JSON names predate maker-first children, when that was execd's default.)
type Ratios struct {
	DefaultVsMarket       float64 `json:"default_vs_market"`
	DefaultVsTWAPOneVenue float64 `json:"default_vs_twap_one_venue"`
	DefaultVsEvenSplit    float64 `json:"default_vs_even_split"`
	DefaultVsFloor        float64 `json:"default_vs_floor"`
}

// TotalCostRatios are execd's default against the taker TWAP of today (execd, execution "taker") and the
// better of the two maker peers, by mean adjusted total cost (see Results.TotalCostBasis).
type TotalCostRatios struct {
	DefaultVsTakerTWAP     float64 `json:"default_vs_taker_twap"`
	DefaultVsBestMakerPeer float64 `json:"default_vs_best_maker_peer"`
	BestMakerPeer          string  `json:"best_maker_peer"`
}

// Goal is one of the goals, with the figure measured against it.
type Goal struct {
	Name     string  `json:"name"`
	Measured float64 `json:"measured"`
	Target   string  `json:"target"`
	Met      bool    `json:"met"`
}

// Results is what results.json holds.
type Results struct {
	// The headline figures: at the HeadlineSize, ratios of median trading cost (see RatioBasis).
	Ratios          Ratios         `json:"ratios"`
	Predictability  Predictability `json:"predictability"` // execd's default at the headline size
	ThroughputRatio float64        `json:"throughput_ratio"`
	Goals           []Goal         `json:"goals"`
	// TotalCostRatios at the headline size; TotalCostRatiosBySize at every size.
	TotalCostRatios       TotalCostRatios            `json:"total_cost_ratios"`
	TotalCostRatiosBySize map[string]TotalCostRatios `json:"total_cost_ratios_by_size"`
	TotalCostBasis        string                     `json:"total_cost_basis"`
	// DefaultExecution is twap.execution in the benchmarked config: what (d) runs.
	DefaultExecution string `json:"default_execution"`

	HeadlineSize string `json:"headline_size"`
	RatioBasis   string `json:"ratio_basis"`
	// RatiosBySize uses the same basis at every size; RatiosISMedian divides the medians of raw implementation
	// shortfall instead (dominated by the price's move over the horizon: see the doc).
	RatiosBySize   map[string]Ratios `json:"ratios_by_size"`
	RatiosISMedian map[string]Ratios `json:"ratios_is_median"`

	Cost                []CostCell                           `json:"cost_table"`
	PredictabilityTable map[string]map[string]Predictability `json:"predictability_table"` // strategy → size
	Floor               []FloorResult                        `json:"floor"`
	Throughput          ThroughputResult                     `json:"throughput"`

	Setup   SetupView `json:"setup"`
	Machine Machine   `json:"machine"`
	// Command is the command line that produced these results.
	Command string `json:"command"`
	// Elapsed wall time of each part, seconds.
	Wall map[string]float64 `json:"wall_seconds"`
}

// SetupView is the benchmark's setup as results.json records it.
type SetupView struct {
	Seeds          int         `json:"seeds"`
	Sides          []string    `json:"sides"`
	Horizon        string      `json:"horizon"`
	LargestVenue   string      `json:"largest_venue"`
	LargestVolume  float64     `json:"largest_venue_volume_over_horizon"`
	Sizes          []SizeClass `json:"sizes"`
	Slots          int         `json:"slots_per_venue"`
	MeanInterval   string      `json:"mean_interval"`
	BandBps        int         `json:"band_bps"`
	Speed          float64     `json:"daemon_clock_speed"`
	Epoch          time.Time   `json:"epoch"`
	Venues         []string    `json:"venues"`
	VolumeShares   []float64   `json:"volume_shares"`
	Strategies     []string    `json:"strategies"`
	HalfSpreadBps  float64     `json:"half_spread_bps"` // the largest venue's, from the config
	PredictorLags  int         `json:"predictor_lags"`
	FloorIters     int         `json:"floor_iterations"`
	DaemonParallel int         `json:"daemon_runs_in_parallel"`
}

// Machine is where the figures were measured.
type Machine struct {
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model,omitempty"`
	Module    string `json:"module_version,omitempty"`
}

// Run runs the three measures and returns their results.
func Run(ctx context.Context, o Options) (*Results, error) {
	if o.Config == nil {
		return nil, errors.New("bench: no config")
	}
	if o.Seeds < 1 || o.Parallel < 1 || o.Speed <= 0 || o.Lags < 1 || o.FloorIters < 1 {
		return nil, fmt.Errorf("bench: seeds %d, parallel %d, speed %v, lags %d, floor iterations %d: all must be positive",
			o.Seeds, o.Parallel, o.Speed, o.Lags, o.FloorIters)
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	progress := func(format string, a ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", a...)
		}
	}
	s, err := NewSetup(o.Config, o.Horizon, o.Fractions, o.BandBps)
	if err != nil {
		return nil, err
	}
	res := &Results{Wall: map[string]float64{}, HeadlineSize: headline(s.Sizes),
		RatioBasis: "median trading cost: implementation shortfall against the arrival mid less the fill-weighted move " +
			"of the common price (timing), over seeds × {buy, sell}; fees apart",
		PredictabilityTable: map[string]map[string]Predictability{}}
	res.Setup = SetupView{Seeds: o.Seeds, Sides: []string{"buy", "sell"}, Horizon: s.Horizon.String(),
		LargestVenue: s.Largest, LargestVolume: s.LargestVolume(), Sizes: s.Sizes, Slots: s.Slots(),
		MeanInterval: s.MeanInterval.String(), BandBps: s.BandBps, Speed: o.Speed, Epoch: s.Epoch,
		Strategies: Strategies(), PredictorLags: o.Lags, FloorIters: o.FloorIters, DaemonParallel: o.Parallel}
	for _, v := range s.Market.Venues {
		if v.Name == s.Largest {
			res.Setup.HalfSpreadBps = v.HalfSpreadBps
		}
	}
	for _, v := range s.Venues {
		res.Setup.Venues = append(res.Setup.Venues, v.Name)
		res.Setup.VolumeShares = append(res.Setup.VolumeShares, v.Share)
	}
	res.Machine = machine()

	// (e) first: its schedule is the same on every seed.
	t0 := time.Now()
	floors := map[string]FloorResult{}
	for _, sz := range s.Sizes {
		f, err := s.Floor(sz.Quantity, o.FloorIters)
		if err != nil {
			return nil, fmt.Errorf("bench: floor at %s: %w", sz.Name, err)
		}
		f.Size = sz.Name
		floors[sz.Name] = f
		res.Floor = append(res.Floor, f)
		progress("floor %-5s %s: model %.4f bps, noise-free market %.4f bps", sz.Name, sz.Quantity, f.ModelBps, f.NoiseFreeBps)
	}
	res.Wall["floor"] = time.Since(t0).Seconds()

	// (a), (b), (c), (e): simulated directly on the market, every seed and side.
	t0 = time.Now()
	execs := map[string]map[string][]Execution{} // strategy → size → executions
	var dumpErr error
	add := func(e Execution) {
		if o.Dump != nil && dumpErr == nil {
			b, err := json.Marshal(e)
			if err == nil {
				_, err = o.Dump.Write(append(b, '\n'))
			}
			dumpErr = err
		}
		if execs[e.Strategy] == nil {
			execs[e.Strategy] = map[string][]Execution{}
		}
		execs[e.Strategy][e.Size] = append(execs[e.Strategy][e.Size], e)
	}
	for _, sz := range s.Sizes {
		one, err := s.EvenTWAP(s.Largest, sz.Quantity)
		if err != nil {
			return nil, err
		}
		split, err := s.EvenSplit(sz.Quantity)
		if err != nil {
			return nil, err
		}
		plans := []struct {
			name   string
			orders []Order
		}{{StratMarket, s.MarketOrder(sz.Quantity)}, {StratTWAP1, one}, {StratEven, split}, {StratFloor, floors[sz.Name].Orders}}
		for _, p := range plans {
			for seed := int64(1); seed <= int64(o.Seeds); seed++ {
				for _, side := range []int{1, -1} {
					e, err := s.Simulate(seed, side, sz.Quantity, p.orders, false)
					if err != nil {
						return nil, fmt.Errorf("bench: %s at %s seed %d: %w", p.name, sz.Name, seed, err)
					}
					e.Strategy, e.Size, e.Seed = p.name, sz.Name, seed
					add(e)
				}
			}
		}
	}
	peers := []struct {
		name string
		run  func(seed int64, side int, qty decimal.Decimal) (Execution, error)
	}{{StratBBGO, s.BBGOMaker}, {StratHbot, s.HummingbotMaker}}
	for _, sz := range s.Sizes {
		for _, pr := range peers {
			for seed := int64(1); seed <= int64(o.Seeds); seed++ {
				for _, side := range []int{1, -1} {
					e, err := pr.run(seed, side, sz.Quantity)
					if err != nil {
						return nil, fmt.Errorf("bench: %s at %s seed %d: %w", pr.name, sz.Name, seed, err)
					}
					e.Strategy, e.Size, e.Seed = pr.name, sz.Name, seed
					add(e)
				}
			}
		}
	}
	res.Wall["baselines"] = time.Since(t0).Seconds()
	progress("baselines: %d simulated executions in %.1fs", 6*len(s.Sizes)*o.Seeds*2, res.Wall["baselines"])

	// (d): the daemon, o.Parallel runs at a time.
	t0 = time.Now()
	type job struct {
		size      SizeClass
		seed      int64
		side      int
		strategy  string
		execution string
	}
	var jobs []job
	for seed := int64(1); seed <= int64(o.Seeds); seed++ {
		for _, sz := range s.Sizes {
			for _, side := range []int{1, -1} {
				jobs = append(jobs, job{sz, seed, side, StratDefault, ""}, job{sz, seed, side, StratTaker, "taker"})
			}
		}
	}
	var (
		mu       sync.Mutex
		firstErr error
		done     int
		wg       sync.WaitGroup
	)
	ch := make(chan job)
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range o.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				e, err := s.RunDaemon(dctx, DaemonRun{Execution: j.execution, Speed: o.Speed, Logger: o.Logger}, j.seed, j.side, j.size.Quantity)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				if err == nil {
					e.Strategy, e.Size, e.Seed = j.strategy, j.size.Name, j.seed
					add(e)
				}
				done++
				if done%max(1, len(jobs)/20) == 0 || done == len(jobs) {
					progress("execd default and taker: %d/%d daemon runs (%.0fs)", done, len(jobs), time.Since(t0).Seconds())
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-dctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Wall["execd_default"] = time.Since(t0).Seconds()

	// Tables and ratios.
	for _, sz := range s.Sizes {
		for _, st := range Strategies() {
			es := execs[st][sz.Name]
			if len(es) == 0 {
				continue
			}
			res.Cost = append(res.Cost, cell(st, sz.Name, es))
		}
	}
	res.RatiosBySize, res.RatiosISMedian = map[string]Ratios{}, map[string]Ratios{}
	for _, sz := range s.Sizes {
		res.RatiosBySize[sz.Name] = ratios(res.Cost, sz.Name, func(c CostCell) float64 { return c.Cost.Median })
		res.RatiosISMedian[sz.Name] = ratios(res.Cost, sz.Name, func(c CostCell) float64 { return c.IS.Median })
	}
	res.Ratios = res.RatiosBySize[res.HeadlineSize]
	res.TotalCostRatiosBySize = map[string]TotalCostRatios{}
	for _, sz := range s.Sizes {
		res.TotalCostRatiosBySize[sz.Name] = totalRatios(res.Cost, sz.Name)
	}
	res.TotalCostRatios = res.TotalCostRatiosBySize[res.HeadlineSize]
	res.TotalCostBasis = "mean adjusted total cost: implementation shortfall + fees (taker, or maker for a resting " +
		"order's fill) less the common price's own move averaged over the horizon, the same zero-mean term for every " +
		"strategy on a seed; over seeds × {buy, sell}"
	res.DefaultExecution = o.Config.TWAP.Execution

	// Predictability of (d) and of (b), the reference.
	for _, st := range []string{StratDefault, StratTaker, StratTWAP1} {
		res.PredictabilityTable[st] = map[string]Predictability{}
		for _, sz := range s.Sizes {
			p, err := Predict(execs[st][sz.Name], o.Lags)
			if err != nil {
				return nil, fmt.Errorf("bench: predictability of %s at %s: %w", st, sz.Name, err)
			}
			res.PredictabilityTable[st][sz.Name] = p
		}
	}
	res.Predictability = res.PredictabilityTable[StratDefault][res.HeadlineSize]

	// Engine overhead.
	t0 = time.Now()
	progress("engine overhead: full path, then the bare go-binance loop (%v each)", o.Throughput.Window)
	tr, err := Throughput(ctx, o.Throughput)
	if err != nil {
		return nil, fmt.Errorf("bench: throughput: %w", err)
	}
	res.Throughput, res.ThroughputRatio = tr, tr.Ratio
	res.Wall["throughput"] = time.Since(t0).Seconds()

	res.Goals = Goals(res)
	if dumpErr != nil {
		return nil, fmt.Errorf("bench: dump: %w", dumpErr)
	}
	return res, nil
}

// headline is the size the headline ratios are given at: 1% if benchmarked, else the middle size.
func headline(sizes []SizeClass) string {
	for _, s := range sizes {
		if s.Fraction == 0.01 {
			return s.Name
		}
	}
	return sizes[len(sizes)/2].Name
}

func cell(strategy, size string, es []Execution) CostCell {
	var is, cost, timing, fees, total, adj, maker, cleanup []float64
	var marks [3][]float64
	for _, e := range es {
		is, cost, timing, fees = append(is, e.IS), append(cost, e.Cost), append(timing, e.Timing), append(fees, e.Fees)
		total, adj, maker, cleanup = append(total, e.Total), append(adj, e.TotalAdj), append(maker, e.MakerShare), append(cleanup, e.Cleanup)
		for i := range marks {
			marks[i] = append(marks[i], e.Markouts[i])
		}
	}
	c := CostCell{Strategy: strategy, Size: size, IS: Summarize(is), Cost: Summarize(cost), Timing: Summarize(timing),
		Fees: Summarize(fees), Total: Summarize(total), TotalAdj: Summarize(adj), MakerShare: Summarize(maker),
		Cleanup: Summarize(cleanup)}
	for i := range marks {
		c.Markouts[i] = Summarize(marks[i])
	}
	return c
}

func totalRatios(cells []CostCell, size string) TotalCostRatios {
	get := func(st string) float64 {
		for _, c := range cells {
			if c.Strategy == st && c.Size == size {
				return c.TotalAdj.Mean
			}
		}
		return math.NaN()
	}
	d := get(StratDefault)
	best, peer := get(StratBBGO), StratBBGO
	if h := get(StratHbot); h < best || math.IsNaN(best) {
		best, peer = h, StratHbot
	}
	return TotalCostRatios{DefaultVsTakerTWAP: d / get(StratTaker), DefaultVsBestMakerPeer: d / best, BestMakerPeer: peer}
}

func ratios(cells []CostCell, size string, of func(CostCell) float64) Ratios {
	get := func(st string) float64 {
		for _, c := range cells {
			if c.Strategy == st && c.Size == size {
				return of(c)
			}
		}
		return math.NaN()
	}
	// The trading-cost ratios compare taker schedules: execd's is (f), its schedule with IOC children. A maker
	// strategy's timing is not zero-mean, so its trading cost measures nothing (see the total cost).
	d := get(StratTaker)
	return Ratios{DefaultVsMarket: d / get(StratMarket), DefaultVsTWAPOneVenue: d / get(StratTWAP1),
		DefaultVsEvenSplit: d / get(StratEven), DefaultVsFloor: d / get(StratFloor)}
}

func machine() Machine {
	m := Machine{GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(),
		CPUModel: cpuModel()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				m.Module = s.Value
			}
		}
	}
	return m
}

// sortedKeys returns m's keys sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Goals are the targets the benchmark is judged by, from the measured figures: execution cost and
// predictability (issue 5), and the engine's overhead against the bare go-binance loop (issue 9: throughput at
// least half of it, CPU per child at most 2.5 times its CPU per order, decision-to-wire p99 at most 5 ms).
func Goals(res *Results) []Goal {
	r, p, t := res.Ratios, res.Predictability, res.Throughput
	cpu := 0.0
	if t.BareCPUPerOrderMs > 0 {
		cpu = t.FullPathCPUPerChildMs / t.BareCPUPerOrderMs
	}
	tc := res.TotalCostRatios
	return []Goal{
		{Name: "total_cost_default_vs_taker_twap ≤ 0.6", Measured: tc.DefaultVsTakerTWAP, Target: "≤ 0.6", Met: tc.DefaultVsTakerTWAP <= 0.6},
		{Name: "total_cost_default_vs_best_maker_peer ≤ 0.9", Measured: tc.DefaultVsBestMakerPeer, Target: "≤ 0.9", Met: tc.DefaultVsBestMakerPeer <= 0.9},
		{Name: "default_vs_market ≤ 0.4", Measured: r.DefaultVsMarket, Target: "≤ 0.4", Met: r.DefaultVsMarket <= 0.4},
		{Name: "default_vs_floor ≤ 1.1", Measured: r.DefaultVsFloor, Target: "≤ 1.1", Met: r.DefaultVsFloor <= 1.1},
		{Name: "r2_time ≤ 0.05", Measured: p.R2Time, Target: "≤ 0.05", Met: p.R2Time <= 0.05},
		{Name: "r2_size ≤ 0.05", Measured: p.R2Size, Target: "≤ 0.05", Met: p.R2Size <= 0.05},
		{Name: "r2_time_merged ≤ 0.05", Measured: p.R2TimeMerged, Target: "≤ 0.05", Met: p.R2TimeMerged <= 0.05},
		{Name: "cv_interval ≥ 0.5", Measured: p.CVInterval, Target: "≥ 0.5", Met: p.CVInterval >= 0.5},
		{Name: "schedule_error ≤ 0.05", Measured: p.ScheduleError, Target: "≤ 0.05", Met: p.ScheduleError <= 0.05},
		{Name: "throughput_ratio ≥ 0.5", Measured: res.ThroughputRatio, Target: "≥ 0.5", Met: res.ThroughputRatio >= 0.5},
		{Name: "cpu_per_child_ratio ≤ 2.5", Measured: cpu, Target: "≤ 2.5", Met: cpu > 0 && cpu <= 2.5},
		{Name: "decision_to_wire_p99_ms ≤ 5", Measured: t.DecisionToWireP99Ms, Target: "≤ 5", Met: t.DecisionToWireP99Ms > 0 && t.DecisionToWireP99Ms <= 5},
	}
}
