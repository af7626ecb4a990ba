package aggregate

import (
	"fmt"
	"testing"

	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// A fleet that loses thousands of workers gets a result that names the
// first hundred and counts them all: the result node does not grow with
// the fleet.
func TestAResultNamesAHundredLostWorkersAndCountsThemAll(t *testing.T) {
	const n = 3000
	workers := make([]string, n)
	reps, lost := map[string]*report.Report{}, map[string]bool{}
	for i := range workers {
		workers[i] = fmt.Sprintf("worker-with-a-rather-long-pod-name-%06d", i)
		r := rep(workers[i], 0, 10, 1000, false)
		r.Totals, r.Cumulative = r.Interval, r.IntervalHist
		reps[workers[i]], lost[workers[i]] = r, true
	}
	s := spec.Spec{Request: spec.Request{URL: "http://x/"}}
	sum, err := Summarize(&s, &proto.TestState{StartAt: t0.UnixNano(), Chosen: n}, workers, reps, lost)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.LostWorkers) != report.MaxLostListed || sum.LostCount != n || sum.LostWorkers[0] != workers[0] || sum.LostWorkers[99] != workers[99] {
		t.Fatalf("lost workers: %d named (first %q), count %d; want the first %d of %d", len(sum.LostWorkers), sum.LostWorkers[0], sum.LostCount, report.MaxLostListed, n)
	}
	if sum.Requests != 10*n {
		t.Errorf("requests %d, want %d: every lost worker's last report counts", sum.Requests, 10*n)
	}
}
