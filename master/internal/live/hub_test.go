package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/stampede-load/stampede/internal/testcluster"
)

// wait is the generous bound of every readiness wait: the machine is shared.
const wait = 30 * time.Second

// topicFromPath subscribes /t/<name> to topic <name>; "missing" is
// unknown and "broken" fails the lookup.
func topicFromPath(r *http.Request) (string, error) {
	name := strings.TrimPrefix(r.URL.Path, "/t/")
	switch name {
	case "missing":
		return "", fmt.Errorf("test %q: %w", name, ErrUnknownTopic)
	case "broken":
		return "", errors.New("zookeeper: connection lost")
	}
	return name, nil
}

func startServer(t *testing.T, h *Hub, snapshot SnapshotFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h.Handler(topicFromPath, snapshot))
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	return srv
}

func dial(t *testing.T, srv *httptest.Server, topic string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/t/"+topic, nil)
	if err != nil {
		t.Fatalf("Dial(%s): %v", topic, err)
	}
	c.SetReadLimit(-1)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return string(b)
}

// readUntilClosed reads (and discards) until the connection ends and
// returns the close status (-1 if it ended without a close frame).
func readUntilClosed(t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatalf("connection still open after %v", wait)
			}
			return websocket.CloseStatus(err)
		}
	}
}

func TestSnapshotThenLiveThenFinish(t *testing.T) {
	h := NewHub(Options{})
	srv := startServer(t, h, func(topic string) ([][]byte, bool) {
		return [][]byte{[]byte("snap1 " + topic), []byte("snap2 " + topic)}, false
	})
	a := dial(t, srv, "a")
	b := dial(t, srv, "b")
	for _, want := range []string{"snap1 a", "snap2 a"} {
		if got := read(t, a); got != want {
			t.Fatalf("client a: got %q, want %q", got, want)
		}
	}
	for _, want := range []string{"snap1 b", "snap2 b"} {
		if got := read(t, b); got != want {
			t.Fatalf("client b: got %q, want %q", got, want)
		}
	}
	h.Publish("a", []byte("update a"))
	h.Publish("b", []byte("update b"))
	h.Finish("a", []byte("final a"))
	for _, want := range []string{"update a", "final a"} {
		if got := read(t, a); got != want {
			t.Fatalf("client a: got %q, want %q", got, want)
		}
	}
	if got, want := readUntilClosed(t, a), websocket.StatusNormalClosure; got != want {
		t.Errorf("client a after Finish: close status %v, want %v", got, want)
	}
	if got, want := read(t, b), "update b"; got != want {
		t.Errorf("client b: got %q, want %q (Finish of a must not touch b)", got, want)
	}
	if got := h.Subscribers("a"); got != 0 {
		t.Errorf("Subscribers(a) after Finish = %d, want 0", got)
	}
	if got := h.Subscribers("b"); got != 1 {
		t.Errorf("Subscribers(b) = %d, want 1", got)
	}
}

func TestSnapshotFinalClosesAfterSnapshot(t *testing.T) {
	h := NewHub(Options{})
	srv := startServer(t, h, func(string) ([][]byte, bool) {
		return [][]byte{[]byte("final state")}, true
	})
	c := dial(t, srv, "done")
	if got, want := read(t, c), "final state"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, want := readUntilClosed(t, c), websocket.StatusNormalClosure; got != want {
		t.Errorf("close status %v, want %v", got, want)
	}
}

func TestTopicErrors(t *testing.T) {
	h := NewHub(Options{})
	srv := startServer(t, h, nil)
	tests := []struct {
		name string
		path string
		want int
	}{
		{"unknown topic", "/t/missing", http.StatusNotFound},
		{"topic lookup failing", "/t/broken", http.StatusServiceUnavailable},
		{"not a websocket request", "/t/x", http.StatusUpgradeRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("GET %s: status %d, want %d", tt.path, resp.StatusCode, tt.want)
			}
		})
	}
}

// A client that stops reading fills its socket buffers and then its queue;
// it is dropped while a client that reads gets every message, published in
// lock step with its reads, so a publisher held up by the slow client would
// never finish.
func TestSlowClientDroppedWithoutDelayingOthers(t *testing.T) {
	h := NewHub(Options{Buffer: 4, WriteTimeout: 10 * time.Minute})
	srv := startServer(t, h, nil)
	slow := dial(t, srv, "feed") // never reads until the end
	fast := dial(t, srv, "feed")
	testcluster.Eventually(t, wait, "two subscribers", func() bool { return h.Subscribers("feed") == 2 })

	const n = 400 // 400 × 128 KiB = 50 MiB, far beyond loopback socket buffers
	payload := bytes.Repeat([]byte("x"), 128<<10)
	for i := range n {
		msg := append([]byte(fmt.Sprintf("%04d", i)), payload...)
		h.Publish("feed", msg)
		got := read(t, fast)
		if want := fmt.Sprintf("%04d", i); got[:4] != want {
			t.Fatalf("fast client: message %q, want %q", got[:4], want)
		}
	}
	if got := h.Dropped(); got != 1 {
		t.Errorf("Dropped() = %d, want 1 (the slow client)", got)
	}
	if got := h.Subscribers("feed"); got != 1 {
		t.Errorf("Subscribers(feed) = %d, want 1 (the fast client)", got)
	}
	if got := readUntilClosed(t, slow); got == websocket.StatusNormalClosure {
		t.Errorf("slow client: closed normally, want dropped")
	}
}

// A client whose socket stalls is dropped by the write timeout even though
// its queue never fills.
func TestStalledWriteTimesOut(t *testing.T) {
	h := NewHub(Options{Buffer: 100000, WriteTimeout: 300 * time.Millisecond})
	srv := startServer(t, h, nil)
	stalled := dial(t, srv, "feed")
	testcluster.Eventually(t, wait, "one subscriber", func() bool { return h.Subscribers("feed") == 1 })
	payload := bytes.Repeat([]byte("y"), 128<<10)
	for range 400 {
		h.Publish("feed", payload)
	}
	testcluster.Eventually(t, wait, "stalled client removed", func() bool { return h.Subscribers("feed") == 0 })
	if got := h.Dropped(); got != 0 {
		t.Errorf("Dropped() = %d, want 0: the queue never filled, the write timed out", got)
	}
	if got := readUntilClosed(t, stalled); got == websocket.StatusNormalClosure {
		t.Errorf("stalled client: closed normally, want cut off")
	}
}

// A peer that answers no ping (it never reads, so it never sees one) is
// dropped although nothing is published.
func TestUnansweredPingDropsClient(t *testing.T) {
	h := NewHub(Options{WriteTimeout: 300 * time.Millisecond, PingInterval: 50 * time.Millisecond})
	srv := startServer(t, h, nil)
	dial(t, srv, "idle") // never reads: pongs are sent by the reader
	testcluster.Eventually(t, wait, "one subscriber", func() bool { return h.Subscribers("idle") == 1 })
	testcluster.Eventually(t, wait, "silent client removed", func() bool { return h.Subscribers("idle") == 0 })
	if got := h.Dropped(); got != 0 {
		t.Errorf("Dropped() = %d, want 0: nothing was queued", got)
	}
}

// A peer that reads answers pings and stays subscribed across many of them.
func TestAnsweredPingsKeepClient(t *testing.T) {
	h := NewHub(Options{WriteTimeout: 10 * time.Second, PingInterval: 20 * time.Millisecond})
	srv := startServer(t, h, nil)
	c := dial(t, srv, "idle")
	ctx := c.CloseRead(context.Background()) // reads, so pongs go out
	testcluster.Eventually(t, wait, "one subscriber", func() bool { return h.Subscribers("idle") == 1 })
	time.Sleep(300 * time.Millisecond) // ~15 pings
	if got := h.Subscribers("idle"); got != 1 || ctx.Err() != nil {
		t.Fatalf("after pings: Subscribers = %d, connection error %v; want 1 and open", got, ctx.Err())
	}
}

// The queue is bounded: without any connection draining it, the
// Buffer+1-th message drops the client instead of growing the queue.
func TestQueueBounded(t *testing.T) {
	h := NewHub(Options{Buffer: 3})
	c, ok := h.subscribe("q")
	if !ok {
		t.Fatal("subscribe on an open hub failed")
	}
	defer h.handlers.Done()
	for i := range 3 {
		h.Publish("q", []byte{byte(i)})
		if got := h.Subscribers("q"); got != 1 {
			t.Fatalf("after %d messages: Subscribers = %d, want 1", i+1, got)
		}
	}
	h.Publish("q", []byte{3})
	select {
	case <-c.gone:
	default:
		t.Fatal("4th message into a queue of 3: client not dropped")
	}
	if got, want := len(c.send), 3; got != want {
		t.Errorf("queued = %d, want %d", got, want)
	}
	if got, want := c.status, websocket.StatusPolicyViolation; got != want {
		t.Errorf("drop status = %v, want %v", got, want)
	}
}

func TestCloseClosesEveryConnection(t *testing.T) {
	h := NewHub(Options{})
	srv := startServer(t, h, nil)
	conns := []*websocket.Conn{dial(t, srv, "a"), dial(t, srv, "a"), dial(t, srv, "cluster")}
	testcluster.Eventually(t, wait, "three subscribers", func() bool {
		return h.Subscribers("a") == 2 && h.Subscribers("cluster") == 1
	})
	// Read concurrently: Close waits for the close handshakes.
	statuses := make(chan websocket.StatusCode, len(conns))
	for _, c := range conns {
		go func() {
			_, _, err := c.Read(context.Background())
			statuses <- websocket.CloseStatus(err)
		}()
	}
	h.Close()
	for range conns {
		select {
		case got := <-statuses:
			if got != websocket.StatusGoingAway {
				t.Errorf("close status %v, want %v", got, websocket.StatusGoingAway)
			}
		case <-time.After(wait):
			t.Fatal("a connection is still open after Close")
		}
	}
	h.Close() // idempotent: must return
	h.Publish("a", []byte("after close"))

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/t/a", nil)
	if err == nil {
		t.Fatal("Dial after Close succeeded, want refused")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("Dial after Close: %v, want status 503", err)
	}
}

func TestClientLeavingUnsubscribes(t *testing.T) {
	h := NewHub(Options{})
	srv := startServer(t, h, nil)
	c := dial(t, srv, "a")
	testcluster.Eventually(t, wait, "one subscriber", func() bool { return h.Subscribers("a") == 1 })
	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil && !errors.Is(err, context.Canceled) {
		t.Logf("client Close: %v", err)
	}
	testcluster.Eventually(t, wait, "subscriber gone", func() bool { return h.Subscribers("a") == 0 })
}
