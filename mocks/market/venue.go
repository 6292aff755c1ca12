package market

import (
	"math"
	"time"

	"github.com/shopspring/decimal"
)

// Venue is one venue of a Market. Get it from Market.Venue.
type Venue struct {
	m   *Market
	cfg VenueConfig

	// Derived from the config.
	w        float64 // normalized volume share
	vol      float64 // V: daily volume in base units
	hs       float64 // half-spread as a fraction
	basis0   float64 // fixed basis as a fraction
	ys       float64 // Y·σ_D
	tick     float64
	lot      float64
	meanSize float64 // mean background trade size
	tickD    decimal.Decimal
	lotD     decimal.Decimal
	quoteE   int32 // decimal places of tick·lot

	// State, guarded by m.mu.
	y       float64 // transient impact (relative mid displacement)
	b       float64 // OU basis noise
	trades  [maxTrades]rawTrade
	head    int // index of the next trade to write
	nTrades int
	lastID  int64
	volume  [buckets]bucket
	rest    []*resting // resting orders of the Makers, in time priority
	restBy  map[restKey]*resting
	restSeq int64
}

type rawTrade struct {
	id         int64
	ticks      int64
	lots       int64
	buyerMaker bool
	t          time.Time
}

type bucket struct {
	minute                 int64
	lots, count            int64
	quote                  float64 // Σ ticks·lots
	open, high, low, close int64   // ticks
}

// Quote is a venue's top of book and reference prices.
type Quote struct {
	Time        time.Time
	Bid, Ask    decimal.Decimal // best bid/ask on the tick grid, ask > bid
	Mid         decimal.Decimal // venue mid, 8 decimals
	Mark        decimal.Decimal // mark price: the venue mid, 8 decimals
	Index       decimal.Decimal // common fair price, 8 decimals
	FundingRate decimal.Decimal // FundingRate8h
	NextFunding time.Time       // next 00:00/08:00/16:00 UTC boundary
}

// Level is one price level of a book.
type Level struct{ Price, Qty decimal.Decimal }

// Exec is one execution of a taker order, aggregated per price level.
type Exec struct {
	Price, Qty decimal.Decimal
	Time       time.Time
}

// PublicTrade is a trade on the venue's public tape.
type PublicTrade struct {
	ID         int64
	Price, Qty decimal.Decimal
	BuyerMaker bool
	Time       time.Time
}

// Volume is a venue's rolling 24h statistics.
type Volume struct {
	Base, Quote, Open, High, Low, Last decimal.Decimal
	Count                              int64
	OpenTime, CloseTime                time.Time
}

// Name is the venue's name.
func (v *Venue) Name() string { return v.cfg.Name }

// Config is the venue's config with defaults applied.
func (v *Venue) Config() VenueConfig { return v.cfg }

// lock reads the clock, locks the market and advances it; the caller unlocks.
func (v *Venue) lock() time.Time {
	now := v.m.clk.Now()
	v.m.mu.Lock()
	v.m.advance(now)
	return v.m.now
}

// Quote returns the venue's quote now.
func (v *Venue) Quote() Quote {
	now := v.lock()
	defer v.m.mu.Unlock()
	f := math.Exp(v.m.logF)
	bid, ask := v.touch(Sell), v.touch(Buy)
	mid := decimal.NewFromFloat(v.mid0(f) * (1 + v.y)).Round(8)
	return Quote{
		Time:        now,
		Bid:         v.price(bid),
		Ask:         v.price(ask),
		Mid:         mid,
		Mark:        mid,
		Index:       decimal.NewFromFloat(f).Round(8),
		FundingRate: decimal.NewFromFloat(v.m.cfg.FundingRate8h),
		NextFunding: now.UTC().Truncate(8 * time.Hour).Add(8 * time.Hour),
	}
}

// Depth returns up to levels price levels per side, best first, as Take would fill them now.
func (v *Venue) Depth(levels int) (bids, asks []Level) {
	if levels <= 0 {
		return nil, nil
	}
	v.lock()
	defer v.m.mu.Unlock()
	conv := func(ls []level) []Level {
		out := make([]Level, len(ls))
		for i, l := range ls {
			out[i] = Level{Price: v.price(l.ticks), Qty: v.qty(l.lots)}
		}
		return out
	}
	return conv(v.walk(Sell, math.MaxInt64, -1, levels)), conv(v.walk(Buy, math.MaxInt64, -1, levels))
}

// Take executes a taker order of qty base units (floored to the lot grid) against the book now. A zero limit is
// a market order; otherwise buys fill at or below and sells at or above it. It walks the book level by level (at
// most maxTakeLevel levels), moves the venue's impact by the filled quantity and prints the executions as public
// trades and volume. A non-positive qty or negative limit executes nothing.
func (v *Venue) Take(side Side, qty decimal.Decimal, limit decimal.Decimal) []Exec {
	return v.take(side, qty, limit, false)
}

// TakeResting is Take for a resting limit order that the book has moved through (an exchange's sweep): it
// executes the same way, and its record says the order was the maker.
func (v *Venue) TakeResting(side Side, qty decimal.Decimal, limit decimal.Decimal) []Exec {
	return v.take(side, qty, limit, true)
}

func (v *Venue) take(side Side, qty decimal.Decimal, limit decimal.Decimal, resting bool) []Exec {
	if (side != Buy && side != Sell) || qty.Sign() <= 0 || limit.Sign() < 0 {
		return nil
	}
	q, _ := qty.QuoRem(v.lotD, 0)
	lots := clampInt(q)
	limTicks := int64(-1) // none
	if limit.Sign() > 0 {
		q, r := limit.QuoRem(v.tickD, 0)
		limTicks = clampInt(q)
		if side == Sell && r.Sign() > 0 {
			limTicks++
		}
	}
	now := v.lock()
	defer v.m.mu.Unlock()
	levels := v.walk(side, lots, limTicks, maxTakeLevel)
	var rec *TakeRecord
	if v.m.recording {
		f := math.Exp(v.m.logF)
		v.m.takes = append(v.m.takes, TakeRecord{Venue: v.cfg.Name, Time: now, Side: side, Requested: qty,
			Limit: limit, Fair: f, Mid: v.mid0(f) * (1 + v.y), Resting: resting})
		rec = &v.m.takes[len(v.m.takes)-1]
	}
	if len(levels) == 0 {
		return nil
	}
	execs := make([]Exec, len(levels))
	var filled, quote int64
	minute := minuteOf(now)
	for i, l := range levels {
		execs[i] = Exec{Price: v.price(l.ticks), Qty: v.qty(l.lots), Time: now}
		filled += l.lots
		quote += l.ticks * l.lots
		v.addVolume(minute, l.ticks, l.lots, 1)
		v.print(l.ticks, l.lots, side == Sell, now)
	}
	v.y = v.impact(v.equivQty() + float64(side)*float64(filled)*v.lot)
	if rec != nil {
		rec.Filled = v.qty(filled)
		rec.Notional = decimal.NewFromInt(quote).Mul(v.tickD).Mul(v.lotD)
	}
	return execs
}

// Volume24h returns the venue's statistics over the last 24h (1440 one-minute buckets).
func (v *Venue) Volume24h() Volume {
	now := v.lock()
	defer v.m.mu.Unlock()
	cur := minuteOf(now)
	var lots, count int64
	var quote float64
	var open, high, low, last int64
	for mnt := cur - buckets + 1; mnt <= cur; mnt++ {
		b := &v.volume[mod(mnt)]
		if b.minute != mnt || b.count == 0 {
			continue
		}
		if count == 0 {
			open, high, low = b.open, b.high, b.low
		}
		high, low, last = max(high, b.high), min(low, b.low), b.close
		lots += b.lots
		count += b.count
		quote += b.quote
	}
	return Volume{
		Base:      v.qty(lots),
		Quote:     decimal.NewFromFloat(quote).Mul(v.tickD).Mul(v.lotD).Round(v.quoteE),
		Open:      v.price(open),
		High:      v.price(high),
		Low:       v.price(low),
		Last:      v.price(last),
		Count:     count,
		OpenTime:  now.Add(-day),
		CloseTime: now,
	}
}

// Trades returns the venue's most recent n public trades, newest last.
func (v *Venue) Trades(n int) []PublicTrade {
	v.lock()
	defer v.m.mu.Unlock()
	n = min(n, v.nTrades)
	if n <= 0 {
		return nil
	}
	out := make([]PublicTrade, n)
	for i := range out {
		t := &v.trades[(v.head-n+i+maxTrades)%maxTrades]
		out[i] = PublicTrade{ID: t.id, Price: v.price(t.ticks), Qty: v.qty(t.lots), BuyerMaker: t.buyerMaker, Time: t.t}
	}
	return out
}

// level is a book level in ticks and lots.
type level struct{ ticks, lots int64 }

// mid0 is the undisturbed mid for common price f.
func (v *Venue) mid0(f float64) float64 { return f * math.Exp(v.basis0+v.b) }

// impact is g(Q) = Y·σ_D·sign(Q)·sqrt(|Q|/V).
func (v *Venue) impact(q float64) float64 {
	return math.Copysign(v.ys*math.Sqrt(math.Abs(q)/v.vol), q)
}

// impactQty is g⁻¹(y) = sign(y)·V·(y/(Y·σ_D))².
func (v *Venue) impactQty(y float64) float64 {
	r := y / v.ys
	return math.Copysign(v.vol*r*r, y)
}

// equivQty is the signed quantity equivalent to the current impact.
func (v *Venue) equivQty() float64 { return v.impactQty(v.y) }

// walk returns the levels a taker order of side and at most maxLots lots fills now, best first, stopping at the
// limit (ticks, -1 for none) and after maxLevels levels.
func (v *Venue) walk(side Side, maxLots, limTicks int64, maxLevels int) []level {
	b := v.book()
	var out []level
	var filled int64
	for filled < maxLots && len(out) < maxLevels {
		p, c, ok := b.next(side, filled, maxLots)
		if !ok || (limTicks >= 0 && float64(side)*float64(p-limTicks) > 0) {
			break
		}
		out = append(out, level{ticks: p, lots: c - filled})
		filled = c
	}
	return out
}

// book is the venue's book at one instant: the curve of marginal prices around the current impact.
type book struct {
	v     *Venue
	mid0t float64 // undisturbed mid in ticks
	q0    float64 // signed quantity equivalent to the current impact
}

func (v *Venue) book() book {
	return book{v: v, mid0t: v.mid0(math.Exp(v.m.logF)) / v.tick, q0: v.equivQty()}
}

// next returns the level after the first filled lots of a taker walk on side: its price in ticks and the
// cumulative lots up to and including it (at most maxLots). Lot j of the walk is priced at the marginal price at its
// midpoint, Q0 ± (j-½)·lot, rounded away from the mid to the tick; consecutive lots on one tick form a level. It
// reports false when the bid would fall below one tick.
func (b book) next(side Side, filled, maxLots int64) (ticks, cum int64, ok bool) {
	v, s := b.v, float64(side)
	raw := b.mid0t * (1 + s*v.hs + v.impact(b.q0+s*(float64(filled)+0.5)*v.lot))
	if side == Buy {
		ticks = ceilTick(raw)
	} else if ticks = floorTick(raw); ticks < 1 {
		return 0, 0, false
	}
	// Lots priced at or better than ticks: those whose midpoint lies within g⁻¹ of the tick's relative offset.
	edge := math.Floor(s*(v.impactQty(float64(ticks)/b.mid0t-1-s*v.hs)-b.q0)/v.lot + 0.5)
	cum = filled + 1 // at least the lot just priced
	if edge >= float64(maxLots) {
		cum = maxLots
	} else if edge > float64(cum) {
		cum = int64(edge)
	}
	return ticks, cum, true
}

// touch is the price in ticks of the first lot a taker of side would fill now; the ask is kept above the bid.
func (v *Venue) touch(side Side) int64 {
	b := v.book()
	bid, _, ok := b.next(Sell, 0, 1)
	if !ok {
		bid = 1 // a bid below one tick: the book's floor
	}
	if side == Sell {
		return bid
	}
	ask, _, _ := b.next(Buy, 0, 1)
	return max(ask, bid+1)
}

// addVolume records lots traded at ticks in the bucket of minute.
func (v *Venue) addVolume(minute, ticks, lots, count int64) {
	b := &v.volume[mod(minute)]
	if b.minute != minute || b.count == 0 {
		*b = bucket{minute: minute, open: ticks, high: ticks, low: ticks}
	}
	b.lots += lots
	b.count += count
	b.quote += float64(ticks) * float64(lots)
	b.high, b.low, b.close = max(b.high, ticks), min(b.low, ticks), ticks
}

// print appends a public trade to the venue's tape.
func (v *Venue) print(ticks, lots int64, buyerMaker bool, t time.Time) {
	v.lastID++
	v.trades[v.head] = rawTrade{id: v.lastID, ticks: ticks, lots: lots, buyerMaker: buyerMaker, t: t}
	v.head = (v.head + 1) % maxTrades
	v.nTrades = min(v.nTrades+1, maxTrades)
}

func (v *Venue) price(ticks int64) decimal.Decimal { return decimal.NewFromInt(ticks).Mul(v.tickD) }
func (v *Venue) qty(lots int64) decimal.Decimal    { return decimal.NewFromInt(lots).Mul(v.lotD) }

// ceilTick and floorTick round a price in ticks away from the mid, forgiving float noise.
func ceilTick(x float64) int64  { return int64(math.Ceil(x - 1e-9)) }
func floorTick(x float64) int64 { return int64(math.Floor(x + 1e-9)) }

func mod(minute int64) int { return int(((minute % buckets) + buckets) % buckets) }

// clampInt returns q's integer part, clamped to [0, MaxInt64/4].
func clampInt(q decimal.Decimal) int64 {
	const hi = math.MaxInt64 / 4
	if q.Sign() <= 0 {
		return 0
	}
	if q.GreaterThan(decimal.NewFromInt(hi)) {
		return hi
	}
	return q.IntPart()
}
