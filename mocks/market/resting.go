package market

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Maker is one participant's resting limit orders on a venue: it tells the venue where its orders rest, and collects
// the fills the venue's background flow makes of them. Get one from Venue.NewMaker; the ids are the participant's own
// (the mock exchange uses its order sequence numbers). Its methods are safe for concurrent use; they lock the market
// (and advance it to the clock's now), so they must not be called from anything the market calls.
type Maker struct {
	v     *Venue
	fills []MakerFill // guarded by v.m.mu
}

// MakerFill is the background flow trading against a resting order: Qty of order ID at the order's Price, at Time
// (the model step at which the flow traded). The order is the maker of it.
type MakerFill struct {
	ID    int64
	Side  Side
	Price decimal.Decimal
	Qty   decimal.Decimal
	Time  time.Time
}

// resting is an order in a venue's queue. Guarded by m.mu.
type resting struct {
	mk    *Maker
	id    int64
	side  Side
	ticks int64
	price decimal.Decimal
	lots  int64 // still resting
	ahead int64 // displayed lots ahead of it at its tick
	seq   int64 // time priority among resting orders
}

type restKey struct {
	mk *Maker
	id int64
}

// NewMaker returns a new participant on the venue, with no resting orders.
func (v *Venue) NewMaker() *Maker { return &Maker{v: v} }

// Rest puts order id at the back of the queue at price (a buy's price floored, a sell's raised to the tick) for qty
// (floored to the lot): a new resting order, or one re-queued because its price changed or its quantity grew. The
// displayed quantity of the venue's book at that tick on the order's side is ahead of it. A previous entry of the same
// id is dropped first; a zero quantity only drops it.
func (mk *Maker) Rest(id int64, side Side, price, qty decimal.Decimal) {
	v := mk.v
	if side != Buy && side != Sell {
		return
	}
	q, _ := qty.QuoRem(v.lotD, 0)
	lots := clampInt(q)
	t, r := price.QuoRem(v.tickD, 0)
	ticks := clampInt(t)
	if side == Sell && r.Sign() > 0 {
		ticks++
	}
	v.lock()
	defer v.m.mu.Unlock()
	v.unrest(restKey{mk, id})
	if lots <= 0 || ticks < 1 {
		return
	}
	v.restSeq++
	o := &resting{mk: mk, id: id, side: side, ticks: ticks, price: v.price(ticks), lots: lots,
		ahead: v.book().displayed(side, ticks), seq: v.restSeq}
	if v.restBy == nil {
		v.restBy = map[restKey]*resting{}
	}
	v.restBy[restKey{mk, id}] = o
	v.rest = append(v.rest, o)
}

// Resize sets what is left of resting order id to qty (floored to the lot), keeping its place in the queue; a zero
// quantity drops it. An unknown id is ignored.
func (mk *Maker) Resize(id int64, qty decimal.Decimal) {
	v := mk.v
	q, _ := qty.QuoRem(v.lotD, 0)
	lots := clampInt(q)
	v.lock()
	defer v.m.mu.Unlock()
	o := v.restBy[restKey{mk, id}]
	switch {
	case o == nil:
	case lots <= 0:
		v.unrest(restKey{mk, id})
	default:
		o.lots = lots
	}
}

// Cancel drops resting order id from the queue. An unknown id is ignored.
func (mk *Maker) Cancel(id int64) {
	mk.v.lock()
	defer mk.v.m.mu.Unlock()
	mk.v.unrest(restKey{mk, id})
}

// Drain advances the market to now and returns the fills the background flow has made of the maker's orders since
// the last Drain, oldest first. A fully filled order has left the queue.
func (mk *Maker) Drain() []MakerFill {
	mk.v.lock()
	defer mk.v.m.mu.Unlock()
	out := mk.fills
	mk.fills = nil
	return out
}

// Ahead is the displayed quantity still ahead of resting order id in its queue, and what is left of the order;
// false if it does not rest.
func (mk *Maker) Ahead(id int64) (ahead, left decimal.Decimal, ok bool) {
	v := mk.v
	v.lock()
	defer v.m.mu.Unlock()
	o := v.restBy[restKey{mk, id}]
	if o == nil {
		return decimal.Zero, decimal.Zero, false
	}
	return v.qty(o.ahead), v.qty(o.lots), true
}

// unrest drops an order from the queue. Called with m.mu held.
func (v *Venue) unrest(k restKey) {
	o := v.restBy[k]
	if o == nil {
		return
	}
	delete(v.restBy, k)
	if i := slices.Index(v.rest, o); i >= 0 {
		v.rest = slices.Delete(v.rest, i, i+1)
	}
}

// depthTo is how many lots a taker walk on side would fill at prices at least as good as ticks (a buy's at or
// below it, a sell's at or above it): the lots whose marginal price rounds to ticks or better, as in next.
func (b book) depthTo(side Side, ticks int64) int64 {
	v, s := b.v, float64(side)
	edge := math.Floor(s*(v.impactQty(float64(ticks)/b.mid0t-1-s*v.hs)-b.q0)/v.lot + 0.5)
	switch {
	case !(edge > 0): // also NaN
		return 0
	case edge >= math.MaxInt64/4:
		return math.MaxInt64 / 4
	}
	return int64(edge)
}

// displayed is the quantity in lots the book shows at ticks on the side a resting order of side joins (a buy's: the
// bids): zero inside the spread and beyond it.
func (b book) displayed(side Side, ticks int64) int64 {
	taker := -side
	return max(0, b.depthTo(taker, ticks)-b.depthTo(taker, ticks+int64(side)))
}

// settle caps the queue ahead of every resting order at what the book now shows at its tick: displayed liquidity
// that has gone (the book moved away, or the order is now inside the spread) was ahead of it. Called with m.mu held.
func (v *Venue) settle() {
	b := v.book()
	for _, o := range v.rest {
		if d := b.displayed(o.side, o.ticks); d < o.ahead {
			o.ahead = d
		}
	}
}

// meet trades lots of the step's background flow on side taker against the resting orders of the other side at the
// touch or better, best price first, in time priority at each price; at the touch each order's queue ahead is
// consumed before it fills. It records the fills, prints those better than the touch at their price and returns
// how many lots it printed so (the caller prints the rest at the touch). Called with m.mu held.
func (v *Venue) meet(taker Side, touch, lots, minute int64, t time.Time) (inside int64) {
	side := -taker
	var cands []*resting
	for _, o := range v.rest { // in time priority
		if o.side == side && o.lots > 0 && float64(side)*float64(o.ticks-touch) >= 0 {
			cands = append(cands, o)
		}
	}
	if len(cands) == 0 {
		return 0
	}
	slices.SortStableFunc(cands, func(x, y *resting) int { // best price first, time priority kept
		return int(side) * cmp.Compare(y.ticks, x.ticks)
	})
	left := lots
	for i := 0; i < len(cands) && left > 0; {
		j := i
		for j < len(cands) && cands[j].ticks == cands[i].ticks {
			j++
		}
		// One price level: the displayed lots ahead of each order (nondecreasing along the queue) and the orders
		// themselves, consumed from the front.
		var used, prev, filled int64
		for _, o := range cands[i:j] {
			gap := max(0, o.ahead-prev)
			prev = max(prev, o.ahead)
			take := min(gap, left)
			left -= take
			used += take
			o.ahead = max(0, o.ahead-used)
			if f := min(o.lots, left); f > 0 {
				left -= f
				o.lots -= f
				filled += f
				o.mk.fills = append(o.mk.fills, MakerFill{ID: o.id, Side: o.side, Price: o.price, Qty: v.qty(f), Time: t})
				if v.m.recording {
					v.m.makes = append(v.m.makes, MakeRecord{Venue: v.cfg.Name, Time: t, Side: o.side, Price: o.price,
						Qty: v.qty(f), Fair: math.Exp(v.m.logF)})
				}
			}
		}
		if p := cands[i].ticks; p != touch && filled > 0 {
			v.addVolume(minute, p, filled, 1)
			v.print(p, filled, taker == Sell, t)
			inside += filled
		}
		i = j
	}
	for _, o := range cands {
		if o.lots == 0 {
			v.unrest(restKey{o.mk, o.id})
		}
	}
	return inside
}
