package venues

import (
	"errors"
	"fmt"
)

// Class is what the caller may do after a venue call failed.
type Class int

const (
	// Retryable: the request was not acted on (rate limit, overload before acceptance, connection refused);
	// sending it again with the same client order id is safe.
	Retryable Class = iota + 1
	// Rejected: the venue refused the request for good (bad parameters, min notional, reduce-only, bad key).
	Rejected
	// Unknown: the request may or may not have been acted on (timeout after sending, 5xx, connection cut); the
	// outcome must be resolved by querying the venue by client order id before anything else is sent.
	Unknown
)

func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Rejected:
		return "rejected"
	case Unknown:
		return "unknown"
	}
	return "unclassified"
}

// ErrNotFound is wrapped by an Error when the venue says the order does not exist.
var ErrNotFound = errors.New("order does not exist")

// Error is a classified venue failure. Code is the venue's own error code where it gave one.
type Error struct {
	Venue  string
	Op     string // "place", "query", "cancel", "positions", ...
	Class  Class
	Status int    // HTTP status, 0 if none
	Code   string // venue error code, "" if none
	Msg    string
	Err    error // underlying error, may be nil
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s: %s", e.Venue, e.Op, e.Class)
	if e.Status != 0 {
		s += fmt.Sprintf(" (http %d)", e.Status)
	}
	if e.Code != "" {
		s += " code " + e.Code
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil && e.Msg == "" {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class of err: the Class of a wrapped *Error, Unknown for anything else that is not nil
// (an unclassified failure of an order call must be treated as possibly acted on), 0 for nil.
func ClassOf(err error) Class {
	if err == nil {
		return 0
	}
	var ve *Error
	if errors.As(err, &ve) {
		return ve.Class
	}
	return Unknown
}

// IsNotFound reports whether err says the order does not exist at the venue.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
