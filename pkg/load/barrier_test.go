package load

import (
	"context"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// barrierBound is how long after startAt the first request may reach the
// target: the engine wakes a millisecond early and spins, so this is
// loopback latency plus scheduling noise on a busy machine.
const barrierBound = 50 * time.Millisecond

// TestRunWaitsForStartAt: Run sends nothing before startAt and its first
// request reaches the target within barrierBound after it, both read on
// the target's clock; the skew Run reports is measured from startAt (the
// target sees the first request after the engine sent it).
func TestRunWaitsForStartAt(t *testing.T) {
	tp := startTarget(t)
	for _, l := range []spec.Load{
		{Model: spec.ModelAvalanche, Concurrency: 2, Requests: 20},
		{Model: spec.ModelConstantRate, Rate: 200, Duration: spec.D(200 * time.Millisecond)},
	} {
		t.Run(l.Model, func(t *testing.T) {
			engines(t, func(t *testing.T) {
				tp.post(t, "/stats/reset")
				r, err := Prepare(context.Background(), Plan{Spec: testSpec(tp.URL+"/ping", l), Share: plan.Share{Of: 1}})
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				startAt := time.Now().Add(300 * time.Millisecond)
				if err := r.Run(context.Background(), startAt); err != nil {
					t.Fatal(err)
				}
				ts := tp.stats(t)
				if ts.Requests == 0 || ts.Requests != r.Collect().Counters.Requests {
					t.Fatalf("target saw %d requests, want all the run counted (> 0)", ts.Requests)
				}
				seen := time.Unix(0, ts.FirstUnixNs).Sub(startAt)
				if seen < 0 {
					t.Errorf("first request reached the target %v BEFORE startAt", -seen)
				}
				if seen > barrierBound {
					t.Errorf("first request reached the target %v after startAt, want within %v", seen, barrierBound)
				}
				if skew := r.Skew(); skew > seen+100*time.Microsecond || seen-skew > barrierBound {
					t.Errorf("Run reports a start skew of %v, but the first request reached the target %v after startAt", skew, seen)
				}
			})
		})
	}
}
