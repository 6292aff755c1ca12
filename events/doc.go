// Package events is execd's in-process event bus (invariant 16 of DESIGN.md).
//
// Every change the daemon cares to tell about — a parent order's progress, a child order's state, a fill, a venue's
// health, an ops setting — is published here as an Event with a sequence number: 1, 2, 3 … assigned by Publish,
// without gaps. The bus keeps the last Options.Replay events in a ring so that a reader that lost its connection can
// resume where it stopped (SubscribeOptions.Since) and get exactly what it missed, then the live events, with no gap
// and no duplicate: the replay and the registration of the subscriber happen together under the bus's lock.
//
// Publishers are never slowed by readers. Each subscriber has a bounded channel; Publish does a non-blocking send to
// every subscriber whose Filter matches, and a subscriber whose buffer is full is dropped — its channel is closed,
// its Err is ErrSlow, and Stats.Dropped counts it — so it can reconnect with Since set to the last event it read.
// Nothing the bus calls runs under its lock except the channel sends themselves, which cannot block.
package events
