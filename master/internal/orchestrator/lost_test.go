package orchestrator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/master/internal/aggregate"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
)

// At a run's end most of the fleet has deleted its vote and written its
// final report before the leader's report watch delivered it: the
// liveness check finds exactly the workers with neither a vote nor a
// final report, with one listing of the votes and one of the final
// reports, not a read per worker.
func TestFindLostListsInsteadOfReadingEachWorker(t *testing.T) {
	tw := newTwin(t)
	c := tw.client()
	id := tw.submit(c, `{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":10,"duration":"1s"}}`)
	ctx := context.Background()
	var workers, want []string
	for i := range 200 {
		w := fmt.Sprintf("w%03d", i)
		workers = append(workers, w)
		switch i % 10 {
		case 0: // still voting
			_, err := c.Create(ctx, tw.p.Ready(id, w), proto.Marshal(proto.Ready{OK: true}), coord.Persistent)
			if err != nil {
				t.Fatal(err)
			}
		case 1: // gone without a final report: lost
			want = append(want, w)
		default: // finished, its final report not merged yet
			_, err := c.Create(ctx, tw.p.Done(id, w), []byte("{}"), coord.Persistent)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	leader := tw.client()
	m := &monitorRun{o: New(leader, tw.p.Root, testConfig("m1")), id: id, st: &proto.TestState{Chosen: len(workers)}, workers: workers,
		tr: aggregate.NewTracker(time.Now(), workers, 0, time.Second), lost: map[string]bool{}}
	tw.srv.Record()
	got, err := m.findLost(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("lost %v, want %v", got, want)
	}
	reads := 0
	for _, r := range tw.srv.Requests() {
		if r.Session == leader.Session().ID && strings.Contains(r.Paths[0], "/tests/"+id+"/") {
			reads++
		}
	}
	if reads != 2 {
		t.Errorf("the liveness check of 200 workers made %d requests, want 2 (the votes and the final reports, listed)", reads)
	}
}
