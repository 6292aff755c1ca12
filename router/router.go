package router

import (
	"errors"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
)

// Exclusion reasons reported in Excluded.Reason.
const (
	ReasonUnhealthy      = "unhealthy"
	ReasonZeroWeight     = "zero weight" // ops weight or volume share is zero
	ReasonBelowMinNotion = "below min notional"
	ReasonBelowMinQty    = "below min qty"
	ReasonNoCapacity     = "no capacity"
)

// ErrNoEligibleVenue is returned when no venue is healthy, weighted and has capacity.
var ErrNoEligibleVenue = errors.New("no eligible venue")

// VenueInput is one candidate venue.
type VenueInput struct {
	Venue       string
	Rules       venues.Rules    // lot, min qty, min notional (tick is validated, not used)
	VolumeShare decimal.Decimal // 24h volume share, any non-negative scale; normalized over eligible venues
	Weight      decimal.Decimal // ops weight: 1 neutral, 0 excluded
	Healthy     bool            // false (breaker open, disabled): excluded
	Cap         decimal.Decimal // max quantity for this venue, floored to its lot grid; used only when HasCap
	HasCap      bool            // false: no cap (Cap is ignored); true with Cap below one lot: "no capacity"
	Price       decimal.Decimal // reference (mark) price for the min-notional check; required when MinNotional > 0
}

// Request is a quantity to split across venues.
type Request struct {
	Quantity decimal.Decimal // positive, base units
	Venues   []VenueInput
}

// Allocation is one venue's part. TargetShare is its normalized share×weight among the venues that were
// eligible in the final round.
type Allocation struct {
	Venue       string
	Quantity    decimal.Decimal
	TargetShare decimal.Decimal
}

// Excluded is a venue that gets nothing, and why.
type Excluded struct {
	Venue  string
	Reason string
}

// Result is the split. Σ Allocations + Residual + Unallocated == Request.Quantity.
type Result struct {
	Allocations []Allocation // input order, only venues with a positive quantity
	Residual    decimal.Decimal
	Unallocated decimal.Decimal
	Excluded    []Excluded // input order
}

// divPlaces is the precision of target arithmetic; allocations themselves are exact lot multiples.
const divPlaces = 24

type cand struct {
	idx    int
	w      decimal.Decimal // share × weight
	lot    decimal.Decimal
	capQ   decimal.Decimal // on the lot grid; valid when hasCap
	hasCap bool
	target decimal.Decimal // exact first-round target
	alloc  decimal.Decimal
	rem    decimal.Decimal // this round's remainder below the lot grid
}

// Allocate splits req.Quantity across req.Venues. It fails on a non-positive quantity, a duplicate or empty
// venue name, invalid rules, a negative share, weight, cap or price, a missing price where a min notional
// applies, or when no venue is eligible at all.
func Allocate(req Request) (Result, error) {
	if !req.Quantity.IsPositive() {
		return Result{}, fmt.Errorf("router: quantity %s is not positive", req.Quantity)
	}
	var (
		res   Result
		cands []*cand
		seen  = make(map[string]struct{}, len(req.Venues))
	)
	for i, v := range req.Venues {
		if err := validate(v); err != nil {
			return Result{}, fmt.Errorf("router: venue %q: %w", v.Venue, err)
		}
		if _, dup := seen[v.Venue]; dup {
			return Result{}, fmt.Errorf("router: duplicate venue %q", v.Venue)
		}
		seen[v.Venue] = struct{}{}
		c := &cand{idx: i, w: v.VolumeShare.Mul(v.Weight), lot: v.Rules.LotSize, hasCap: v.HasCap}
		if v.HasCap {
			n, _ := v.Cap.QuoRem(v.Rules.LotSize, 0)
			c.capQ = n.Mul(v.Rules.LotSize)
		}
		switch {
		case !v.Healthy:
			res.Excluded = append(res.Excluded, Excluded{v.Venue, ReasonUnhealthy})
		case !c.w.IsPositive():
			res.Excluded = append(res.Excluded, Excluded{v.Venue, ReasonZeroWeight})
		case v.HasCap && !c.capQ.IsPositive():
			res.Excluded = append(res.Excluded, Excluded{v.Venue, ReasonNoCapacity})
		default:
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		// The exclusions say why, for the caller's error.
		return Result{Excluded: res.Excluded}, fmt.Errorf("router: %d venues: %w", len(req.Venues), ErrNoEligibleVenue)
	}
	// The smallest lot among initially eligible venues: the fallback grid for Residual.
	minLot := cands[0].lot
	for _, c := range cands[1:] {
		if c.lot.Cmp(minLot) < 0 {
			minLot = c.lot
		}
	}

	for len(cands) > 0 {
		split(req.Quantity, cands)
		drop, reason := worstViolation(req.Venues, cands)
		if drop < 0 {
			break
		}
		res.Excluded = append(res.Excluded, Excluded{req.Venues[cands[drop].idx].Venue, reason})
		cands = append(cands[:drop], cands[drop+1:]...)
	}
	sortExcluded(res.Excluded, req.Venues)

	total := decimal.Zero
	sumW := decimal.Zero
	for _, c := range cands {
		sumW = sumW.Add(c.w)
	}
	for _, c := range cands {
		if !c.alloc.IsPositive() {
			continue
		}
		total = total.Add(c.alloc)
		res.Allocations = append(res.Allocations, Allocation{
			Venue:       req.Venues[c.idx].Venue,
			Quantity:    c.alloc,
			TargetShare: c.w.DivRound(sumW, divPlaces),
		})
	}
	left := req.Quantity.Sub(total)
	// Residual is measured on the finest grid of a venue that still has room.
	grid := decimal.Zero
	for _, c := range cands {
		if c.hasCap && c.alloc.Add(c.lot).Cmp(c.capQ) > 0 {
			continue
		}
		if grid.IsZero() || c.lot.Cmp(grid) < 0 {
			grid = c.lot
		}
	}
	if grid.IsZero() {
		grid = minLot
	}
	lots, rem := left.QuoRem(grid, 0)
	res.Unallocated, res.Residual = lots.Mul(grid), rem
	return res, nil
}

func validate(v VenueInput) error {
	if v.Venue == "" {
		return errors.New("empty venue name")
	}
	if err := v.Rules.Validate(); err != nil {
		return fmt.Errorf("invalid rules: %w", err)
	}
	switch {
	case v.VolumeShare.IsNegative():
		return fmt.Errorf("negative volume share %s", v.VolumeShare)
	case v.Weight.IsNegative():
		return fmt.Errorf("negative weight %s", v.Weight)
	case v.HasCap && v.Cap.IsNegative():
		return fmt.Errorf("negative cap %s", v.Cap)
	case v.Price.IsNegative():
		return fmt.Errorf("negative price %s", v.Price)
	case v.Rules.MinNotional.IsPositive() && !v.Price.IsPositive():
		return fmt.Errorf("min notional %s needs a positive reference price", v.Rules.MinNotional)
	}
	return nil
}

// split sets alloc of every candidate, and target to its exact first-round target. Each round water-fills what is
// left over the venues whose lot still fits (targets above a cap are pinned to it, the excess spread over the
// others by weight), floors every target to its lot and rounds up one lot per venue by largest remainder,
// earlier input first on ties, while lots fit. Every round ends with what is left below the lot of at least one
// more venue, so there are at most len(cands) rounds.
func split(q decimal.Decimal, cands []*cand) {
	left := q
	round := make([]*cand, 0, len(cands))
	for _, c := range cands {
		c.alloc, c.target = decimal.Zero, decimal.Zero
	}
	for first := true; ; first = false {
		before := left
		round = round[:0]
		for _, c := range cands {
			if c.lot.Cmp(left) <= 0 && (!c.hasCap || c.room().Cmp(c.lot) >= 0) {
				round = append(round, c)
			}
		}
		if len(round) == 0 {
			return
		}
		targets := waterFill(left, round)
		for i, c := range round {
			if first {
				c.target = targets[i]
			}
			n, rem := targets[i].QuoRem(c.lot, 0) // exact floor onto the lot grid
			add := n.Mul(c.lot)
			c.rem = rem
			c.alloc = c.alloc.Add(add)
			left = left.Sub(add)
		}
		slices.SortStableFunc(round, func(x, y *cand) int { return y.rem.Cmp(x.rem) })
		for _, c := range round {
			if c.rem.IsPositive() && c.lot.Cmp(left) <= 0 && (!c.hasCap || c.room().Cmp(c.lot) >= 0) {
				c.alloc = c.alloc.Add(c.lot)
				left = left.Sub(c.lot)
			}
		}
		if left.Equal(before) { // only when lots are finer than divPlaces: nothing more can be placed
			return
		}
	}
}

// waterFill spreads q over cs by weight, pinning any share above a venue's room (on its lot grid) to that room.
func waterFill(q decimal.Decimal, cs []*cand) []decimal.Decimal {
	t := make([]decimal.Decimal, len(cs))
	pinned := make([]bool, len(cs))
	for {
		rest, sumW := q, decimal.Zero
		for i, c := range cs {
			if pinned[i] {
				rest = rest.Sub(t[i])
			} else {
				sumW = sumW.Add(c.w)
			}
		}
		if sumW.IsZero() {
			return t
		}
		changed := false
		for i, c := range cs {
			if pinned[i] {
				continue
			}
			t[i], _ = rest.Mul(c.w).QuoRem(sumW, divPlaces) // truncated: Σ t ≤ rest
			if c.hasCap && t[i].Cmp(c.room()) > 0 {
				t[i], pinned[i], changed = c.room(), true, true
			}
		}
		if !changed {
			return t
		}
	}
}

// room is how much more a capped candidate may take.
func (c *cand) room() decimal.Decimal { return c.capQ.Sub(c.alloc) }

// worstViolation returns the position in cands of the venue to drop for a min-qty or min-notional breach (the
// smallest weight, the later input on ties) and the reason, or -1.
func worstViolation(vs []VenueInput, cands []*cand) (int, string) {
	drop, reason := -1, ""
	for i, c := range cands {
		if !c.alloc.IsPositive() {
			continue
		}
		r := vs[c.idx].Rules
		why := ""
		switch {
		case c.alloc.Cmp(r.MinQty) < 0:
			why = ReasonBelowMinQty
		case c.alloc.Mul(vs[c.idx].Price).Cmp(r.MinNotional) < 0:
			why = ReasonBelowMinNotion
		default:
			continue
		}
		if drop < 0 || c.w.Cmp(cands[drop].w) <= 0 {
			drop, reason = i, why
		}
	}
	return drop, reason
}

// sortExcluded orders exclusions by input position (insertion sort: the list is short and nearly sorted).
func sortExcluded(ex []Excluded, vs []VenueInput) {
	pos := make(map[string]int, len(vs))
	for i, v := range vs {
		pos[v.Venue] = i
	}
	for i := 1; i < len(ex); i++ {
		for j := i; j > 0 && pos[ex[j].Venue] < pos[ex[j-1].Venue]; j-- {
			ex[j], ex[j-1] = ex[j-1], ex[j]
		}
	}
}
