package okx

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// Instrument is a USDT swap the mock lists beside Config.InstID, with its own book and contract terms (all required).
type Instrument struct {
	InstID                      string
	Book                        Book
	CtVal, LotSz, MinSz, TickSz decimal.Decimal
}

// contracts converts a base quantity of in (BTC for BTC-USDT-SWAP) to contracts; base converts back.
func (in *Instrument) contracts(base decimal.Decimal) decimal.Decimal { return base.Div(in.CtVal) }
func (in *Instrument) base(contracts decimal.Decimal) decimal.Decimal {
	return contracts.Mul(in.CtVal)
}

// lot is the quantity grid of in's book executions, in base units: one lot of contracts.
func (in *Instrument) lot() decimal.Decimal { return in.LotSz.Mul(in.CtVal) }

// px formats a price on in's tick grid; pxString is "" for zero (a market order's px, no fill).
func (in *Instrument) px(d decimal.Decimal) string {
	return d.StringFixed(max(0, -in.TickSz.Exponent()))
}

func (in *Instrument) pxString(d decimal.Decimal) string {
	if d.IsZero() {
		return ""
	}
	return in.px(d)
}

// underlying is in's uly and instFamily (BTC-USDT for BTC-USDT-SWAP) and ctValCcy its base currency (BTC).
func (in *Instrument) underlying() (uly, ctValCcy string) {
	uly = strings.TrimSuffix(in.InstID, "-SWAP")
	ctValCcy, _, _ = strings.Cut(uly, "-")
	return uly, ctValCcy
}

// validateMore checks Config.More against the main swap main: every entry has an instId, distinct from the others
// and from main's (case aside, as the public endpoints match instIds), a book and positive contract terms.
func validateMore(main string, more []Instrument) error {
	var errs []error
	seen := []string{strings.ToUpper(main)}
	for i := range more {
		in := &more[i]
		name := fmt.Sprintf("okx mock: More[%d] %q", i, in.InstID)
		switch up := strings.ToUpper(in.InstID); {
		case in.InstID == "":
			errs = append(errs, fmt.Errorf("okx mock: More[%d]: no instId", i))
		case up == seen[0]:
			errs = append(errs, fmt.Errorf("%s: the same instId as Config.InstID", name))
		case slices.Contains(seen, up):
			errs = append(errs, fmt.Errorf("%s: listed twice", name))
		default:
			seen = append(seen, up)
		}
		if in.Book == nil {
			errs = append(errs, fmt.Errorf("%s: no book", name))
		}
		for _, t := range []struct {
			field string
			v     decimal.Decimal
		}{{"CtVal", in.CtVal}, {"LotSz", in.LotSz}, {"MinSz", in.MinSz}, {"TickSz", in.TickSz}} {
			if !t.v.IsPositive() {
				errs = append(errs, fmt.Errorf("%s: %s must be positive, got %s", name, t.field, t.v))
			}
		}
	}
	return errors.Join(errs...)
}

// swaps is the listed instruments: Config.InstID's first, then Config.More's in order.
type swaps struct {
	list []*Instrument
	byID map[string]*Instrument
}

func newSwaps(c *Config) swaps {
	main := &Instrument{InstID: c.InstID, Book: c.Book, CtVal: c.CtVal, LotSz: c.LotSz, MinSz: c.MinSz, TickSz: c.TickSz}
	s := swaps{list: []*Instrument{main}, byID: map[string]*Instrument{main.InstID: main}}
	for i := range c.More {
		in := &c.More[i]
		s.list = append(s.list, in)
		s.byID[in.InstID] = in
	}
	return s
}

// get is the listed swap with exactly the instId id, as the trade and account endpoints match it.
func (s *swaps) get(id string) (*Instrument, bool) {
	in, ok := s.byID[id]
	return in, ok
}

// fold is the listed swap whose instId is id case aside, as the public endpoints match it.
func (s *swaps) fold(id string) (*Instrument, bool) {
	for _, in := range s.list {
		if strings.EqualFold(in.InstID, id) {
			return in, true
		}
	}
	return nil, false
}

// of is the swap of an engine symbol. Only listed swaps reach the engine (Place, SetPosition and ExternalTrade
// refuse any other), so the fallback to the main swap is never taken.
func (s *swaps) of(symbol string) *Instrument {
	if in, ok := s.byID[symbol]; ok {
		return in
	}
	return s.list[0]
}

// rank is the place of symbol among the listed swaps, for a stable listing order; unlisted ones go last.
func (s *swaps) rank(symbol string) int {
	for i, in := range s.list {
		if in.InstID == symbol {
			return i
		}
	}
	return len(s.list)
}
