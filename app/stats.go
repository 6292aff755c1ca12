package app

import (
	"context"
	"sync"
	"time"

	"github.com/execd-dev/execd/venues"
)

// statsReader reads a venue's statistics for an instrument: through the engine's gateway for that pair, so the
// read is behind the venue's breaker and refreshes the gateway's mark (which sets the ledger's).
type statsReader func(ctx context.Context, venue, instrument string) (venues.Stats, error)

// statsCache polls each venue's market statistics for the venues report.
type statsCache struct {
	venues      []string
	instruments []string
	read        statsReader
	mu          sync.Mutex
	last        map[string]statsEntry
}

type statsEntry struct {
	venues.Stats
	err error
}

func newStatsCache(names []string, instruments []string, read statsReader) *statsCache {
	return &statsCache{venues: names, instruments: instruments, read: read, last: map[string]statsEntry{}}
}

func (s *statsCache) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.poll(ctx)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// poll reads the first instrument's stats per venue (the venues report) and every instrument's (which keeps the
// marks fresh).
func (s *statsCache) poll(ctx context.Context) {
	for _, v := range s.venues {
		for i, in := range s.instruments {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			st, err := s.read(cctx, v, in)
			cancel()
			if i == 0 && ctx.Err() == nil {
				s.mu.Lock()
				s.last[v] = statsEntry{Stats: st, err: err}
				s.mu.Unlock()
			}
		}
	}
}

func (s *statsCache) snapshot() map[string]statsEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]statsEntry, len(s.last))
	for k, v := range s.last {
		out[k] = v
	}
	return out
}
