package live

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// TopicFunc names the topic a websocket request subscribes to. An error
// wrapping ErrUnknownTopic answers 404; any other error (the master cannot
// tell, e.g. ZooKeeper is unreachable) answers 503. The error text is shown
// to the caller.
type TopicFunc func(r *http.Request) (string, error)

// SnapshotFunc returns what a new subscriber of topic receives before any
// live message (for a test: its state and the timeline so far). final
// reports that the topic has already finished: the hub sends the messages
// and closes the connection normally.
type SnapshotFunc func(topic string) (msgs [][]byte, final bool)

// Handler serves websocket subscriptions: topicOf picks the topic, snapshot
// gives the initial messages (nil means none). Anything the client sends is
// a protocol violation and closes the connection. The handler returns when
// the connection ends: the topic finished, the client left or was dropped,
// or the hub closed. Beyond Options.MaxConns connections it answers 503
// with Retry-After. An accepted connection is free of the HTTP server's
// read and write timeouts (net/http clears a hijacked connection's
// deadlines); the hub bounds each write itself.
func (h *Hub) Handler(topicOf TopicFunc, snapshot SnapshotFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.admit() {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "too many live connections; retry shortly")
			return
		}
		defer h.release()
		topic, err := topicOf(r)
		if err != nil {
			status := http.StatusServiceUnavailable
			if errors.Is(err, ErrUnknownTopic) {
				status = http.StatusNotFound
			}
			writeError(w, status, err.Error())
			return
		}
		if h.isClosed() {
			writeError(w, http.StatusServiceUnavailable, "shutting down")
			return
		}
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			Subprotocols:       h.opts.Subprotocols,
			InsecureSkipVerify: h.opts.OriginChecked, // the Origin was checked before this handler
		})
		if err != nil {
			return // Accept has answered the request
		}
		h.serve(r.Context(), conn, topic, snapshot)
	})
}

func (h *Hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// serve runs one connection: register, snapshot, then the client's queue.
func (h *Hub) serve(ctx context.Context, conn *websocket.Conn, topic string, snapshot SnapshotFunc) {
	c, ok := h.subscribe(topic)
	if !ok {
		h.closeConn(conn, websocket.StatusGoingAway, "master shutting down")
		return
	}
	defer h.handlers.Done()
	defer h.unsubscribe(c)

	// The request context is not cancelled when a hijacked connection ends;
	// CloseRead's context is, when the peer closes or sends data.
	ctx = conn.CloseRead(context.WithoutCancel(ctx))

	if snapshot != nil {
		msgs, final := snapshot(topic)
		for _, m := range msgs {
			if err := h.write(ctx, conn, m); err != nil {
				conn.CloseNow()
				return
			}
		}
		if final {
			h.closeConn(conn, websocket.StatusNormalClosure, "finished")
			return
		}
	}

	var ping <-chan time.Time
	if h.opts.PingInterval > 0 {
		t := time.NewTicker(h.opts.PingInterval)
		defer t.Stop()
		ping = t.C
	}
	for {
		select {
		case <-ping:
			if err := h.ping(ctx, conn); err != nil {
				conn.CloseNow() // no pong in time: the peer is gone or stuck
				return
			}
		case m, ok := <-c.send:
			if !ok {
				h.closeConn(conn, websocket.StatusNormalClosure, "finished")
				return
			}
			if err := h.write(ctx, conn, m); err != nil {
				conn.CloseNow() // timed out or peer gone: nothing to hand-shake with
				return
			}
		case <-c.gone:
			if c.status == websocket.StatusPolicyViolation {
				conn.CloseNow() // too slow to read a close frame either
				return
			}
			h.closeConn(conn, c.status, c.reason)
			return
		case <-ctx.Done():
			conn.CloseNow()
			return
		}
	}
}

// write sends one text message within the write timeout.
func (h *Hub) write(ctx context.Context, conn *websocket.Conn, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, h.opts.WriteTimeout)
	defer cancel()
	return conn.Write(ctx, websocket.MessageText, msg)
}

// ping waits for the peer's pong within the write timeout.
func (h *Hub) ping(ctx context.Context, conn *websocket.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, h.opts.WriteTimeout)
	defer cancel()
	return conn.Ping(ctx)
}

// closeConn performs the close handshake, bounded by the write timeout
// (websocket's own Close waits up to 5 s for each half).
func (h *Hub) closeConn(conn *websocket.Conn, status websocket.StatusCode, reason string) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn.Close(status, reason)
	}()
	t := time.NewTimer(h.opts.WriteTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		conn.CloseNow()
		<-done
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
