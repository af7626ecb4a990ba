// Package feed builds the live messages every master pushes to dashboards
// (GET /api/v1/tests/{id}/live and GET /api/v1/live). Every master, leader
// or follower, reads what the leader publishes (the live node, the
// timeline, the per-worker lines), never the workers' reports: there is one
// merge, the leader's, and a follower's cost does not grow with the fleet.
package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/stampede-load/stampede/master/internal/view"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// Publisher is the part of the websocket hub the feed uses.
type Publisher interface {
	Publish(topic string, msg []byte)
	Finish(topic string, msg []byte)
}

// ClusterFunc returns the body of GET /api/v1/cluster.
type ClusterFunc func(ctx context.Context) (any, error)

// Feed polls ZooKeeper once per second and publishes changes.
type Feed struct {
	view    *view.Reader
	pub     Publisher
	cluster ClusterFunc
	log     *slog.Logger

	mu       sync.Mutex
	running  map[string]*testFeed
	terminal map[string]bool
	lastCl   []byte
}

type testFeed struct {
	sent int64 // last second published
}

// New returns a feed.
func New(v *view.Reader, pub Publisher, cluster ClusterFunc, log *slog.Logger) *Feed {
	return &Feed{view: v, pub: pub, cluster: cluster, log: log, running: map[string]*testFeed{}, terminal: map[string]bool{}}
}

// TestTopic is the hub topic of a test's live feed.
func TestTopic(id string) string { return "test/" + id }

// ClusterTopic is the hub topic of the cluster feed.
const ClusterTopic = "cluster"

// Run publishes until ctx ends.
func (f *Feed) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		f.tick(ctx)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

func (f *Feed) tick(ctx context.Context) {
	ids, err := f.view.TestIDs(ctx)
	if err != nil {
		return
	}
	for _, id := range ids {
		f.mu.Lock()
		done := f.terminal[id]
		f.mu.Unlock()
		if done {
			continue
		}
		f.testTick(ctx, id)
	}
	if !f.listened(ClusterTopic) {
		return // the cluster message reads every worker's registration: not for nobody
	}
	if msg, err := f.ClusterMessage(ctx); err == nil {
		f.mu.Lock()
		changed := !bytes.Equal(msg, f.lastCl)
		f.lastCl = msg
		f.mu.Unlock()
		if changed {
			f.pub.Publish(ClusterTopic, msg)
		}
	}
}

// listened reports whether anyone follows topic (true if the publisher
// cannot say). A subscriber that joins gets a snapshot (Snapshot) first.
func (f *Feed) listened(topic string) bool {
	s, ok := f.pub.(interface{ Subscribers(topic string) int })
	return !ok || s.Subscribers(topic) > 0
}

// testTick advances one test's feed: the points the leader published since
// the last tick, and the test view.
func (f *Feed) testTick(ctx context.Context, id string) {
	t, live, err := f.view.TestLive(ctx, id)
	if err != nil {
		return
	}
	if proto.Terminal(t.Phase) {
		f.mu.Lock()
		f.terminal[id] = true
		tf := f.running[id]
		delete(f.running, id)
		f.mu.Unlock()
		if tf != nil {
			f.flushPoints(ctx, id, t, tf.sent)
		}
		msg, _ := json.Marshal(map[string]any{"type": "final", "test": t})
		f.pub.Finish(TestTopic(id), msg)
		return
	}
	var newPts []report.Point
	if live != nil {
		f.mu.Lock()
		tf := f.running[id]
		if tf == nil {
			tf = &testFeed{sent: -1}
			f.running[id] = tf
		}
		for _, p := range live.Points {
			if p.Second > tf.sent {
				newPts = append(newPts, p)
				tf.sent = p.Second
			}
		}
		f.mu.Unlock()
	}
	for _, p := range newPts {
		msg, _ := json.Marshal(map[string]any{"type": "update", "test": t, "point": p})
		f.pub.Publish(TestTopic(id), msg)
	}
	if len(newPts) == 0 {
		msg, _ := json.Marshal(map[string]any{"type": "update", "test": t})
		f.pub.Publish(TestTopic(id), msg)
	}
}

// flushPoints publishes the persisted points after second sent: those the
// leader merged between the last tick and the end of the test, which a
// subscriber would otherwise never receive.
func (f *Feed) flushPoints(ctx context.Context, id string, t any, sent int64) {
	pts, err := f.view.Timeline(ctx, id)
	if err != nil {
		f.log.Warn("live feed: reading the final timeline", "test", id, "err", err)
		return
	}
	for _, p := range pts {
		if p.Second > sent {
			msg, _ := json.Marshal(map[string]any{"type": "update", "test": t, "point": p})
			f.pub.Publish(TestTopic(id), msg)
		}
	}
}

// Timeline is the timeline the leader persisted (the live node's points are
// written in the same transaction, so nothing runs ahead of it).
func (f *Feed) Timeline(ctx context.Context, id string) ([]report.Point, error) {
	return f.view.Timeline(ctx, id)
}

// Snapshot is what a new subscriber of a topic receives first.
func (f *Feed) Snapshot(topic string) ([][]byte, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if topic == ClusterTopic {
		msg, err := f.ClusterMessage(ctx)
		if err != nil {
			return nil, false
		}
		return [][]byte{msg}, false
	}
	id, ok := strings.CutPrefix(topic, "test/")
	if !ok {
		return nil, false
	}
	t, err := f.view.Test(ctx, id)
	if err != nil {
		return nil, false
	}
	pts, err := f.Timeline(ctx, id)
	if err != nil {
		pts = []report.Point{}
	}
	snap, _ := json.Marshal(map[string]any{"type": "snapshot", "test": t, "points": pts})
	if proto.Terminal(t.Phase) {
		final, _ := json.Marshal(map[string]any{"type": "final", "test": t})
		return [][]byte{snap, final}, true
	}
	return [][]byte{snap}, false
}

// ClusterMessage is the cluster feed's message.
func (f *Feed) ClusterMessage(ctx context.Context) ([]byte, error) {
	cl, err := f.cluster(ctx)
	if err != nil {
		return nil, err
	}
	workers, err := f.view.Workers(ctx)
	if err != nil {
		return nil, err
	}
	tests, err := f.view.List(ctx, 20)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"type": "cluster", "cluster": cl, "workers": workers, "tests": tests})
}
