// Package clocksync keeps the offset between the local clock and a venue's, learned from the venue's server time
// when the venue refuses a request's timestamp.
package clocksync

import (
	"context"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/execd-dev/execd/venues/internal/httpx"
)

// Offset is the number of milliseconds the local clock is ahead of the venue's (negative: behind). The zero value
// is no offset. Safe for concurrent use.
type Offset struct{ atomic.Int64 }

// VenueTime is the best estimate of the venue's clock when the local clock reads now.
func (o *Offset) VenueTime(now time.Time) time.Time {
	return now.Add(-time.Duration(o.Load()) * time.Millisecond)
}

// Resync reads the venue's clock with serverMillis and stores the offset against the midpoint of the local clock
// (now) around the call. A failed read, or a zero server time, logs a warning and leaves the offset as it was.
func (o *Offset) Resync(ctx context.Context, log *zap.Logger, now func() time.Time, serverMillis func(context.Context) (int64, error)) {
	before := now()
	server, err := serverMillis(ctx)
	if err != nil || server == 0 {
		log.Warn("time resync failed", zap.Error(httpx.Sanitize(err)))
		return
	}
	local := before.Add(now().Sub(before) / 2).UnixMilli()
	o.Store(local - server)
	log.Info("clock offset resynced", zap.Int64("offset_ms", local-server))
}
