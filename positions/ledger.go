package positions

import (
	"fmt"
	"sort"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
)

// Key identifies a position.
type Key struct {
	Venue      string
	Instrument string
}

// Entry is a position as the ledger holds it.
type Entry struct {
	Key
	Quantity decimal.Decimal // signed base units
	Mark     decimal.Decimal // last mark price seen, zero if none
}

// Notional is quantity × mark.
func (e Entry) Notional() decimal.Decimal { return e.Quantity.Mul(e.Mark) }

// Ledger is safe for concurrent use.
type Ledger struct {
	mu     sync.Mutex
	pos    map[Key]decimal.Decimal
	marks  map[Key]decimal.Decimal
	booked map[string]struct{} // venue + "\x00" + trade id
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{
		pos:    map[Key]decimal.Decimal{},
		marks:  map[Key]decimal.Decimal{},
		booked: map[string]struct{}{},
	}
}

// Set replaces a position with the venue's own figure (at start, or by reconciliation).
func (l *Ledger) Set(k Key, qty decimal.Decimal) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pos[k] = qty
}

// Adjust moves a position by delta: an external change that reconciliation found (the venue's position
// differed from the ledger's with nothing in flight). Relative, so fills booked meanwhile are kept.
func (l *Ledger) Adjust(k Key, delta decimal.Decimal) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pos[k] = l.pos[k].Add(delta)
}

// SetMark records the latest mark price of a position's instrument at its venue.
func (l *Ledger) SetMark(k Key, mark decimal.Decimal) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.marks[k] = mark
}

// Check reports why a fill cannot be booked, or nil. Callers that record a fill elsewhere first (the journal)
// check it here before, so that a recorded fill is always bookable.
func Check(f venues.Fill) error {
	if f.Venue == "" || f.TradeID == "" || f.Instrument == "" {
		return fmt.Errorf("positions: fill without venue, trade id or instrument: %+v", f)
	}
	if !f.Quantity.IsPositive() {
		return fmt.Errorf("positions: fill %s/%s: quantity %s is not positive", f.Venue, f.TradeID, f.Quantity)
	}
	if f.Side != venues.Buy && f.Side != venues.Sell {
		return fmt.Errorf("positions: fill %s/%s: side %q", f.Venue, f.TradeID, f.Side)
	}
	return nil
}

// Book applies a fill once. It reports false (and changes nothing) if the fill's trade id was booked before, and
// an error for a fill it cannot book.
func (l *Ledger) Book(f venues.Fill) (bool, error) {
	if err := Check(f); err != nil {
		return false, err
	}
	sign := f.Side.Sign()
	id := f.Venue + "\x00" + f.TradeID
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, dup := l.booked[id]; dup {
		return false, nil
	}
	l.booked[id] = struct{}{}
	k := Key{f.Venue, f.Instrument}
	l.pos[k] = l.pos[k].Add(sign.Mul(f.Quantity))
	return true, nil
}

// MarkSeen records a trade as booked without applying it: the position it changed was read from the venue
// after the trade (recovery after a restart).
func (l *Ledger) MarkSeen(venue, tradeID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.booked[venue+"\x00"+tradeID] = struct{}{}
}

// Booked reports whether a trade id was booked.
func (l *Ledger) Booked(venue, tradeID string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.booked[venue+"\x00"+tradeID]
	return ok
}

// Position returns one position (zero if none).
func (l *Ledger) Position(k Key) decimal.Decimal {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pos[k]
}

// Snapshot returns every position, sorted by instrument then venue.
func (l *Ledger) Snapshot() []Entry {
	l.mu.Lock()
	out := make([]Entry, 0, len(l.pos))
	for k, q := range l.pos {
		out = append(out, Entry{Key: k, Quantity: q, Mark: l.marks[k]})
	}
	l.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Instrument != out[j].Instrument {
			return out[i].Instrument < out[j].Instrument
		}
		return out[i].Venue < out[j].Venue
	})
	return out
}

// Aggregate is the position in one instrument summed over venues.
type Aggregate struct {
	Instrument string
	Quantity   decimal.Decimal
	Notional   decimal.Decimal
}

// Aggregates sums a snapshot per instrument.
func Aggregates(entries []Entry) []Aggregate {
	idx := map[string]int{}
	var out []Aggregate
	for _, e := range entries {
		i, ok := idx[e.Instrument]
		if !ok {
			i = len(out)
			idx[e.Instrument] = i
			out = append(out, Aggregate{Instrument: e.Instrument})
		}
		out[i].Quantity = out[i].Quantity.Add(e.Quantity)
		out[i].Notional = out[i].Notional.Add(e.Notional())
	}
	return out
}
