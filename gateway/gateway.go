package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/internal/mailbox"
	"github.com/execd-dev/execd/journal"
	"github.com/execd-dev/execd/lifecycle"
	"github.com/execd-dev/execd/positions"
	"github.com/execd-dev/execd/risk"
	"github.com/execd-dev/execd/twap"
	"github.com/execd-dev/execd/venues"
)

// maxOrphans bounds the client order ids whose fills are kept for a parent that has not claimed them yet.
const maxOrphans = 10_000

// Failpoints a gateway passes to Options.Failpoint (crash tests kill the process there).
const (
	FailAfterIntent = "after-intent" // the intent is journaled, the request not sent
	FailAfterSend   = "after-send"   // the venue answered, the outcome is not journaled
	FailBeforeFill  = "before-fill"  // a fill arrived, it is not journaled
)

// Options wire a Gateway.
type Options struct {
	Venue      Venue
	Instrument string
	Journal    Journal
	// Ledger is written only by gateways, each for its own (venue, instrument) key: one owner per key.
	Ledger   *positions.Ledger
	Breakers *risk.Breakers
	State    *risk.Switch
	Retry    Retry
	Logger   *zap.Logger
	// Failpoint, if set, is called at the Fail* places.
	Failpoint func(name string)
	// OnHealth, if set, is told every change of the venue's health for this instrument, from the gateway's
	// goroutine (it must not block).
	OnHealth func(h Health, reason string)
	// ClientIDPrefix marks the orders this engine sends (recovery cancels stray open orders that carry it).
	ClientIDPrefix string
	// Limiter, if set, paces every venue call: it is asked for a token of the call's class before the breaker.
	Limiter Limiter
	// Admit, if set, is asked right before every order placement or amend call (each attempt): ok false means
	// ops took the venue out and nothing is sent (the order is refused, not sent); otherwise release must be
	// called once the call has returned. It lets ops' "disabled" be exact: whoever disables a venue waits for the
	// calls admitted before, and none is admitted after (engine.Engine.SetVenue).
	Admit func() (release func(), ok bool)
	// MakerFeeSavingBps is what a maker fill saves against a taker's here, in bps (fees and the spread crossed);
	// maker children are turned off for a while when the markout of the latest maker fills is worse than minus
	// this. Zero or negative: 3.
	MakerFeeSavingBps float64
	// Clock is the market's clock (the simulated one in a simulation): a mark's age is measured on it, since what
	// makes a mark stale is how far the market has moved. Nil: the wall clock. Retries and timeouts stay on the
	// wall clock: they pace requests to the venue.
	Clock clock.Clock
}

// CallClass is the kind of a venue call, for rate limits that count them apart.
type CallClass int

const (
	OrderEntry CallClass = iota + 1 // place, cancel, amend
	Account                         // order queries, open orders, fills, positions
	MarketData                      // rules, stats, quotes
)

func (c CallClass) String() string {
	switch c {
	case OrderEntry:
		return "order entry"
	case Account:
		return "account"
	case MarketData:
		return "market data"
	}
	return "call"
}

// Limiter paces a gateway's calls to its venue (the venue's published request and order limits). Wait blocks
// until a call of the class may go, or returns ctx's error. It must be safe for concurrent use: the gateway's
// call goroutines ask for tokens concurrently.
type Limiter interface {
	Wait(ctx context.Context, class CallClass) error
}

// Gateway is the one owner of a (venue, instrument): the only goroutine that sends, cancels and queries orders
// there. It prices orders from its cached mark, checks them, reserves reduce-only capacity across parents,
// journals each intent before the send, retries by one table, resolves unknown outcomes by client order id,
// books fills in the journal and the ledger (its own key only) and routes them to their parent, and reports the
// venue's health. Its methods are safe for concurrent use; none of them blocks on the venue.
type Gateway struct {
	o     Options
	clk   clock.Clock
	name  string
	key   positions.Key
	log   *zap.Logger
	retry Retry

	inbox   *mailbox.Box[Request]
	events  *mailbox.Box[venues.Event]
	results *mailbox.Box[result]

	rules      atomic.Pointer[venues.Rules]
	quote      atomic.Pointer[Quote]
	makerStats atomic.Pointer[MakerStats]
	mk         makerBook // owned by the run goroutine
	// stats is the latest statistics read and the read in flight, shared by concurrent planners (Stats).
	stats statsCache
	// unprepared holds why Prepare failed, until a reconcile pass has read the rules and seeded the position;
	// nil once the pair's position is known.
	unprepared atomic.Pointer[error]
	hlth       atomic.Value // Health
	done       chan struct{}
	// inflight counts venue calls and fill journaling whose result has not come back to the loop yet. Only the run
	// goroutine changes it (a call is counted when started and uncounted when its result is taken), so a result
	// taken while the loop drains may start further calls without racing a wait.
	inflight int
	bg       sync.WaitGroup // synchronous journal writes of outcomes (journals without PutChildAsync)

	// Owned by the run goroutine.
	orders   map[string]*order
	live     map[string]*order // the orders here not final (setState keeps it): what the loop scans on every event
	parents  map[string]Sink
	seen     map[string]struct{} // trade ids journaled or being journaled here
	reserved map[venues.Side]decimal.Decimal
	waiting  []*order                 // priced once a fresh mark arrives
	orphans  map[string][]venues.Fill // booked fills of orders not registered here yet (a restart's race)
	watch    map[string]*order        // final orders whose reported fills are not all booked: read by REST if late
	quoting  bool
	health   Health
	// epoch counts changes of execd's orders and fills here; a reconcile pass compares positions only if it did
	// not move during the reads. ownPending counts fills of execd's orders being journaled.
	epoch      uint64
	ownPending int
	rc         reconState
	started    time.Time // market clock, when the gateway was built
}

// Quote is the gateway's latest mark and top of book.
type Quote struct {
	Mark, Bid, Ask decimal.Decimal
	At             time.Time // wall clock
}

// order is one order the gateway knows. Owned by the run goroutine.
type order struct {
	parent   string
	seq      int
	sink     Sink
	req      venues.OrderRequest
	bps      int
	limit    decimal.Decimal
	maxNotnl decimal.Decimal
	peg      bool      // a maker child, re-pegged while open
	urgency  float64   // the maker child's (Request.Urgency), for every re-peg
	lastPeg  time.Time // market time of its last re-peg
	decided  time.Time
	state    lifecycle.State
	status   venues.OrderStatus
	venueID  string
	reported decimal.Decimal // filled quantity as the venue reports it on the order
	booked   decimal.Decimal // filled quantity from booked fills
	reserved decimal.Decimal // reduce-only capacity held by this order
	sentAt   time.Time       // wall
	fillDue  time.Time       // wall: read missing fills by REST after this
	reads    int
	reading  bool
	settled  bool
	// what was last journaled of it: an outcome already recorded is not written again (the stream and the REST
	// answer usually both report the end of an order)
	jState  lifecycle.State
	jFilled decimal.Decimal
	jPrice  decimal.Decimal
	jQty    decimal.Decimal
}

type resultKind int

const (
	resPlace resultKind = iota + 1
	resUnknown
	resResolve
	resCancel
	resFills
	resFill
	resQuote
	resJournal
	resAmend
	resRecon
	resAdjust
)

type result struct {
	kind     resultKind
	id       string
	order    venues.Order
	sent     bool
	notFound bool
	refusal  Refusal
	err      error
	fills    []venues.Fill
	fill     venues.Fill
	fresh    bool
	external bool // fill: another program's trade
	call     bool // the result of a counted call (inflight)
	quote    Quote
	recon    *reconRead
	since    time.Time
}

// New builds a gateway; Run starts it.
func New(o Options) (*Gateway, error) {
	if o.Venue == nil || o.Journal == nil || o.Ledger == nil || o.Breakers == nil || o.State == nil {
		return nil, errors.New("gateway: venue, journal, ledger, breakers and state are required")
	}
	if _, _, err := venues.ParseInstrument(o.Instrument); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	g := &Gateway{
		o: o, clk: o.Clock, name: o.Venue.Name(), key: positions.Key{Venue: o.Venue.Name(), Instrument: o.Instrument},
		retry: o.Retry.withDefaults(),
		inbox: mailbox.New[Request](), events: mailbox.New[venues.Event](), results: mailbox.New[result](),
		done: make(chan struct{}), orders: map[string]*order{}, live: map[string]*order{}, parents: map[string]Sink{}, seen: map[string]struct{}{},
		reserved: map[venues.Side]decimal.Decimal{venues.Buy: decimal.Zero, venues.Sell: decimal.Zero}, health: Up,
		orphans: map[string][]venues.Fill{}, watch: map[string]*order{},
		rc: reconState{external: map[string]venues.Fill{}}, started: o.Clock.Now(),
	}
	g.log = o.Logger.With(zap.String("venue", g.name), zap.String("instrument", o.Instrument))
	g.hlth.Store(Up)
	return g, nil
}

// Unprepared returns why the pair's position is not known yet (Prepare failed and no reconcile pass has read it
// since), or nil.
func (g *Gateway) Unprepared() error {
	if e := g.unprepared.Load(); e != nil {
		return *e
	}
	return nil
}

// CachedRules returns the instrument's rules as last read, if they were.
func (g *Gateway) CachedRules() (venues.Rules, bool) {
	if r := g.rules.Load(); r != nil {
		return *r, true
	}
	return venues.Rules{}, false
}

// Venue is the venue's name; Instrument the canonical instrument.
func (g *Gateway) Venue() string      { return g.name }
func (g *Gateway) Instrument() string { return g.o.Instrument }

// Submit queues a parent's request. It never blocks; a request submitted after the gateway stopped is refused
// to its sink (RefusedStopping).
func (g *Gateway) Submit(r Request) {
	if !g.inbox.Put(r) && r.Kind == Place && r.Sink != nil {
		r.Sink.Deliver(Update{Kind: Refused, Venue: g.name, ClientOrderID: r.Order.ClientOrderID,
			Quantity: r.Order.Quantity, Refusal: RefusedStopping, Reason: "gateway stopped"})
	}
}

// OnEvent hands the gateway a private-stream event for its instrument. It never blocks.
func (g *Gateway) OnEvent(ev venues.Event) { g.events.Put(ev) }

// Health is the venue's current health for the instrument.
func (g *Gateway) Health() Health { return g.hlth.Load().(Health) }

// Mark is the latest cached quote (zero before the first read).
func (g *Gateway) Mark() Quote {
	if q := g.quote.Load(); q != nil {
		return *q
	}
	return Quote{}
}

// Done is closed when Run has returned.
func (g *Gateway) Done() <-chan struct{} { return g.done }

func (g *Gateway) failpoint(name string) {
	if g.o.Failpoint != nil {
		g.o.Failpoint(name)
	}
}

// call runs one venue call behind the breaker with the call timeout. The breaker counts only retryable and
// unknown failures; an open breaker answers an error wrapping risk.ErrOpen without calling.
func call[T any](ctx context.Context, g *Gateway, class CallClass, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	if g.o.Limiter != nil {
		if err := g.o.Limiter.Wait(ctx, class); err != nil {
			return zero, &venues.Error{Venue: g.name, Op: class.String(), Class: venues.Retryable,
				Msg: "rate limiter: no token before the call was abandoned", Err: err}
		}
	}
	done, err := g.o.Breakers.Allow(g.name)
	if err != nil {
		return zero, err
	}
	cctx, cancel := context.WithTimeout(ctx, g.retry.CallTimeout)
	v, err := fn(cctx)
	cancel()
	done(err)
	return v, err
}

// Rules returns the instrument's trading rules, read once and cached.
func (g *Gateway) Rules(ctx context.Context) (venues.Rules, error) {
	if r := g.rules.Load(); r != nil {
		return *r, nil
	}
	r, err := call(ctx, g, MarketData, func(ctx context.Context) (venues.Rules, error) { return g.o.Venue.Rules(ctx, g.o.Instrument) })
	if err != nil {
		return venues.Rules{}, err
	}
	if err := r.Validate(); err != nil {
		return venues.Rules{}, &venues.Error{Venue: g.name, Op: "rules", Class: venues.Rejected, Msg: err.Error()}
	}
	g.rules.Store(&r)
	return r, nil
}

// statsCache shares statistics reads: many parents planned at once (a rebalance of many tokens) make one read
// per venue and instrument, not one each, and a read younger than Retry.QuoteMaxAge of market time is reused.
type statsCache struct {
	mu     sync.Mutex
	last   venues.Stats
	at     time.Time     // market clock; zero: none
	flight chan struct{} // closed when the read in flight ends
	err    error         // the last read's error, for its waiters
}

// Stats reads the venue's statistics for the instrument (planning: 24 h volume and mark), behind the breaker,
// and refreshes the cached mark with it. Concurrent callers share one read; a read younger than QuoteMaxAge of
// market time is answered from the cache. Safe for concurrent use.
func (g *Gateway) Stats(ctx context.Context) (venues.Stats, error) {
	c := &g.stats
	for {
		c.mu.Lock()
		if !c.at.IsZero() && g.clk.Now().Sub(c.at) <= g.retry.QuoteMaxAge {
			s := c.last
			c.mu.Unlock()
			return s, nil
		}
		if wait := c.flight; wait != nil {
			c.mu.Unlock()
			select {
			case <-wait:
			case <-ctx.Done():
				return venues.Stats{}, ctx.Err()
			}
			c.mu.Lock()
			err, s, fresh := c.err, c.last, !c.at.IsZero()
			c.mu.Unlock()
			if err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
				continue // the reader's caller gave up, not the venue: read again
			}
			if err != nil {
				return venues.Stats{}, err
			}
			if fresh {
				return s, nil
			}
			continue
		}
		done := make(chan struct{})
		c.flight = done
		c.mu.Unlock()
		s, err := call(ctx, g, MarketData, func(ctx context.Context) (venues.Stats, error) { return g.o.Venue.Stats(ctx, g.o.Instrument) })
		now := g.clk.Now()
		if err == nil && s.MarkPrice.IsPositive() {
			g.quote.Store(&Quote{Mark: s.MarkPrice, At: now})
			g.o.Ledger.SetMark(g.key, s.MarkPrice)
		}
		c.mu.Lock()
		c.flight, c.err = nil, err
		if err == nil {
			c.last, c.at = s, now
		}
		c.mu.Unlock()
		close(done)
		return s, err
	}
}

// touchable reports whether the venue can read its touch apart from its quote.
func (g *Gateway) touchable() bool {
	_, ok := g.o.Venue.(venues.Toucher)
	return ok
}

// readQuote reads the mark in one request where the venue can (venues.Quoter), else through Stats; with touch,
// and when that gave no bid and ask, the touch too where the venue can read it (venues.Toucher).
func (g *Gateway) readQuote(ctx context.Context, touch bool) (Quote, error) {
	var q Quote
	if qr, ok := g.o.Venue.(quoter); ok {
		vq, err := call(ctx, g, MarketData, func(ctx context.Context) (venues.Quote, error) { return qr.Quote(ctx, g.o.Instrument) })
		if err != nil {
			return Quote{}, err
		}
		q = Quote{Mark: vq.Mark, Bid: vq.Bid, Ask: vq.Ask, At: g.clk.Now()}
	} else {
		s, err := call(ctx, g, MarketData, func(ctx context.Context) (venues.Stats, error) { return g.o.Venue.Stats(ctx, g.o.Instrument) })
		if err != nil {
			return Quote{}, err
		}
		q = Quote{Mark: s.MarkPrice, At: g.clk.Now()}
	}
	if t, ok := g.o.Venue.(venues.Toucher); ok && touch && !q.Bid.IsPositive() {
		vt, err := call(ctx, g, MarketData, func(ctx context.Context) (venues.Quote, error) { return t.Touch(ctx, g.o.Instrument) })
		if err == nil {
			q.Bid, q.Ask = vt.Bid, vt.Ask
		} else {
			g.log.Warn("touch not read; pegged orders go as takers", zap.Error(err))
		}
	}
	return q, nil
}

// Prepare runs before Run, on the caller's goroutine: it reads the rules, journals the fills the venue made
// since `since` (recovery after a restart: they are in the venue's position, so the ledger only marks them
// seen; pass the zero time when nothing was working), cancels open orders carrying the engine's prefix that
// keep(id) does not claim, and seeds the ledger's position for this key from the venue — a position read
// between two reads of the fills that hold the same trades, so the fills marked seen are exactly those in it. It
// returns the fills it journaled for the first time, for the parents being restored.
func (g *Gateway) Prepare(ctx context.Context, since time.Time, keep func(clientOrderID string) bool) (fresh []venues.Fill, err error) {
	defer func() {
		if err != nil {
			g.unprepared.Store(&err)
		} else {
			g.unprepared.Store(nil)
		}
	}()
	if _, err := retrying(ctx, g, func() (venues.Rules, error) { return g.Rules(ctx) }); err != nil {
		return nil, fmt.Errorf("%s %s: reading rules: %w", g.name, g.o.Instrument, err)
	}
	if !since.IsZero() {
		open, err := retrying(ctx, g, func() ([]venues.Order, error) {
			return call(ctx, g, Account, func(ctx context.Context) ([]venues.Order, error) {
				return g.o.Venue.OpenOrders(ctx, g.o.Instrument)
			})
		})
		if err != nil {
			return nil, fmt.Errorf("%s %s: recovery: reading open orders: %w", g.name, g.o.Instrument, err)
		}
		for _, o := range open {
			id := o.ClientOrderID
			if !g.ours(id) {
				continue
			}
			if keep != nil && keep(id) {
				continue // its parent resolves it (and cancels it if it still works)
			}
			_, err := call(ctx, g, OrderEntry, func(ctx context.Context) (venues.Order, error) { return g.o.Venue.Cancel(ctx, g.o.Instrument, id) })
			if err != nil && !venues.IsNotFound(err) {
				return nil, fmt.Errorf("%s %s: recovery: cancelling stray order %s: %w", g.name, g.o.Instrument, id, err)
			}
			g.log.Warn("stray open order cancelled", zap.String("child", id))
		}
	}
	// The position and the fills marked seen must agree: an order kept open (its parent resolves it) may trade
	// between the reads. The fills are read before and after the position until the two reads hold the same
	// trades, so the position includes exactly the fills marked seen; a later fill is booked when it comes.
	readFills := func() ([]venues.Fill, error) {
		if since.IsZero() {
			return nil, nil
		}
		fills, err := retrying(ctx, g, func() ([]venues.Fill, error) {
			return call(ctx, g, Account, func(ctx context.Context) ([]venues.Fill, error) {
				return g.o.Venue.Fills(ctx, g.o.Instrument, since.UnixMilli())
			})
		})
		if err != nil {
			return nil, fmt.Errorf("%s %s: recovery: reading fills: %w", g.name, g.o.Instrument, err)
		}
		var ours []venues.Fill
		for _, f := range fills {
			if g.ours(f.ClientOrderID) && f.Instrument == g.o.Instrument {
				ours = append(ours, f)
			}
		}
		return ours, nil
	}
	fills, err := readFills()
	if err != nil {
		return nil, err
	}
	var pos decimal.Decimal
	var mark decimal.Decimal
	for attempt := 1; ; attempt++ {
		ps, err := retrying(ctx, g, func() ([]venues.Position, error) {
			return call(ctx, g, Account, func(ctx context.Context) ([]venues.Position, error) { return g.o.Venue.Positions(ctx) })
		})
		if err != nil {
			return nil, fmt.Errorf("%s %s: reading positions: %w", g.name, g.o.Instrument, err)
		}
		pos, mark = decimal.Zero, decimal.Zero
		for _, p := range ps {
			if p.Instrument == g.o.Instrument {
				pos = pos.Add(p.Quantity)
				if p.MarkPrice.IsPositive() {
					mark = p.MarkPrice
				}
			}
		}
		after, err := readFills()
		if err != nil {
			return nil, err
		}
		if sameTrades(fills, after) {
			break
		}
		fills = after
		if attempt == prepareReads {
			return nil, fmt.Errorf("%s %s: recovery: the venue traded during each of %d reads of the position; try again",
				g.name, g.o.Instrument, prepareReads)
		}
	}
	for _, f := range fills {
		if err := positions.Check(f); err != nil {
			return nil, fmt.Errorf("%s %s: recovery: fill %s: %w", g.name, g.o.Instrument, f.TradeID, err)
		}
		isNew, err := g.o.Journal.AddFill(f)
		if err != nil {
			return nil, fmt.Errorf("%s %s: recovery: journaling fill %s: %w", g.name, g.o.Instrument, f.TradeID, err)
		}
		g.o.Ledger.MarkSeen(f.Venue, f.TradeID)
		g.seen[f.TradeID] = struct{}{}
		if isNew {
			fresh = append(fresh, f)
		}
	}
	if mark.IsPositive() {
		g.o.Ledger.SetMark(g.key, mark)
	}
	g.o.Ledger.Set(g.key, pos)
	return fresh, nil
}

// unit clamps x to [0, 1], NaN to 0.
func unit(x float64) float64 {
	if !(x > 0) {
		return 0
	}
	return min(x, 1)
}

// prepareReads bounds how many times Prepare reads a position that fills keep changing.
const prepareReads = 5

// sameTrades reports whether two reads of fills hold the same trades.
func sameTrades(a, b []venues.Fill) bool {
	if len(a) != len(b) {
		return false
	}
	ids := make(map[string]struct{}, len(a))
	for _, f := range a {
		ids[f.TradeID] = struct{}{}
	}
	for _, f := range b {
		if _, ok := ids[f.TradeID]; !ok {
			return false
		}
	}
	return true
}

// Run is the gateway's owner loop; it returns when ctx is done and every call it started has returned.
func (g *Gateway) Run(ctx context.Context) {
	defer close(g.done)
	poll := time.NewTimer(g.retry.HealthPoll)
	defer poll.Stop()
	fillTimer := time.NewTimer(time.Hour)
	defer fillTimer.Stop()
	var reqs []Request
	var evs []venues.Event
	var res []result
	for {
		select {
		case <-g.inbox.Ready():
			reqs = g.inbox.Drain(reqs)
			for _, r := range reqs {
				g.onRequest(ctx, r)
			}
		case <-g.events.Ready():
			evs = g.events.Drain(evs)
			for _, ev := range evs {
				g.onEvent(ctx, ev)
			}
		case <-g.results.Ready():
			res = g.results.Drain(res)
			for _, r := range res {
				g.onResult(ctx, r)
			}
		case <-poll.C:
			poll.Reset(g.retry.HealthPoll)
			g.checkHealth()
		case <-fillTimer.C:
		case <-g.pegC():
			g.onPegTimer(ctx)
		case <-ctx.Done():
			if g.mk.timer != nil {
				g.mk.timer.Stop()
			}
			g.inbox.Close()
			for _, r := range g.inbox.Drain(nil) {
				g.onRequest(ctx, r)
			}
			g.drainCalls(ctx)
			g.bg.Wait()
			return
		}
		g.readMissingFills(ctx)
		resetTimer(fillTimer, g.nextFillRead())
		g.armPeg()
	}
}

// drainCalls waits for the calls in flight (they end: ctx is done) and carries out their results, so every
// parent hears how its orders ended, as far as that is known.
func (g *Gateway) drainCalls(ctx context.Context) {
	for _, r := range g.results.Drain(nil) {
		g.onResult(ctx, r)
	}
	for g.inflight > 0 {
		<-g.results.Ready()
		for _, r := range g.results.Drain(nil) {
			g.onResult(ctx, r)
		}
	}
}

func resetTimer(t *time.Timer, d time.Duration) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(d)
}

// spawn runs fn as a call of this gateway; its result comes back to the loop.
func (g *Gateway) spawn(fn func() result) {
	g.inflight++
	go func() {
		r := fn()
		r.call = true
		g.results.Put(r)
	}()
}

func (g *Gateway) onRequest(ctx context.Context, r Request) {
	switch r.Kind {
	case Place, Cancel, Resolve, Amend:
		g.epoch++
	}
	switch r.Kind {
	case Attach:
		g.parents[r.Parent] = r.Sink
		r.Sink.Deliver(Update{Kind: HealthChanged, Venue: g.name, Health: g.health, Reason: "attached"})
	case Detach:
		delete(g.parents, r.Parent)
		for id, o := range g.orders {
			if o.parent == r.Parent && o.state.Final() && (o.settled || !o.booked.LessThan(o.reported)) {
				delete(g.orders, id)
			}
		}
	case Place:
		g.onPlace(ctx, r)
	case Cancel:
		g.onCancel(ctx, r)
	case Resolve:
		g.onResolve(ctx, r)
	case Amend:
		g.onAmend(ctx, r)
	case reconcile:
		g.onReconcile(ctx, r.recon)
	}
}

// onAmend changes an open order in place. A reduce-only order may grow only into the room other orders leave.
func (g *Gateway) onAmend(ctx context.Context, r Request) {
	id := r.Order.ClientOrderID
	refuse := func(reason string) {
		r.Sink.Deliver(Update{Kind: AmendRefused, Venue: g.name, ClientOrderID: id, Reason: reason})
	}
	am, can := g.o.Venue.(amender)
	o, ok := g.orders[id]
	switch {
	case !can:
		refuse("the venue cannot amend orders")
		return
	case !ok || o.state != lifecycle.Open:
		refuse("the order is not open")
		return
	case r.Order.Quantity.IsNegative() || r.Order.Price.IsNegative() || (r.Order.Quantity.IsZero() && r.Order.Price.IsZero()):
		refuse("nothing to amend")
		return
	}
	if rules := g.rules.Load(); rules != nil {
		if !r.Order.Price.IsZero() && !rules.OnTick(r.Order.Price) {
			refuse(fmt.Sprintf("price %s is not on the tick %s", r.Order.Price, rules.TickSize))
			return
		}
		if !r.Order.Quantity.IsZero() && !rules.OnLot(r.Order.Quantity) {
			refuse(fmt.Sprintf("quantity %s is not on the lot %s", r.Order.Quantity, rules.LotSize))
			return
		}
	}
	if o.req.ReduceOnly && r.Order.Quantity.GreaterThan(o.req.Quantity) {
		more := r.Order.Quantity.Sub(o.req.Quantity)
		if more.GreaterThan(g.reducible(o.req.Side)) {
			refuse(fmt.Sprintf("reduce-only: %s more than the room left to reduce", more))
			return
		}
	}
	g.setState(o, lifecycle.AmendPending)
	req := venues.AmendRequest{Instrument: g.o.Instrument, ClientOrderID: id, Quantity: r.Order.Quantity, Price: r.Order.Price}
	g.spawn(func() result {
		release, ok := g.admit()
		if !ok {
			return result{kind: resAmend, id: id, refusal: RefusedNotSent, err: errDisabled(g.name, "amend")}
		}
		vo, err := call(ctx, g, OrderEntry, func(ctx context.Context) (venues.Order, error) { return am.Amend(ctx, req) })
		release()
		switch {
		case err == nil:
			return result{kind: resAmend, id: id, order: vo, sent: true}
		case errors.Is(err, risk.ErrOpen):
			return result{kind: resAmend, id: id, refusal: RefusedBreaker, err: err}
		case venues.ClassOf(err) == venues.Rejected:
			return result{kind: resAmend, id: id, refusal: RefusedVenue, err: err}
		case venues.ClassOf(err) == venues.Retryable:
			return result{kind: resAmend, id: id, refusal: RefusedNotSent, err: err}
		}
		// Unknown: the amend may or may not have acted; the order as the venue has it says which.
		backoff := g.retry.ResolveBackoff
		for {
			q, qerr := call(ctx, g, Account, func(ctx context.Context) (venues.Order, error) { return g.o.Venue.Query(ctx, g.o.Instrument, id) })
			if qerr == nil {
				return result{kind: resAmend, id: id, order: q, sent: true}
			}
			if !sleep(ctx, backoff) {
				return result{kind: resAmend, id: id, refusal: RefusedNotSent, err: err}
			}
			backoff = min(backoff*2, g.retry.ResolveMax)
		}
	})
}

func (g *Gateway) onAmended(r result) {
	o, ok := g.orders[r.id]
	if !ok {
		return
	}
	if o.state == lifecycle.AmendPending {
		g.setState(o, lifecycle.Open)
	}
	if r.refusal != 0 {
		if r.refusal == RefusedVenue {
			g.log.Warn("amend refused by the venue", zap.String("child", r.id), zap.Error(r.err))
		}
		o.sink.Deliver(Update{Kind: AmendRefused, Venue: g.name, ClientOrderID: r.id, Reason: r.err.Error()})
		return
	}
	if r.order.Quantity.IsPositive() {
		o.req.Quantity = r.order.Quantity
	}
	if r.order.Price.IsPositive() {
		o.req.Price = r.order.Price
	}
	g.applyOrder(o, r.order)
	g.reserve(o, holdFor(o))
	g.journalOutcome(o)
	o.sink.Deliver(Update{Kind: Amended, Venue: g.name, ClientOrderID: r.id, Order: r.order, Price: o.req.Price,
		Quantity: o.req.Quantity})
}

func (g *Gateway) refuse(r Request, why Refusal, reason string) {
	r.Sink.Deliver(Update{Kind: Refused, Venue: g.name, ClientOrderID: r.Order.ClientOrderID,
		Quantity: r.Order.Quantity, Refusal: why, Reason: reason})
}

// reducible is how much of the position an order on side may still reduce, net of the reservations of every
// open reduce-only order on that side.
func (g *Gateway) reducible(side venues.Side) decimal.Decimal {
	return decimal.Max(Reducible(g.o.Ledger.Position(g.key), side).Sub(g.reserved[side]), decimal.Zero)
}

// Reducible is how much of a position an order on side may reduce: the size of a position on the other side.
func Reducible(pos decimal.Decimal, side venues.Side) decimal.Decimal {
	if side == venues.Buy && pos.IsNegative() {
		return pos.Neg()
	}
	if side == venues.Sell && pos.IsPositive() {
		return pos
	}
	return decimal.Zero
}

// ours reports whether a client order id carries this engine's prefix.
func (g *Gateway) ours(id string) bool {
	return g.o.ClientIDPrefix != "" && strings.HasPrefix(id, g.o.ClientIDPrefix)
}

func (g *Gateway) reserve(o *order, q decimal.Decimal) {
	g.rewatch(o)
	if !o.req.ReduceOnly {
		return
	}
	q = decimal.Max(q, decimal.Zero)
	g.reserved[o.req.Side] = g.reserved[o.req.Side].Sub(o.reserved).Add(q)
	o.reserved = q
}

// rewatch keeps the set of orders whose missing fills may have to be read in step with one order's state, so
// the loop's per-event work does not grow with the number of orders it has seen.
func (g *Gateway) rewatch(o *order) {
	id := o.req.ClientOrderID
	if o.state.Final() && !o.settled && o.booked.LessThan(o.reported) {
		g.watch[id] = o
	} else {
		delete(g.watch, id)
	}
}

// holdFor is what a reduce-only order still holds: its unfilled quantity while it may trade, and afterwards
// the fills the venue reported that are not booked yet.
func holdFor(o *order) decimal.Decimal {
	if o.state.Final() {
		if o.settled {
			return decimal.Zero
		}
		return o.reported.Sub(o.booked)
	}
	return o.req.Quantity.Sub(o.booked)
}

func (g *Gateway) onPlace(ctx context.Context, r Request) {
	id := r.Order.ClientOrderID
	if ctx.Err() != nil {
		g.refuse(r, RefusedStopping, "gateway stopping")
		return
	}
	if r.Order.Instrument != g.o.Instrument {
		g.refuse(r, RefusedRisk, fmt.Sprintf("instrument %s sent to the %s gateway", r.Order.Instrument, g.o.Instrument))
		return
	}
	if _, dup := g.orders[id]; dup {
		g.refuse(r, RefusedRisk, "client order id "+id+" used twice")
		return
	}
	rules := g.rules.Load()
	if rules == nil {
		g.refuse(r, RefusedNotSent, "rules not read yet")
		return
	}
	req := r.Order
	if req.ReduceOnly {
		room := rules.FloorQty(g.reducible(req.Side))
		if req.Quantity.GreaterThan(room) {
			if room.LessThan(rules.MinQty) || !room.IsPositive() {
				g.refuse(r, RefusedCapacity, fmt.Sprintf("reduce-only: %s %s asked, %s left to reduce after other open orders",
					req.Side, req.Quantity, room))
				return
			}
			req.Quantity = room
		}
	}
	if r.Peg && g.makerOff() {
		r.Peg = false
	}
	if r.Peg {
		req.TimeInForce, req.Price = venues.PostOnly, decimal.Zero
	}
	o := &order{parent: r.Parent, seq: r.Seq, sink: r.Sink, req: req, bps: r.SlippageBps, limit: r.LimitPrice,
		maxNotnl: r.MaxChildNotional, decided: r.Decided, state: lifecycle.Intent, peg: r.Peg, urgency: unit(r.Urgency)}
	g.orders[id], g.live[id] = o, o
	g.reserve(o, req.Quantity)
	if q := g.quote.Load(); q != nil && q.Mark.IsPositive() && g.clk.Now().Sub(q.At) <= g.retry.QuoteMaxAge &&
		(!o.peg || q.Bid.IsPositive() || !g.touchable()) {
		g.send(ctx, o, *rules, *q)
		return
	}
	g.waiting = append(g.waiting, o)
	g.requestQuote(ctx)
}

// send prices and checks an order and starts its placement: journal the intent (the one durable write before
// the send), then place, retrying by the table, resolving an unknown outcome by query.
func (g *Gateway) send(ctx context.Context, o *order, rules venues.Rules, q Quote) {
	id := o.req.ClientOrderID
	fail := func(why Refusal, reason string) {
		g.setState(o, lifecycle.NotSent)
		g.reserve(o, decimal.Zero)
		delete(g.orders, id)
		o.sink.Deliver(Update{Kind: Refused, Venue: g.name, ClientOrderID: id, Quantity: o.req.Quantity, Price: o.req.Price,
			Refusal: why, Reason: reason})
	}
	if o.peg {
		if px, ok := g.pegPrice(o, rules, q); ok {
			o.req.Price, o.lastPeg = px, g.clk.Now()
		} else { // no touch to peg to: a taker within the band
			o.peg, o.req.TimeInForce = false, venues.IOC
		}
	}
	if o.req.Price.IsZero() {
		px, err := twap.LimitPrice(o.req.Side, q.Mark, o.bps, o.limit, rules)
		if err != nil {
			fail(RefusedRisk, err.Error())
			return
		}
		o.req.Price = px
	}
	chk := risk.Child{Venue: g.name, Instrument: g.o.Instrument, Side: o.req.Side, Quantity: o.req.Quantity,
		Price: o.req.Price, Mark: q.Mark, ReduceOnly: o.req.ReduceOnly, Position: g.o.Ledger.Position(g.key)}
	if o.req.ReduceOnly {
		chk.OpenReducing = g.reserved[o.req.Side].Sub(o.reserved)
	}
	if err := risk.Check(risk.Limits{MaxChildNotional: o.maxNotnl, MaxSlippageBps: o.bps}, g.o.State.Get(), chk); err != nil {
		fail(RefusedRisk, err.Error())
		return
	}
	rec := g.record(o, lifecycle.Intent)
	req := o.req
	g.setState(o, lifecycle.Sent)
	o.sentAt = time.Now()
	g.spawn(func() result { return g.place(ctx, req, rec) })
}

// setState moves o to st: every change of an order's state goes through here, so g.live stays the set of orders
// not final.
func (g *Gateway) setState(o *order, st lifecycle.State) {
	o.state = st
	if st.Final() {
		delete(g.live, o.req.ClientOrderID)
	} else {
		g.live[o.req.ClientOrderID] = o
	}
}

// place journals the intent and places the order; it returns only with the outcome known, or unknown when ctx
// ends first. An unknown outcome is reported to the loop as soon as it happens, then resolved.
func (g *Gateway) place(ctx context.Context, req venues.OrderRequest, rec journal.Child) result {
	id := req.ClientOrderID
	if err := g.o.Journal.PutChild(rec); err != nil {
		return result{kind: resPlace, id: id, refusal: RefusedNotSent, err: fmt.Errorf("journaling the intent: %w", err)}
	}
	g.failpoint(FailAfterIntent)
	o, err := g.sendWithRetry(ctx, req)
	g.failpoint(FailAfterSend)
	switch {
	case errors.Is(err, risk.ErrOpen):
		return result{kind: resPlace, id: id, refusal: RefusedBreaker, err: err}
	case err != nil && venues.ClassOf(err) == venues.Rejected:
		return result{kind: resPlace, id: id, sent: true, refusal: RefusedVenue, err: err}
	case err != nil && venues.ClassOf(err) == venues.Retryable:
		return result{kind: resPlace, id: id, refusal: RefusedNotSent, err: err}
	case err != nil:
		g.results.Put(result{kind: resUnknown, id: id, err: err})
		o, err = g.resolve(ctx, req)
		if errors.Is(err, risk.ErrOpen) {
			// The venue said the order does not exist and the breaker forbids sending it again.
			return result{kind: resPlace, id: id, refusal: RefusedBreaker, err: err}
		}
		if errors.Is(err, ErrDisabled) {
			// The venue said the order does not exist and ops took the venue out: it is not sent again.
			return result{kind: resPlace, id: id, refusal: RefusedNotSent, err: err}
		}
		if err != nil && venues.ClassOf(err) == venues.Rejected {
			// The venue does not have it and refused it for good when it was sent again: nothing traded.
			return result{kind: resPlace, id: id, sent: true, refusal: RefusedVenue, err: err}
		}
		if err != nil {
			return result{kind: resResolve, id: id, sent: true, err: err}
		}
	}
	if !o.Status.Terminal() && req.TimeInForce == venues.IOC {
		fo, ferr := g.finish(ctx, req.ClientOrderID, o, g.retry.FinishWait)
		if ferr != nil {
			g.results.Put(result{kind: resPlace, id: id, order: o, sent: true})
			return result{kind: resResolve, id: id, sent: true, err: ferr}
		}
		o = fo
	}
	return result{kind: resPlace, id: id, order: o, sent: true}
}

// sendWithRetry places an order, retrying a retryable failure with the same client order id (safe: a retryable
// failure means the venue did not act on it), by the retry table.
func (g *Gateway) sendWithRetry(ctx context.Context, req venues.OrderRequest) (venues.Order, error) {
	backoff := g.retry.PlaceBackoff
	for attempt := 1; ; attempt++ {
		release, ok := g.admit()
		if !ok {
			return venues.Order{}, errDisabled(g.name, "place")
		}
		o, err := call(ctx, g, OrderEntry, func(ctx context.Context) (venues.Order, error) { return g.o.Venue.Place(ctx, req) })
		release()
		if err == nil || venues.ClassOf(err) != venues.Retryable || attempt >= g.retry.PlaceAttempts {
			return o, err
		}
		if !sleep(ctx, backoff) {
			return o, err
		}
		backoff *= 2
	}
}

// admit asks Options.Admit, if set.
func (g *Gateway) admit() (release func(), ok bool) {
	if g.o.Admit == nil {
		return func() {}, true
	}
	return g.o.Admit()
}

// errDisabled is the refusal of a call not sent because ops disabled the venue: retryable (nothing reached the
// venue), and not a failure of the venue for its breaker.
func errDisabled(venue, op string) error {
	return &venues.Error{Venue: venue, Op: op, Class: venues.Retryable, Msg: "not sent: venue disabled by ops", Err: ErrDisabled}
}

// ErrDisabled is wrapped by the error of a placement or amend not sent because ops disabled the venue.
var ErrDisabled = errors.New("venue disabled by ops")

// resolve finds out what happened to an order whose placement outcome is unknown: by query; "does not exist"
// is believed only when repeated, then the same order (same id) is sent again; a refusal of that resend as a
// duplicate means the first one exists after all, and a refusal the venue's reads keep denying (NotFoundConfirms
// more "does not exist" answers) is a real one.
func (g *Gateway) resolve(ctx context.Context, req venues.OrderRequest) (venues.Order, error) {
	backoff := g.retry.ResolveBackoff
	notFound := 0
	var refused error // the resend's rejection, while the venue's reads still say the order does not exist
	for {
		o, err := call(ctx, g, Account, func(ctx context.Context) (venues.Order, error) {
			return g.o.Venue.Query(ctx, req.Instrument, req.ClientOrderID)
		})
		switch {
		case err == nil:
			return o, nil
		case venues.IsNotFound(err):
			if notFound++; notFound < g.retry.NotFoundConfirms {
				break
			}
			notFound = 0
			if refused != nil {
				return venues.Order{}, refused // confirmed again: the rejection was not a duplicate's
			}
			o, err = g.sendWithRetry(ctx, req)
			if err == nil || errors.Is(err, risk.ErrOpen) || errors.Is(err, ErrDisabled) {
				return o, err
			}
			if venues.ClassOf(err) == venues.Rejected {
				q, qerr := call(ctx, g, Account, func(ctx context.Context) (venues.Order, error) {
					return g.o.Venue.Query(ctx, req.Instrument, req.ClientOrderID)
				})
				if qerr == nil {
					return q, nil
				}
				refused = err
			}
		}
		if !sleep(ctx, backoff) {
			return venues.Order{}, &venues.Error{Venue: g.name, Op: "resolve", Class: venues.Unknown,
				Msg: "outcome of " + req.ClientOrderID + " still unknown", Err: ctx.Err()}
		}
		backoff = min(backoff*2, g.retry.ResolveMax)
	}
}

// finish waits for an accepted order that is still working to end, cancelling it once wait has passed (at once
// when wait is zero: a pull); a cancel whose outcome is unknown is resolved by querying until the venue reports
// a final state. The cancel is sent again at each query until then (a cancel is idempotent at every venue).
func (g *Gateway) finish(ctx context.Context, id string, last venues.Order, wait time.Duration) (venues.Order, error) {
	deadline := time.Now().Add(wait)
	backoff := g.retry.ResolveBackoff
	cancelled := false
	for {
		// refused is set when the breaker refused a call here: nothing was sent, and the next try should not wait
		// a doubled back-off, or an order pulled while the venue was down stays at the venue long after it is up.
		refused := false
		if !time.Now().Before(deadline) {
			co, cerr := call(ctx, g, OrderEntry, func(ctx context.Context) (venues.Order, error) { return g.o.Venue.Cancel(ctx, g.o.Instrument, id) })
			if cerr == nil && co.Status.Terminal() {
				return co, nil
			}
			refused = errors.Is(cerr, risk.ErrOpen)
			if cerr != nil && !venues.IsNotFound(cerr) && !refused {
				g.log.Warn("cancel failed; resolving by query", zap.String("child", id), zap.Error(cerr))
			}
			if !cancelled && !refused {
				// The cancel went out: its effect shows at the next query; the back-off starts again from there.
				cancelled, backoff = true, g.retry.ResolveBackoff
			}
		}
		o, err := call(ctx, g, Account, func(ctx context.Context) (venues.Order, error) { return g.o.Venue.Query(ctx, g.o.Instrument, id) })
		if err == nil && o.Status.Terminal() {
			return o, nil
		}
		refused = refused || errors.Is(err, risk.ErrOpen)
		pause := backoff
		if !cancelled && time.Now().Before(deadline) {
			// Before the cancel, poll at the first step: the order may end by itself, and the cancel is due at
			// the deadline, not a doubled back-off after it.
			pause = min(g.retry.ResolveBackoff, max(time.Until(deadline), time.Millisecond))
		}
		if !sleep(ctx, pause) {
			return last, &venues.Error{Venue: g.name, Op: "cancel", Class: venues.Unknown,
				Msg: "final state of " + id + " still unknown", Err: ctx.Err()}
		}
		switch {
		case refused:
			backoff = g.retry.ResolveBackoff
		case cancelled:
			backoff = min(backoff*2, g.retry.ResolveMax)
		}
	}
}

func (g *Gateway) onCancel(ctx context.Context, r Request) {
	id := r.Order.ClientOrderID
	o, ok := g.orders[id]
	if !ok || o.state.Final() || o.state == lifecycle.CancelPending {
		return
	}
	if o.state == lifecycle.Intent || o.state == lifecycle.Sent || o.state == lifecycle.Unknown {
		return // its placement call ends it (IOC) or resolves it; a cancel now could race the send
	}
	g.setState(o, lifecycle.CancelPending)
	g.spawn(func() result {
		fo, err := g.finish(ctx, id, venues.Order{}, 0) // pulled: cancelled at once
		if err != nil {
			return result{kind: resResolve, id: id, sent: true, err: err}
		}
		return result{kind: resCancel, id: id, order: fo, sent: true}
	})
}

// onResolve asks the venue what became of a restored order whose outcome was not journaled. An order the venue
// does not know was never taken: it is not resent (its request died with the process).
func (g *Gateway) onResolve(ctx context.Context, r Request) {
	id := r.Order.ClientOrderID
	if _, ok := g.orders[id]; ok {
		return
	}
	o := &order{parent: r.Parent, seq: r.Seq, sink: r.Sink, req: r.Order, state: lifecycle.Unknown, sentAt: time.Now(),
		booked: decimal.Max(r.Booked, decimal.Zero)}
	g.orders[id], g.live[id] = o, o
	for _, f := range g.orphans[id] {
		o.booked = o.booked.Add(f.Quantity)
		o.sink.Deliver(Update{Kind: Filled, Venue: g.name, ClientOrderID: id, Fill: f})
	}
	delete(g.orphans, id)
	g.reserve(o, holdFor(o))
	g.spawn(func() result {
		backoff := g.retry.ResolveBackoff
		for {
			vo, err := call(ctx, g, Account, func(ctx context.Context) (venues.Order, error) { return g.o.Venue.Query(ctx, g.o.Instrument, id) })
			switch {
			case err == nil && vo.Status.Terminal():
				return result{kind: resResolve, id: id, order: vo, sent: true}
			case err == nil:
				fo, ferr := g.finish(ctx, id, vo, g.retry.FinishWait)
				if ferr == nil {
					return result{kind: resResolve, id: id, order: fo, sent: true}
				}
			case venues.IsNotFound(err):
				return result{kind: resResolve, id: id, notFound: true}
			}
			if !sleep(ctx, backoff) {
				return result{kind: resResolve, id: id, sent: true, err: &venues.Error{Venue: g.name, Op: "resolve",
					Class: venues.Unknown, Msg: "outcome of " + id + " still unknown", Err: ctx.Err()}}
			}
			backoff = min(backoff*2, g.retry.ResolveMax)
		}
	})
}

func (g *Gateway) onResult(ctx context.Context, r result) {
	defer g.checkHealth()
	if r.call {
		g.inflight--
	}
	switch r.kind {
	case resQuote:
		g.quoting = false
		waiting := g.waiting
		g.waiting = nil
		if r.err != nil || !r.quote.Mark.IsPositive() {
			why, reason := RefusedNotSent, "mark not read"
			if r.err != nil {
				reason = "mark not read: " + r.err.Error()
				if errors.Is(r.err, risk.ErrOpen) {
					why = RefusedBreaker
				}
			}
			var health Health
			if why == RefusedBreaker {
				g.checkHealth() // the parents hear the breaker's state before the refusals that it caused
				health = g.health
			}
			for _, o := range waiting {
				g.setState(o, lifecycle.NotSent)
				g.reserve(o, decimal.Zero)
				delete(g.orders, o.req.ClientOrderID)
				o.sink.Deliver(Update{Kind: Refused, Venue: g.name, ClientOrderID: o.req.ClientOrderID,
					Quantity: o.req.Quantity, Refusal: why, Reason: reason, Health: health})
			}
			return
		}
		q := r.quote
		g.quote.Store(&q)
		g.o.Ledger.SetMark(g.key, q.Mark)
		rules := g.rules.Load()
		for _, o := range waiting {
			g.send(ctx, o, *rules, q)
		}
		g.matureMarkouts(q.Mark)
		g.matureFillMarkouts(q.Mark)
		g.repeg(ctx, q)
		return
	case resFill:
		g.onJournaledFill(r)
		return
	case resFills:
		g.onFillsRead(ctx, r)
		return
	case resAmend:
		g.epoch++
		g.onAmended(r)
		return
	case resRecon:
		g.onReconRead(ctx, r)
		return
	case resAdjust:
		g.onAdjusted(ctx, r)
		return
	case resJournal:
		if r.err != nil {
			g.log.Error("child outcome not journaled", zap.String("child", r.id), zap.Error(r.err))
		}
		return
	}
	g.epoch++
	o, ok := g.orders[r.id]
	if !ok {
		return
	}
	up := Update{Venue: g.name, ClientOrderID: r.id, Price: o.req.Price, Quantity: o.req.Quantity}
	switch {
	case (r.kind == resUnknown || r.err != nil && r.refusal == 0) && o.state.Final():
		// The stream said how the order ended before the call gave up: a final state is never left.
		return
	case r.kind == resUnknown:
		g.setState(o, lifecycle.Unknown)
		up.Kind, up.Reason = Unknown, r.err.Error()
		g.log.Warn("child outcome unknown; resolving by query", zap.String("child", r.id), zap.Error(r.err))
		g.journalOutcome(o)
		o.sink.Deliver(up)
		return
	case r.err != nil && r.refusal == 0:
		// Still unknown when the gateway stopped: a restart resolves it.
		g.setState(o, lifecycle.Unknown)
		up.Kind, up.Reason = Unknown, r.err.Error()
		g.journalOutcome(o)
		o.sink.Deliver(up)
		return
	case r.refusal != 0:
		if r.sent {
			g.setState(o, lifecycle.Rejected)
		} else {
			g.setState(o, lifecycle.NotSent)
		}
		o.settled = true
		g.reserve(o, decimal.Zero)
		up.Kind, up.Refusal, up.Reason = Refused, r.refusal, r.err.Error()
		if r.refusal == RefusedBreaker {
			g.checkHealth() // the parents hear the breaker's state before the refusal that it caused
			up.Health = g.health
		}
		if r.refusal == RefusedVenue {
			g.log.Warn("child rejected by the venue", zap.String("child", r.id), zap.Error(r.err))
		}
		g.journalOutcome(o)
		o.sink.Deliver(up)
		return
	case r.notFound:
		g.setState(o, lifecycle.NotSent)
		o.settled = true
		g.reserve(o, decimal.Zero)
		up.Kind, up.NotFound = Resolved, true
		g.journalOutcome(o)
		o.sink.Deliver(up)
		return
	}
	g.applyOrder(o, r.order)
	switch r.kind {
	case resPlace:
		up.Kind = Accepted
	default:
		up.Kind = Resolved
	}
	up.Order = r.order
	g.journalOutcome(o)
	o.sink.Deliver(up)
}

// applyOrder takes a venue's report of an order into the gateway's view of it.
func (g *Gateway) applyOrder(o *order, vo venues.Order) {
	if vo.VenueOrderID != "" {
		o.venueID = vo.VenueOrderID
	}
	if vo.FilledQty.GreaterThan(o.reported) {
		o.reported = vo.FilledQty
		o.fillDue = time.Now().Add(g.retry.FillWait)
	}
	if o.state.Final() {
		return
	}
	o.status = vo.Status
	if st, ended := lifecycle.Ended(string(vo.Status)); ended {
		g.setState(o, st)
	} else if o.state != lifecycle.CancelPending {
		g.setState(o, lifecycle.Open)
	}
	if o.state.Final() && o.fillDue.IsZero() {
		o.fillDue = time.Now().Add(g.retry.FillWait)
	}
	g.reserve(o, holdFor(o))
}

// journalOutcome records what the gateway now knows of an order, without waiting for it to be durable: the
// intent is already durable, and a restart resolves anything the journal lacks by query.
func (g *Gateway) journalOutcome(o *order) {
	if o.jState == o.state && o.jFilled.Equal(o.reported) && o.jPrice.Equal(o.req.Price) && o.jQty.Equal(o.req.Quantity) {
		return
	}
	o.jState, o.jFilled, o.jPrice, o.jQty = o.state, o.reported, o.req.Price, o.req.Quantity
	rec := g.record(o, o.state)
	id := o.req.ClientOrderID
	if aj, ok := g.o.Journal.(asyncJournal); ok {
		aj.PutChildAsync(rec, func(err error) {
			if err != nil {
				g.results.Put(result{kind: resJournal, id: id, err: err})
			}
		})
		return
	}
	g.bg.Add(1)
	go func() {
		defer g.bg.Done()
		if err := g.o.Journal.PutChild(rec); err != nil {
			g.results.Put(result{kind: resJournal, id: id, err: err})
		}
	}()
}

func (g *Gateway) record(o *order, st lifecycle.State) journal.Child {
	return journal.Child{
		Parent: o.parent, Venue: g.name, Seq: o.seq, ClientID: o.req.ClientOrderID, Quantity: o.req.Quantity,
		Price: o.req.Price, State: st, Filled: o.reported, VenueOrderID: o.venueID, TimeInForce: string(o.req.TimeInForce),
		Updated: time.Now(),
	}
}

// onEvent takes a private-stream event: an order update for an order of ours, a fill to journal and book.
func (g *Gateway) onEvent(ctx context.Context, ev venues.Event) {
	if ev.Reconnected {
		g.log.Info("venue stream reconnected; missing fills are read by order")
		now := time.Now()
		for _, o := range g.watch {
			o.fillDue = now
		}
		return
	}
	if ev.Order != nil && ev.Order.Instrument == g.o.Instrument {
		if o, ok := g.orders[ev.Order.ClientOrderID]; ok {
			g.epoch++
			wasFinal := o.state.Final()
			g.applyOrder(o, *ev.Order)
			kind := OrderUpdate
			if o.state.Final() && !wasFinal {
				kind = Resolved
				g.journalOutcome(o)
			}
			o.sink.Deliver(Update{Kind: kind, Venue: g.name, ClientOrderID: o.req.ClientOrderID, Order: *ev.Order,
				Price: o.req.Price, Quantity: o.req.Quantity})
		}
	}
	if ev.Fill != nil && ev.Fill.Instrument == g.o.Instrument {
		g.takeFill(*ev.Fill)
	}
}

// takeFill journals a fill once (by trade id), without waiting where the journal can (it joins a group commit),
// else on a call of its own, then books it once durable (onJournaledFill).
func (g *Gateway) takeFill(f venues.Fill) {
	if _, dup := g.seen[f.TradeID]; dup {
		return
	}
	if err := positions.Check(f); err != nil {
		g.log.Error("fill refused: it cannot be booked", zap.String("trade", f.TradeID), zap.Error(err))
		return
	}
	g.seen[f.TradeID] = struct{}{}
	ext := g.external(f.ClientOrderID)
	if ext {
		g.takeExternal(f)
		if f.ClientOrderID == "" {
			return // nothing to index it by in the journal; reported, and booked by the position comparison
		}
	} else {
		g.epoch++
		g.ownPending++
		g.noteMakerFill(f)
	}
	if aj, ok := g.o.Journal.(asyncFillJournal); ok {
		g.failpoint(FailBeforeFill)
		g.inflight++
		aj.AddFillAsync(f, func(fresh bool, err error) {
			g.results.Put(result{kind: resFill, fill: f, fresh: fresh, err: err, external: ext, call: true})
		})
		return
	}
	g.inflight++
	go func() {
		g.failpoint(FailBeforeFill)
		fresh, err := g.o.Journal.AddFill(f)
		g.results.Put(result{kind: resFill, fill: f, fresh: fresh, err: err, external: ext, call: true})
	}()
}

func (g *Gateway) onJournaledFill(r result) {
	f := r.fill
	if !r.external {
		g.ownPending--
		g.epoch++
	}
	if r.err != nil {
		delete(g.seen, f.TradeID) // a later read may bring it again
		g.log.Error("fill not journaled; it will be read again from the venue", zap.String("trade", f.TradeID), zap.Error(r.err))
		return
	}
	if !r.fresh || r.external {
		return // booked before (perhaps before a restart); or another program's, booked by reconciliation
	}
	if _, err := g.o.Ledger.Book(f); err != nil {
		g.log.Error("fill not booked", zap.String("trade", f.TradeID), zap.Error(err))
		return
	}
	o, ok := g.orders[f.ClientOrderID]
	if !ok {
		// A fill of an order of ours this gateway does not know (yet): after a restart, a restored child's fill
		// can come on the stream before its parent asks to resolve it. Kept for that parent; the map is bounded
		// so a flood of unclaimed fills cannot grow it.
		if len(g.orphans) < maxOrphans && len(g.orphans[f.ClientOrderID]) < 1000 {
			g.orphans[f.ClientOrderID] = append(g.orphans[f.ClientOrderID], f)
		}
		return
	}
	o.booked = o.booked.Add(f.Quantity)
	g.reserve(o, holdFor(o))
	o.sink.Deliver(Update{Kind: Filled, Venue: g.name, ClientOrderID: f.ClientOrderID, Fill: f})
	g.noteFillMarkout(f, o.sink)
}

// nextFillRead is how long until some order's missing fills are due to be read.
func (g *Gateway) nextFillRead() time.Duration {
	d := time.Hour
	now := time.Now()
	for _, o := range g.watch {
		if !o.reading {
			if left := o.fillDue.Sub(now); left < d {
				d = left
			}
		}
	}
	return max(d, 0)
}

// readMissingFills reads, by REST and bounded to the order's own trades, the fills the venue reported on a
// final order that the stream has not delivered within FillWait.
func (g *Gateway) readMissingFills(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	now := time.Now()
	for id, o := range g.watch {
		if o.reading || now.Before(o.fillDue) {
			continue
		}
		if o.reads >= g.retry.FillReads {
			o.settled = true
			g.reserve(o, decimal.Zero)
			g.log.Warn("fills reported by the venue never arrived", zap.String("child", id),
				zap.String("reported", o.reported.String()), zap.String("booked", o.booked.String()))
			o.sink.Deliver(Update{Kind: Settled, Venue: g.name, ClientOrderID: id})
			continue
		}
		o.reading = true
		o.reads++
		id, venueID, since := id, o.venueID, o.sentAt.Add(-time.Minute).UnixMilli()
		g.spawn(func() result {
			var fills []venues.Fill
			var err error
			if of, ok := g.o.Venue.(orderFiller); ok {
				fills, err = call(ctx, g, Account, func(ctx context.Context) ([]venues.Fill, error) {
					return of.OrderFills(ctx, g.o.Instrument, id, venueID, since)
				})
			} else {
				fills, err = call(ctx, g, Account, func(ctx context.Context) ([]venues.Fill, error) {
					return g.o.Venue.Fills(ctx, g.o.Instrument, since)
				})
			}
			return result{kind: resFills, id: id, fills: fills, err: err}
		})
	}
}

func (g *Gateway) onFillsRead(ctx context.Context, r result) {
	o, ok := g.orders[r.id]
	if ok {
		o.reading = false
		o.fillDue = time.Now().Add(g.retry.FillWait)
	}
	if r.err != nil {
		g.log.Warn("reading fills failed", zap.String("child", r.id), zap.Error(r.err))
		return
	}
	for _, f := range r.fills {
		if f.ClientOrderID == r.id {
			g.takeFill(f)
		}
	}
}

// checkHealth compares the breaker's state with the last one reported and tells every attached parent.
func (g *Gateway) checkHealth() {
	h := Up
	switch g.o.Breakers.State(g.name) {
	case "open":
		h = Down
	case "half-open":
		h = Degraded
	}
	if h == g.health {
		return
	}
	reason := "circuit breaker " + g.o.Breakers.State(g.name)
	g.log.Warn("venue health changed", zap.String("from", string(g.health)), zap.String("to", string(h)))
	g.health = h
	g.hlth.Store(h)
	for _, s := range g.parents {
		s.Deliver(Update{Kind: HealthChanged, Venue: g.name, Health: h, Reason: reason})
	}
	if g.o.OnHealth != nil {
		g.o.OnHealth(h, reason)
	}
}

// retrying runs a start-up read again after a retryable failure (a rate limit, a request that never left), by
// the table's StartAttempts and StartBackoff, so a venue that throttles for a moment does not stop the start.
func retrying[T any](ctx context.Context, g *Gateway, read func() (T, error)) (T, error) {
	backoff := g.retry.StartBackoff
	for attempt := 1; ; attempt++ {
		v, err := read()
		if err == nil || venues.ClassOf(err) != venues.Retryable || attempt >= g.retry.StartAttempts {
			return v, err
		}
		if !sleep(ctx, backoff) {
			return v, err
		}
		backoff *= 2
	}
}

// sleep waits d of wall time; false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
