package integration

import (
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
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
