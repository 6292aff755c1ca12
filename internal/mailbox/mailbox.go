// Package mailbox is an unbounded, non-blocking queue with a wake-up channel: the inbox of an owner goroutine
// (a parent's runner, a gateway) that other goroutines must be able to write to without ever blocking on it, so
// two owners that write to each other cannot deadlock.
package mailbox

import "sync"

// Box is a FIFO of T. Put never blocks; the owner selects on Ready and then takes everything with Drain. Safe for
// concurrent use by any number of writers and one reader.
type Box[T any] struct {
	mu     sync.Mutex
	items  []T
	ready  chan struct{}
	closed bool
}

// New returns an empty box.
func New[T any]() *Box[T] { return &Box[T]{ready: make(chan struct{}, 1)} }

// Put appends v and wakes the reader. It returns false, dropping v, once the box is closed.
func (b *Box[T]) Put(v T) bool {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return false
	}
	b.items = append(b.items, v)
	b.mu.Unlock()
	select {
	case b.ready <- struct{}{}:
	default:
	}
	return true
}

// Ready is signalled after a Put; a signal may cover several items, and Drain may find none.
func (b *Box[T]) Ready() <-chan struct{} { return b.ready }

// Drain removes and returns everything queued, oldest first; buf is reused if it has room.
func (b *Box[T]) Drain(buf []T) []T {
	b.mu.Lock()
	out := append(buf[:0], b.items...)
	clear(b.items)
	b.items = b.items[:0]
	b.mu.Unlock()
	return out
}

// Close makes later Puts fail; what is queued can still be drained.
func (b *Box[T]) Close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}

// Len is the number of items queued.
func (b *Box[T]) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.items)
}
