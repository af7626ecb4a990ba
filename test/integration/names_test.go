package integration

import (
	"context"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// TestNamedRequestsMergeExactly: a 3:1 mix of a 2-ms /ping and a 20-ms
// /checkout that answers 503 half the time, over 3 workers. Each name's
// merged percentiles equal those of one histogram of that name's values
// from every worker, the 503s are all /checkout's, and the names together
// hold every request the target saw.
func TestNamedRequestsMergeExactly(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 3})
	c.ResetTarget()
	sp := spec("constant-rate", map[string]any{"rate": 400, "duration": "4s"}, c.TargetURL("/ping?delay=2ms"))
	sp["requests_mix"] = []any{
		map[string]any{"weight": 3},
		map[string]any{"weight": 1, "name": "checkout", "url": c.TargetURL("/checkout?delay=20ms&status=503:50")},
	}
	sp["thresholds"] = []any{map[string]any{"expr": "error_rate < 1%", "name": "GET /ping"}, map[string]any{"expr": "error_rate > 10%", "name": "checkout"}}
	id := c.Submit(sp)
	res := c.WaitPhase(id, "completed", 60*time.Second)
	sum := res.Summary
	if len(sum.Names) != 2 || sum.Names[0].Name != "GET /ping" || sum.Names[1].Name != "checkout" {
		t.Fatalf("names %+v, want GET /ping and checkout", sum.Names)
	}

	// one histogram per name from every worker's final report
	z := c.ZKClient()
	p := proto.Paths{Root: c.Root}
	one := map[string]*hist.Histogram{"GET /ping": hist.New(), "checkout": hist.New()}
	for _, w := range []string{"w1", "w2", "w3"} {
		d, _, err := z.Get(context.Background(), p.Done(id, w))
		if err != nil {
			t.Fatalf("final report of %s: %v", w, err)
		}
		r, err := report.DecodeReport(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range r.Names {
			h, err := hist.Decode(n.Cumulative)
			if err != nil {
				t.Fatal(err)
			}
			one[n.Name].Merge(h)
		}
	}
	var requests int64
	for _, n := range sum.Names {
		if want := one[n.Name].Summary(); n.LatencyMs != want || n.Requests != one[n.Name].Count() {
			t.Errorf("%s: %d requests %+v, want %d %+v", n.Name, n.Requests, n.LatencyMs, one[n.Name].Count(), want)
		}
		requests += n.Requests
	}
	if target := c.TargetRequests(); requests != sum.Requests || requests != target {
		t.Errorf("names hold %d requests, the summary %d, the target saw %d", requests, sum.Requests, target)
	}
	ping, co := sum.Names[0], sum.Names[1]
	if ping.Errors != 0 || co.Errors != sum.Errors || co.StatusCodes["503"] != co.Errors || co.Errors == 0 {
		t.Errorf("errors: ping %d, checkout %d (503: %d), test %d; want every error on checkout", ping.Errors, co.Errors, co.StatusCodes["503"], sum.Errors)
	}
	if ping.LatencyMs.P50 >= 10 || co.LatencyMs.P50 < 20 {
		t.Errorf("p50 ping %.3f ms checkout %.3f ms, want about 2 and above 20", ping.LatencyMs.P50, co.LatencyMs.P50)
	}
	if ratio := float64(ping.Requests) / float64(co.Requests); ratio < 2.5 || ratio > 3.5 {
		t.Errorf("ping:checkout = %.2f, want about 3", ratio)
	}
	if sum.Verdict != report.VerdictPassed {
		t.Errorf("per-name thresholds %+v, want both passed", sum.Thresholds)
	}
	t.Logf("ping %d req p50 %.3f p99 %.3f ms; checkout %d req (%d errors) p50 %.3f p99 %.3f ms",
		ping.Requests, ping.LatencyMs.P50, ping.LatencyMs.P99, co.Requests, co.Errors, co.LatencyMs.P50, co.LatencyMs.P99)
}
