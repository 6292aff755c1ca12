package market

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/clock"
)

var start = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func testConfig(seed int64) Config {
	d := decimal.RequireFromString
	return Config{
		Seed:             seed,
		StartPrice:       10490,
		AnnualVolatility: 0.60,
		TotalVolume24h:   200000,
		BasisNoiseBps:    0.3,
		FundingRate8h:    0.0001,
		Venues: []VenueConfig{
			{Name: "binance", VolumeShare: 0.55, TakerFeeBps: 5, MakerFeeBps: 2, TickSize: d("0.1"), LotSize: d("0.001")},
			{Name: "okx", VolumeShare: 0.22, TakerFeeBps: 5, MakerFeeBps: 2, TickSize: d("0.1"), LotSize: d("0.01")},
			{Name: "bybit", VolumeShare: 0.23, TakerFeeBps: 5.5, MakerFeeBps: 2, TickSize: d("0.1"), LotSize: d("0.001")},
		},
	}
}

func newMarket(t testing.TB, cfg Config) (*Market, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(start)
	m, err := New(cfg, clk)
	if err != nil {
		t.Fatal(err)
	}
	return m, clk
}

func venue(t testing.TB, m *Market, name string) *Venue {
	t.Helper()
	v, err := m.Venue(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func f(d decimal.Decimal) float64 { return d.InexactFloat64() }

func onGrid(d, grid decimal.Decimal) bool { _, r := d.QuoRem(grid, 0); return r.IsZero() }

func TestDeterministicPerSeed(t *testing.T) {
	a, ca := newMarket(t, testConfig(7))
	b, cb := newMarket(t, testConfig(7))
	c, cc := newMarket(t, testConfig(8))
	differ := false
	for _, d := range []time.Duration{0, 150 * time.Millisecond, 3 * time.Second, time.Minute, 2 * time.Hour, 30 * time.Hour} {
		ca.Advance(d)
		cb.Advance(d)
		cc.Advance(d)
		for _, name := range a.Venues() {
			qa, qb := venue(t, a, name).Quote(), venue(t, b, name).Quote()
			if !(qa.Bid.Equal(qb.Bid) && qa.Ask.Equal(qb.Ask) && qa.Mid.Equal(qb.Mid) && qa.Index.Equal(qb.Index)) {
				t.Fatalf("after %v %s: same seed, different quotes %+v vs %+v", d, name, qa, qb)
			}
			va, vb := venue(t, a, name).Volume24h(), venue(t, b, name).Volume24h()
			if !va.Base.Equal(vb.Base) || va.Count != vb.Count {
				t.Fatalf("after %v %s: same seed, different volume", d, name)
			}
		}
		if !a.FairPrice().Equal(c.FairPrice()) {
			differ = true
		}
	}
	if !differ {
		t.Fatal("different seeds gave the same path")
	}
}

// The path of the common price does not depend on how often it is looked at.
func TestPathIndependentOfQueries(t *testing.T) {
	a, ca := newMarket(t, testConfig(3))
	b, cb := newMarket(t, testConfig(3))
	for range 100 {
		ca.Advance(time.Second)
		a.FairPrice()
	}
	cb.Advance(100 * time.Second)
	if pa, pb := a.FairPrice(), b.FairPrice(); !pa.Equal(pb) {
		t.Fatalf("fair price depends on query times: %s vs %s", pa, pb)
	}
}

// TestRealizedVolatility: the common price's realized volatility is the configured one, sampled each second and each
// minute over a day, whether or not the background flow carries part of it (InformedShare, with independent or
// persistent trade signs): the informed part's scale is set from the long-run variance, so the minute returns, whose
// variance is the long-run one when the signals' half-lives are well below a minute, keep the calibration (with the
// configs' 1.5 s half-life, second returns come out about a sixth less volatile: the flow's runs trend).
func TestRealizedVolatility(t *testing.T) {
	for _, tc := range []struct {
		name      string
		share     float64
		halfLives []time.Duration
	}{
		{"uninformed", 0, nil},
		{"informed", 0.5, nil},
		{"informed persistent", 0.5, []time.Duration{1500 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(11)
			cfg.InformedShare, cfg.InformedHalfLives = tc.share, tc.halfLives
			m, clk := newMarket(t, cfg)
			steps := int(24 * time.Hour / DefaultStep)
			type sampler struct {
				every           int
				prev, sum, sum2 float64
				n               int
			}
			first := math.Log(f(m.FairPrice()))
			samplers := []*sampler{{every: 10, prev: first}, {every: 600, prev: first}}
			for i := 1; i <= steps; i++ {
				clk.Advance(DefaultStep)
				if i%10 != 0 {
					continue
				}
				x := math.Log(f(m.FairPrice()))
				for _, s := range samplers {
					if i%s.every != 0 {
						continue
					}
					r := x - s.prev
					s.prev = x
					s.sum += r
					s.sum2 += r * r
					s.n++
				}
			}
			for _, s := range samplers {
				variance := s.sum2/float64(s.n) - (s.sum/float64(s.n))*(s.sum/float64(s.n))
				annual := math.Sqrt(variance * float64(365*24*time.Hour) / float64(time.Duration(s.every)*DefaultStep))
				t.Logf("sampled every %v: realized annual volatility %.4f", time.Duration(s.every)*DefaultStep, annual)
				if s.every == 10 && tc.halfLives != nil {
					continue // short returns of persistent flow are less volatile than the long-run calibration
				}
				if math.Abs(annual/cfg.AnnualVolatility-1) > 0.15 {
					t.Errorf("sampled every %v: realized annual volatility %.4f, want %.2f ±15%%",
						time.Duration(s.every)*DefaultStep, annual, cfg.AnnualVolatility)
				}
			}
		})
	}
}

func checkVolumes(t *testing.T, m *Market, cfg Config, when string) {
	t.Helper()
	var total float64
	vols := map[string]float64{}
	for _, name := range m.Venues() {
		vol := venue(t, m, name).Volume24h()
		vols[name] = f(vol.Base)
		total += f(vol.Base)
		if vol.Count <= 0 || vol.Quote.Sign() <= 0 || vol.Low.GreaterThan(vol.High) || vol.Low.Sign() <= 0 {
			t.Errorf("%s %s: bad volume %+v", when, name, vol)
		}
		if p := f(vol.Quote) / f(vol.Base); math.Abs(p/cfg.StartPrice-1) > 0.2 {
			t.Errorf("%s %s: quote/base %.1f far from price", when, name, p)
		}
	}
	for _, vc := range cfg.Venues {
		want := vc.VolumeShare * cfg.TotalVolume24h
		if got := vols[vc.Name]; math.Abs(got/want-1) > 0.10 {
			t.Errorf("%s %s: 24h base volume %.1f, want %.0f ±10%%", when, vc.Name, got, want)
		}
		if share := vols[vc.Name] / total; math.Abs(share-vc.VolumeShare) > 0.02 {
			t.Errorf("%s %s: share %.4f, want %.2f ±0.02", when, vc.Name, share, vc.VolumeShare)
		}
	}
}

func TestVolume24h(t *testing.T) {
	cfg := testConfig(5)
	m, clk := newMarket(t, cfg)
	checkVolumes(t, m, cfg, "at start")
	for range 24 * 6 { // fine steps, ten minutes at a time
		clk.Advance(10 * time.Minute)
		m.FairPrice()
	}
	checkVolumes(t, m, cfg, "after a day")
	clk.Advance(50 * time.Hour) // coarse: one jump
	checkVolumes(t, m, cfg, "after a jump")

	tr := venue(t, m, "okx").Trades(5)
	if len(tr) != 5 {
		t.Fatalf("got %d trades, want 5", len(tr))
	}
	for i := 1; i < len(tr); i++ {
		if tr[i].ID <= tr[i-1].ID || tr[i].Time.Before(tr[i-1].Time) {
			t.Fatalf("trades not in order: %+v", tr)
		}
	}
	if n := len(venue(t, m, "okx").Trades(5000)); n != maxTrades {
		t.Fatalf("kept %d trades, want %d", n, maxTrades)
	}
}

func TestTakeGridAndLimits(t *testing.T) {
	m, clk := newMarket(t, testConfig(1))
	clk.Advance(time.Minute)
	for _, name := range m.Venues() {
		v := venue(t, m, name)
		cfg := v.Config()
		q := v.Quote()
		if !q.Ask.GreaterThan(q.Bid) || !onGrid(q.Ask, cfg.TickSize) || !onGrid(q.Bid, cfg.TickSize) {
			t.Fatalf("%s: bad quote %+v", name, q)
		}
		if !q.NextFunding.Equal(start.Add(4 * time.Hour)) {
			t.Fatalf("%s: next funding %v", name, q.NextFunding)
		}
		qty := decimal.RequireFromString("25")
		limit := q.Ask.Add(decimal.RequireFromString("3.05"))
		execs := v.Take(Buy, qty, limit)
		if len(execs) < 2 {
			t.Fatalf("%s: want a walk of several levels, got %v", name, execs)
		}
		sum := decimal.Zero
		for i, e := range execs {
			if !onGrid(e.Price, cfg.TickSize) || !onGrid(e.Qty, cfg.LotSize) || e.Qty.Sign() <= 0 {
				t.Fatalf("%s: exec off grid: %+v", name, e)
			}
			if e.Price.LessThan(q.Ask) || e.Price.GreaterThan(limit) {
				t.Fatalf("%s: exec %s outside [%s, %s]", name, e.Price, q.Ask, limit)
			}
			if i > 0 && !e.Price.GreaterThan(execs[i-1].Price) {
				t.Fatalf("%s: levels not increasing", name)
			}
			sum = sum.Add(e.Qty)
		}
		if sum.GreaterThan(qty) {
			t.Fatalf("%s: filled %s > %s", name, sum, qty)
		}
		// A sell with a limit above the bid fills nothing; a market sell fills all.
		if e := v.Take(Sell, decimal.NewFromInt(1), v.Quote().Bid.Add(cfg.TickSize)); e != nil {
			t.Fatalf("%s: sell above bid filled %v", name, e)
		}
		bid := v.Quote().Bid
		sum = decimal.Zero
		for _, e := range v.Take(Sell, decimal.NewFromInt(1), decimal.Zero) {
			if e.Price.GreaterThan(bid) {
				t.Fatalf("%s: sell at %s above bid %s", name, e.Price, bid)
			}
			sum = sum.Add(e.Qty)
		}
		if !sum.Equal(decimal.NewFromInt(1)) {
			t.Fatalf("%s: market sell filled %s", name, sum)
		}
		if v.Take(Buy, decimal.Zero, decimal.Zero) != nil || v.Take(Buy, decimal.NewFromInt(-1), decimal.Zero) != nil {
			t.Fatalf("%s: zero or negative qty executed", name)
		}
		if tr := v.Trades(1); len(tr) != 1 || !tr[0].BuyerMaker {
			t.Fatalf("%s: last public trade %+v, want the sell", name, tr)
		}
	}
}

func avgPrice(execs []Exec) (float64, float64) {
	var notional, qty float64
	for _, e := range execs {
		notional += f(e.Price) * f(e.Qty)
		qty += f(e.Qty)
	}
	return notional / qty, qty
}

func TestTakeCostMonotoneInSize(t *testing.T) {
	prev := 0.0
	for _, q := range []string{"0.01", "0.1", "1", "10", "100"} {
		m, clk := newMarket(t, testConfig(2))
		clk.Advance(time.Minute)
		avg, filled := avgPrice(venue(t, m, "binance").Take(Buy, decimal.RequireFromString(q), decimal.Zero))
		if math.Abs(filled-f(decimal.RequireFromString(q))) > 1e-9 {
			t.Fatalf("q=%s filled %v", q, filled)
		}
		if avg < prev {
			t.Fatalf("q=%s: average %.2f better than smaller order's %.2f", q, avg, prev)
		}
		prev = avg
	}
}

func TestSquareRootLaw(t *testing.T) {
	cfg := testConfig(4)
	cfg.Venues[0].TickSize = decimal.RequireFromString("0.01")
	sigmaD := cfg.AnnualVolatility / math.Sqrt(365)
	V := 0.55 * cfg.TotalVolume24h
	for _, q := range []float64{5, 50, 500} {
		m, clk := newMarket(t, cfg) // fresh book, zero prior impact
		clk.Advance(time.Minute)
		v := venue(t, m, "binance")
		mid0 := f(v.Quote().Mid)
		execs := v.Take(Buy, decimal.NewFromFloat(q), decimal.Zero)
		avg, _ := avgPrice(execs)
		cost := avg/mid0 - 1 - DefaultHalfSpreadBps/1e4
		want := 2.0 / 3 * DefaultImpactY * sigmaD * math.Sqrt(q/V)
		if math.Abs(cost/want-1) > 0.10 {
			t.Errorf("q=%v: cost %.3g, want %.3g ±10%% (%d levels)", q, cost, want, len(execs))
		}
	}
}

func TestDepthConsistentWithTake(t *testing.T) {
	m, clk := newMarket(t, testConfig(6))
	clk.Advance(time.Minute)
	for _, name := range m.Venues() {
		v := venue(t, m, name)
		q := v.Quote()
		bids, asks := v.Depth(20)
		if len(bids) != 20 || len(asks) != 20 {
			t.Fatalf("%s: depth %d/%d levels", name, len(bids), len(asks))
		}
		if !asks[0].Price.Equal(q.Ask) || !bids[0].Price.Equal(q.Bid) {
			t.Fatalf("%s: top of depth %s/%s, quote %s/%s", name, bids[0].Price, asks[0].Price, q.Bid, q.Ask)
		}
		for i := 1; i < 20; i++ {
			if !asks[i].Price.GreaterThan(asks[i-1].Price) || !bids[i].Price.LessThan(bids[i-1].Price) {
				t.Fatalf("%s: depth not ordered", name)
			}
		}
		// Taking the first three ask levels fills exactly them.
		qty := asks[0].Qty.Add(asks[1].Qty).Add(asks[2].Qty)
		execs := v.Take(Buy, qty, decimal.Zero)
		if len(execs) != 3 {
			t.Fatalf("%s: took %v, want 3 levels of %v", name, execs, asks[:3])
		}
		for i, e := range execs {
			if !e.Price.Equal(asks[i].Price) || !e.Qty.Equal(asks[i].Qty) {
				t.Fatalf("%s: exec %v != level %v", name, e, asks[i])
			}
		}
		b2, _ := v.Depth(1)
		if e := v.Take(Sell, b2[0].Qty, decimal.Zero); len(e) != 1 || !e[0].Price.Equal(b2[0].Price) {
			t.Fatalf("%s: selling the first bid level gave %v, want one exec at %s", name, e, b2[0].Price)
		}
	}
}

// displacement returns each venue's mid of m relative to the same venue of the undisturbed twin, minus one.
func displacement(t *testing.T, m, twin *Market) map[string]float64 {
	out := map[string]float64{}
	for _, name := range m.Venues() {
		out[name] = f(venue(t, m, name).Quote().Mid)/f(venue(t, twin, name).Quote().Mid) - 1
	}
	return out
}

func TestImpactDecayAndCoupling(t *testing.T) {
	cfg := testConfig(9)
	m, clk := newMarket(t, cfg)
	twin, tclk := newMarket(t, cfg) // same seed: same price and basis path, no take
	advance := func(d time.Duration) { clk.Advance(d); tclk.Advance(d) }
	weighted := func(d map[string]float64) float64 {
		var c float64
		for _, vc := range cfg.Venues {
			c += vc.VolumeShare * d[vc.Name]
		}
		return c
	}
	advance(time.Minute)
	venue(t, m, "binance").Take(Buy, decimal.NewFromInt(100), decimal.Zero)
	d0 := displacement(t, m, twin)
	if d0["binance"] < 5e-4 || d0["okx"] != 0 {
		t.Fatalf("after the take: displacement %v", d0)
	}
	advance(3 * time.Second)
	d3 := displacement(t, m, twin)
	for _, name := range []string{"okx", "bybit"} {
		if d3[name] < 0.5*weighted(d0) {
			t.Errorf("coupling: %s displaced %.3g after 3s, want most of %.3g", name, d3[name], weighted(d0))
		}
	}
	advance(7 * time.Second)
	d10 := displacement(t, m, twin)
	advance(60 * time.Second)
	d70 := displacement(t, m, twin)
	if r := weighted(d70) / weighted(d10); math.Abs(r-0.5) > 0.03 {
		t.Errorf("volume-weighted displacement ratio over 60s %.3f, want 0.5", r)
	}
	if r := d70["binance"] / d10["binance"]; math.Abs(r-0.5) > 0.05 {
		t.Errorf("binance displacement ratio over 60s %.3f, want 0.5", r)
	}
}

func TestLongJumpIsCheap(t *testing.T) {
	m, clk := newMarket(t, testConfig(10))
	clk.Advance(30 * 24 * time.Hour)
	t0 := time.Now()
	m.FairPrice()
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("a 30-day jump took %v", d)
	}
	if p := f(m.FairPrice()); !(p > 0) {
		t.Fatalf("fair price %v", p)
	}
}

func TestValidate(t *testing.T) {
	d := decimal.RequireFromString
	if err := testConfig(1).Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"no venues", func(c *Config) { c.Venues = nil }, "no venues"},
		{"duplicate", func(c *Config) { c.Venues[1].Name = "binance" }, "duplicate"},
		{"empty name", func(c *Config) { c.Venues[1].Name = "" }, "empty name"},
		{"price", func(c *Config) { c.StartPrice = 0 }, "start price"},
		{"vol", func(c *Config) { c.AnnualVolatility = -0.1 }, "volatility"},
		{"volume", func(c *Config) { c.TotalVolume24h = math.NaN() }, "total volume"},
		{"share", func(c *Config) { c.Venues[0].VolumeShare = 0 }, "volume share"},
		{"tick", func(c *Config) { c.Venues[0].TickSize = decimal.Zero }, "tick size"},
		{"lot", func(c *Config) { c.Venues[2].LotSize = d("-0.001") }, "lot size"},
		{"step", func(c *Config) { c.Step = -time.Second }, "step"},
		{"long step", func(c *Config) { c.Step = time.Hour }, "step"},
		{"half-life", func(c *Config) { c.ImpactHalfLife = -time.Second }, "impact half-life"},
		{"spread", func(c *Config) { c.Venues[0].HalfSpreadBps = -1 }, "half-spread"},
		{"impact Y", func(c *Config) { c.Venues[0].ImpactY = math.Inf(1) }, "impact Y"},
		{"basis noise", func(c *Config) { c.BasisNoiseBps = -1 }, "basis noise"},
		{"informed share", func(c *Config) { c.InformedShare = 1 }, "informed share"},
		{"informed half-life", func(c *Config) { c.InformedHalfLives = []time.Duration{0} }, "informed half-lives"},
		{"informed half-life long", func(c *Config) { c.InformedHalfLives = []time.Duration{2 * time.Hour} }, "informed half-lives"},
		{"informed follow", func(c *Config) { c.InformedFollow = 1.5 }, "informed follow"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(1)
			cfg.Venues = append([]VenueConfig(nil), cfg.Venues...)
			tc.mutate(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error about %q", err, tc.want)
			}
			if _, err := New(cfg, clock.NewManual(start)); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
	if _, err := New(testConfig(1), nil); err == nil {
		t.Fatal("New accepted a nil clock")
	}
}

func TestDefaultsAndLookup(t *testing.T) {
	m, _ := newMarket(t, testConfig(1))
	if got := strings.Join(m.Venues(), ","); got != "binance,okx,bybit" {
		t.Fatalf("venues %s", got)
	}
	if _, err := m.Venue("kraken"); err == nil {
		t.Fatal("unknown venue found")
	}
	vc := venue(t, m, "okx").Config()
	if vc.HalfSpreadBps != DefaultHalfSpreadBps || vc.ImpactY != DefaultImpactY {
		t.Fatalf("defaults not applied: %+v", vc)
	}
	if b, a := venue(t, m, "okx").Depth(0); b != nil || a != nil {
		t.Fatal("Depth(0) returned levels")
	}
}

func TestConcurrentUse(t *testing.T) {
	m, clk := newMarket(t, testConfig(12))
	done := make(chan struct{})
	for _, name := range m.Venues() {
		v := venue(t, m, name)
		go func() {
			defer func() { done <- struct{}{} }()
			for range 200 {
				v.Quote()
				v.Depth(5)
				v.Take(Buy, v.Config().LotSize, decimal.Zero)
				v.Volume24h()
				v.Trades(10)
			}
		}()
	}
	for range 200 {
		clk.Advance(time.Second)
	}
	for range m.Venues() {
		<-done
	}
}

func BenchmarkAdvanceDay(b *testing.B) {
	for b.Loop() {
		m, clk := newMarket(b, testConfig(1))
		for range 24 * 60 {
			clk.Advance(time.Minute)
			m.FairPrice()
		}
	}
}

func TestNoiseFreeHoldsThePrice(t *testing.T) {
	cfg := testConfig(7)
	cfg.BasisNoiseBps = 0.3
	cfg.NoiseFree = true
	m, clk := newMarket(t, cfg)
	a := venue(t, m, m.Venues()[0])
	f0, q0 := m.FairPrice(), a.Quote()
	clk.Advance(10 * time.Minute)
	if f := m.FairPrice(); !f.Equal(f0) {
		t.Fatalf("noise-free fair price moved: %s -> %s", f0, f)
	}
	if q := a.Quote(); !q.Mid.Equal(q0.Mid) {
		t.Fatalf("noise-free mid moved without trading: %s -> %s", q0.Mid, q.Mid)
	}
	// Impact still works and decays.
	a.Take(Buy, decimal.RequireFromString("5"), decimal.Zero)
	up := f(a.Quote().Mid)
	if !(up > f(q0.Mid)) {
		t.Fatalf("a take did not move the noise-free mid: %v -> %v", q0.Mid, up)
	}
	clk.Advance(10 * time.Minute)
	if back := f(a.Quote().Mid); math.Abs(back-f(q0.Mid)) > 1e-6*f(q0.Mid) {
		t.Fatalf("impact did not decay on the noise-free market: %v, rest %v", back, q0.Mid)
	}
}

func TestTakeRecords(t *testing.T) {
	m, clk := newMarket(t, testConfig(3))
	a := venue(t, m, m.Venues()[0])
	a.Take(Buy, decimal.RequireFromString("0.5"), decimal.Zero) // before recording: not kept
	m.RecordTakes()
	clk.Advance(time.Second)
	q := a.Quote()
	execs := a.Take(Sell, decimal.RequireFromString("1.2"), decimal.Zero)
	a.Take(Buy, decimal.RequireFromString("1"), q.Bid) // a buy limited below the ask fills nothing
	recs := m.Takes()
	if len(recs) != 2 {
		t.Fatalf("records = %d, want 2", len(recs))
	}
	var qty, notional decimal.Decimal
	for _, e := range execs {
		qty = qty.Add(e.Qty)
		notional = notional.Add(e.Price.Mul(e.Qty))
	}
	r := recs[0]
	if r.Venue != a.Name() || r.Side != Sell || !r.Filled.Equal(qty) || !r.Notional.Equal(notional) || !r.Time.Equal(clk.Now()) {
		t.Fatalf("record %+v does not match the executions (qty %s notional %s)", r, qty, notional)
	}
	if math.Abs(r.Mid-f(q.Mid)) > 1e-6 || math.Abs(r.Fair-f(q.Index)) > 1e-6 {
		t.Fatalf("record mid/fair %v/%v, quote %s/%s", r.Mid, r.Fair, q.Mid, q.Index)
	}
	if !recs[1].Filled.IsZero() || !recs[1].Limit.Equal(q.Bid) {
		t.Fatalf("unfilled take recorded as %+v", recs[1])
	}
}

// TestMakeRecordsAndFairPath: once recording, every fill of a resting order is recorded as the market's own
// MakeRecord (the same fills the maker drains), a take of a resting order the book moved through says so, and the
// common price's path answers FairAt at any time since the recording began.
func TestMakeRecordsAndFairPath(t *testing.T) {
	m, clk := newMarket(t, testConfig(3))
	a := venue(t, m, m.Venues()[0])
	start := clk.Now()
	if _, ok := m.FairAt(start); ok {
		t.Fatal("a fair price before the recording began")
	}
	m.RecordTakes()
	mk := a.NewMaker()
	var drained []MakerFill
	for i := int64(0); i < 600 && len(drained) < 5; i++ {
		q := a.Quote()
		mk.Rest(i, Buy, q.Bid, decimal.RequireFromString("0.01"))
		clk.Advance(time.Second)
		drained = append(drained, mk.Drain()...)
		mk.Cancel(i)
	}
	makes := m.Makes()
	if len(drained) == 0 || len(makes) != len(drained) {
		t.Fatalf("%d fills drained, %d recorded", len(drained), len(makes))
	}
	for i, r := range makes {
		d := drained[i]
		if r.Venue != a.Name() || r.Side != Buy || !r.Price.Equal(d.Price) || !r.Qty.Equal(d.Qty) || !r.Time.Equal(d.Time) || !(r.Fair > 0) {
			t.Fatalf("record %+v, fill %+v", r, d)
		}
	}
	a.TakeResting(Sell, decimal.RequireFromString("0.01"), a.Quote().Bid)
	if recs := m.Takes(); len(recs) != 1 || !recs[0].Resting {
		t.Fatalf("take records %+v", recs)
	}
	now := clk.Now()
	f, ok := m.FairAt(now)
	if !ok || math.Abs(f-f64(m.FairPrice())) > 1e-6*f {
		t.Fatalf("FairAt(now) %v %v, fair %s", f, ok, m.FairPrice())
	}
	if _, ok := m.FairAt(now.Add(time.Minute)); ok {
		t.Fatal("a fair price after the market's latest step")
	}
	if f, ok := m.FairAt(start.Add(1500 * time.Millisecond)); !ok || !(f > 0) {
		t.Fatalf("FairAt inside the recording: %v %v", f, ok)
	}
}

func f64(d decimal.Decimal) float64 { return d.InexactFloat64() }
