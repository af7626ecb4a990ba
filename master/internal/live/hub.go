// Package live is the master's websocket fan-out: it pushes JSON messages
// published on named topics (a test's live feed "test/<id>", the cluster
// feed "cluster") to every browser subscribed to that topic.
//
// It is the only package that imports github.com/coder/websocket.
//
// Contract:
//   - Publish and Finish never block on a client. Each client has a bounded
//     queue (Options.Buffer messages); a client whose queue is full is
//     dropped (its connection is closed with StatusPolicyViolation "too
//     slow") and the others are not delayed.
//   - Every write to a connection is bounded by Options.WriteTimeout; a write
//     that times out drops that client.
//   - Every Options.PingInterval each connection is pinged; a peer that does
//     not answer within the write timeout is dropped, so dead peers do not
//     linger and idle feeds survive proxies that close silent connections.
//   - A new subscriber is registered on its topic first and then receives
//     the messages returned by the snapshot function, then every message
//     published after its registration. A message published while the
//     snapshot is being taken may therefore be reflected in the snapshot and
//     also arrive after it: clients must apply updates idempotently (timeline
//     points carry their second).
//   - Finish sends a topic's last message to its current subscribers and then
//     closes them with StatusNormalClosure once their queue is written.
//   - At most Options.MaxConns connections (handshakes included) are served
//     at a time; one more is answered 503 with Retry-After.
//   - Close closes every connection with StatusGoingAway, refuses new ones
//     (503) and waits until every handler has returned. It is idempotent.
//     net/http's Server.Shutdown does not wait for websocket (hijacked)
//     connections, so the master must call Close on shutdown.
//
// Messages are never copied: a published slice must not be modified
// afterwards.
//
// A Hub is safe for concurrent use.
package live

import (
	"errors"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Default option values.
const (
	DefaultBuffer       = 32
	DefaultWriteTimeout = 5 * time.Second
	DefaultPingInterval = 15 * time.Second
	DefaultMaxConns     = 256
)

// Options configures a Hub. The zero value means the defaults.
type Options struct {
	// Buffer is how many messages may wait for one client before the
	// client is dropped as too slow.
	Buffer int
	// WriteTimeout bounds every write, ping and close handshake on a
	// connection.
	WriteTimeout time.Duration
	// PingInterval is how often a connection is pinged; negative disables.
	PingInterval time.Duration
	// MaxConns caps the connections served at once; negative: no cap.
	MaxConns int
	// Subprotocols are the websocket subprotocols the handshake selects
	// from (a browser that offers any needs one of them answered).
	Subprotocols []string
	// OriginChecked says the caller has already refused requests from
	// foreign origins (the API's middleware does, knowing about reverse
	// proxies); otherwise the handshake accepts only an Origin whose host
	// is the request's Host.
	OriginChecked bool
}

// DefaultOptions returns the default options.
func DefaultOptions() Options {
	return Options{Buffer: DefaultBuffer, WriteTimeout: DefaultWriteTimeout, PingInterval: DefaultPingInterval, MaxConns: DefaultMaxConns}
}

func (o Options) withDefaults() Options {
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.PingInterval == 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	return o
}

// ErrUnknownTopic is what a topicOf function returns (possibly wrapped) for
// a request that names no existing topic; the Handler answers it with 404.
var ErrUnknownTopic = errors.New("live: unknown topic")

// client is one subscribed connection. The hub is the sender on send and
// closes it (under h.mu) when the topic finishes; gone is closed (once, under
// h.mu) when the client must be closed at once: dropped or hub closing.
type client struct {
	topic  string
	send   chan []byte
	gone   chan struct{}
	status websocket.StatusCode // why gone was closed
	reason string
}

// Hub fans messages out to websocket clients by topic.
type Hub struct {
	opts Options

	mu      sync.Mutex
	topics  map[string]map[*client]struct{}
	closed  bool
	dropped int64
	conns   int // handlers between admit and release

	handlers sync.WaitGroup // one per connection being served
}

// NewHub returns a hub with opts (zero fields take the defaults).
func NewHub(opts Options) *Hub {
	return &Hub{opts: opts.withDefaults(), topics: make(map[string]map[*client]struct{})}
}

// Publish queues msg for every subscriber of topic. It never blocks: a
// subscriber whose queue is full is dropped.
func (h *Hub) Publish(topic string, msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.topics[topic] {
		h.offerLocked(c, msg)
	}
}

// Finish queues msg as the last message of topic for every current
// subscriber and then closes them normally once their queues are written.
// Subscribers that connect later get the snapshot only (see Handler).
func (h *Hub) Finish(topic string, msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.topics[topic] {
		if msg != nil && !h.offerLocked(c, msg) {
			continue
		}
		delete(h.topics[topic], c)
		close(c.send)
	}
	delete(h.topics, topic)
}

// offerLocked queues msg for c or drops c if its queue is full. It reports
// whether msg was queued.
func (h *Hub) offerLocked(c *client, msg []byte) bool {
	select {
	case c.send <- msg:
		return true
	default:
		h.dropped++
		h.removeLocked(c, websocket.StatusPolicyViolation, "too slow")
		return false
	}
}

// removeLocked unsubscribes c and tells its handler to close it now.
func (h *Hub) removeLocked(c *client, status websocket.StatusCode, reason string) {
	subs, ok := h.topics[c.topic]
	if !ok {
		return
	}
	if _, ok := subs[c]; !ok {
		return
	}
	delete(subs, c)
	if len(subs) == 0 {
		delete(h.topics, c.topic)
	}
	c.status, c.reason = status, reason
	close(c.gone)
}

// subscribe registers a new client on topic and counts its handler in
// h.handlers (the caller calls h.handlers.Done); it fails once the hub is
// closed.
func (h *Hub) subscribe(topic string) (*client, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	c := &client{topic: topic, send: make(chan []byte, h.opts.Buffer), gone: make(chan struct{})}
	subs := h.topics[topic]
	if subs == nil {
		subs = make(map[*client]struct{})
		h.topics[topic] = subs
	}
	subs[c] = struct{}{}
	h.handlers.Add(1)
	return c, true
}

// unsubscribe removes c if it is still registered (its handler is leaving).
func (h *Hub) unsubscribe(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(c, websocket.StatusNormalClosure, "")
}

// admit counts a new connection unless MaxConns are being served.
func (h *Hub) admit() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.opts.MaxConns > 0 && h.conns >= h.opts.MaxConns {
		return false
	}
	h.conns++
	return true
}

func (h *Hub) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conns--
}

// Subscribers is the number of clients currently subscribed to topic.
func (h *Hub) Subscribers(topic string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.topics[topic])
}

// Dropped is the number of clients dropped so far because their queue was
// full.
func (h *Hub) Dropped() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dropped
}

// Close closes every connection with StatusGoingAway, makes the Handler
// refuse new ones and waits until every connection's handler has returned:
// each takes at most the write timeout, plus the snapshot function's time
// for a subscriber that is still being given its snapshot. It is idempotent.
func (h *Hub) Close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		for _, subs := range h.topics {
			for c := range subs {
				h.removeLocked(c, websocket.StatusGoingAway, "master shutting down")
			}
		}
	}
	h.mu.Unlock()
	h.handlers.Wait()
}
