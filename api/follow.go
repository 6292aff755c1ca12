package api

import (
	"context"
	"encoding/json"
	"fmt"
)

// Follower follows one parent order on GET /v1/events (its "order" and "report" events). If the stream drops it
// reads the order once with GET and reconnects with since set to the last event it had, so it misses nothing.
// One goroutine uses it: NewFollower, then Follow, then Stop.
type Follower struct {
	ctx    context.Context
	cancel context.CancelFunc // ends the current stream
	cl     *Client
	id     string
	ch     <-chan Event
	end    func() error
	last   uint64 // seq of the last event read
}

// maxReconnects bounds the reconnections in a row that bring no event.
const maxReconnects = 5

// NewFollower opens the stream of parent id's events (before the order exists, if it is to be submitted next, so
// that nothing is missed).
func NewFollower(ctx context.Context, cl *Client, id string) (*Follower, error) {
	f := &Follower{ctx: ctx, cl: cl, id: id}
	if err := f.open(EventsRequest{}); err != nil {
		return nil, err
	}
	return f, nil
}

// open starts a stream of the parent's order and report events, after r.Since.
func (f *Follower) open(r EventsRequest) error {
	r.Kinds, r.Key = []string{KindOrder, KindReport}, f.id
	ctx, cancel := context.WithCancel(f.ctx)
	ch, end, err := f.cl.Events(ctx, r)
	if err != nil {
		cancel()
		return err
	}
	f.ch, f.end, f.cancel = ch, end, cancel
	return nil
}

// Stop ends the stream.
func (f *Follower) Stop() {
	if f.cancel != nil {
		f.cancel()
		for range f.ch {
		}
	}
}

// Follow reads the parent's events, calling progress on each, until its final report. It returns the final order
// and its JSON as the API sent it.
func (f *Follower) Follow(cur Order, progress func(Order)) (Order, json.RawMessage, error) {
	failures := 0
	for {
		e, ok := <-f.ch
		if !ok {
			if err := f.ctx.Err(); err != nil {
				return cur, nil, err
			}
			if failures++; failures > maxReconnects {
				return cur, nil, fmt.Errorf("following %s: the event stream keeps dropping: %w", f.id, f.end())
			}
			done, raw, err := f.resume(&cur)
			if err != nil {
				return cur, nil, err
			}
			progress(cur)
			if done {
				return cur, raw, nil
			}
			continue
		}
		failures = 0
		f.last = e.Seq
		var o Order
		if err := e.Decode(&o); err != nil {
			return cur, nil, err
		}
		cur = o
		progress(cur)
		if e.Type == KindReport || Ended(o.State) {
			return cur, e.Data, nil
		}
	}
}

// resume handles a dropped stream: one GET of the order, then a new stream after the last event read (or a live
// one and a second GET, if that is no longer possible).
func (f *Follower) resume(cur *Order) (done bool, raw json.RawMessage, err error) {
	f.cancel()
	get := func() (bool, json.RawMessage, error) {
		var b json.RawMessage
		if err := f.cl.Do(f.ctx, "GET", "/v1/orders/"+f.id, nil, &b); err != nil {
			return false, nil, err
		}
		if err := json.Unmarshal(b, cur); err != nil {
			return false, nil, fmt.Errorf("GET /v1/orders/%s: %w", f.id, err)
		}
		return Ended(cur.State), b, nil
	}
	if done, raw, err := get(); err != nil || done {
		return done, raw, err
	}
	if f.last > 0 && f.open(EventsRequest{Since: f.last}) == nil {
		return false, nil, nil
	}
	// Nothing to resume from (or it is no longer retained): a live stream, then read the order again to cover
	// what happened in between.
	if err := f.open(EventsRequest{}); err != nil {
		return false, nil, err
	}
	return get()
}

// Ended says whether an order in state st will not change any more.
func Ended(st string) bool { return st != StateWorking && st != StateScheduled }
