package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
)

// workers: N runs a test on exactly N of the idle workers (the others send
// nothing), and rate_per_worker gives each chosen worker that rate: 2
// workers at 200/s for 2 s send exactly 400 requests each.
func TestWorkersNChoosesExactlyNWithRatePerWorker(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 3})
	c.ResetTarget()
	s := spec("constant-rate", map[string]any{"rate_per_worker": 200, "duration": "2s"}, c.TargetURL("/ping"))
	s["workers"] = 2
	s["request"].(map[string]any)["headers"] = map[string]any{tc.WorkerHeader: "{{worker}}"}
	id := c.Submit(s)
	res := c.WaitPhase(id, "completed", 60*time.Second)
	ts := c.Settled(10 * time.Second)
	if len(res.Workers) != 2 || len(ts.ByWorker) != 2 {
		t.Fatalf("the result has %d workers %+v and the target saw %d senders %v; want exactly 2", len(res.Workers), res.Workers, len(ts.ByWorker), ts.ByWorker)
	}
	for _, w := range res.Workers {
		if w.Requests != 400 || ts.ByWorker[w.ID] != 400 {
			t.Errorf("%s: result counts %d requests, the target saw %d; want exactly 400", w.ID, w.Requests, ts.ByWorker[w.ID])
		}
	}
	if res.Summary.Requests != 800 || ts.Requests != 800 {
		t.Errorf("result %d requests, target %d; want exactly 800", res.Summary.Requests, ts.Requests)
	}
	c.WaitWorkers(3, 20*time.Second)
}

// A spec stored in ZooKeeper that no longer validates (written by another
// version, or by hand) fails its test with the reason naming the field,
// instead of being retried forever; nothing is planned or sent.
func TestStoredInvalidSpecFailsItsTest(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	c.ResetTarget()
	z := c.ZKClient()
	p := c.Paths()
	const id = "20260101-000000-invalid"
	bad := `{"request":{"url":"ftp://` + c.Target.Addr + `/ping"},"load":{"model":"avalanche","duration":"1s"}}`
	state := proto.Marshal(proto.TestState{Phase: proto.PhasePending, CreatedAt: time.Now().UnixNano()})
	if err := z.Multi(context.Background(),
		coord.CreateOp{Path: p.Test(id), Data: []byte(bad)},
		coord.CreateOp{Path: p.State(id), Data: state},
		coord.CreateOp{Path: p.Plans(id)},
		coord.CreateOp{Path: p.ReadyDir(id)},
		coord.CreateOp{Path: p.MetricsDir(id)},
		coord.CreateOp{Path: p.DoneDir(id)},
	); err != nil {
		t.Fatalf("writing the test by hand: %v", err)
	}
	res := c.WaitPhase(id, "failed", 30*time.Second)
	if !strings.Contains(res.Reason, "stored spec is invalid") || !strings.Contains(res.Reason, "request.url") {
		t.Errorf("reason %q, want it to say the stored spec is invalid and name request.url", res.Reason)
	}
	tc.Absent(t, z, p.Start(id), "a start barrier for a test whose spec is invalid")
	kids, err := z.Children(context.Background(), p.Plans(id))
	if err != nil || len(kids) != 0 {
		t.Errorf("plans of the invalid test: %v (%v), want none", kids, err)
	}
	if n := c.TargetRequests(); n != 0 {
		t.Errorf("the target saw %d requests", n)
	}
}
