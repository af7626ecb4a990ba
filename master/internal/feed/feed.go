// Package feed builds the live messages every master pushes to dashboards
// (GET /api/v1/tests/{id}/live and GET /api/v1/live). Each master builds
// them from ZooKeeper on its own, so a page on a follower is as live as one
// on the leader and keeps updating while leadership moves.
package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/stampede-load/stampede/master/internal/aggregate"
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
	tracker *aggregate.Tracker
	points  []report.Point
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

// testTick advances one test's feed: new points and the live view.
func (f *Feed) testTick(ctx context.Context, id string) {
	t, err := f.view.Test(ctx, id)
	if err != nil {
		return
	}
	st, _, err := f.view.State(ctx, id)
	if err != nil {
		return
	}
	if proto.Terminal(t.Phase) {
		f.mu.Lock()
		f.terminal[id] = true
		delete(f.running, id)
		f.mu.Unlock()
		msg, _ := json.Marshal(map[string]any{"type": "final", "test": t})
		f.pub.Finish(TestTopic(id), msg)
		return
	}
	var newPts []report.Point
	if t.Phase == proto.PhaseRunning && st.StartAt > 0 {
		f.mu.Lock()
		tf := f.running[id]
		if tf == nil {
			tf = &testFeed{tracker: aggregate.NewTracker(time.Unix(0, st.StartAt), st.Workers, f.resumeFrom(ctx, id), 2*time.Second)}
			f.running[id] = tf
		}
		f.mu.Unlock()
		reps, err := f.view.Reports(ctx, f.view.P.MetricsDir(id))
		if err == nil {
			for _, r := range reps {
				tf.tracker.Observe(r)
			}
		}
		for _, w := range st.Lost {
			tf.tracker.MarkLost(w)
		}
		newPts = tf.tracker.Emit(time.Now())
		f.mu.Lock()
		tf.points = append(tf.points, newPts...)
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

// resumeFrom starts a feed that joins a running test after the persisted
// timeline, so that the snapshot plus live points have no seam.
func (f *Feed) resumeFrom(ctx context.Context, id string) int64 {
	pts, err := f.view.Timeline(ctx, id)
	if err != nil || len(pts) == 0 {
		return 0
	}
	return pts[len(pts)-1].Second + 1
}

// Timeline is the persisted timeline merged with this master's own live
// points (which may run ahead of the leader's writes while the test runs).
// Once the test has ended, the leader's persisted timeline is complete and
// is the only source.
func (f *Feed) Timeline(ctx context.Context, id string) ([]report.Point, error) {
	pts, err := f.view.Timeline(ctx, id)
	if err != nil {
		return nil, err
	}
	if st, _, err := f.view.State(ctx, id); err != nil || proto.Terminal(st.Phase) {
		return pts, err
	}
	f.mu.Lock()
	tf := f.running[id]
	var local []report.Point
	if tf != nil {
		local = append(local, tf.points...)
	}
	f.mu.Unlock()
	if len(local) == 0 {
		return pts, nil
	}
	bySec := map[int64]report.Point{}
	for _, p := range pts {
		bySec[p.Second] = p
	}
	for _, p := range local {
		if _, ok := bySec[p.Second]; !ok {
			bySec[p.Second] = p
		}
	}
	out := make([]report.Point, 0, len(bySec))
	for _, p := range bySec {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Second < out[j].Second })
	return out, nil
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
