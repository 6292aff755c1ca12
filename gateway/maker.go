package gateway

import (
	"context"
	"math"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/lifecycle"
	"github.com/execd-dev/execd/twap"
	"github.com/execd-dev/execd/venues"
)

// Maker (post-only) children: a Place with Peg rests at the touch (twap.PegPrice, from the gateway's quote), is
// re-pegged by amend when the touch moves away from it (at most once per Retry.MinAmendInterval of market time per
// order, on venues that can amend), and the markout of every maker fill here — the mark Retry.MarkoutHorizon of
// market time after the fill against the fill price — is kept. When the latest fills' markout eats the fee saving
// (Options.MakerFeeSavingBps) beyond doubt — their average plus two standard errors is still below it — pegged
// places become IOC takers here for Retry.MakerFallback, then maker children are tried again: adverse selection is
// judged per venue and instrument, across parents. (A 10 s markout moves with the price: its spread per fill is
// a few bps, so an average of 20 that is simply below the saving was noise as often as not — in execbench it
// switched venues to takers for the rest of a parent and cost 2 points of maker share.)

// MakerStats is a gateway's record of its maker fills' markouts.
type MakerStats struct {
	Fills      int     // maker fills whose markout is known
	MarkoutBps float64 // their average markout (positive: the price moved the order's way), bps of the fill price
	// Recent is the average over the latest markoutWindow of them, which decides the fallback.
	Recent        float64
	Amends        int       // re-pegs sent
	FallbackUntil time.Time // market time; pegged places are sent as takers until then
}

// markoutWindow is how many of the latest maker fills the fallback decision averages over, and at least how many
// it needs.
const markoutWindow = 20

type pendingMarkout struct {
	at    time.Time // market time of the fill
	side  venues.Side
	price decimal.Decimal
}

// fillMarkout is an own fill whose markouts are still due at some of Retry.MarkoutHorizons.
type fillMarkout struct {
	at    time.Time // market time of the fill
	side  venues.Side
	price decimal.Decimal
	qty   decimal.Decimal
	maker bool
	id    string // client order id
	sink  Sink
	next  int // index of the next horizon due
}

// makerBook is the gateway's maker state. Owned by the run goroutine.
type makerBook struct {
	fills    []fillMarkout // in fill order
	pending  []pendingMarkout
	recent   []float64 // ring of the latest markouts
	sum      float64
	n        int
	amends   int
	fallback time.Time
	timer    clock.Timer
}

// makerOff reports whether pegged places go out as takers now.
func (g *Gateway) makerOff() bool {
	return g.clk.Now().Before(g.mk.fallback)
}

// pegPrice prices a pegged order from the quote; ok false when the quote has no usable touch.
func (g *Gateway) pegPrice(o *order, rules venues.Rules, q Quote) (decimal.Decimal, bool) {
	band, err := twap.LimitPrice(o.req.Side, q.Mark, o.bps, o.limit, rules)
	if err != nil {
		return decimal.Zero, false
	}
	px, err := twap.PegPrice(o.req.Side, q.Bid, q.Ask, band, rules, o.urgency)
	return px, err == nil
}

// armPeg arms the quote timer (market time) while a pegged order rests here or a maker fill waits for its
// markout (every PegInterval), or a fill's markout falls due (then), and none is armed.
func (g *Gateway) armPeg() {
	if g.mk.timer != nil {
		return
	}
	d, ok := time.Duration(0), false
	if len(g.mk.pending) > 0 || g.hasPegged() {
		d, ok = g.retry.PegInterval, true
	}
	if due, has := g.nextMarkoutDue(); has {
		wait := max(due.Sub(g.clk.Now()), markoutReadGap) // markouts falling due close together share a read
		if !ok || wait < d {
			d, ok = wait, true
		}
	}
	if ok {
		g.mk.timer = g.clk.NewTimer(d)
	}
}

// nextMarkoutDue is when the earliest fill markout falls due.
func (g *Gateway) nextMarkoutDue() (time.Time, bool) {
	var due time.Time
	for _, f := range g.mk.fills {
		if t := f.at.Add(g.retry.MarkoutHorizons[f.next]); due.IsZero() || t.Before(due) {
			due = t
		}
	}
	return due, !due.IsZero()
}

// noteFillMarkout follows an own fill booked for a parent until its markouts are reported.
func (g *Gateway) noteFillMarkout(f venues.Fill, sink Sink) {
	if g.retry.NoMarkouts || sink == nil || !f.Price.IsPositive() || !f.Quantity.IsPositive() || len(g.mk.fills) >= maxFillMarkouts {
		return
	}
	g.mk.fills = append(g.mk.fills, fillMarkout{at: g.clk.Now(), side: f.Side, price: f.Price, qty: f.Quantity,
		maker: f.Maker, id: f.ClientOrderID, sink: sink})
}

// markoutReadGap is the least market time between arming the timer for a markout and the quote read it makes:
// a markout is read at least its horizon after the fill, at most this much later (plus the read's own time).
const markoutReadGap = 250 * time.Millisecond

// maxFillMarkouts bounds the fills followed at once (a flood of fills is not followed beyond it).
const maxFillMarkouts = 100000

// matureFillMarkouts reports, against mark read now, every fill markout that has fallen due.
func (g *Gateway) matureFillMarkouts(mark decimal.Decimal) {
	if !mark.IsPositive() || len(g.mk.fills) == 0 {
		return
	}
	now := g.clk.Now()
	m := mark.InexactFloat64()
	keep := g.mk.fills[:0]
	for _, f := range g.mk.fills {
		for f.next < len(g.retry.MarkoutHorizons) && !now.Before(f.at.Add(g.retry.MarkoutHorizons[f.next])) {
			px := f.price.InexactFloat64()
			x := (m - px) / px * 1e4
			if f.side == venues.Sell {
				x = -x
			}
			f.sink.Deliver(Update{Kind: Markout, Venue: g.name, ClientOrderID: f.id, Markout: MarkoutSample{
				Horizon: g.retry.MarkoutHorizons[f.next], Bps: x, Qty: f.qty, Maker: f.maker}})
			f.next++
		}
		if f.next < len(g.retry.MarkoutHorizons) {
			keep = append(keep, f)
		}
	}
	clear(g.mk.fills[len(keep):])
	g.mk.fills = keep
}

// pegC is the re-peg timer's channel, nil when none is armed.
func (g *Gateway) pegC() <-chan time.Time {
	if g.mk.timer == nil {
		return nil
	}
	return g.mk.timer.C()
}

func (g *Gateway) hasPegged() bool {
	for _, o := range g.live {
		if o.peg && o.state == lifecycle.Open {
			return true
		}
	}
	return false
}

// onPegTimer reads a fresh quote for the pegged orders and the markouts due; repeg and the markouts run when it
// arrives.
func (g *Gateway) onPegTimer(ctx context.Context) {
	g.mk.timer = nil
	if !g.hasPegged() && len(g.mk.pending) == 0 && len(g.mk.fills) == 0 {
		return
	}
	g.requestQuote(ctx)
}

// requestQuote starts a quote read unless one is in flight.
func (g *Gateway) requestQuote(ctx context.Context) {
	if g.quoting {
		return
	}
	g.quoting = true
	touch := g.hasPegged()
	for _, o := range g.waiting {
		touch = touch || o.peg
	}
	g.spawn(func() result {
		q, err := g.readQuote(ctx, touch)
		return result{kind: resQuote, quote: q, err: err}
	})
}

// repeg amends every pegged order that is no longer where PegPrice puts it, at the bounded rate.
func (g *Gateway) repeg(ctx context.Context, q Quote) {
	if _, can := g.o.Venue.(amender); !can {
		return
	}
	rules := g.rules.Load()
	if rules == nil {
		return
	}
	now := g.clk.Now()
	for id, o := range g.live {
		if !o.peg || o.state != lifecycle.Open || now.Sub(o.lastPeg) < g.retry.MinAmendInterval {
			continue
		}
		px, ok := g.pegPrice(o, *rules, q)
		if !ok || px.Equal(o.req.Price) {
			continue
		}
		o.lastPeg = now
		g.mk.amends++
		g.onAmend(ctx, Request{Kind: Amend, Parent: o.parent, Sink: o.sink,
			Order: venues.OrderRequest{ClientOrderID: id, Price: px}})
	}
}

// noteMakerFill remembers an own maker fill for its markout.
func (g *Gateway) noteMakerFill(f venues.Fill) {
	if !f.Maker || !f.Price.IsPositive() {
		return
	}
	g.mk.pending = append(g.mk.pending, pendingMarkout{at: g.clk.Now(), side: f.Side, price: f.Price})
}

// matureMarkouts scores the maker fills at least MarkoutHorizon old against mark, and decides the fallback.
func (g *Gateway) matureMarkouts(mark decimal.Decimal) {
	if !mark.IsPositive() || len(g.mk.pending) == 0 {
		return
	}
	now := g.clk.Now()
	m := mark.InexactFloat64()
	i := 0
	for ; i < len(g.mk.pending); i++ {
		p := g.mk.pending[i]
		if now.Sub(p.at) < g.retry.MarkoutHorizon {
			break
		}
		px := p.price.InexactFloat64()
		x := (m - px) / px * 1e4
		if p.side == venues.Sell {
			x = -x
		}
		g.mk.sum += x
		g.mk.n++
		g.mk.recent = append(g.mk.recent, x)
		if len(g.mk.recent) > markoutWindow {
			g.mk.recent = g.mk.recent[1:]
		}
	}
	g.mk.pending = g.mk.pending[i:]
	if i == 0 || len(g.mk.recent) < markoutWindow || g.makerOff() {
		g.publishMaker()
		return
	}
	if avg, se := meanSE(g.mk.recent); avg+2*se < -g.feeSaving() {
		g.mk.fallback = now.Add(g.retry.MakerFallback)
		g.mk.recent = g.mk.recent[:0]
		g.log.Warn("maker children off: passive fills' markout eats the fee saving",
			zap.Float64("markout_bps", avg), zap.Float64("fee_saving_bps", g.feeSaving()),
			zap.Time("until", g.mk.fallback))
	}
	g.publishMaker()
}

// defaultFeeSavingBps is Options.MakerFeeSavingBps when unset: a taker fee of about 5 bps against a maker's 2.
const defaultFeeSavingBps = 3

// feeSaving is Options.MakerFeeSavingBps, or its default when it is not positive.
func (g *Gateway) feeSaving() float64 {
	if g.o.MakerFeeSavingBps > 0 {
		return g.o.MakerFeeSavingBps
	}
	return defaultFeeSavingBps
}

func (g *Gateway) publishMaker() {
	s := MakerStats{Fills: g.mk.n, Amends: g.mk.amends, FallbackUntil: g.mk.fallback}
	if g.mk.n > 0 {
		s.MarkoutBps = g.mk.sum / float64(g.mk.n)
	}
	if len(g.mk.recent) > 0 {
		s.Recent = mean(g.mk.recent)
	}
	g.makerStats.Store(&s)
}

// Maker returns the gateway's maker record. Safe for concurrent use.
func (g *Gateway) Maker() MakerStats {
	if s := g.makerStats.Load(); s != nil {
		return *s
	}
	return MakerStats{}
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// meanSE is the mean of xs and its standard error (sample standard deviation ÷ √n; zero for fewer than two).
func meanSE(xs []float64) (avg, se float64) {
	avg = mean(xs)
	if len(xs) < 2 {
		return avg, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - avg) * (x - avg)
	}
	return avg, math.Sqrt(ss/float64(len(xs)-1)) / math.Sqrt(float64(len(xs)))
}
