package app

import (
	"context"
	"sync"
	"time"

	"github.com/execd-dev/execd/positions"
	"github.com/execd-dev/execd/venues"
)

// statsCache polls each venue's market statistics for the venues report and the ledger's marks.
type statsCache struct {
	venues      []venues.Venue
	instruments []string
	ledger      *positions.Ledger
	mu          sync.Mutex
	last        map[string]statsEntry
}

type statsEntry struct {
	venues.Stats
	err error
}

func newStatsCache(vs []venues.Venue, instruments []string, l *positions.Ledger) *statsCache {
	return &statsCache{venues: vs, instruments: instruments, ledger: l, last: map[string]statsEntry{}}
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

// poll reads the first instrument's stats per venue (the venues report) and every instrument's mark.
func (s *statsCache) poll(ctx context.Context) {
	for _, v := range s.venues {
		for i, in := range s.instruments {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			st, err := v.Stats(cctx, in)
			cancel()
			if err == nil && st.MarkPrice.IsPositive() {
				s.ledger.SetMark(positions.Key{Venue: v.Name(), Instrument: in}, st.MarkPrice)
			}
			if i == 0 && ctx.Err() == nil {
				s.mu.Lock()
				s.last[v.Name()] = statsEntry{Stats: st, err: err}
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
