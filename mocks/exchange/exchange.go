package exchange

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/execd-dev/execd/clock"
	"github.com/execd-dev/execd/mocks/market"
)

// Book is the part of a simulated-market venue an account trades against; *market.Venue satisfies it.
type Book interface {
	Quote() market.Quote
	Take(side market.Side, qty, limit decimal.Decimal) []market.Exec
}

// restingTaker is a Book that records a resting order's execution through the book as the order's (a maker's);
// *market.Venue satisfies it.
type restingTaker interface {
	TakeResting(side market.Side, qty, limit decimal.Decimal) []market.Exec
}

// Queue is a Book that keeps resting orders in its queue and fills them from its background flow; *market.Venue
// satisfies it. With one, an order that rests is put in the venue's queue (Maker.Rest) behind the depth shown at its
// price, re-queued when an amendment changes its price or raises its quantity, resized after a fill and dropped when
// it ends; the fills the flow makes of it are pulled (Maker.Drain) before every change of the account and by Sweep,
// and booked as maker fills at the order's price. A Book without it fills resting orders only when the sweep finds
// the book through them.
type Queue interface {
	NewMaker() *market.Maker
}

// The reasons Place and Cancel refuse; each protocol mock maps them to its own codes and messages.
var (
	ErrDuplicate          = errors.New("exchange: duplicate client order id")
	ErrReduceOnly         = errors.New("exchange: reduce-only order would not reduce the position")
	ErrMinNotional        = errors.New("exchange: order notional below the minimum")
	ErrInsufficientMargin = errors.New("exchange: insufficient margin")
	ErrNotFound           = errors.New("exchange: no such open order")
	// Amend's: the order exists but has ended (filled, cancelled, expired), and the new quantity is not above
	// what has filled.
	ErrNotOpen     = errors.New("exchange: the order is no longer open")
	ErrBelowFilled = errors.New("exchange: amended quantity not above the filled quantity")
	// ErrWouldTake refuses a post-only order, or an amendment of one, whose price would cross the book (with
	// Config.RefuseWouldTake, Amend.RefuseWouldTake).
	ErrWouldTake = errors.New("exchange: a post-only order would take liquidity")
)

// Config configures an Account. Quantities are in base units (BTC), prices and money in the quote (USDT).
type Config struct {
	Book Book // the book of every symbol without one in Books
	// Books, Lots and MinNotionals are the books, lot grids and minimum notionals of the account's other symbols
	// (one account may trade several), by symbol; a symbol not in them takes Book, Lot and MinNotional.
	Books        map[string]Book
	Lots         map[string]decimal.Decimal
	MinNotionals map[string]decimal.Decimal

	Clock       clock.Clock     // order, fill and position times
	Balance     decimal.Decimal // the starting wallet
	Leverage    int
	TakerFeeBps float64
	MakerFeeBps float64
	// MinNotional is the smallest qty×price (mark for market orders) of an order that is not reduce-only; zero: none.
	MinNotional decimal.Decimal
	// UniqueClientIDs rejects a client id used by any earlier order; otherwise only one used by an open order.
	// An empty client id is never a duplicate.
	UniqueClientIDs bool
	// Lot, if not zero, is the quantity grid of the book's executions: an execution off it is logged and skipped.
	Lot decimal.Decimal
	// AmendRequeues puts every amended order at the back of the matching order (Binance: "modified orders will be
	// reordered in the match queue"); otherwise only a price change or a larger quantity does, and a smaller
	// quantity keeps the order's place.
	AmendRequeues bool
	// RefuseWouldTake refuses a post-only order whose price would cross the book with ErrWouldTake, and keeps no
	// record of it (Binance USDⓈ-M: -5022, and the order history never shows it); otherwise Place accepts it and
	// ends it at once, Expired with WouldTake set, nothing executed (Bybit, OKX: accepted, then cancelled).
	RefuseWouldTake bool
	Logger          *zap.Logger
	// OnEvents receives the events of each state change, in order. It is called after the account's lock is
	// released, one batch at a time (calls never overlap and keep the order of the changes). It must not call the
	// Account: everything it needs is in the events.
	OnEvents func([]Event)
}

// Status is an order's state.
type Status int

// The order states. Canceled is by request; Expired is the remainder of an IOC or market order, or a reduce-only
// order with nothing left to reduce.
const (
	New Status = iota
	PartiallyFilled
	Filled
	Canceled
	Expired
)

// Open reports whether an order in state s may still execute.
func (s Status) Open() bool { return s == New || s == PartiallyFilled }

// Request is an order to place.
type Request struct {
	ClientID string
	Symbol   string
	Side     market.Side
	Qty      decimal.Decimal // base units
	Price    decimal.Decimal // limit price; zero for a market order
	Rest     bool            // a GTC limit order: the remainder rests and the sweep re-checks it
	// PostOnly (with Rest) never takes liquidity: a price that would cross the book (WouldTake) is refused or ends
	// the order (Config.RefuseWouldTake); one that does not rests without being matched, and fills as maker.
	PostOnly   bool
	ReduceOnly bool
}

// Ref names an order: by its sequence number, by its client id (the latest order with it), or by both (the order
// with that sequence number, which must also carry that client id). The zero Ref names no order.
type Ref struct {
	Seq      int64
	ClientID string
}

// Order is the account's record of an accepted order.
type Order struct {
	Seq      int64 // 1, 2, …, in acceptance order; the protocol mock derives its order id from it
	ClientID string
	Symbol   string
	Side     market.Side
	Price    decimal.Decimal // zero for market
	Rest     bool
	PostOnly bool
	// WouldTake says the venue ended this post-only order because its price would have taken liquidity, when
	// placed (Expired) or amended (Canceled); nothing of it executed then.
	WouldTake  bool
	ReduceOnly bool
	Qty        decimal.Decimal
	Filled     decimal.Decimal
	Notional   decimal.Decimal // Σ price × quantity of the fills
	Fees       decimal.Decimal // Σ fees, positive is a cost
	Status     Status
	Created    time.Time
	Updated    time.Time
}

// Open reports whether o may still execute.
func (o *Order) Open() bool { return o.Status.Open() }

// Remaining is the quantity not yet filled.
func (o *Order) Remaining() decimal.Decimal { return o.Qty.Sub(o.Filled) }

// Market reports whether o is a market order.
func (o *Order) Market() bool { return o.Price.IsZero() }

// AvgPrice is the average fill price, zero before any fill.
func (o *Order) AvgPrice() decimal.Decimal {
	if o.Filled.IsZero() {
		return decimal.Zero
	}
	return o.Notional.Div(o.Filled)
}

func (o *Order) sign() int {
	if o.Side == market.Sell {
		return -1
	}
	return 1
}

// Fill is one execution.
type Fill struct {
	Seq        int64 // 1, 2, …; the protocol mock derives its trade id from it
	Order      Order // the order after this fill
	Price, Qty decimal.Decimal
	Fee        decimal.Decimal // positive is a cost
	FeeRate    decimal.Decimal
	Realized   decimal.Decimal // realized PnL of the closed part
	Closed     decimal.Decimal // quantity of the position this fill closed
	Maker      bool
	Time       time.Time
}

// Position is the signed position in one symbol.
type Position struct {
	Symbol   string
	Qty      decimal.Decimal // signed, base units
	Entry    decimal.Decimal
	Realized decimal.Decimal // Σ realized PnL, fees excluded
	Fees     decimal.Decimal // Σ fees
	Created  time.Time       // first touched
	Updated  time.Time
}

// EventKind says what an Event reports.
type EventKind int

// The events. Accepted, Executed, Ended and Amended carry the order; Executed the fill too; Executed and
// PositionSet the position and wallet after the change.
const (
	Accepted EventKind = iota
	Executed
	Ended
	PositionSet
	Amended
)

// Event is one state change, as a snapshot: reading it never races with later changes.
type Event struct {
	Kind     EventKind
	Order    Order
	Fill     Fill
	Position Position
	Wallet   decimal.Decimal
}

// Account is a venue's one account: orders, fills, positions and the wallet, trading against the book.
type Account struct {
	cfg       Config
	takerRate decimal.Decimal
	makerRate decimal.Decimal
	leverage  decimal.Decimal

	pub sync.Mutex // orders the OnEvents calls; taken before mu is released

	mu        sync.Mutex
	orders    []*Order          // every accepted order; orders[i].Seq == i+1
	byClient  map[string]*Order // the latest order with each client id
	open      []*Order          // the open orders, in matching priority (the sweep's order)
	fills     []Fill            // fills[i].Seq == i+1
	fillsOf   map[int64][]int   // indexes into fills, by order Seq
	positions map[string]*Position
	wallet    decimal.Decimal
	pending   []Event
	makers    map[string]*market.Maker // by symbol; nil for a book that is not a Queue
	makerSyms []string                 // the symbols of makers, in first-use order (Sweep pulls in it)
}

// NewAccount builds an account.
func NewAccount(cfg Config) *Account {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	bps := decimal.NewFromInt(10000)
	return &Account{cfg: cfg, positions: map[string]*Position{}, wallet: cfg.Balance, byClient: map[string]*Order{},
		fillsOf:   map[int64][]int{},
		takerRate: decimal.NewFromFloat(cfg.TakerFeeBps).Div(bps), makerRate: decimal.NewFromFloat(cfg.MakerFeeBps).Div(bps),
		leverage: decimal.NewFromInt(int64(cfg.Leverage)), makers: map[string]*market.Maker{}}
}

func (a *Account) now() time.Time { return a.cfg.Clock.Now() }

// book is symbol's book: its own in Config.Books, else Config.Book.
func (a *Account) book(symbol string) Book {
	if b, ok := a.cfg.Books[symbol]; ok {
		return b
	}
	return a.cfg.Book
}

func (a *Account) lot(symbol string) decimal.Decimal {
	if l, ok := a.cfg.Lots[symbol]; ok {
		return l
	}
	return a.cfg.Lot
}

func (a *Account) minNotional(symbol string) decimal.Decimal {
	if m, ok := a.cfg.MinNotionals[symbol]; ok {
		return m
	}
	return a.cfg.MinNotional
}

// unlock releases mu and hands the events collected under it to OnEvents, in order with every other change.
func (a *Account) unlock() {
	ev := a.pending
	a.pending = nil
	if len(ev) == 0 || a.cfg.OnEvents == nil {
		a.mu.Unlock()
		return
	}
	a.pub.Lock()
	a.mu.Unlock()
	defer a.pub.Unlock()
	a.cfg.OnEvents(ev)
}

func (a *Account) emit(e Event) { a.pending = append(a.pending, e) }

// pos is the position in symbol, created on first use. Called with a.mu held.
func (a *Account) pos(symbol string) *Position {
	p, ok := a.positions[symbol]
	if !ok {
		p = &Position{Symbol: symbol, Created: a.now()}
		a.positions[symbol] = p
	}
	return p
}

// Place validates o against the account (client id, reduce-only, minimum notional, margin), accepts it, executes
// it against the book and ends what may not rest. It returns the order as accepted and as it stands after matching.
func (a *Account) Place(r Request) (accepted, final Order, err error) {
	ref := r.Price
	mark := a.book(r.Symbol).Quote().Mark
	if r.Price.IsZero() {
		ref = mark
	}
	sign := 1
	if r.Side == market.Sell {
		sign = -1
	}
	a.mu.Lock()
	defer a.unlock()
	a.pull(r.Symbol)
	// Without UniqueClientIDs at most one order with a client id is open at a time, and it is the latest with it.
	if o := a.byClient[r.ClientID]; r.ClientID != "" && o != nil && (a.cfg.UniqueClientIDs || o.Open()) {
		return Order{}, Order{}, ErrDuplicate
	}
	p := a.pos(r.Symbol)
	if r.ReduceOnly {
		if p.Qty.IsZero() || p.Qty.Sign() == sign {
			return Order{}, Order{}, ErrReduceOnly
		}
	} else {
		if r.Qty.Mul(ref).LessThan(a.minNotional(r.Symbol)) {
			return Order{}, Order{}, ErrMinNotional
		}
		if !a.marginFor(p, sign, r.Qty, ref, mark, nil) {
			return Order{}, Order{}, ErrInsufficientMargin
		}
	}
	postOnly := r.PostOnly && r.Rest && r.Price.IsPositive()
	crosses := postOnly && a.WouldTake(r.Symbol, r.Side, r.Price)
	if crosses && a.cfg.RefuseWouldTake {
		return Order{}, Order{}, ErrWouldTake
	}
	now := a.now()
	o := &Order{Seq: int64(len(a.orders)) + 1, ClientID: r.ClientID, Symbol: r.Symbol, Side: r.Side, Price: r.Price,
		Rest: r.Rest, PostOnly: postOnly, ReduceOnly: r.ReduceOnly, Qty: r.Qty, Status: New, Created: now, Updated: now}
	a.orders = append(a.orders, o)
	a.open = append(a.open, o)
	if r.ClientID != "" {
		a.byClient[r.ClientID] = o
	}
	accepted = *o
	a.emit(Event{Kind: Accepted, Order: *o})
	switch {
	case crosses:
		o.WouldTake = true
		a.end(o, Expired)
		return accepted, *o, nil
	case !postOnly: // a post-only order that does not cross has nothing to take
		a.match(o, false)
	}
	if o.Open() && (!o.Rest || o.ReduceOnly && a.reducible(o).IsZero()) {
		a.end(o, Expired)
	}
	a.queue(o, true)
	return accepted, *o, nil
}

// WouldTake reports whether a limit order of side at price would take liquidity from symbol's book now: a buy at or
// above the best ask, a sell at or below the best bid.
func (a *Account) WouldTake(symbol string, side market.Side, price decimal.Decimal) bool {
	q := a.book(symbol).Quote()
	if side == market.Sell {
		return !price.GreaterThan(q.Bid)
	}
	return !price.LessThan(q.Ask)
}

// marginFor reports whether the wallet covers the initial margin of qty more on side sign at price ref: the part
// that opens exposure against position p, on top of the margin of the position (at mark) and of the open orders
// other than except. Called with a.mu held.
func (a *Account) marginFor(p *Position, sign int, qty, ref, mark decimal.Decimal, except *Order) bool {
	opening := qty
	if p.Qty.Sign() == -sign {
		opening = decimal.Max(decimal.Zero, qty.Sub(p.Qty.Abs()))
	}
	used := p.Qty.Abs().Mul(mark)
	for _, o := range a.open {
		if !o.ReduceOnly && o != except {
			used = used.Add(o.Remaining().Mul(o.Price))
		}
	}
	return !opening.Mul(ref).Add(used).Div(a.leverage).GreaterThan(a.wallet)
}

// Amend is a change to an open order.
type Amend struct {
	Ref   Ref
	Qty   decimal.Decimal // the new total quantity, what has filled included; zero: unchanged
	Price decimal.Decimal // the new limit price; zero: unchanged
	// CancelAtOrBelowFilled cancels the order when Qty is not above its filled quantity (Binance); otherwise that
	// is ErrBelowFilled.
	CancelAtOrBelowFilled bool
	// RefuseWouldTake refuses a new price that would make a post-only order take liquidity with ErrWouldTake, the
	// order left as it was (OKX 51511); otherwise the amendment cancels the order, WouldTake set (Binance's modify
	// does so for a GTX order repriced through the book).
	RefuseWouldTake bool
}

// Amend changes an open limit order's quantity and price in place: ErrNotFound if there is no such order,
// ErrNotOpen (with the order) if it has ended, ErrBelowFilled (with the order) for a quantity not above what has
// filled, ErrInsufficientMargin if the wallet does not cover the larger order. The order keeps its ids; a price
// change or a larger quantity (every change, with Config.AmendRequeues) puts it at the back of the matching order;
// a new price that crosses the book executes at once, as taker, unless the order is post-only: then the amendment
// is refused (ErrWouldTake) or cancels the order (Amend.RefuseWouldTake). It returns the order after the change.
func (a *Account) Amend(r Amend) (Order, error) {
	a.mu.Lock()
	defer a.unlock()
	o := a.lookup(r.Ref)
	if o != nil {
		a.pull(o.Symbol)
	}
	switch {
	case o == nil:
		return Order{}, ErrNotFound
	case !o.Open():
		return *o, ErrNotOpen
	}
	mark := a.book(o.Symbol).Quote().Mark // the market's lock under the account's, as matching takes them
	qty, price := o.Qty, o.Price
	if !r.Qty.IsZero() {
		qty = r.Qty
	}
	if !r.Price.IsZero() {
		price = r.Price
	}
	if !qty.GreaterThan(o.Filled) {
		if !r.CancelAtOrBelowFilled {
			return *o, ErrBelowFilled
		}
		a.end(o, Canceled)
		return *o, nil
	}
	// Only a new price is checked: a resting order the book has moved through since the last sweep is the maker of
	// that trade, and the match below fills it so.
	if o.PostOnly && !price.Equal(o.Price) && a.WouldTake(o.Symbol, o.Side, price) {
		if r.RefuseWouldTake {
			return *o, ErrWouldTake
		}
		o.WouldTake = true
		a.end(o, Canceled)
		return *o, nil
	}
	if !o.ReduceOnly && !a.marginFor(a.pos(o.Symbol), o.sign(), qty.Sub(o.Filled), price, mark, o) {
		return *o, ErrInsufficientMargin
	}
	requeue := a.cfg.AmendRequeues || !price.Equal(o.Price) || qty.GreaterThan(o.Qty)
	if requeue {
		a.closed(o)
		a.open = append(a.open, o)
	}
	o.Qty, o.Price, o.Updated = qty, price, a.now()
	a.emit(Event{Kind: Amended, Order: *o})
	a.match(o, o.PostOnly)
	if o.Open() && o.ReduceOnly && a.reducible(o).IsZero() {
		a.end(o, Expired)
	}
	a.queue(o, requeue)
	return *o, nil
}

// Cancel cancels the order ref names; ErrNotFound if there is none or it is no longer open.
func (a *Account) Cancel(ref Ref) (Order, error) {
	a.mu.Lock()
	defer a.unlock()
	o := a.lookup(ref)
	if o != nil {
		a.pull(o.Symbol) // a fill the flow made before the cancel stands
	}
	if o == nil || !o.Open() {
		return Order{}, ErrNotFound
	}
	a.end(o, Canceled)
	return *o, nil
}

// FillResting is another participant's order taking qty (zero: all that is left) of the open resting limit order ref
// names, at the order's price, the order the maker: a control for tests of a fill the venue's book did not cause
// (one that races a cancel or an amendment). A reduce-only order fills at most the opposite position. ErrNotFound if
// there is no such order, ErrNotOpen (with the order) if it has ended or does not rest. It returns the order after
// the fill.
func (a *Account) FillResting(ref Ref, qty decimal.Decimal) (Order, error) {
	a.mu.Lock()
	defer a.unlock()
	o := a.lookup(ref)
	if o != nil {
		a.pull(o.Symbol)
	}
	switch {
	case o == nil:
		return Order{}, ErrNotFound
	case !o.Open() || !o.Rest || o.Market():
		return *o, ErrNotOpen
	}
	want := o.Remaining()
	if o.ReduceOnly {
		want = a.reducible(o)
	}
	if qty.IsPositive() {
		want = decimal.Min(want, qty)
	}
	if want.IsPositive() {
		a.fill(o, o.Price, want, true)
	}
	return *o, nil
}

// Find is the order ref names.
func (a *Account) Find(ref Ref) (Order, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if o := a.lookup(ref); o != nil {
		return *o, true
	}
	return Order{}, false
}

// lookup is the order ref names, nil if none: an index read, never a scan. Called with a.mu held.
func (a *Account) lookup(ref Ref) *Order {
	if ref.Seq == 0 {
		if ref.ClientID == "" {
			return nil
		}
		return a.byClient[ref.ClientID]
	}
	if ref.Seq < 0 || ref.Seq > int64(len(a.orders)) {
		return nil
	}
	o := a.orders[ref.Seq-1]
	if ref.ClientID != "" && o.ClientID != ref.ClientID {
		return nil
	}
	return o
}

// OpenOrders is every open order, in acceptance order.
func (a *Account) OpenOrders() []Order {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Order, len(a.open))
	for i, o := range a.open {
		out[i] = *o
	}
	slices.SortFunc(out, func(x, y Order) int { return cmp.Compare(x.Seq, y.Seq) })
	return out
}

// OrderFills is every execution of the order with sequence number seq, oldest first.
func (a *Account) OrderFills(seq int64) []Fill {
	a.mu.Lock()
	defer a.mu.Unlock()
	idx := a.fillsOf[seq]
	out := make([]Fill, len(idx))
	for i, j := range idx {
		out[i] = a.fills[j]
	}
	return out
}

// LastFill is the latest execution of the order with sequence number seq, if it has one.
func (a *Account) LastFill(seq int64) (Fill, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	idx := a.fillsOf[seq]
	if len(idx) == 0 {
		return Fill{}, false
	}
	return a.fills[idx[len(idx)-1]], true
}

// Recent is up to n orders, newest first, after skipping the skip newest; more reports whether older ones remain.
func (a *Account) Recent(skip, n int) (orders []Order, more bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	hi := len(a.orders) - max(skip, 0)
	lo := max(hi-max(n, 0), 0)
	for i := hi - 1; i >= lo; i-- {
		orders = append(orders, *a.orders[i])
	}
	return orders, lo > 0
}

// Sweep books the fills the queues' background flow has made of resting orders (Queue), re-checks every resting
// order against the book, and ends reduce-only orders with nothing left to reduce.
func (a *Account) Sweep() {
	a.mu.Lock()
	defer a.unlock()
	for _, sym := range a.makerSyms {
		a.pull(sym)
	}
	for _, o := range slices.Clone(a.open) { // matching may close orders, which leave a.open
		if !o.Open() || !o.Rest {
			continue
		}
		a.match(o, true)
		if o.Open() && o.ReduceOnly && a.reducible(o).IsZero() {
			a.end(o, Expired)
		}
	}
}

// reducible is how much of a reduce-only order may still execute: at most the opposite position.
func (a *Account) reducible(o *Order) decimal.Decimal {
	p := a.pos(o.Symbol).Qty
	if p.IsZero() || p.Sign() == o.sign() {
		return decimal.Zero
	}
	return decimal.Min(o.Remaining(), p.Abs())
}

// match takes liquidity for o from the book at its limit (none for market). Called with a.mu held.
func (a *Account) match(o *Order, maker bool) {
	want := o.Remaining()
	if o.ReduceOnly {
		want = a.reducible(o)
	}
	if !want.IsPositive() {
		return
	}
	lot := a.lot(o.Symbol)
	book := a.book(o.Symbol)
	take := book.Take
	if rt, ok := book.(restingTaker); ok && maker {
		take = rt.TakeResting
	}
	for _, ex := range take(o.Side, want, o.Price) {
		if !ex.Qty.IsPositive() {
			continue
		}
		if !lot.IsZero() && !ex.Qty.Mod(lot).IsZero() {
			a.cfg.Logger.Error("mock exchange: book execution is off the lot grid; configure the market venue's LotSize",
				zap.String("symbol", o.Symbol), zap.String("qty", ex.Qty.String()), zap.String("lot", lot.String()))
			continue
		}
		a.fill(o, ex.Price, ex.Qty, maker)
	}
}

// fill books one execution: fill, order, position, wallet and the event. Called with a.mu held.
func (a *Account) fill(o *Order, price, qty decimal.Decimal, maker bool) {
	rate := a.takerRate
	if maker {
		rate = a.makerRate
	}
	fee := price.Mul(qty).Mul(rate).Round(8)
	p := a.pos(o.Symbol)
	signed := qty
	if o.sign() < 0 {
		signed = qty.Neg()
	}
	realized, closed := decimal.Zero, decimal.Zero
	switch {
	case p.Qty.IsZero() || p.Qty.Sign() == signed.Sign():
		total := p.Qty.Abs().Add(qty)
		p.Entry = p.Entry.Mul(p.Qty.Abs()).Add(price.Mul(qty)).Div(total).Round(8)
		p.Qty = p.Qty.Add(signed)
	default:
		closed = decimal.Min(qty, p.Qty.Abs())
		realized = price.Sub(p.Entry).Mul(closed).Mul(decimal.NewFromInt(int64(p.Qty.Sign()))).Round(8)
		p.Qty = p.Qty.Add(signed)
		switch {
		case p.Qty.IsZero():
			p.Entry = decimal.Zero
		case p.Qty.Sign() == signed.Sign():
			p.Entry = price
		}
	}
	now := a.now()
	p.Realized = p.Realized.Add(realized)
	p.Fees = p.Fees.Add(fee)
	p.Updated = now
	a.wallet = a.wallet.Add(realized).Sub(fee)
	o.Filled = o.Filled.Add(qty)
	o.Notional = o.Notional.Add(price.Mul(qty))
	o.Fees = o.Fees.Add(fee)
	o.Updated = now
	o.Status = PartiallyFilled
	if !o.Remaining().IsPositive() {
		o.Status = Filled
		a.closed(o)
	}
	f := Fill{Seq: int64(len(a.fills)) + 1, Order: *o, Price: price, Qty: qty, Fee: fee, FeeRate: rate,
		Realized: realized, Closed: closed, Maker: maker, Time: now}
	a.fillsOf[o.Seq] = append(a.fillsOf[o.Seq], len(a.fills))
	a.fills = append(a.fills, f)
	a.emit(Event{Kind: Executed, Order: *o, Fill: f, Position: *p, Wallet: a.wallet})
	a.queue(o, false)
}

// end ends an open order as Canceled or Expired. Called with a.mu held.
func (a *Account) end(o *Order, s Status) {
	o.Status, o.Updated = s, a.now()
	a.closed(o)
	a.emit(Event{Kind: Ended, Order: *o})
	a.queue(o, false)
}

// maker is the participant the account is on symbol's book, nil if the book is not a Queue. Called with a.mu held.
func (a *Account) maker(symbol string) *market.Maker {
	mk, ok := a.makers[symbol]
	if !ok {
		if q, isQ := a.book(symbol).(Queue); isQ {
			mk = q.NewMaker()
		}
		a.makers[symbol] = mk
		a.makerSyms = append(a.makerSyms, symbol)
	}
	return mk
}

// queue tells symbol's Queue where o stands: an open resting order rests there (joining the back of the queue at its
// price when requeue is set, keeping its place with what is left otherwise), any other leaves it. Called with a.mu
// held, after every change of a resting order.
func (a *Account) queue(o *Order, requeue bool) {
	if !o.Rest || o.Market() {
		return
	}
	mk := a.maker(o.Symbol)
	switch {
	case mk == nil:
	case !o.Open():
		mk.Cancel(o.Seq)
	case requeue:
		mk.Rest(o.Seq, o.Side, o.Price, o.Remaining())
	default:
		mk.Resize(o.Seq, o.Remaining())
	}
}

// pull books the fills symbol's Queue has made of the account's resting orders since the last pull, as maker at the
// order's price: at most what is left of the order (for a reduce-only order, what still reduces the position); a
// fill of an order that has ended meanwhile is dropped. Called with a.mu held.
func (a *Account) pull(symbol string) {
	mk := a.maker(symbol)
	if mk == nil {
		return
	}
	for _, f := range mk.Drain() {
		if f.ID < 1 || f.ID > int64(len(a.orders)) {
			continue
		}
		o := a.orders[f.ID-1]
		if !o.Open() || !o.Rest || o.Market() {
			continue
		}
		want := o.Remaining()
		if o.ReduceOnly {
			want = a.reducible(o)
		}
		if qty := decimal.Min(want, f.Qty); qty.IsPositive() {
			a.fill(o, o.Price, qty, true)
		} else {
			a.queue(o, false) // what the queue holds is what is left
		}
	}
}

// closed removes o, no longer open, from the open orders. Called with a.mu held.
func (a *Account) closed(o *Order) {
	if i := slices.Index(a.open, o); i >= 0 {
		a.open = slices.Delete(a.open, i, i+1)
	}
}

// SetPosition sets the signed position and entry price in symbol, for scenario setup.
func (a *Account) SetPosition(symbol string, qty, entry decimal.Decimal) {
	a.mu.Lock()
	defer a.unlock()
	p := a.pos(symbol)
	p.Qty, p.Entry, p.Updated = qty, entry, a.now()
	a.emit(Event{Kind: PositionSet, Position: *p, Wallet: a.wallet})
}

// Position is the position in symbol (created, flat, on first use) and the wallet.
func (a *Account) Position(symbol string) (Position, decimal.Decimal) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return *a.pos(symbol), a.wallet
}

// Qty is the signed position in symbol.
func (a *Account) Qty(symbol string) decimal.Decimal {
	p, _ := a.Position(symbol)
	return p.Qty
}

// Positions is every position the account has touched, in no particular order.
func (a *Account) Positions() []Position {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Position, 0, len(a.positions))
	for _, p := range a.positions {
		out = append(out, *p)
	}
	return out
}

// Wallet is the wallet balance: the starting balance plus realized PnL less fees.
func (a *Account) Wallet() decimal.Decimal {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.wallet
}

// Orders is every accepted order, in acceptance order.
func (a *Account) Orders() []Order {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Order, len(a.orders))
	for i, o := range a.orders {
		out[i] = *o
	}
	return out
}

// Fills is every execution, oldest first.
func (a *Account) Fills() []Fill {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Fill(nil), a.fills...)
}

// Serialize runs f in order with the OnEvents calls: a push f makes (say a subscription ack) precedes or follows
// every event batch, never interleaves with one.
func (a *Account) Serialize(f func()) {
	a.pub.Lock()
	defer a.pub.Unlock()
	f()
}

// Venue is the whole of a simulated-market venue a protocol mock serves: the Book the account trades against and the
// public market data; *market.Venue satisfies it.
type Venue interface {
	Book
	Depth(levels int) (bids, asks []market.Level)
	Volume24h() market.Volume
	Trades(n int) []market.PublicTrade
}

// Settings points at the venue-neutral fields of a protocol mock's Config, for Defaults.
type Settings struct {
	Mock            string // "binance mock", for the errors
	HasBook         bool
	HasCredentials  bool
	Credentials     string // what is required, e.g. "API key and secret"
	Balance         *decimal.Decimal
	Leverage        *int
	DefaultLeverage int
	Clock           *clock.Clock
	MatchInterval   *time.Duration
	Logger          **zap.Logger
}

// Defaults checks the book and the credentials and fills the zero settings: balance 1,000,000, the venue's default
// leverage, the wall clock, a 50ms sweep and a no-op logger.
func (s Settings) Defaults() error {
	if !s.HasBook {
		return errors.New(s.Mock + ": no book")
	}
	if !s.HasCredentials {
		return errors.New(s.Mock + ": " + s.Credentials + " are required")
	}
	Default(s.Balance, "1000000")
	if *s.Leverage <= 0 {
		*s.Leverage = s.DefaultLeverage
	}
	if *s.Clock == nil {
		*s.Clock = clock.Real{}
	}
	if *s.MatchInterval <= 0 {
		*s.MatchInterval = 50 * time.Millisecond
	}
	if *s.Logger == nil {
		*s.Logger = zap.NewNop()
	}
	return nil
}

// Default sets *d to s when it is zero.
func Default(d *decimal.Decimal, s string) {
	if d.IsZero() {
		*d = decimal.RequireFromString(s)
	}
}

// OnGrid reports whether v is a whole multiple of step.
func OnGrid(v, step decimal.Decimal) bool { return v.Mod(step).IsZero() }

// Convert renders each of xs with f: engine orders as a protocol's records, book levels as its rows.
func Convert[S, T any](xs []S, f func(*S) T) []T {
	out := make([]T, 0, len(xs))
	for i := range xs {
		out = append(out, f(&xs[i]))
	}
	return out
}

// Reject is the protocol's answer to a Place or Cancel error: the answer codes gives its sentinel, else other.
func Reject[E any](err error, codes map[error]E, other E) E {
	for sentinel, e := range codes {
		if errors.Is(err, sentinel) {
			return e
		}
	}
	return other
}
