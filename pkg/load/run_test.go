package load

import (
	"context"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

func newHist() *hist.Histogram { return hist.New() }

// engines runs f on each transport: the event loop (where the platform has
// it and the run can use it) and the goroutine transport. Tests do not run
// in parallel, so switching the package variable is safe.
func engines(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, loop := range []bool{true, false} {
		name := "goroutines"
		if loop {
			name = "loop"
		}
		t.Run(name, func(t *testing.T) {
			old := useEventLoop
			useEventLoop = loop
			defer func() { useEventLoop = old }()
			f(t)
		})
	}
}

// usesLoop reports whether r runs on event loops.
func usesLoop(r *Run) bool { return r.onLoops }

func testSpec(url string, l spec.Load) spec.Spec {
	s := spec.Spec{Request: spec.Request{URL: url}, Load: l}
	s.Normalize()
	return s
}

// TestExactBudget: a worker given 3,334 of 10,000 requests sends and counts
// exactly 3,334, and the target saw exactly as many.
func TestExactBudget(t *testing.T) {
	tp := startTarget(t)
	for _, model := range []string{spec.ModelAvalanche, spec.ModelConstantRate} {
		t.Run(model, func(t *testing.T) { engines(t, func(t *testing.T) { exactBudget(t, tp, model) }) })
	}
}

func exactBudget(t *testing.T, tp *targetProc, model string) {
	tp.post(t, "/stats/reset")
	l := spec.Load{Model: model, Requests: 10000, Concurrency: 8}
	if model == spec.ModelConstantRate {
		l.Rate = 20000
	}
	s := testSpec(tp.URL+"/ping", l)
	shares := plan.Split(&s, 3)
	got, r := runAll(t, context.Background(), Plan{TestID: "t", WorkerID: "w0", Spec: s, Share: shares[0]})
	if wantLoop := useEventLoop && haveLoop; usesLoop(r) != wantLoop {
		t.Errorf("event loop used = %v, want %v", usesLoop(r), wantLoop)
	}
	if got.Counters.Requests != 3334 || got.Latency.Count() != 3334 {
		t.Errorf("requests = %d, histogram count = %d, want 3334", got.Counters.Requests, got.Latency.Count())
	}
	if got.Counters.Errors != 0 {
		t.Errorf("errors = %d (%v), want 0", got.Counters.Errors, got.Counters.ErrorKinds)
	}
	if ts := tp.stats(t); ts.Requests != got.Counters.Requests {
		t.Errorf("target saw %d requests, engine counted %d", ts.Requests, got.Counters.Requests)
	}
	if got.Counters.Status["200"] != 3334 {
		t.Errorf("status codes = %v, want 200=3334", got.Counters.Status)
	}
}

// TestConstantRateCount: 200/s for 2 s schedules exactly 400 requests.
func TestConstantRateCount(t *testing.T) {
	tp := startTarget(t)
	engines(t, func(t *testing.T) { constantRateCount(t, tp) })
}

func constantRateCount(t *testing.T, tp *targetProc) {
	tp.post(t, "/stats/reset")
	s := testSpec(tp.URL+"/ping", spec.Load{Model: spec.ModelConstantRate, Rate: 200, Duration: spec.D(2 * time.Second)})
	got, r := runAll(t, context.Background(), Plan{Spec: s, Share: plan.Share{Index: 0, Of: 1}})
	if got.Counters.Requests != 400 {
		t.Errorf("requests = %d, want 400", got.Counters.Requests)
	}
	if ts := tp.stats(t); ts.Requests != got.Counters.Requests {
		t.Errorf("target saw %d requests, engine counted %d", ts.Requests, got.Counters.Requests)
	}
	if in := r.Info(); in.TargetRate != 200 {
		t.Errorf("Info().TargetRate = %v, want 200", in.TargetRate)
	}
	if got.Service.Count() != 400 {
		t.Errorf("service histogram count = %d, want 400", got.Service.Count())
	}
}

// TestStop: cancelling a 60 s run stops it promptly; every request the
// target saw is counted once.
func TestStop(t *testing.T) {
	tp := startTarget(t)
	for _, model := range []string{spec.ModelAvalanche, spec.ModelConstantRate} {
		t.Run(model, func(t *testing.T) { engines(t, func(t *testing.T) { stopRun(t, tp, model) }) })
	}
}

func stopRun(t *testing.T, tp *targetProc, model string) {
	tp.post(t, "/stats/reset")
	l := spec.Load{Model: model, Duration: spec.D(60 * time.Second), Concurrency: 8, Rate: 2000}
	if model == spec.ModelAvalanche {
		l.Rate = 0
	}
	s := testSpec(tp.URL+"/ping", l)
	ctx, cancel := context.WithCancel(context.Background())
	var stoppedAt time.Time
	go func() {
		time.Sleep(700 * time.Millisecond)
		stoppedAt = time.Now()
		cancel()
	}()
	got, _ := runAll(t, ctx, Plan{Spec: s, Share: plan.Share{Of: 1}})
	if took := time.Since(stoppedAt); took > time.Second {
		t.Errorf("Run returned %v after cancel, want within 1s", took)
	}
	if got.Counters.Requests == 0 {
		t.Fatalf("no requests before the stop")
	}
	if ts := tp.stats(t); ts.Requests != got.Counters.Requests {
		t.Errorf("target saw %d requests, engine counted %d", ts.Requests, got.Counters.Requests)
	}
}
