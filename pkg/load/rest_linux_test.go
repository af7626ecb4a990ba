//go:build linux

package load

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// TestEngineCheapAtLowRate measures the engine alone (no coordination, no
// reports) at 10 req/s against the sample target, in this process's CPU
// over 10 s, and fails above a whole worker's 1 % budget at that rate
// (docs/scale.md, "Workers at rest"). A measurement: make rest-cpu runs
// it (STAMPEDE_MEASURE_REST=1), not make test.
func TestEngineCheapAtLowRate(t *testing.T) {
	if os.Getenv("STAMPEDE_MEASURE_REST") == "" {
		t.Skip("a CPU measurement: run it with make rest-cpu (STAMPEDE_MEASURE_REST=1)")
	}
	tp := startTarget(t)
	s := testSpec(tp.URL+"/ping", spec.Load{Model: spec.ModelConstantRate, Rate: 10, Duration: spec.D(12 * time.Second)})
	r, err := Prepare(context.Background(), Plan{Spec: s, Share: plan.Share{Index: 0, Of: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), time.Now().Add(10*time.Millisecond)) }()
	time.Sleep(time.Second) // past the start
	c0, w0 := cpuTime(), time.Now()
	time.Sleep(10 * time.Second)
	share := float64(cpuTime()-c0) / float64(time.Since(w0))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := r.Collect().Counters.Requests; n == 0 {
		t.Fatal("the run sent no request")
	}
	t.Logf("the engine at 10 req/s: %.2f %% of a core (over 10 s)", share*100)
	if share > 0.01 {
		t.Errorf("the engine at 10 req/s uses %.2f %% of a core, want at most a worker's 1 %%", share*100)
	}
}

// cpuTime is this process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
