package risk

import (
	"fmt"
	"sync/atomic"
)

// Switch holds the trading state; safe for concurrent use. The zero value is Active.
type Switch struct {
	v atomic.Pointer[State]
}

// Get returns the current state.
func (s *Switch) Get() State {
	if p := s.v.Load(); p != nil {
		return *p
	}
	return Active
}

// Set changes the state. An unknown state is refused and changes nothing.
func (s *Switch) Set(st State) error {
	if _, err := ParseState(string(st)); err != nil {
		return fmt.Errorf("risk: set: %w", err)
	}
	s.v.Store(&st)
	return nil
}
