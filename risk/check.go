package risk

import (
	"errors"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/execd-dev/execd/venues"
)

// State is the trading state.
type State string

const (
	Active   State = "active"   // trade normally
	Reducing State = "reducing" // only children that reduce |position|
	Halted   State = "halted"   // nothing
)

// ParseState accepts "active", "reducing" or "halted".
func ParseState(s string) (State, error) {
	switch State(s) {
	case Active, Reducing, Halted:
		return State(s), nil
	}
	return "", fmt.Errorf("trading state %q: want active, reducing or halted", s)
}

// Violation codes.
const (
	CodeHalted           = "halted"
	CodeReducing         = "reducing"
	CodeMaxChildNotional = "max_child_notional"
	CodePriceBand        = "price_band"
	CodeReduceOnly       = "reduce_only"
	CodeBadChild         = "bad_child"
)

// Violation is a failed check. Code is stable (one of the Code constants); Msg is for people.
type Violation struct {
	Code, Msg string
}

func (v *Violation) Error() string { return "risk: " + v.Code + ": " + v.Msg }

// Is matches another *Violation with the same code, so errors.Is(err, &Violation{Code: CodeHalted}) works.
func (v *Violation) Is(target error) bool {
	var t *Violation
	return errors.As(target, &t) && t.Code == v.Code
}

func violation(code, format string, args ...any) error {
	return &Violation{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Limits are the pre-trade limits.
type Limits struct {
	MaxChildNotional decimal.Decimal // zero: none
	MaxSlippageBps   int             // band around the mark a child price may not exceed; negative is invalid
}

// Child is a child order about to be sent, with the context the checks need.
type Child struct {
	Venue, Instrument string
	Side              venues.Side
	Quantity          decimal.Decimal
	Price             decimal.Decimal // limit price
	Mark              decimal.Decimal
	ReduceOnly        bool
	Position          decimal.Decimal // the venue's current signed position in the instrument (ledger)
	OpenReducing      decimal.Decimal // other open reduce-only orders on this venue/instrument, same side
}

var bps = decimal.NewFromInt(10_000)

// Check returns nil when c may be sent in state st under l, a *Violation when it may not, or a plain error when
// l or st themselves are invalid. Order: bad_child, halted, reducing, reduce_only, max_child_notional,
// price_band.
func Check(l Limits, st State, c Child) error {
	if l.MaxSlippageBps < 0 || l.MaxChildNotional.IsNegative() {
		return fmt.Errorf("risk: invalid limits: slippage %d bps, max child notional %s", l.MaxSlippageBps, l.MaxChildNotional)
	}
	switch {
	case c.Side != venues.Buy && c.Side != venues.Sell:
		return violation(CodeBadChild, "side %q", c.Side)
	case !c.Quantity.IsPositive():
		return violation(CodeBadChild, "quantity %s is not positive", c.Quantity)
	case !c.Price.IsPositive():
		return violation(CodeBadChild, "price %s is not positive", c.Price)
	case !c.Mark.IsPositive():
		return violation(CodeBadChild, "mark %s is not positive", c.Mark)
	case c.OpenReducing.IsNegative():
		return violation(CodeBadChild, "open reduce-only quantity %s is negative", c.OpenReducing)
	}
	switch st {
	case Active:
	case Halted:
		return violation(CodeHalted, "trading is halted")
	case Reducing:
		if why := reduces(c); why != "" {
			return violation(CodeReducing, "trading is reducing only: %s", why)
		}
	default:
		return fmt.Errorf("risk: unknown trading state %q", st)
	}
	if c.ReduceOnly {
		if why := reduces(c); why != "" {
			return violation(CodeReduceOnly, "%s", why)
		}
	}
	notional := c.Quantity.Mul(c.Price)
	if l.MaxChildNotional.IsPositive() && notional.Cmp(l.MaxChildNotional) > 0 {
		return violation(CodeMaxChildNotional, "notional %s above %s", notional, l.MaxChildNotional)
	}
	band := c.Mark.Mul(decimal.NewFromInt(int64(l.MaxSlippageBps))).Div(bps)
	if c.Side == venues.Buy {
		if hi := c.Mark.Add(band); c.Price.Cmp(hi) > 0 {
			return violation(CodePriceBand, "buy at %s above %s (mark %s + %d bps)", c.Price, hi, c.Mark, l.MaxSlippageBps)
		}
	} else if lo := c.Mark.Sub(band); c.Price.Cmp(lo) < 0 {
		return violation(CodePriceBand, "sell at %s below %s (mark %s − %d bps)", c.Price, lo, c.Mark, l.MaxSlippageBps)
	}
	return nil
}

// reduces says why c would not reduce |position| ("" when it does): it must trade against the position's
// sign, and with the other open reduce-only orders not exceed it.
func reduces(c Child) string {
	switch {
	case c.Position.IsZero():
		return "no position to reduce"
	case c.Position.IsPositive() == (c.Side == venues.Buy):
		return fmt.Sprintf("%s would grow position %s", c.Side, c.Position)
	}
	if tot := c.Quantity.Add(c.OpenReducing); tot.Cmp(c.Position.Abs()) > 0 {
		return fmt.Sprintf("%s plus open reduce-only %s exceeds |position| %s", c.Quantity, c.OpenReducing, c.Position.Abs())
	}
	return ""
}
