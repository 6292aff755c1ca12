package router

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func btcRules(lot, minNotional string) venues.Rules {
	return venues.Rules{Instrument: "BTC-USDT-PERP", TickSize: d("0.1"), LotSize: d(lot), MinQty: d(lot), MinNotional: d(minNotional)}
}

func venue(name, share, lot string) VenueInput {
	return VenueInput{Venue: name, Rules: btcRules(lot, "100"), VolumeShare: d(share), Weight: decimal.NewFromInt(1), Healthy: true, Price: d("10490")}
}

func with(v VenueInput, f func(*VenueInput)) VenueInput { f(&v); return v }

func TestAllocate(t *testing.T) {
	tests := []struct {
		name      string
		qty       string
		venues    []VenueInput
		want      map[string]string // venue → quantity; absent venues get nothing
		residual  string
		unalloc   string
		excluded  map[string]string
		wantError string
	}{
		{
			name:     "seed 40/60",
			qty:      "2.2166",
			venues:   []VenueInput{venue("a", "0.4", "0.001"), venue("b", "0.6", "0.001")},
			want:     map[string]string{"a": "0.886", "b": "1.330"},
			residual: "0.0006", unalloc: "0",
		},
		{
			name:   "three venues, okx contract 0.01",
			qty:    "2.2166",
			venues: []VenueInput{venue("binance", "0.55", "0.001"), venue("okx", "0.22", "0.01"), venue("bybit", "0.23", "0.001")},
			// okx floors 0.487652 to 0.48; its 0.0076 remainder goes to the 0.001-lot venues by weight.
			want:     map[string]string{"binance": "1.224", "okx": "0.48", "bybit": "0.512"},
			residual: "0.0006", unalloc: "0",
		},
		{
			name:     "shares need not sum to one",
			qty:      "1",
			venues:   []VenueInput{venue("a", "40", "0.001"), venue("b", "60", "0.001")},
			want:     map[string]string{"a": "0.4", "b": "0.6"},
			residual: "0", unalloc: "0",
		},
		{
			name: "unhealthy and zero weight excluded",
			qty:  "1",
			venues: []VenueInput{
				with(venue("a", "0.4", "0.001"), func(v *VenueInput) { v.Healthy = false }),
				venue("b", "0.3", "0.001"),
				with(venue("c", "0.3", "0.001"), func(v *VenueInput) { v.Weight = decimal.Zero }),
			},
			want:     map[string]string{"b": "1"},
			residual: "0", unalloc: "0",
			excluded: map[string]string{"a": ReasonUnhealthy, "c": ReasonZeroWeight},
		},
		{
			name: "ops weight halves a venue",
			qty:  "3",
			venues: []VenueInput{
				with(venue("a", "0.5", "0.001"), func(v *VenueInput) { v.Weight = d("0.5") }),
				venue("b", "0.5", "0.001"),
			},
			want:     map[string]string{"a": "1", "b": "2"},
			residual: "0", unalloc: "0",
		},
		{
			name: "cap pushes the excess to the other venue",
			qty:  "2.2166",
			venues: []VenueInput{
				with(venue("a", "0.4", "0.001"), func(v *VenueInput) { v.Cap, v.HasCap = d("0.5"), true }),
				venue("b", "0.6", "0.001"),
			},
			want:     map[string]string{"a": "0.5", "b": "1.716"},
			residual: "0.0006", unalloc: "0",
		},
		{
			name: "caps too small leave unallocated",
			qty:  "2.2166",
			venues: []VenueInput{
				with(venue("a", "0.4", "0.001"), func(v *VenueInput) { v.Cap, v.HasCap = d("0.5"), true }),
				with(venue("b", "0.6", "0.001"), func(v *VenueInput) { v.Cap, v.HasCap = d("1.0009"), true }),
			},
			want:     map[string]string{"a": "0.5", "b": "1"},
			residual: "0.0006", unalloc: "0.716",
		},
		{
			name: "cap below one lot: no capacity",
			qty:  "1",
			venues: []VenueInput{
				with(venue("a", "0.4", "0.001"), func(v *VenueInput) { v.Cap, v.HasCap = d("0.0009"), true }),
				venue("b", "0.6", "0.001"),
			},
			want:     map[string]string{"b": "1"},
			residual: "0", unalloc: "0",
			excluded: map[string]string{"a": ReasonNoCapacity},
		},
		{
			name:     "min notional drops the small venue, its target goes to the other",
			qty:      "0.015", // 0.006 × 10490 = 62.9 < 100
			venues:   []VenueInput{venue("a", "0.4", "0.001"), venue("b", "0.6", "0.001")},
			want:     map[string]string{"b": "0.015"},
			residual: "0", unalloc: "0",
			excluded: map[string]string{"a": ReasonBelowMinNotion},
		},
		{
			name: "min qty drops a venue",
			qty:  "1",
			venues: []VenueInput{
				with(venue("a", "0.1", "0.001"), func(v *VenueInput) { v.Rules.MinQty = d("0.2") }),
				venue("b", "0.9", "0.001"),
			},
			want:     map[string]string{"b": "1"},
			residual: "0", unalloc: "0",
			excluded: map[string]string{"a": ReasonBelowMinQty},
		},
		{
			name:     "whole request below min notional",
			qty:      "0.0052",
			venues:   []VenueInput{venue("a", "0.4", "0.001"), venue("b", "0.6", "0.001")},
			want:     map[string]string{},
			residual: "0.0002", unalloc: "0.005",
			excluded: map[string]string{"a": ReasonBelowMinNotion, "b": ReasonBelowMinNotion},
		},
		{
			name:     "request below one lot is all residual",
			qty:      "0.0004",
			venues:   []VenueInput{venue("a", "0.4", "0.001")},
			want:     map[string]string{},
			residual: "0.0004", unalloc: "0",
		},
		{name: "zero quantity", qty: "0", venues: []VenueInput{venue("a", "1", "0.001")}, wantError: "not positive"},
		{name: "negative quantity", qty: "-1", venues: []VenueInput{venue("a", "1", "0.001")}, wantError: "not positive"},
		{name: "duplicate venue", qty: "1", venues: []VenueInput{venue("a", "1", "0.001"), venue("a", "1", "0.001")}, wantError: "duplicate"},
		{name: "bad rules", qty: "1", venues: []VenueInput{venue("a", "1", "0")}, wantError: "invalid rules"},
		{name: "negative share", qty: "1", venues: []VenueInput{venue("a", "-1", "0.001")}, wantError: "negative volume share"},
		{name: "negative weight", qty: "1", venues: []VenueInput{with(venue("a", "1", "0.001"), func(v *VenueInput) { v.Weight = d("-1") })}, wantError: "negative weight"},
		{name: "no price for min notional", qty: "1", venues: []VenueInput{with(venue("a", "1", "0.001"), func(v *VenueInput) { v.Price = decimal.Zero })}, wantError: "reference price"},
		{name: "no venues", qty: "1", wantError: ErrNoEligibleVenue.Error()},
		{name: "all unhealthy", qty: "1", venues: []VenueInput{with(venue("a", "1", "0.001"), func(v *VenueInput) { v.Healthy = false })}, wantError: ErrNoEligibleVenue.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Allocate(Request{Quantity: d(tt.qty), Venues: tt.venues})
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("err = %v, want %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, a := range res.Allocations {
				got[a.Venue] = a.Quantity.String()
			}
			if fmt.Sprint(got) != fmt.Sprint(normalize(tt.want)) {
				t.Errorf("allocations = %v, want %v", got, tt.want)
			}
			if !res.Residual.Equal(d(tt.residual)) || !res.Unallocated.Equal(d(tt.unalloc)) {
				t.Errorf("residual %s unallocated %s, want %s %s", res.Residual, res.Unallocated, tt.residual, tt.unalloc)
			}
			ex := map[string]string{}
			for _, e := range res.Excluded {
				ex[e.Venue] = e.Reason
			}
			if fmt.Sprint(ex) != fmt.Sprint(orEmpty(tt.excluded)) {
				t.Errorf("excluded = %v, want %v", ex, tt.excluded)
			}
			checkInvariants(t, Request{Quantity: d(tt.qty), Venues: tt.venues}, res)
		})
	}
}

func normalize(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = d(v).String()
	}
	return out
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func TestAllocateSeedWithinOneLot(t *testing.T) {
	res, err := Allocate(Request{Quantity: d("2.2166"), Venues: []VenueInput{venue("a", "0.4", "0.001"), venue("b", "0.6", "0.001")}})
	if err != nil {
		t.Fatal(err)
	}
	exact := map[string]decimal.Decimal{"a": d("0.88664"), "b": d("1.32996")}
	for _, a := range res.Allocations {
		if a.Quantity.Sub(exact[a.Venue]).Abs().Cmp(d("0.001")) >= 0 {
			t.Errorf("%s: %s is not within one lot of %s", a.Venue, a.Quantity, exact[a.Venue])
		}
	}
	if !res.Allocations[0].TargetShare.Equal(d("0.4")) || !res.Allocations[1].TargetShare.Equal(d("0.6")) {
		t.Errorf("target shares %s %s", res.Allocations[0].TargetShare, res.Allocations[1].TargetShare)
	}
}

func TestAllocateErrorsWrap(t *testing.T) {
	_, err := Allocate(Request{Quantity: d("1"), Venues: []VenueInput{with(venue("a", "1", "0.001"), func(v *VenueInput) { v.Healthy = false })}})
	if !errors.Is(err, ErrNoEligibleVenue) {
		t.Fatalf("err = %v, want ErrNoEligibleVenue", err)
	}
}

// checkInvariants asserts what every result must satisfy.
func checkInvariants(t *testing.T, req Request, res Result) {
	t.Helper()
	byName := map[string]VenueInput{}
	for _, v := range req.Venues {
		byName[v.Venue] = v
	}
	sum := decimal.Zero
	lastIdx := -1
	for _, a := range res.Allocations {
		v := byName[a.Venue]
		idx := indexOf(req.Venues, a.Venue)
		if idx <= lastIdx {
			t.Errorf("allocations not in input order: %v", res.Allocations)
		}
		lastIdx = idx
		if !a.Quantity.IsPositive() || !v.Rules.OnLot(a.Quantity) {
			t.Errorf("%s: %s not a positive lot multiple of %s", a.Venue, a.Quantity, v.Rules.LotSize)
		}
		if a.Quantity.Cmp(v.Rules.MinQty) < 0 {
			t.Errorf("%s: %s below min qty %s", a.Venue, a.Quantity, v.Rules.MinQty)
		}
		if a.Quantity.Mul(v.Price).Cmp(v.Rules.MinNotional) < 0 {
			t.Errorf("%s: %s × %s below min notional %s", a.Venue, a.Quantity, v.Price, v.Rules.MinNotional)
		}
		if v.HasCap && a.Quantity.Cmp(v.Cap) > 0 {
			t.Errorf("%s: %s above cap %s", a.Venue, a.Quantity, v.Cap)
		}
		if !v.Healthy || !v.Weight.IsPositive() {
			t.Errorf("%s: allocated though excluded", a.Venue)
		}
		sum = sum.Add(a.Quantity)
	}
	if sum.Cmp(req.Quantity) > 0 {
		t.Errorf("Σ allocations %s above request %s", sum, req.Quantity)
	}
	if !sum.Add(res.Residual).Add(res.Unallocated).Equal(req.Quantity) {
		t.Errorf("Σ %s + residual %s + unallocated %s != %s", sum, res.Residual, res.Unallocated, req.Quantity)
	}
	if res.Residual.IsNegative() || res.Unallocated.IsNegative() {
		t.Errorf("negative residual %s or unallocated %s", res.Residual, res.Unallocated)
	}
	// Residual is below the lot of every venue that still has room.
	for _, v := range req.Venues {
		if !v.Healthy || !v.VolumeShare.Mul(v.Weight).IsPositive() || excluded(res, v.Venue) {
			continue
		}
		got := allocated(res, v.Venue)
		if v.HasCap && got.Add(v.Rules.LotSize).Cmp(v.Cap) > 0 {
			continue
		}
		if res.Residual.Cmp(v.Rules.LotSize) >= 0 {
			t.Errorf("residual %s not below lot %s of %s, which has room", res.Residual, v.Rules.LotSize, v.Venue)
		}
		if res.Residual.Add(res.Unallocated).Cmp(v.Rules.LotSize) >= 0 {
			t.Errorf("left %s+%s though %s (lot %s) has room", res.Residual, res.Unallocated, v.Venue, v.Rules.LotSize)
		}
	}
}

func indexOf(vs []VenueInput, name string) int {
	for i, v := range vs {
		if v.Venue == name {
			return i
		}
	}
	return -1
}

func excluded(res Result, name string) bool {
	for _, e := range res.Excluded {
		if e.Venue == name {
			return true
		}
	}
	return false
}

func allocated(res Result, name string) decimal.Decimal {
	for _, a := range res.Allocations {
		if a.Venue == name {
			return a.Quantity
		}
	}
	return decimal.Zero
}

var lots = []string{"0.001", "0.01", "0.1", "1", "0.0001", "0.005"}

func randomRequest(r *rand.Rand) Request {
	n := 1 + r.IntN(5)
	vs := make([]VenueInput, n)
	for i := range vs {
		lot := d(lots[r.IntN(len(lots))])
		v := VenueInput{
			Venue:       fmt.Sprintf("v%d", i),
			Rules:       venues.Rules{TickSize: d("0.1"), LotSize: lot, MinQty: lot.Mul(decimal.NewFromInt(int64(1 + r.IntN(3)))), MinNotional: decimal.NewFromInt(int64(r.IntN(3) * 50))},
			VolumeShare: decimal.NewFromInt(int64(r.IntN(100))),
			Weight:      decimal.NewFromInt(int64(r.IntN(4))).Div(decimal.NewFromInt(2)),
			Healthy:     r.IntN(6) != 0,
			Price:       decimal.NewFromInt(int64(100 + r.IntN(20000))),
		}
		if r.IntN(3) == 0 {
			v.HasCap, v.Cap = true, decimal.New(int64(r.IntN(100000)), -4)
		}
		vs[i] = v
	}
	return Request{Quantity: decimal.New(1+r.Int64N(1_000_000), -int32(r.IntN(6))), Venues: vs}
}

func TestAllocateProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		req := randomRequest(r)
		res, err := Allocate(req)
		if err != nil {
			if !errors.Is(err, ErrNoEligibleVenue) {
				t.Fatalf("case %d: unexpected error %v", i, err)
			}
			continue
		}
		checkInvariants(t, req, res)
		if t.Failed() {
			t.Fatalf("case %d: request %+v → %+v", i, req, res)
		}
	}
}

// With equal lots, no caps and no minimums, every venue ends within one lot of its exact target.
func TestAllocateWithinOneLotProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		n := 1 + r.IntN(6)
		lot := d(lots[r.IntN(len(lots))])
		vs := make([]VenueInput, n)
		sumW := decimal.Zero
		for j := range vs {
			vs[j] = VenueInput{Venue: fmt.Sprint(j), Rules: venues.Rules{TickSize: d("1"), LotSize: lot},
				VolumeShare: decimal.NewFromInt(int64(1 + r.IntN(100))), Weight: decimal.NewFromInt(1), Healthy: true}
			sumW = sumW.Add(vs[j].VolumeShare)
		}
		q := decimal.New(1+r.Int64N(10_000_000), -5)
		res, err := Allocate(Request{Quantity: q, Venues: vs})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			exact := q.Mul(v.VolumeShare).DivRound(sumW, 20)
			if allocated(res, v.Venue).Sub(exact).Abs().Cmp(lot) >= 0 {
				t.Fatalf("case %d: %s got %s, exact %s, lot %s", i, v.Venue, allocated(res, v.Venue), exact, lot)
			}
		}
		if res.Residual.Cmp(lot) >= 0 || !res.Unallocated.IsZero() {
			t.Fatalf("case %d: residual %s unallocated %s", i, res.Residual, res.Unallocated)
		}
	}
}

func BenchmarkAllocate(b *testing.B) {
	req := Request{Quantity: d("2.2166"), Venues: []VenueInput{
		venue("binance", "0.55", "0.001"), venue("okx", "0.22", "0.01"), venue("bybit", "0.23", "0.001"),
	}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Allocate(req); err != nil {
			b.Fatal(err)
		}
	}
}
