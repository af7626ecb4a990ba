package load

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/load/internal/canned"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// TestRecordAllocatesNothing enforces the 0 allocs/op of BenchmarkRecord:
// recording a request's outcome allocates nothing, open or closed.
func TestRecordAllocatesNothing(t *testing.T) {
	for _, open := range []bool{false, true} {
		ln, o := recordFixture(open)
		if n := testing.AllocsPerRun(1000, func() { ln.record(o) }); n != 0 {
			t.Errorf("record (open %v) allocates %v times per request, want 0", open, n)
		}
	}
}

// TestEngineSteadyStateAllocatesNothing enforces the 0 allocs/op of
// BenchmarkEngine: a run of 20,000 more requests allocates (almost) no more
// than a run of 1,000 — less than one allocation per 100 requests — for
// each model and transport, templates and mixes included. It counts
// mallocs like testing.AllocsPerRun but without AllocsPerRun's
// GOMAXPROCS(1): with one P, the event loop's blocking epoll_wait starves
// the in-process canned server until sysmon hands the P over, and 21,000
// requests take minutes instead of a fraction of a second.
func TestEngineSteadyStateAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 2 × 22,000 requests per case; skipped with -short")
	}
	srv, err := canned.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cases := engineCases(srv.URL())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() { useEventLoop = true }()
			run := func(n int64) func() {
				return func() {
					s := spec.Spec{Request: spec.Request{URL: srv.URL() + "/ping"},
						Load: spec.Load{Model: spec.ModelAvalanche, Requests: n}}
					c.mod(&s)
					s.Normalize()
					s.Load.Concurrency = 4
					r, err := Prepare(context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
					if err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					if err := r.Run(context.Background(), time.Now()); err != nil {
						t.Fatal(err)
					}
					if iv := r.Collect(); iv.Counters.Requests != n || iv.Counters.Errors != 0 {
						t.Fatalf("requests %d errors %d, want %d and 0", iv.Counters.Requests, iv.Counters.Errors, n)
					}
				}
			}
			const small, extra = 1000, 20000
			base := mallocs(run(small))
			big := mallocs(run(small + extra))
			if per := (big - base) / extra; per >= 0.01 {
				t.Errorf("%.3f allocations per request in steady state (%.0f for %d requests, %.0f for %d), want 0",
					per, base, small, big, small+extra)
			} else {
				t.Logf("%.0f allocations for %d requests, %.0f for %d", base, small, big, small+extra)
			}
		})
	}
}

// mallocs is how many heap allocations f makes (on every goroutine), as
// testing.AllocsPerRun counts them, after one warm-up call.
func mallocs(f func()) float64 {
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs - before.Mallocs)
}
