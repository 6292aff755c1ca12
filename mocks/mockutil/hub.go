package mockutil

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// sendQueue is how many messages a connection may have queued; a connection that falls further behind is cut.
const sendQueue = 4096

// ErrHubClosed is returned by Upgrade after Close, and by WaitTagged once the hub closes.
var ErrHubClosed = errors.New("mockutil: hub closed")

// TagSubscribed is the tag a server puts on a private connection once it is subscribed to the account's pushes
// (whatever that takes on its venue: connected, logged in, subscribe answered); tests wait for it with WaitTagged.
const TagSubscribed = "subscribed"

// Hub is the set of a mock server's open websocket connections. Each connection has a writer goroutine fed by a
// queue, so Publish does not block on a slow connection (the caller keeps the order of events: the account engine
// publishes one batch at a time). The zero value is not usable; call NewHub.
type Hub struct {
	upgrader websocket.Upgrader
	wg       sync.WaitGroup
	// gate holds Publish off while a connection is upgraded: once a client has its handshake answer, the connection
	// is registered, so nothing published after that (an order the client placed on seeing it) misses it.
	gate sync.RWMutex

	mu     sync.Mutex
	conns  map[*Conn]struct{}
	closed bool
	// changed is closed, and replaced, whenever a connection is added or removed, a connection is tagged, or the
	// hub closes: WaitTagged waits on it instead of polling.
	changed chan struct{}
}

// NewHub returns an empty hub that accepts connections from any origin.
func NewHub() *Hub {
	return &Hub{conns: map[*Conn]struct{}{}, changed: make(chan struct{}),
		upgrader: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}}
}

// Conn is one websocket connection of a Hub, with a set of tags the server uses to route messages (a listen key,
// "auth", a subscribed topic).
type Conn struct {
	hub  *Hub
	ws   *websocket.Conn
	send chan []byte
	once sync.Once

	mu    sync.Mutex
	tags  map[string]bool
	ended bool // send is closed
}

// Upgrade upgrades the request to a websocket, registers the connection with tags and starts its writer. On error
// the response has been written by the upgrader.
func (h *Hub) Upgrade(w http.ResponseWriter, r *http.Request, tags ...string) (*Conn, error) {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return nil, ErrHubClosed
	}
	h.gate.Lock()
	defer h.gate.Unlock()
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	c := &Conn{hub: h, ws: ws, send: make(chan []byte, sendQueue), tags: map[string]bool{}}
	for _, t := range tags {
		c.tags[t] = true
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		_ = ws.Close()
		return nil, ErrHubClosed
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	h.notifyLocked()
	h.mu.Unlock()
	go c.writer()
	return c, nil
}

func (c *Conn) writer() {
	defer c.hub.wg.Done()
	defer c.cut()
	for msg := range c.send {
		_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
			return
		}
	}
}

// Read returns the next message from the client. The server's read loop calls it until it fails, then calls Close.
func (c *Conn) Read() ([]byte, error) {
	_, msg, err := c.ws.ReadMessage()
	return msg, err
}

// Send queues v as JSON on this connection; it reports false if the connection is closed or cut for being slow.
func (c *Conn) Send(v any) bool {
	msg, err := json.Marshal(v)
	if err != nil {
		return false
	}
	return c.sendRaw(msg)
}

// SendText queues a plain-text message (OKX answers "ping" with "pong", not JSON).
func (c *Conn) SendText(s string) bool { return c.sendRaw([]byte(s)) }

func (c *Conn) sendRaw(msg []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return false
	}
	select {
	case c.send <- msg:
		return true
	default:
		c.cut()
		return false
	}
}

// Tag adds tags to the connection and wakes the hub's WaitTagged callers.
func (c *Conn) Tag(tags ...string) {
	c.mu.Lock()
	for _, t := range tags {
		c.tags[t] = true
	}
	c.mu.Unlock()
	c.hub.notify() // after c.mu: the hub takes its lock before a connection's
}

// Has reports whether the connection carries tag.
func (c *Conn) Has(tag string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tags[tag]
}

// Close cuts the connection now and removes it from the hub. It is safe to call more than once.
func (c *Conn) Close() {
	c.cut()
	c.hub.remove(c, false)
}

// cut closes the socket; the writer and the server's reader then fail and finish.
func (c *Conn) cut() { c.once.Do(func() { _ = c.ws.Close() }) }

// end closes the send queue so the writer sends what is queued and then closes the socket.
func (c *Conn) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ended {
		c.ended = true
		close(c.send)
	}
}

func (h *Hub) remove(c *Conn, drain bool) {
	h.mu.Lock()
	delete(h.conns, c)
	h.notifyLocked()
	h.mu.Unlock()
	if !drain {
		c.cut()
	}
	c.end()
}

// match selects connections; nil selects all.
type match = func(*Conn) bool

// Tagged selects the connections that carry tag.
func Tagged(tag string) func(*Conn) bool { return func(c *Conn) bool { return c.Has(tag) } }

func (h *Hub) selected(to match) []*Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*Conn, 0, len(h.conns))
	for c := range h.conns {
		if to == nil || to(c) {
			out = append(out, c)
		}
	}
	return out
}

// Publish queues v as JSON on every connection to selects (nil: all) and returns how many got it. A connection
// whose queue is full is cut.
func (h *Hub) Publish(v any, to func(*Conn) bool) int {
	h.gate.RLock()
	defer h.gate.RUnlock()
	conns := h.selected(to)
	if len(conns) == 0 {
		return 0 // nobody listens: no encoding
	}
	msg, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	n := 0
	for _, c := range conns {
		if c.sendRaw(msg) {
			n++
		}
	}
	return n
}

// Cut closes the selected connections (nil: all) now, dropping what is queued.
func (h *Hub) Cut(to func(*Conn) bool) {
	for _, c := range h.selected(to) {
		h.remove(c, false)
	}
}

// Drain closes the selected connections (nil: all) after sending what is already queued on them.
func (h *Hub) Drain(to func(*Conn) bool) {
	for _, c := range h.selected(to) {
		h.remove(c, true)
	}
}

// Len is the number of open connections.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// WaitTagged blocks until at least n open connections carry tag, and returns nil; or until ctx ends (ctx.Err()) or
// the hub closes (ErrHubClosed). It wakes on every change of the hub's connections or their tags; it does not
// poll. A connection cut or closed no longer counts, so after Cut a caller can wait for the reconnections.
func (h *Hub) WaitTagged(ctx context.Context, tag string, n int) error {
	for {
		h.mu.Lock()
		count := 0
		for c := range h.conns {
			if c.Has(tag) {
				count++
			}
		}
		closed, changed := h.closed, h.changed
		h.mu.Unlock()
		switch {
		case count >= n:
			return nil
		case closed:
			return ErrHubClosed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notify wakes the WaitTagged callers.
func (h *Hub) notify() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.notifyLocked()
}

// notifyLocked is notify with h.mu held.
func (h *Hub) notifyLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// Close cuts every connection, refuses new ones and waits for the writers to finish. The server's read loops end
// on their own when their sockets close.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	h.notifyLocked()
	h.mu.Unlock()
	h.Cut(nil)
	h.wg.Wait()
}
