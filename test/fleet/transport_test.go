package main

import (
	"context"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/load"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// The real engine over the simulated transport sends exactly the planned
// requests of a constant-rate share, each answered 200.
func TestSimulatedTransportRunsTheEngineExactly(t *testing.T) {
	sp, errs := spec.Parse([]byte(`{"request":{"url":"http://127.0.0.1:9/x"},"load":{"model":"constant-rate","rate_per_worker":10,"duration":"2s","concurrency":2}}`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, idx := range []int{0, 150, 299} {
		p := load.Plan{TestID: "t", WorkerID: "w", Spec: sp, Share: plan.Share{Index: idx, Of: 300}}
		run, err := load.PrepareWith(context.Background(), p, load.Options{Transports: simTransports(uint64(idx))})
		if err != nil {
			t.Fatal(err)
		}
		if err := run.Run(context.Background(), time.Now().Add(50*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		iv := run.Collect()
		run.Close()
		if iv.Counters.Requests != 20 || iv.Counters.Errors != 0 {
			t.Errorf("share %d/300: %d requests (%d errors), want 20 and none", idx, iv.Counters.Requests, iv.Counters.Errors)
		}
	}
}
