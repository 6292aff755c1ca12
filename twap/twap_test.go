package twap

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

var t0 = time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC)

func btc() venues.Rules {
	return venues.Rules{Instrument: "BTC-USDT-PERP", TickSize: d("0.1"), LotSize: d("0.001"), MinQty: d("0.001"), MinNotional: d("100")}
}

func seedParams() Params {
	return Params{
		Start: t0, Horizon: 10 * time.Minute, Quantity: d("0.886"), Rules: btc(), RefPrice: d("10490"),
		MeanInterval: 20 * time.Second, TimeJitter: 0.8, SizeJitter: 0.3, EndBuffer: time.Minute,
	}
}

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// checkSchedule asserts every documented property of a schedule.
func checkSchedule(t testing.TB, p Params, ss []Slice) {
	t.Helper()
	if len(ss) == 0 {
		t.Fatalf("empty schedule")
	}
	end := p.Start.Add(p.Horizon - p.EndBuffer)
	minSlice := p.Rules.MinQty
	sum := decimal.Zero
	for i, s := range ss {
		if s.Seq != i {
			t.Errorf("slice %d has seq %d", i, s.Seq)
		}
		if s.At.Before(p.Start) || s.At.After(end) {
			t.Errorf("slice %d at %s outside [%s, %s]", i, s.At, p.Start, end)
		}
		if i > 0 && s.At.Before(ss[i-1].At) {
			t.Errorf("slice %d at %s before slice %d at %s", i, s.At, i-1, ss[i-1].At)
		}
		if !s.Quantity.IsPositive() || !p.Rules.OnLot(s.Quantity) {
			t.Errorf("slice %d: %s not a positive lot multiple of %s", i, s.Quantity, p.Rules.LotSize)
		}
		for _, c := range []decimal.Decimal{p.MaxChildQty, p.Rules.MaxQty} {
			if c.IsPositive() && s.Quantity.Cmp(c) > 0 {
				t.Errorf("slice %d: %s above max %s", i, s.Quantity, c)
			}
		}
		if len(ss) > 1 {
			if s.Quantity.Cmp(minSlice) < 0 {
				t.Errorf("slice %d: %s below min qty %s", i, s.Quantity, minSlice)
			}
			if s.Quantity.Mul(p.RefPrice).Cmp(p.Rules.MinNotional) < 0 {
				t.Errorf("slice %d: %s × %s below min notional %s", i, s.Quantity, p.RefPrice, p.Rules.MinNotional)
			}
		}
		sum = sum.Add(s.Quantity)
	}
	if !sum.Equal(p.Quantity) {
		t.Errorf("Σ slices %s != quantity %s", sum, p.Quantity)
	}
	// One slice only when the quantity cannot be cut: below two minimum slices, or one interval.
	if len(ss) == 1 && p.Horizon-p.EndBuffer >= 2*p.MeanInterval && p.RefPrice.IsPositive() {
		// The minimum slice in whole lots: max(lot, MinQty, MinNotional/RefPrice), rounded up to the grid.
		m := decimal.Max(p.Rules.LotSize, p.Rules.MinQty, p.Rules.MinNotional.DivRound(p.RefPrice, 40))
		n, rem := m.QuoRem(p.Rules.LotSize, 0)
		if rem.IsPositive() {
			n = n.Add(decimal.NewFromInt(1))
		}
		if p.Quantity.Cmp(n.Mul(p.Rules.LotSize).Mul(decimal.NewFromInt(2))) >= 0 {
			t.Errorf("one slice for %s though two slices of %s lots fit", p.Quantity, n)
		}
	}
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Params)
		count int // expected number of slices, 0: do not check
		err   string
	}{
		{name: "seed venue a: 9 min / 20 s", count: 27},
		{name: "no end buffer", edit: func(p *Params) { p.EndBuffer = 0 }, count: 30},
		{name: "min notional limits the count", edit: func(p *Params) { p.Quantity = d("0.05") }, count: 5}, // slices ≥ 0.010
		{name: "below one min-notional slice: one slice", edit: func(p *Params) { p.Quantity = d("0.005") }, count: 1},
		{name: "min qty limits the count", edit: func(p *Params) { p.Rules.MinNotional = decimal.Zero; p.Rules.MinQty = d("0.1") }, count: 8},
		{name: "cap forces more slices", edit: func(p *Params) { p.MaxChildQty = d("0.0255") }, count: 36}, // ≤ 25 lots
		{name: "cap equal to min slice, divisible", edit: func(p *Params) { p.Quantity, p.MaxChildQty = d("0.88"), d("0.01") }, count: 88},
		{name: "cap equal to min slice, not divisible", edit: func(p *Params) { p.MaxChildQty = d("0.01") }, err: "cannot be cut"},
		{name: "rules max qty caps too", edit: func(p *Params) { p.Rules.MaxQty = d("0.02") }, count: 45},
		{name: "no jitter", edit: func(p *Params) { p.TimeJitter, p.SizeJitter = 0, 0 }, count: 27},
		{name: "full jitter", edit: func(p *Params) { p.TimeJitter, p.SizeJitter = 1, 1 }, count: 27},
		{name: "interval longer than horizon", edit: func(p *Params) { p.MeanInterval = time.Hour }, count: 1},
		{name: "zero horizon", edit: func(p *Params) { p.Horizon = 0 }, err: "horizon"},
		{name: "zero quantity", edit: func(p *Params) { p.Quantity = decimal.Zero }, err: "quantity"},
		{name: "off lot grid", edit: func(p *Params) { p.Quantity = d("0.8865") }, err: "lot grid"},
		{name: "time jitter above 1", edit: func(p *Params) { p.TimeJitter = 1.5 }, err: "time jitter"},
		{name: "size jitter NaN", edit: func(p *Params) { p.SizeJitter = math.NaN() }, err: "size jitter"},
		{name: "end buffer = horizon", edit: func(p *Params) { p.EndBuffer = p.Horizon }, err: "end buffer"},
		{name: "negative end buffer", edit: func(p *Params) { p.EndBuffer = -1 }, err: "end buffer"},
		{name: "zero mean interval", edit: func(p *Params) { p.MeanInterval = 0 }, err: "mean interval"},
		{name: "bad rules", edit: func(p *Params) { p.Rules.LotSize = decimal.Zero }, err: "rules"},
		{name: "no ref price for min notional", edit: func(p *Params) { p.RefPrice = decimal.Zero }, err: "reference price"},
		{name: "cap below one lot", edit: func(p *Params) { p.MaxChildQty = d("0.0005") }, err: "below one lot"},
		{name: "cap below min notional slice", edit: func(p *Params) { p.MaxChildQty = d("0.005") }, err: "minimum slice"},
		{name: "too many slices", edit: func(p *Params) {
			p.Quantity = d("1000")
			p.Rules.MinNotional = decimal.Zero
			p.MaxChildQty = d("0.001")
		}, err: "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := seedParams()
			if tt.edit != nil {
				tt.edit(&p)
			}
			ss, err := Schedule(p, rng(7))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.count != 0 && len(ss) != tt.count {
				t.Errorf("%d slices, want %d", len(ss), tt.count)
			}
			checkSchedule(t, p, ss)
		})
	}
}

func TestScheduleNilRNG(t *testing.T) {
	if _, err := Schedule(seedParams(), nil); err == nil {
		t.Fatal("nil rng accepted")
	}
}

func TestScheduleDeterministic(t *testing.T) {
	p := seedParams()
	a, _ := Schedule(p, rng(42))
	b, _ := Schedule(p, rng(42))
	c, _ := Schedule(p, rng(43))
	if !equal(a, b) {
		t.Error("same seed, different schedules")
	}
	if equal(a, c) {
		t.Error("different seeds, same schedule")
	}
}

func equal(a, b []Slice) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].At.Equal(b[i].At) || !a[i].Quantity.Equal(b[i].Quantity) {
			return false
		}
	}
	return true
}

// Two venues on their own streams do not trade in lockstep.
func TestScheduleVenuesNotInLockstep(t *testing.T) {
	src := rng(1)
	pa, pb := seedParams(), seedParams()
	pb.Quantity = d("1.330")
	a, err := Schedule(pa, rand.New(rand.NewPCG(src.Uint64(), src.Uint64())))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Schedule(pb, rand.New(rand.NewPCG(src.Uint64(), src.Uint64())))
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for i := range min(len(a), len(b)) {
		if a[i].At.Equal(b[i].At) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d of %d slice times coincide", same, min(len(a), len(b)))
	}
}

// Times and sizes are randomized: not a fixed grid, first slice not pinned to Start, sizes vary.
func TestScheduleRandomized(t *testing.T) {
	p := seedParams()
	firstAtStart, gridLike, flatSizes := 0, 0, 0
	for seed := range uint64(200) {
		ss, err := Schedule(p, rng(seed))
		if err != nil {
			t.Fatal(err)
		}
		if ss[0].At.Equal(p.Start) {
			firstAtStart++
		}
		gaps := map[time.Duration]bool{}
		sizes := map[string]bool{}
		for i := 1; i < len(ss); i++ {
			gaps[ss[i].At.Sub(ss[i-1].At)] = true
		}
		for _, s := range ss {
			sizes[s.Quantity.String()] = true
		}
		if len(gaps) < len(ss)/2 {
			gridLike++
		}
		if len(sizes) <= 2 {
			flatSizes++
		}
	}
	if firstAtStart > 0 || gridLike > 0 || flatSizes > 0 {
		t.Errorf("over 200 seeds: first at start %d, grid-like %d, flat sizes %d", firstAtStart, gridLike, flatSizes)
	}
}

func TestScheduleProperties(t *testing.T) {
	r := rng(99)
	lots := []string{"0.001", "0.01", "1", "0.0001"}
	ok := 0
	for i := range 3000 {
		lot := d(lots[r.IntN(len(lots))])
		rules := venues.Rules{TickSize: d("0.1"), LotSize: lot, MinQty: lot.Mul(decimal.NewFromInt(int64(1 + r.IntN(5)))), MinNotional: decimal.NewFromInt(int64(r.IntN(3) * 50))}
		if r.IntN(4) == 0 {
			rules.MaxQty = lot.Mul(decimal.NewFromInt(int64(1 + r.IntN(2000))))
		}
		horizon := time.Duration(1+r.IntN(3600)) * time.Second
		p := Params{
			Start: t0, Horizon: horizon, Rules: rules,
			Quantity:     lot.Mul(decimal.NewFromInt(int64(1 + r.IntN(50000)))),
			RefPrice:     decimal.NewFromInt(int64(1 + r.IntN(100000))),
			MeanInterval: time.Duration(1+r.IntN(120)) * time.Second,
			TimeJitter:   r.Float64(), SizeJitter: r.Float64(),
			EndBuffer: time.Duration(r.Int64N(int64(horizon))),
		}
		if r.IntN(2) == 0 {
			p.IntervalCV = r.Float64()
		}
		if r.IntN(3) == 0 {
			p.MaxChildQty = lot.Mul(decimal.NewFromInt(int64(1 + r.IntN(500))))
		}
		ss, err := Schedule(p, r)
		if err != nil {
			continue
		}
		ok++
		checkSchedule(t, p, ss)
		if t.Failed() {
			t.Fatalf("case %d: %+v", i, p)
		}
	}
	if ok < 2000 {
		t.Errorf("only %d of 3000 random cases were schedulable", ok)
	}
}

func TestLimitPrice(t *testing.T) {
	rules := btc()
	tests := []struct {
		name  string
		side  venues.Side
		mark  string
		bps   int
		limit string
		tick  string
		want  string
		err   bool
	}{
		{name: "buy band floored", side: venues.Buy, mark: "10490", bps: 50, limit: "0", want: "10542.4"},  // 10542.45
		{name: "sell band ceiled", side: venues.Sell, mark: "10490", bps: 50, limit: "0", want: "10437.6"}, // 10437.55
		{name: "buy under parent limit", side: venues.Buy, mark: "10490", bps: 50, limit: "10500", want: "10500"},
		{name: "buy parent limit off tick", side: venues.Buy, mark: "10490", bps: 50, limit: "10500.05", want: "10500"},
		{name: "buy parent limit above band", side: venues.Buy, mark: "10490", bps: 50, limit: "11000", want: "10542.4"},
		{name: "sell above parent limit", side: venues.Sell, mark: "10490", bps: 50, limit: "10450", want: "10450"},
		{name: "sell parent limit off tick", side: venues.Sell, mark: "10490", bps: 50, limit: "10449.95", want: "10450"},
		{name: "zero bps, mark off tick", side: venues.Buy, mark: "10490.05", bps: 0, limit: "0", want: "10490"},
		{name: "okx tick", side: venues.Sell, mark: "10490.3", bps: 10, limit: "0", tick: "1", want: "10480"}, // 10479.8097
		{name: "zero mark", side: venues.Buy, mark: "0", bps: 50, limit: "0", err: true},
		{name: "negative bps", side: venues.Buy, mark: "1", bps: -1, limit: "0", err: true},
		{name: "sell through zero", side: venues.Sell, mark: "10490", bps: 10000, limit: "0", err: true},
		{name: "bad side", side: "hold", mark: "10490", bps: 1, limit: "0", err: true},
		{name: "negative limit", side: venues.Buy, mark: "10490", bps: 1, limit: "-1", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rules
			if tt.tick != "" {
				r.TickSize = d(tt.tick)
			}
			got, err := LimitPrice(tt.side, d(tt.mark), tt.bps, d(tt.limit), r)
			if tt.err {
				if err == nil {
					t.Fatalf("got %s, want error", got)
				}
				return
			}
			if err != nil || !got.Equal(d(tt.want)) {
				t.Fatalf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestLimitPriceProperties(t *testing.T) {
	r := rng(5)
	ticks := []string{"0.1", "0.01", "1", "0.5"}
	for i := range 20000 {
		rules := venues.Rules{TickSize: d(ticks[r.IntN(len(ticks))]), LotSize: d("1")}
		mark := decimal.New(1+r.Int64N(10_000_000), -int32(r.IntN(4)))
		bps := r.IntN(500)
		limit := decimal.Zero
		if r.IntN(2) == 0 {
			limit = mark.Mul(decimal.NewFromFloat(0.98 + 0.04*r.Float64())).Round(3)
		}
		side := venues.Buy
		if r.IntN(2) == 0 {
			side = venues.Sell
		}
		px, err := LimitPrice(side, mark, bps, limit, rules)
		if err != nil {
			continue
		}
		band := mark.Mul(decimal.NewFromInt(int64(bps))).Div(decimal.NewFromInt(10000))
		if !rules.OnTick(px) {
			t.Fatalf("case %d: %s off tick %s", i, px, rules.TickSize)
		}
		if side == venues.Buy && (px.Cmp(mark.Add(band)) > 0 || limit.IsPositive() && px.Cmp(limit) > 0) {
			t.Fatalf("case %d: buy %s above band %s or limit %s", i, px, mark.Add(band), limit)
		}
		if side == venues.Sell && (px.Cmp(mark.Sub(band)) < 0 || limit.IsPositive() && px.Cmp(limit) < 0) {
			t.Fatalf("case %d: sell %s below band %s or limit %s", i, px, mark.Sub(band), limit)
		}
		// Within one tick of the binding bound.
		bound := mark.Add(band.Mul(side.Sign()))
		if limit.IsPositive() && (side == venues.Buy && limit.Cmp(bound) < 0 || side == venues.Sell && limit.Cmp(bound) > 0) {
			bound = limit
		}
		if px.Sub(bound).Abs().Cmp(rules.TickSize) >= 0 {
			t.Fatalf("case %d: %s %s more than a tick from %s", i, side, px, bound)
		}
	}
}

func slicesOf(qs ...string) []Slice {
	out := make([]Slice, len(qs))
	for i, q := range qs {
		out[i] = Slice{Seq: i, At: t0.Add(time.Duration(i) * time.Minute), Quantity: d(q)}
	}
	return out
}

func TestChildQuantity(t *testing.T) {
	ss := slicesOf("0.3", "0.3", "0.4")
	rules := btc()
	tests := []struct {
		name                    string
		idx                     int
		filled, open, max, want string
	}{
		{"first", 0, "0", "0", "0", "0.3"},
		{"on track", 1, "0.3", "0", "0", "0.3"},
		{"carry unfilled", 1, "0.1", "0", "0", "0.5"},
		{"open counts", 1, "0.1", "0.2", "0", "0.3"},
		{"ahead of schedule", 1, "0.6", "0", "0", "0"},
		{"last takes everything", 2, "0.2", "0", "0", "0.8"},
		{"last minus open", 2, "0.2", "0.1", "0", "0.7"},
		{"past the end is the last", 7, "0.2", "0", "0", "0.8"},
		{"capped", 1, "0", "0", "0.25", "0.25"},
		{"cap floored to lot", 1, "0", "0", "0.2505", "0.25"},
		{"capped at last", 2, "0", "0", "0.25", "0.25"},
		{"overfilled", 2, "1.2", "0", "0", "0"},
		{"negative idx", -1, "0", "0", "0", "0"},
		{"off-grid fill floors", 0, "0.0005", "0", "0", "0.299"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ChildQuantity(ss, tt.idx, d(tt.filled), d(tt.open), d(tt.max), rules)
			if !got.Equal(d(tt.want)) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	rules.MinQty = d("0.05")
	if got := ChildQuantity(ss, 1, d("0.58"), d("0"), decimal.Zero, rules); !got.IsZero() {
		t.Errorf("below min qty before the last slice: got %s, want 0 (carried)", got)
	}
	if got := ChildQuantity(ss, 2, d("0.98"), d("0"), decimal.Zero, rules); !got.Equal(d("0.02")) {
		t.Errorf("last slice: got %s, want 0.02", got)
	}
	if got := ChildQuantity(nil, 0, decimal.Zero, decimal.Zero, decimal.Zero, rules); !got.IsZero() {
		t.Errorf("empty schedule: got %s", got)
	}
}

// Simulated execution: whatever fills each slice gets, filled + open never exceeds the total, every child is on
// the lot grid and under the cap, and when every child fills, the schedule completes exactly.
func TestChildQuantityProperties(t *testing.T) {
	r := rng(11)
	for i := range 2000 {
		p := seedParams()
		p.Quantity = d("0.001").Mul(decimal.NewFromInt(int64(10 + r.IntN(5000))))
		if r.IntN(2) == 0 {
			p.MaxChildQty = d("0.001").Mul(decimal.NewFromInt(int64(20 + r.IntN(200)))) // ≥ 2 min slices
		}
		ss, err := Schedule(p, r)
		if err != nil {
			t.Fatal(err)
		}
		filled := decimal.Zero
		allFill := r.IntN(2) == 0
		for k := range ss {
			q := ChildQuantity(ss, k, filled, decimal.Zero, p.MaxChildQty, p.Rules)
			if q.IsNegative() || !p.Rules.OnLot(q) || p.MaxChildQty.IsPositive() && q.Cmp(p.MaxChildQty) > 0 {
				t.Fatalf("case %d slice %d: child %s", i, k, q)
			}
			f := q
			if !allFill { // partial IOC fill
				f = p.Rules.FloorQty(q.Mul(decimal.NewFromFloat(r.Float64())))
			}
			filled = filled.Add(f)
			if filled.Cmp(p.Quantity) > 0 {
				t.Fatalf("case %d: filled %s above %s", i, filled, p.Quantity)
			}
		}
		if allFill && p.MaxChildQty.IsZero() && !filled.Equal(p.Quantity) {
			t.Fatalf("case %d: all children filled but %s of %s", i, filled, p.Quantity)
		}
	}
}

func FuzzSchedule(f *testing.F) {
	f.Add(uint64(1), int64(10*time.Minute), int64(20*time.Second), int64(time.Minute), int64(886), int8(3), int64(1), int64(100), int64(10490), 0.8, 0.3, int64(0))
	f.Add(uint64(2), int64(time.Second), int64(time.Nanosecond), int64(0), int64(1), int8(0), int64(0), int64(0), int64(0), 0.0, 1.0, int64(1))
	f.Add(uint64(3), int64(math.MaxInt64), int64(1), int64(math.MaxInt64-1), int64(math.MaxInt64), int8(-5), int64(3), int64(1), int64(1), 1.0, 0.0, int64(7))
	f.Fuzz(func(t *testing.T, seed uint64, horizon, mean, endBuf, qtyUnits int64, lotExp int8, minLots, minNotional, refPrice int64, tj, sj float64, maxUnits int64) {
		cv := 0.0
		if seed%2 == 1 {
			cv = tj
		}
		lot := decimal.New(1, -int32(lotExp%12))
		p := Params{
			Start: t0, Horizon: time.Duration(horizon), MeanInterval: time.Duration(mean), EndBuffer: time.Duration(endBuf),
			Quantity:   decimal.New(qtyUnits, -int32(lotExp%12)),
			Rules:      venues.Rules{TickSize: d("0.1"), LotSize: lot, MinQty: lot.Mul(decimal.NewFromInt(minLots)), MinNotional: decimal.NewFromInt(minNotional)},
			RefPrice:   decimal.NewFromInt(refPrice),
			TimeJitter: tj, SizeJitter: sj, IntervalCV: cv,
			MaxChildQty: decimal.New(maxUnits, -int32(lotExp%12)),
		}
		ss, err := Schedule(p, rng(seed))
		if err != nil {
			return
		}
		checkSchedule(t, p, ss)
	})
}

func BenchmarkSchedule(b *testing.B) {
	p := seedParams()
	r := rng(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Schedule(p, r); err != nil {
			b.Fatal(err)
		}
	}
}

// The time between two slices says nothing about the next one: over many schedules the lag-1 correlation of
// successive intervals is near zero (slices jittered around a fixed grid give −½, which gives the grid away),
// and sizes follow the gaps, so the cumulative quantity stays near the clock's share.
func TestScheduleIntervalsUncorrelated(t *testing.T) {
	p := seedParams()
	p.Quantity = d("7.630")
	var xs, ys []float64
	worst := 0.0
	for seed := range uint64(300) {
		ss, err := Schedule(p, rng(seed))
		if err != nil {
			t.Fatal(err)
		}
		var gaps []float64
		for i := 1; i < len(ss); i++ {
			gaps = append(gaps, ss[i].At.Sub(ss[i-1].At).Seconds())
		}
		for i := 1; i < len(gaps); i++ {
			xs, ys = append(xs, gaps[i-1]), append(ys, gaps[i])
		}
		window := (p.Horizon - p.EndBuffer).Seconds()
		var cum float64
		for _, s := range ss {
			share := s.At.Sub(p.Start).Seconds() / window
			before := math.Abs(cum - share)
			cum += s.Quantity.InexactFloat64() / p.Quantity.InexactFloat64()
			worst = math.Max(worst, math.Max(before, math.Abs(cum-share)))
		}
	}
	mx, my := mean(xs), mean(ys)
	var sxy, sxx, syy float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
		syy += (ys[i] - my) * (ys[i] - my)
	}
	r := sxy / math.Sqrt(sxx*syy)
	t.Logf("lag-1 correlation %.4f, worst stray %.4f", r, worst)
	if math.Abs(r) > 0.05 {
		t.Errorf("lag-1 correlation of intervals %.3f over %d pairs, want ~0", r, len(xs))
	}
	if worst > 0.15 {
		t.Errorf("cumulative quantity strayed %.3f of the parent from the clock's share", worst)
	}
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// With IntervalCV 0.8 (a slice every 10 s) the intervals are as irregular as asked (their coefficient of variation is the one set), still
// uncorrelated, the cumulative quantity still keeps pace with the clock, each venue has its own count, and three
// venues' schedules share no grid: on their merged stream an interval says little of the next (slices jittered
// around one grid pair up, and the merged gaps alternate short and long: lag-1 correlation −0.76 for two venues
// and −0.43 for three with the uniform ±40% jitter).
func TestScheduleIrregularIntervals(t *testing.T) {
	p := seedParams()
	p.Quantity, p.IntervalCV, p.MeanInterval = d("7.630"), 0.8, 10*time.Second
	var all, xs, ys []float64
	var merged [2][2][]float64 // [two, three venues][x, y]
	worst := 0.0
	counts := map[int]bool{}
	for seed := range uint64(300) {
		var venues [][]Slice
		for v := range uint64(3) {
			ss, err := Schedule(p, rng(3*seed+v))
			if err != nil {
				t.Fatal(err)
			}
			venues = append(venues, ss)
		}
		a := venues[0]
		counts[len(a)] = true
		var gaps []float64
		for i := 1; i < len(a); i++ {
			gaps = append(gaps, a[i].At.Sub(a[i-1].At).Seconds())
		}
		m := mean(gaps)
		for i := range gaps {
			all = append(all, gaps[i]/m)
			if i > 0 {
				xs, ys = append(xs, gaps[i-1]/m), append(ys, gaps[i]/m)
			}
		}
		for k, nv := range []int{2, 3} {
			var mg []Slice
			for _, ss := range venues[:nv] {
				mg = append(mg, ss...)
			}
			slices.SortFunc(mg, func(x, y Slice) int { return x.At.Compare(y.At) })
			var g []float64
			for i := 1; i < len(mg); i++ {
				g = append(g, mg[i].At.Sub(mg[i-1].At).Seconds())
			}
			mm := mean(g)
			for i := 1; i < len(g); i++ {
				merged[k][0], merged[k][1] = append(merged[k][0], g[i-1]/mm), append(merged[k][1], g[i]/mm)
			}
		}
		window := (p.Horizon - p.EndBuffer).Seconds()
		var cum float64
		for _, s := range a {
			share := s.At.Sub(p.Start).Seconds() / window
			before := math.Abs(cum - share)
			cum += s.Quantity.InexactFloat64() / p.Quantity.InexactFloat64()
			worst = math.Max(worst, math.Max(before, math.Abs(cum-share)))
		}
	}
	cv := stddev(all) / mean(all)
	r, r2, r3 := corr(xs, ys), corr(merged[0][0], merged[0][1]), corr(merged[1][0], merged[1][1])
	t.Logf("interval CV %.3f, lag-1 correlation %.4f on one venue, %.4f on two merged, %.4f on three merged; worst stray %.4f; %d distinct counts",
		cv, r, r2, r3, worst, len(counts))
	if cv < 0.75 || cv > 0.85 {
		t.Errorf("interval CV %.3f, want about 0.8", cv)
	}
	if math.Abs(r) > 0.05 || math.Abs(r2) > 0.1 || math.Abs(r3) > 0.1 {
		t.Errorf("lag-1 correlation %.3f on one venue, %.3f on two merged, %.3f on three merged: want ~0", r, r2, r3)
	}
	if worst > 0.2 {
		t.Errorf("cumulative quantity strayed %.3f of the parent from the clock's share", worst)
	}
	if len(counts) < 3 {
		t.Errorf("every schedule has one of %d counts: venues would share a grid", len(counts))
	}
}

func stddev(xs []float64) float64 {
	m := mean(xs)
	var s float64
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)))
}

func corr(xs, ys []float64) float64 {
	mx, my := mean(xs), mean(ys)
	var sxy, sxx, syy float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
		syy += (ys[i] - my) * (ys[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}
