package integration

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

func TestConstantRateCountsEveryRequestOnce(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 2, Workers: 3})
	c.ResetTarget()
	id := c.Submit(spec("constant-rate", map[string]any{"rate": 3000, "duration": "5s", "concurrency": 32}, c.TargetURL("/ping")))
	res := c.WaitPhase(id, "completed", 60*time.Second)
	// the schedule is exact: 3,000/s for 5 s is 15,000 requests, 5,000 per
	// worker; a worker that stopped early or ran over would show here
	got := res.Summary.Requests
	if got != 15000 {
		t.Errorf("requests = %d, want exactly 15,000", got)
	}
	if target := c.TargetRequests(); target != got {
		t.Errorf("result requests = %d but the target saw %d", got, target)
	}
	if res.Summary.Errors != 0 {
		t.Errorf("errors = %d (%v), want 0", res.Summary.Errors, res.Summary.ErrorKinds)
	}
	var perWorker int64
	for _, w := range res.Workers {
		if w.State != "done" || w.Requests != 5000 {
			t.Errorf("worker %s: state %q, %d requests; want done with exactly 5,000", w.ID, w.State, w.Requests)
		}
		perWorker += w.Requests
	}
	if perWorker != got || len(res.Workers) != 3 {
		t.Errorf("per-worker requests sum to %d over %d workers, want %d over 3", perWorker, len(res.Workers), got)
	}
	// the persisted timeline covers the run and adds up to the total
	var tl struct{ Points []report.Point }
	tc.GetJSON(t, c.API()+"/tests/"+id+"/timeline", &tl)
	var sum int64
	for _, p := range tl.Points {
		sum += p.Requests
		if p.Gap {
			t.Errorf("timeline second %d marked as a gap in an undisturbed run", p.Second)
		}
	}
	if len(tl.Points) < 5 || sum != got {
		t.Errorf("timeline has %d points summing to %d requests, want >= 5 points summing to %d", len(tl.Points), sum, got)
	}
	t.Logf("requests %d, rps %.1f, p50 %.3f ms, p99 %.3f ms, max start skew %.3f ms",
		got, res.Summary.RPS, res.Summary.LatencyMs.P50, res.Summary.LatencyMs.P99, res.Summary.MaxSkewMs)
}

func TestRequestBudgetSplitsExactly(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 3})
	c.ResetTarget()
	id := c.Submit(spec("avalanche", map[string]any{"requests": 10000, "concurrency": 8}, c.TargetURL("/ping")))
	res := c.WaitPhase(id, "completed", 90*time.Second)
	if res.Summary.Requests != 10000 {
		t.Errorf("result requests = %d, want exactly 10000", res.Summary.Requests)
	}
	if target := c.TargetRequests(); target != 10000 {
		t.Errorf("target saw %d requests, want exactly 10000", target)
	}
	got := map[int64]int{}
	for _, w := range res.Workers {
		got[w.Requests]++
	}
	if got[3334] != 1 || got[3333] != 2 {
		t.Errorf("per-worker requests %+v, want 3334 + 3333 + 3333", res.Workers)
	}

	// Exactness: the result's percentiles are those of one histogram fed
	// every value the workers recorded (the union of their final histograms).
	zk := c.ZKClient()
	p := proto.Paths{Root: c.Root}
	union := hist.New()
	for _, w := range res.Workers {
		d, _, err := zk.Get(context.Background(), p.Done(id, w.ID))
		if err != nil {
			t.Fatalf("done/%s: %v", w.ID, err)
		}
		var r report.Report
		if err := json.Unmarshal(d, &r); err != nil {
			t.Fatal(err)
		}
		h, err := hist.Decode(r.Cumulative)
		if err != nil {
			t.Fatal(err)
		}
		if h.Count() != r.Totals.Requests {
			t.Errorf("worker %s histogram holds %d values but counted %d requests", w.ID, h.Count(), r.Totals.Requests)
		}
		union.Merge(h)
	}
	if union.Count() != 10000 {
		t.Errorf("union of worker histograms holds %d values, want 10000", union.Count())
	}
	want := union.Summary()
	if res.Summary.LatencyMs != want {
		t.Errorf("result latency %+v\nwant (union of worker histograms) %+v", res.Summary.LatencyMs, want)
	}
	merged, err := hist.Decode(res.Summary.Histogram)
	if err != nil || !merged.Equal(union) {
		t.Errorf("result histogram differs from the union of the workers' histograms (err %v)", err)
	}
}

// A stop request ends the load within a second, measured on the servers'
// clocks: each worker's last request reaches the target, and each worker
// registers itself idle in ZooKeeper, within 1 s of the stop node's
// creation.
func TestStopLeavesWorkersIdleWithinOneSecond(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 2, Workers: 3})
	c.ResetTarget()
	s := spec("constant-rate", map[string]any{"rate": 600, "duration": "60s"}, c.TargetURL("/ping"))
	s["request"].(map[string]any)["headers"] = map[string]any{tc.WorkerHeader: "{{worker}}"}
	id := c.Submit(s)
	c.WaitPhase(id, "running", 30*time.Second)
	tc.Eventually(t, 20*time.Second, "the target has seen a second of load", func() bool {
		return c.TargetStats().Requests >= 600
	})
	var out map[string]any
	if code := tc.PostJSON(t, c.API()+"/tests/"+id+"/stop", nil, &out); code != 202 {
		t.Fatalf("POST stop = %d %v", code, out)
	}
	res := c.WaitPhase(id, "stopped", 30*time.Second)
	z := c.ZKClient()
	stopAt := c.StopCreated(z, id)
	ts := c.Settled(10 * time.Second)
	if len(ts.ByWorkerSpan) != 3 {
		t.Fatalf("the target saw %d senders %v, want 3", len(ts.ByWorkerSpan), ts.ByWorker)
	}
	for w, span := range ts.ByWorkerSpan {
		// the stop node's ctime has millisecond resolution
		if after := span.Last().Sub(stopAt); after > time.Second+time.Millisecond {
			t.Errorf("%s: last request reached the target %v after the stop node was created, want within 1 s", w, after)
		} else {
			t.Logf("%s: last request %v after the stop node", w, after.Round(time.Millisecond))
		}
	}
	var reg map[string]tc.Registered
	tc.Eventually(t, 10*time.Second, "every worker registered idle", func() bool {
		reg = c.Registry(z)
		idle := 0
		for _, r := range reg {
			if r.Info.State == "idle" {
				idle++
			}
		}
		return idle == 3
	})
	for w, r := range reg {
		if after := r.Modified.Sub(stopAt); after > time.Second {
			t.Errorf("%s registered idle %v after the stop node was created, want within 1 s", w, after)
		}
	}
	if res.Summary == nil || res.Summary.Requests < 600 {
		t.Fatalf("stopped result %+v, want the counts so far (>= 600 requests)", res.Summary)
	}
	if ts.Requests != res.Summary.Requests {
		t.Errorf("stopped result counts %d requests, target saw %d", res.Summary.Requests, ts.Requests)
	}
	for _, w := range res.Workers {
		if got := ts.ByWorker[w.ID]; got != w.Requests {
			t.Errorf("%s: result counts %d requests, the target saw %d from it", w.ID, w.Requests, got)
		}
	}
	if code := tc.PostJSON(t, c.API()+"/tests/"+id+"/stop", nil, &out); code != 409 {
		t.Errorf("stopping a stopped test = %d, want 409", code)
	}
}
