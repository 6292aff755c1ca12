// Package instcache is the TTL'd instrument cache every adapter keeps: per canonical instrument the venue's entry
// (rules, contract terms) and the map from venue symbol back to canonical instrument, reloaded as a whole from the
// venue's instrument list when stale. Safe for concurrent use.
package instcache

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
)

// DefaultTTL is the age after which the cache reloads.
const DefaultTTL = 5 * time.Minute

// Set is one load of the venue's instrument list.
type Set[T any] struct {
	ByInstrument map[string]T      // canonical instrument → entry
	ByVenue      map[string]string // venue symbol → canonical instrument
}

// NewSet returns an empty set to fill.
func NewSet[T any]() Set[T] {
	return Set[T]{ByInstrument: map[string]T{}, ByVenue: map[string]string{}}
}

// Add records an entry under its canonical instrument and venue symbol.
func (s Set[T]) Add(instrument, venueSymbol string, entry T) {
	s.ByInstrument[instrument], s.ByVenue[venueSymbol] = entry, instrument
}

// Cache holds the latest Set and its age.
type Cache[T any] struct {
	// Load fetches the venue's instrument list for the operation op. Its error is returned as it is.
	Load func(ctx context.Context, op string) (Set[T], error)
	// TTL is the age after which Lookup and Ensure reload (DefaultTTL when zero).
	TTL time.Duration
	// Log and What name the warning logged when a refresh fails but a cached entry is served ("<What> refresh
	// failed").
	Log  *zap.Logger
	What string

	mu       sync.Mutex
	set      Set[T]
	loaded   bool
	loadedAt time.Time
}

func (c *Cache[T]) ttl() time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return DefaultTTL
}

// Lookup returns the entry of a canonical instrument, reloading when the cache is stale. When a reload fails and
// an entry is cached, that entry is served (and a warning logged): trading goes on with the cached rules. listed is
// false when the instrument is not in a successful load.
func (c *Cache[T]) Lookup(ctx context.Context, op, instrument string) (entry T, listed bool, err error) {
	c.mu.Lock()
	entry, ok := c.set.ByInstrument[instrument]
	fresh := time.Since(c.loadedAt) < c.ttl()
	c.mu.Unlock()
	if ok && fresh {
		return entry, true, nil
	}
	if err := c.Refresh(ctx, op); err != nil {
		if ok {
			if c.Log != nil {
				c.Log.Warn(c.What+" refresh failed", zap.Error(err))
			}
			return entry, true, nil
		}
		var zero T
		return zero, false, err
	}
	c.mu.Lock()
	entry, ok = c.set.ByInstrument[instrument]
	c.mu.Unlock()
	return entry, ok, nil
}

// Refresh loads the instrument list now and replaces the cache on success.
func (c *Cache[T]) Refresh(ctx context.Context, op string) error {
	set, err := c.Load(ctx, op)
	if err != nil {
		return err
	}
	c.Store(set)
	return nil
}

// Store replaces the cache with set, loaded now.
func (c *Cache[T]) Store(set Set[T]) {
	c.mu.Lock()
	c.set, c.loaded, c.loadedAt = set, true, time.Now()
	c.mu.Unlock()
}

// Ensure reloads unless a load younger than the TTL is cached.
func (c *Cache[T]) Ensure(ctx context.Context, op string) error {
	c.mu.Lock()
	fresh := c.loaded && time.Since(c.loadedAt) < c.ttl()
	c.mu.Unlock()
	if fresh {
		return nil
	}
	return c.Refresh(ctx, op)
}

// EnsureLoaded loads unless a load has already succeeded, however old (for symbol maps a decoder needs).
func (c *Cache[T]) EnsureLoaded(ctx context.Context, op string) error {
	if c.Loaded() {
		return nil
	}
	return c.Refresh(ctx, op)
}

// Loaded reports whether any load has succeeded.
func (c *Cache[T]) Loaded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loaded
}

// Instrument maps a venue symbol to its canonical instrument, if known.
func (c *Cache[T]) Instrument(venueSymbol string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	inst, ok := c.set.ByVenue[venueSymbol]
	return inst, ok
}

// ByVenue maps a venue symbol to its entry, if known.
func (c *Cache[T]) ByVenue(venueSymbol string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	inst, ok := c.set.ByVenue[venueSymbol]
	if !ok {
		var zero T
		return zero, false
	}
	return c.set.ByInstrument[inst], true
}
