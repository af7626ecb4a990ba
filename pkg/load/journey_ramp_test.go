package load

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

func pingScenario(t *testing.T, url, load string) spec.Spec {
	t.Helper()
	s, errs := spec.Parse([]byte(`{"load": ` + load + `, "scenario": {"steps": [
	  {"name": "ping", "request": {"url": "` + url + `/ping"}, "check": {"status": [200]}}]}}`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return s
}

// TestJourneysRampingRate: ramping-rate journeys from 0 to 20/s over 2 s on
// two workers follow the engine's schedule: exactly 20 journeys in all
// (the ramp's integral), and, whenever counted, no more than were due by
// then, far fewer than a constant rate would have started.
func TestJourneysRampingRate(t *testing.T) {
	tp := startTarget(t)
	s := pingScenario(t, tp.URL, `{"model": "ramping-rate", "start_rate": 0, "stages": [{"duration": "2s", "target": 20}]}`)
	shares := plan.Split(&s, 2)
	runs := make([]*Run, len(shares))
	for i, sh := range shares {
		r, err := Prepare(context.Background(), Plan{Spec: s, Share: sh})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		runs[i] = r
	}
	startAt := time.Now().Add(50 * time.Millisecond)
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Go(func() { _ = r.Run(context.Background(), startAt) })
	}
	time.Sleep(time.Until(startAt.Add(1200 * time.Millisecond)))
	var sofar int64
	for _, r := range runs {
		it := r.Collect().Iterations
		sofar += it.Completed + it.Failed
	}
	el := time.Since(startAt).Seconds()
	wg.Wait()
	// journeys due by el: global k is due at √(k/5) s, so ⌊5·el²⌋+1
	if due := int64(math.Floor(5*el*el)) + 1; sofar > due || sofar < int64(5*(el-0.3)*(el-0.3)) {
		t.Errorf("%d journeys ended by %.2fs, want at most the %d due (a constant 10/s would be %d)", sofar, el, due, int64(10*el))
	}
	total := sofar
	for _, r := range runs {
		iv := r.Collect()
		total += iv.Iterations.Completed + iv.Iterations.Failed
		if iv.Iterations.Failed != 0 || iv.Counters.Errors != 0 {
			t.Errorf("failed journeys %d, errors %d; want none", iv.Iterations.Failed, iv.Counters.Errors)
		}
	}
	if n := tp.stats(t).Requests; total != 20 || n != 20 {
		t.Errorf("%d journeys, target saw %d; want exactly 20", total, n)
	}
}

// TestJourneysRampingConcurrency: the virtual users follow the
// ramping-concurrency profile: none for the first second, then up to two,
// until the iterations are done.
func TestJourneysRampingConcurrency(t *testing.T) {
	tp := startTarget(t)
	s := pingScenario(t, tp.URL, `{"model": "ramping-concurrency", "iterations": 12, "stages": [{"duration": "1s", "target": 0}, {"duration": "2s", "target": 2}]}`)
	r, err := Prepare(context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1, Iterations: 12}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if in := r.Info(); in.Connections != 2 {
		t.Errorf("%d virtual users, want the profile's 2", in.Connections)
	}
	startAt := time.Now().Add(50 * time.Millisecond)
	if err := r.Run(context.Background(), startAt); err != nil {
		t.Fatal(err)
	}
	iv := r.Collect()
	st := tp.stats(t)
	if iv.Iterations.Completed != 12 || st.Requests != 12 {
		t.Errorf("%d journeys completed, target saw %d; want 12", iv.Iterations.Completed, st.Requests)
	}
	if first := time.Unix(0, st.FirstUnixNs); first.Before(startAt.Add(time.Second)) {
		t.Errorf("the first journey began %v after the start, want none before 1s (the profile is 0)", first.Sub(startAt))
	}
}
