package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/config"
	"github.com/execd-dev/execd/configs"
)

func defaultSetup(t *testing.T, horizon time.Duration, fractions ...float64) *Setup {
	t.Helper()
	cfg, err := config.Parse(bytes.NewReader(configs.Default))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSetup(cfg, horizon, fractions, 50)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSetupSizes(t *testing.T) {
	s := defaultSetup(t, 10*time.Minute, 0.001, 0.01, 0.05)
	// binance: 0.55 of 200000 BTC a day; over 10 minutes 763.89 BTC.
	if s.Largest != "binance" || math.Abs(s.LargestVolume()-763.888) > 0.01 {
		t.Fatalf("largest %s volume %v", s.Largest, s.LargestVolume())
	}
	want := []string{"0.76", "7.63", "38.19"}
	for i, sz := range s.Sizes {
		if sz.Quantity.String() != want[i] {
			t.Errorf("size %s = %s, want %s", sz.Name, sz.Quantity, want[i])
		}
	}
	if s.Slots() != 60 { // 10 minutes at twap.mean_interval 10s
		t.Errorf("slots %d, want 60", s.Slots())
	}
	if _, err := NewSetup(s.Config, 10*time.Minute, []float64{0}, 50); err == nil {
		t.Error("a zero size fraction was accepted")
	}
	if _, err := NewSetup(s.Config, time.Second, []float64{0.01}, 50); err == nil {
		t.Error("a horizon shorter than the end buffer was accepted")
	}
}

func sum(os []Order) decimal.Decimal {
	var t decimal.Decimal
	for _, o := range os {
		t = t.Add(o.Qty)
	}
	return t
}

func TestBaselineSchedulesAreExact(t *testing.T) {
	s := defaultSetup(t, 10*time.Minute, 0.001, 0.01)
	for _, sz := range s.Sizes {
		one, err := s.EvenTWAP(s.Largest, sz.Quantity)
		if err != nil {
			t.Fatal(err)
		}
		split, err := s.EvenSplit(sz.Quantity)
		if err != nil {
			t.Fatal(err)
		}
		if !sum(one).Equal(sz.Quantity) || !sum(split).Equal(sz.Quantity) {
			t.Errorf("%s: TWAP sums %s, split sums %s", sz.Quantity, sum(one), sum(split))
		}
		for _, o := range split {
			v, _ := s.venue(o.Venue)
			if !o.Qty.Mod(v.Lot).IsZero() {
				t.Errorf("%s on %s is off the lot %s", o.Qty, o.Venue, v.Lot)
			}
			if o.At < 0 || o.At > s.Horizon-s.EndBuffer {
				t.Errorf("order at %v outside the window", o.At)
			}
		}
	}
}

// On the noise-free market a market order's cost is the square-root law's (2/3)·Y·σ_D·sqrt(Q/V) plus the
// half-spread, within the tick rounding; the timing part is zero; buys and sells cost the same.
func TestMeasureNoiseFreeMarketOrder(t *testing.T) {
	s := defaultSetup(t, 10*time.Minute, 0.01)
	q := s.Sizes[0].Quantity
	buy, err := s.Simulate(1, 1, q, s.MarketOrder(q), true)
	if err != nil {
		t.Fatal(err)
	}
	sell, err := s.Simulate(1, -1, q, s.MarketOrder(q), true)
	if err != nil {
		t.Fatal(err)
	}
	sigmaD := 0.6 / math.Sqrt(365)
	want := (2.0/3*0.7*sigmaD*math.Sqrt(q.InexactFloat64()/110000) + 0.5e-4) * 1e4
	tick := 0.1 / 10490 * 1e4
	for _, e := range []Execution{buy, sell} {
		if math.Abs(e.Cost-want) > tick || math.Abs(e.Timing) > 1e-9 || math.Abs(e.IS-e.Cost-e.Timing) > 1e-9 {
			t.Errorf("side %d: cost %.4f (want %.4f ± %.3f), timing %v, IS %v", e.Side, e.Cost, want, tick, e.Timing, e.IS)
		}
		if e.FilledFrac != 1 || len(e.Children) != 1 || math.Abs(e.Fees-5) > 0.01 {
			t.Errorf("side %d: filled %v children %d fees %v", e.Side, e.FilledFrac, len(e.Children), e.Fees)
		}
	}
}

// On the noisy market IS = cost + timing, and the timing part is what the common price did: the same for the
// buy and the sell of one schedule, with opposite signs.
func TestMeasureSplitsTiming(t *testing.T) {
	s := defaultSetup(t, 10*time.Minute, 0.01)
	q := s.Sizes[0].Quantity
	orders, err := s.EvenTWAP(s.Largest, q)
	if err != nil {
		t.Fatal(err)
	}
	buy, err := s.Simulate(3, 1, q, orders, false)
	if err != nil {
		t.Fatal(err)
	}
	sell, err := s.Simulate(3, -1, q, orders, false)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(buy.IS-buy.Cost-buy.Timing) > 1e-9 || math.Abs(buy.Timing+sell.Timing) > 1e-6 || buy.Timing == 0 {
		t.Fatalf("buy IS %v cost %v timing %v; sell timing %v", buy.IS, buy.Cost, buy.Timing, sell.Timing)
	}
	// The venues' basis noise moves a buy's and a sell's cost in opposite directions; their mean is the
	// noise-free cost.
	quiet, err := s.Simulate(3, 1, q, orders, true)
	if err != nil {
		t.Fatal(err)
	}
	if mean := (buy.Cost + sell.Cost) / 2; math.Abs(mean-quiet.Cost) > 0.2 {
		t.Errorf("buy cost %v, sell cost %v: mean %v, noise-free %v", buy.Cost, sell.Cost, mean, quiet.Cost)
	}
	if len(buy.Children) != 60 {
		t.Errorf("%d children, want 60", len(buy.Children))
	}
}

func TestProjectSimplex(t *testing.T) {
	for _, z := range [][]float64{{0.5, 0.2, 0.3}, {3, -1, 0}, {-1, -1, -1}, {10, 10, 10}} {
		x := projectSimplex(z, 2)
		var s float64
		for _, v := range x {
			if v < 0 {
				t.Fatalf("%v → %v has a negative", z, x)
			}
			s += v
		}
		if math.Abs(s-2) > 1e-12 {
			t.Errorf("%v → %v sums to %v", z, x, s)
		}
	}
	if x := projectSimplex([]float64{3, -1, 0}, 2); x[0] != 2 || x[1] != 0 || x[2] != 0 {
		t.Errorf("projection of (3,-1,0) = %v, want (2,0,0)", x)
	}
}

// The floor is no worse than the even schedules it starts from, in the model and on the real noise-free market,
// and sums exactly to the parent on the lot grids.
func TestFloorBeatsItsStarts(t *testing.T) {
	s := defaultSetup(t, 10*time.Minute, 0.01)
	q := s.Sizes[0].Quantity
	fl, err := s.Floor(q, 300)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range fl.StartBps {
		if fl.ModelBps > c+1e-9 {
			t.Errorf("model floor %.5f above its start %s %.5f", fl.ModelBps, name, c)
		}
	}
	if !sum(fl.Orders).Equal(q) {
		t.Errorf("floor orders sum %s, want %s", sum(fl.Orders), q)
	}
	split, _ := s.EvenSplit(q)
	one, _ := s.EvenTWAP(s.Largest, q)
	for name, o := range map[string][]Order{"even split": split, "TWAP one venue": one} {
		e, err := s.Simulate(1, 1, q, o, true)
		if err != nil {
			t.Fatal(err)
		}
		if fl.NoiseFreeBps > e.Cost+0.005 {
			t.Errorf("floor %.4f bps on the noise-free market, above %s %.4f", fl.NoiseFreeBps, name, e.Cost)
		}
	}
	// The model agrees with the real market within the tick rounding (about half a tick, 0.05 bps).
	if d := fl.NoiseFreeBps - fl.ModelBps; d < 0 || d > 0.1 {
		t.Errorf("noise-free market %.4f vs model %.4f", fl.NoiseFreeBps, fl.ModelBps)
	}
}

// The whole pipeline on a small scale: one seed, one size, two-minute parents, short throughput windows.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts daemons")
	}
	cfg, err := config.Parse(bytes.NewReader(configs.Default))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Config: cfg, Seeds: 2, Horizon: 2 * time.Minute,
		Fractions: []float64{0.01}, BandBps: 50, Speed: 60, Parallel: 4, FloorIters: 50, Lags: 1,
		Throughput: ThroughputOptions{Concurrency: 2, Window: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cost) != len(Strategies()) {
		t.Fatalf("%d cost cells, want %d", len(res.Cost), len(Strategies()))
	}
	for _, c := range res.Cost {
		if c.IS.N != 4 || math.IsNaN(c.Cost.Median) || !(c.Fees.Median > 0) || math.IsNaN(c.TotalAdj.Mean) {
			t.Errorf("%s: %d executions, median cost %v, fees %v, adjusted total %v", c.Strategy, c.IS.N, c.Cost.Median,
				c.Fees.Median, c.TotalAdj.Mean)
		}
	}
	if tc := res.TotalCostRatios; !(tc.DefaultVsTakerTWAP > 0) || !(tc.DefaultVsBestMakerPeer > 0) || tc.BestMakerPeer == "" {
		t.Errorf("total cost ratios %+v", tc)
	}
	r := res.Ratios
	for name, x := range map[string]float64{"market": r.DefaultVsMarket, "twap": r.DefaultVsTWAPOneVenue,
		"split": r.DefaultVsEvenSplit, "floor": r.DefaultVsFloor, "throughput": res.ThroughputRatio} {
		if !(x > 0) || math.IsInf(x, 0) {
			t.Errorf("ratio %s = %v", name, x)
		}
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ratios", "predictability", "throughput_ratio", "cost_table", "total_cost_ratios"} {
		if _, ok := back[k]; !ok {
			t.Errorf("results.json lacks %q", k)
		}
	}
	var md bytes.Buffer
	if err := Markdown(&md, res, "test", "cost.png"); err != nil || !bytes.Contains(md.Bytes(), []byte("## Engine overhead")) {
		t.Errorf("markdown: %v", err)
	}
}

// The maker peers work the whole parent (bbgo by its deadline market order, Hummingbot by the benchmark's cleanup),
// most of it resting, judged by the market's records: fees between the maker's and the taker's, markouts finite.
func TestMakerPeers(t *testing.T) {
	s := defaultSetup(t, 10*time.Minute, 0.01)
	q := s.Sizes[0].Quantity
	for _, peer := range []struct {
		name string
		run  func(int64, int, decimal.Decimal) (Execution, error)
	}{{"bbgo", s.BBGOMaker}, {"hummingbot", s.HummingbotMaker}} {
		for _, side := range []int{1, -1} {
			e, err := peer.run(2, side, q)
			if err != nil {
				t.Fatalf("%s: %v", peer.name, err)
			}
			lot := 0.001
			t.Logf("%s side %d: IS %.3f fees %.3f total %.3f (adjusted %.3f) maker %.3f markouts %.3f/%.3f/%.3f cleanup %.3f",
				peer.name, side, e.IS, e.Fees, e.Total, e.TotalAdj, e.MakerShare, e.Markouts[0], e.Markouts[1], e.Markouts[2], e.Cleanup)
			if math.Abs(e.FilledFrac*e.Quantity-e.Quantity) >= lot || !(e.MakerShare > 0.2) || !(e.Fees >= 2 && e.Fees <= 5) {
				t.Errorf("%s side %d: filled %v maker share %v fees %v", peer.name, side, e.FilledFrac, e.MakerShare, e.Fees)
			}
			for _, m := range e.Markouts {
				if math.IsNaN(m) || math.Abs(m) > 100 {
					t.Errorf("%s side %d: markouts %v", peer.name, side, e.Markouts)
				}
			}
			if math.Abs(e.Total-e.IS-e.Fees) > 1e-9 || math.Abs(e.TotalAdj-e.Total+e.Path) > 1e-9 {
				t.Errorf("%s side %d: total %v IS %v fees %v adjusted %v path %v", peer.name, side, e.Total, e.IS, e.Fees, e.TotalAdj, e.Path)
			}
		}
	}
}
