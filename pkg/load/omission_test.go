package load

import (
	"context"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// TestStallShowsInPercentiles is the coordinated-omission test: the target
// pauses every response for 1 s in the middle of a 5 s run. An open model
// (constant-rate 1,000/s) measures latency from each request's scheduled
// start, so the requests that were due during the stall carry it and the
// merged p99 is of the order of the stall. A closed loop against the same
// target only has its few in-flight requests stalled: it shows the stall in
// max, not in p99.
func TestStallShowsInPercentiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 2 × 5 s of load; skipped with -short")
	}
	const stall = time.Second
	tp := startTarget(t)
	models := []struct {
		name string
		load spec.Load
	}{
		{"constant-rate", spec.Load{Model: spec.ModelConstantRate, Rate: 1000, Duration: spec.D(5 * time.Second)}},
		{"avalanche", spec.Load{Model: spec.ModelAvalanche, Concurrency: 2, Duration: spec.D(5 * time.Second)}},
	}
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			engines(t, func(t *testing.T) {
				tp.post(t, "/stats/reset")
				s := testSpec(tp.URL+"/ping", m.load)
				// the stall is posted from another goroutine, which must
				// not fail the test itself: its error comes back here
				stalled := make(chan error, 1)
				go func() {
					time.Sleep(2 * time.Second)
					stalled <- tp.postErr("/control/stall?for=" + stall.String())
				}()
				got, r := runAll(t, context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
				if err := <-stalled; err != nil {
					t.Fatalf("stalling the target: %v", err)
				}
				lat := got.Latency.Summary()
				t.Logf("%s: %d requests, late %d, latency %+v", m.name, got.Counters.Requests, got.Counters.Late, lat)
				if ts := tp.stats(t); ts.Requests != got.Counters.Requests {
					t.Errorf("target saw %d requests, engine counted %d", ts.Requests, got.Counters.Requests)
				}
				stallMs := float64(stall.Milliseconds())
				if lat.Max < 0.9*stallMs {
					t.Errorf("max = %.1f ms, want at least 0.9 × the %v stall", lat.Max, stall)
				}
				if r.open {
					// 1,000 of the 5,000 requests were due during the stall;
					// the slowest of them waited nearly all of it.
					if lat.P99 < 0.5*stallMs {
						t.Errorf("open model p99 = %.1f ms, want of the order of the %v stall (≥ 0.5×)", lat.P99, stall)
					}
					if got.Counters.Requests != 5000 {
						t.Errorf("open model sent %d requests, want 5000 (the schedule)", got.Counters.Requests)
					}
					if !RateMissed(got.Counters.Late, got.Counters.Requests) {
						t.Errorf("late = %d of %d: the run should be flagged as missing its rate", got.Counters.Late, got.Counters.Requests)
					}
					// Service time starts at the actual send: only the ~100
					// requests in flight during the stall carry it.
					if svc := got.Service.Summary(); svc.Mean > lat.Mean/2 {
						t.Errorf("service-time mean %.1f ms > half the latency mean %.1f ms; service time must not include waiting for a connection", svc.Mean, lat.Mean)
					}
				} else if lat.P99 > 0.5*stallMs {
					t.Errorf("closed loop p99 = %.1f ms, want well below the %v stall (only 2 requests were in flight)", lat.P99, stall)
				}
			})
		})
	}
}
