package demo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/execd-dev/execd/api"
)

// follower follows one parent order on GET /v1/events (its "order" and "report" events). If the stream drops it
// reads the order once with GET and reconnects with since set to the last event it had, so it misses nothing.
type follower struct {
	ctx    context.Context
	cancel context.CancelFunc // ends the current stream
	cl     *api.Client
	id     string
	ch     <-chan api.Event
	end    func() error
	last   uint64 // seq of the last event read
}

// maxReconnects bounds the reconnections in a row that bring no event.
const maxReconnects = 5

func newFollower(ctx context.Context, cl *api.Client, id string) (*follower, error) {
	f := &follower{ctx: ctx, cl: cl, id: id}
	if err := f.open(api.EventsRequest{}); err != nil {
		return nil, err
	}
	return f, nil
}

// open starts a stream of the parent's order and report events, after r.Since.
func (f *follower) open(r api.EventsRequest) error {
	r.Kinds, r.Key = []string{api.KindOrder, api.KindReport}, f.id
	ctx, cancel := context.WithCancel(f.ctx)
	ch, end, err := f.cl.Events(ctx, r)
	if err != nil {
		cancel()
		return err
	}
	f.ch, f.end, f.cancel = ch, end, cancel
	return nil
}

func (f *follower) stop() {
	if f.cancel != nil {
		f.cancel()
		for range f.ch {
		}
	}
}

// follow reads the parent's events, calling progress on each, until its final report. It returns the final order
// and its JSON as the API sent it.
func (f *follower) follow(cur api.Order, progress func(api.Order)) (api.Order, json.RawMessage, error) {
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
		var o api.Order
		if err := e.Decode(&o); err != nil {
			return cur, nil, err
		}
		cur = o
		progress(cur)
		if e.Type == api.KindReport || ended(o.State) {
			return cur, e.Data, nil
		}
	}
}

// resume handles a dropped stream: one GET of the order, then a new stream after the last event read (or a live
// one and a second GET, if that is no longer possible).
func (f *follower) resume(cur *api.Order) (done bool, raw json.RawMessage, err error) {
	f.cancel()
	get := func() (bool, json.RawMessage, error) {
		var b json.RawMessage
		if err := f.cl.Do(f.ctx, "GET", "/v1/orders/"+f.id, nil, &b); err != nil {
			return false, nil, err
		}
		if err := json.Unmarshal(b, cur); err != nil {
			return false, nil, fmt.Errorf("GET /v1/orders/%s: %w", f.id, err)
		}
		return ended(cur.State), b, nil
	}
	if done, raw, err := get(); err != nil || done {
		return done, raw, err
	}
	if f.last > 0 && f.open(api.EventsRequest{Since: f.last}) == nil {
		return false, nil, nil
	}
	// Nothing to resume from (or it is no longer retained): a live stream, then read the order again to cover
	// what happened in between.
	if err := f.open(api.EventsRequest{}); err != nil {
		return false, nil, err
	}
	return get()
}

// ended says whether an order in state st will not change any more.
func ended(st string) bool { return st != api.StateWorking && st != api.StateScheduled }
