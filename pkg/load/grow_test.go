package load

import (
	"context"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// TestLiveConcurrencyGrows: a live closed-model run prepared with 2
// connections takes a change to 6 from its second 1: it opens the 4 more
// while it runs, its rate triples at the change's second, and every
// request is counted once (the target saw as many).
func TestLiveConcurrencyGrows(t *testing.T) {
	tp := startTarget(t)
	engines(t, func(t *testing.T) { concurrencyGrows(t, tp) })
}

func concurrencyGrows(t *testing.T, tp *targetProc) {
	tp.post(t, "/stats/reset")
	s := testSpec(tp.URL+"/ping?delay=20ms", spec.Load{Model: spec.ModelAvalanche, Concurrency: 2, Duration: spec.D(3 * time.Second)})
	r, err := PrepareWith(context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}}, Options{Live: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	start := time.Now().Add(100 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), start) }()
	time.Sleep(time.Until(start.Add(400 * time.Millisecond)))
	if err := r.Adopt(context.Background(), []plan.Change{{Seq: 1, At: 1, Kind: plan.ChangeLoad, Concurrency: 6}}); err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	var per [4]int64
	for sec := range per {
		time.Sleep(time.Until(start.Add(time.Duration(sec+1) * time.Second)))
		if sec == len(per)-1 {
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
		}
		per[sec] = r.Collect().Counters.Requests
	}
	t.Logf("requests per second %v", per)
	if c := r.Info().Connections; c != 6 {
		t.Errorf("run holds %d connections after the change, want 6", c)
	}
	// about 50 requests a second per connection (20 ms each)
	if per[0] < 40 || per[2] < per[0]*22/10 || per[2] > per[0]*35/10 {
		t.Errorf("requests per second %v: want second 2 about three times second 0 (2 then 6 connections)", per)
	}
	var total int64
	for _, n := range per {
		total += n
	}
	if ts := tp.stats(t); ts.Requests != total {
		t.Errorf("target saw %d requests, the run counted %d", ts.Requests, total)
	}
}
