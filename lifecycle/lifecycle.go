package lifecycle

import "fmt"

// State is where a child order is in its life. The zero value is not a state.
type State string

const (
	// Intent: the child is journaled; nothing has been sent (invariant 3).
	Intent State = "intent"
	// Sent: the request is going out or has gone; no answer yet.
	Sent State = "sent"
	// Open: the venue accepted it and it may still trade (resting, or an IOC not yet ended).
	Open State = "open"
	// CancelPending: a cancel was sent for an open child; no answer yet.
	CancelPending State = "cancel_pending"
	// AmendPending: an amend (price or quantity) was sent for an open child; no answer yet.
	AmendPending State = "amend_pending"
	// Unknown: a request about the child (place, cancel or amend) may or may not have acted; it is resolved by
	// querying the venue by client order id, and nothing else is sent for the parent on that venue until then
	// (invariant 4).
	Unknown State = "unknown"

	// Final states: no more fills can come.

	// Filled: the whole quantity traded.
	Filled State = "filled"
	// Cancelled: cancelled by execd or the venue, possibly after partial fills.
	Cancelled State = "cancelled"
	// Expired: an IOC's unfilled remainder, or expired by the venue; possibly after partial fills.
	Expired State = "expired"
	// Rejected: the venue refused it; nothing traded.
	Rejected State = "rejected"
	// NotSent: it never reached the venue (refused before sending, a failure that proves nothing left, or the
	// venue's answer that it does not exist after a restart); nothing traded.
	NotSent State = "not_sent"
)

// All lists every state, in lifecycle order.
var All = [...]State{Intent, Sent, Open, CancelPending, AmendPending, Unknown, Filled, Cancelled, Expired, Rejected, NotSent}

// Parse returns the state named s, or an error.
func Parse(s string) (State, error) {
	for _, st := range All {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("child state %q: not a lifecycle state", s)
}

// Valid reports whether s is a state.
func (s State) Valid() bool {
	_, err := Parse(string(s))
	return err == nil
}

// Final reports whether no more fills can come for a child in state s.
func (s State) Final() bool {
	switch s {
	case Filled, Cancelled, Expired, Rejected, NotSent:
		return true
	}
	return false
}

// Live reports whether the child may be at the venue and may still trade: sent and not known to be final.
func (s State) Live() bool {
	switch s {
	case Sent, Open, CancelPending, AmendPending, Unknown:
		return true
	}
	return false
}

// MayHaveReached reports whether the venue may have (or have had) the order: every state but Intent and NotSent.
func (s State) MayHaveReached() bool { return s != Intent && s != NotSent && s != "" }

// moves lists the allowed transitions. A final state moves nowhere, except that any state may be corrected to a
// final state the venue reports (see CanMove).
var moves = map[State][]State{
	Intent:        {Sent, NotSent, Unknown},
	Sent:          {Open, Unknown, Filled, Cancelled, Expired, Rejected, NotSent},
	Open:          {CancelPending, AmendPending, Unknown, Filled, Cancelled, Expired, Rejected},
	CancelPending: {Open, Unknown, Filled, Cancelled, Expired},
	AmendPending:  {Open, Unknown, Filled, Cancelled, Expired, CancelPending},
	Unknown:       {Open, Filled, Cancelled, Expired, Rejected, NotSent},
}

// CanMove reports whether a child may go from one state to another. Staying in a state is allowed. A final
// state is never left: once the venue has said an order is over, nothing reopens it.
func CanMove(from, to State) bool {
	if from == to {
		return from.Valid()
	}
	for _, s := range moves[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Move returns to if the transition is allowed, or an error naming both states.
func Move(from, to State) (State, error) {
	if !CanMove(from, to) {
		return from, fmt.Errorf("child state %s → %s: not a lifecycle transition", from, to)
	}
	return to, nil
}

// Ended maps a venue's normalized final order status (venues.OrderStatus: "filled", "canceled", "expired",
// "rejected") onto the final state it means; ok is false for a status that is not final ("new",
// "partially_filled") or not known.
func Ended(status string) (st State, ok bool) {
	switch status {
	case "filled":
		return Filled, true
	case "canceled":
		return Cancelled, true
	case "expired":
		return Expired, true
	case "rejected":
		return Rejected, true
	}
	return "", false
}
