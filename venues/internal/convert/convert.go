// Package convert holds the venue-neutral parsing helpers the adapters use to read venue payloads: decimal and
// millisecond strings. Every helper returns an error for a malformed value, never a silent fallback.
package convert

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Dec reads a venue decimal string; empty or malformed is an error naming field.
func Dec(field, s string) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Zero, fmt.Errorf("%s: empty decimal", field)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, fmt.Errorf("%s %q: %w", field, s, err)
	}
	return d, nil
}

// DecOpt is Dec for a field the venue leaves empty when it is zero or not applicable; "" is zero, malformed is
// still an error.
func DecOpt(field, s string) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Zero, nil
	}
	return Dec(field, s)
}

// Millis reads a Unix-milliseconds string as a UTC time; "" is the zero time, malformed is an error.
func Millis(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: %w", field, s, err)
	}
	return time.UnixMilli(n).UTC(), nil
}

// Errs collects the errors of translating one payload, so that every bad field is reported at once.
type Errs []error

// Add records err unless it is nil.
func (e *Errs) Add(err error) {
	if err != nil {
		*e = append(*e, err)
	}
}

// Err joins the recorded errors; nil if there are none.
func (e Errs) Err() error { return errors.Join(e...) }
