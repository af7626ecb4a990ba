package integration

import (
	"context"
	"encoding/json"
	"math"
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
	got := res.Summary.Requests
	if math.Abs(float64(got)-15000) > 150 {
		t.Errorf("requests = %d, want within 1 %% of 15,000", got)
	}
	if target := c.TargetRequests(); target != got {
		t.Errorf("result requests = %d but the target saw %d", got, target)
	}
	if res.Summary.Errors != 0 {
		t.Errorf("errors = %d (%v), want 0", res.Summary.Errors, res.Summary.ErrorKinds)
	}
	var perWorker int64
	for _, w := range res.Workers {
		if w.State != "done" {
			t.Errorf("worker %s state %q, want done", w.ID, w.State)
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
	zk := zkClient(t, c.ZK)
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

func TestStopLeavesWorkersIdleWithinOneSecond(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 2, Workers: 3})
	c.ResetTarget()
	id := c.Submit(spec("constant-rate", map[string]any{"rate": 600, "duration": "60s"}, c.TargetURL("/ping")))
	c.WaitPhase(id, "running", 30*time.Second)
	time.Sleep(2500 * time.Millisecond)
	var out map[string]any
	stopAt := time.Now()
	if code := tc.PostJSON(t, c.API()+"/tests/"+id+"/stop", nil, &out); code != 202 {
		t.Fatalf("POST stop = %d %v", code, out)
	}
	var idleAfter time.Duration
	tc.Eventually(t, 10*time.Second, "every worker idle", func() bool {
		for _, w := range c.LiveWorkers() {
			if w.State != "idle" {
				return false
			}
		}
		idleAfter = time.Since(stopAt)
		return true
	})
	if idleAfter > time.Second {
		t.Errorf("workers idle %v after the stop request, want within 1 s", idleAfter)
	}
	res := c.WaitPhase(id, "stopped", 30*time.Second)
	if res.Summary == nil || res.Summary.Requests < 600 {
		t.Fatalf("stopped result %+v, want the counts so far (> 600 requests)", res.Summary)
	}
	if target := c.TargetRequests(); target != res.Summary.Requests {
		t.Errorf("stopped result counts %d requests, target saw %d", res.Summary.Requests, target)
	}
	if code := tc.PostJSON(t, c.API()+"/tests/"+id+"/stop", nil, &out); code != 409 {
		t.Errorf("stopping a stopped test = %d, want 409", code)
	}
	t.Logf("idle %v after stop; %d requests counted", idleAfter.Round(time.Millisecond), res.Summary.Requests)
}
