package clocksync

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"
)

func TestResync(t *testing.T) {
	var o Offset
	local := time.UnixMilli(1_000_000)
	now := func() time.Time { return local }
	o.Resync(context.Background(), zap.NewNop(), now, func(context.Context) (int64, error) { return 940_000, nil })
	if o.Load() != 60_000 {
		t.Fatalf("offset %d, want 60000 (local a minute ahead)", o.Load())
	}
	if got := o.VenueTime(local).UnixMilli(); got != 940_000 {
		t.Fatalf("venue time %d", got)
	}
	o.Resync(context.Background(), zap.NewNop(), now, func(context.Context) (int64, error) { return 0, errors.New("down") })
	o.Resync(context.Background(), zap.NewNop(), now, func(context.Context) (int64, error) { return 0, nil })
	if o.Load() != 60_000 {
		t.Fatalf("a failed resync changed the offset to %d", o.Load())
	}
}
