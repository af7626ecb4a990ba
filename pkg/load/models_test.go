package load

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// TestTsunamiPaces: with a 20 ms pause after each response, each of 2
// connections starts a request at most every 20 ms, so 1 s holds at most
// 2 × 50 = 100; and at least as many as fit when each cycle is the pause
// plus the measured mean service time plus 3 ms of scheduling slack — a
// run that stopped early or paused too long falls below.
func TestTsunamiPaces(t *testing.T) {
	tp := startTarget(t)
	engines(t, func(t *testing.T) { tsunamiPaces(t, tp) })
}

func tsunamiPaces(t *testing.T, tp *targetProc) {
	tp.post(t, "/stats/reset")
	s := testSpec(tp.URL+"/ping", spec.Load{Model: spec.ModelTsunami, Concurrency: 2, Delay: spec.D(20 * time.Millisecond), Duration: spec.D(time.Second)})
	got, _ := runAll(t, context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
	n := got.Counters.Requests
	cycle := 20*time.Millisecond + meanService(got) + 3*time.Millisecond
	if lo := 2 * int64(time.Second/cycle); n < lo || n > 100 {
		t.Errorf("tsunami 2 connections, 20 ms delay, 1 s: %d requests, want between %d (cycles of %v) and 100", n, lo, cycle)
	}
	if ts := tp.stats(t); ts.Requests != n {
		t.Errorf("target saw %d requests, engine counted %d", ts.Requests, n)
	}
}

// TestRampingRate: ramping 0 → 400/s over 1 s then 400/s for 1 s schedules
// exactly 200 + 400 requests, split over two workers.
func TestRampingRate(t *testing.T) {
	tp := startTarget(t)
	engines(t, func(t *testing.T) { rampingRate(t, tp) })
}

func rampingRate(t *testing.T, tp *targetProc) {
	tp.post(t, "/stats/reset")
	s := testSpec(tp.URL+"/ping", spec.Load{Model: spec.ModelRampingRate, Stages: stages(time.Second, 400.0, time.Second, 400.0)})
	var total int64
	for i, sh := range plan.Split(&s, 2) {
		got, r := runAll(t, context.Background(), Plan{Spec: s, Share: sh})
		if got.Counters.Requests != 300 {
			t.Errorf("worker %d: %d requests, want 300", i, got.Counters.Requests)
		}
		if in := r.Info(); in.TargetRate != 150 {
			t.Errorf("worker %d: Info().TargetRate = %v, want 150", i, in.TargetRate)
		}
		total += got.Counters.Requests
	}
	if ts := tp.stats(t); ts.Requests != total {
		t.Errorf("target saw %d requests, engine counted %d", ts.Requests, total)
	}
}

// TestRampingConcurrency: the connection count follows the stages; each
// connection holds one request for 50 ms, so the request count follows the
// integral of the connection count, and nothing is sent after the last
// stage.
func TestRampingConcurrency(t *testing.T) {
	tp := startTarget(t)
	engines(t, func(t *testing.T) { rampingConcurrency(t, tp) })
}

func rampingConcurrency(t *testing.T, tp *targetProc) {
	tp.post(t, "/stats/reset")
	s := testSpec(tp.URL+"/x?delay=50ms", spec.Load{Model: spec.ModelRampingConcurrency,
		Stages: stages(time.Second, 4.0, 500*time.Millisecond, 0.0)})
	got, r := runAll(t, context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
	if in := r.Info(); in.Connections != 4 {
		t.Errorf("Info().Connections = %d, want 4", in.Connections)
	}
	// Connection j works while the level is above j: from j/4 s (rising
	// 4/s) to 1 + (4-j)/8 s (falling 8/s), that is 1.5, 1.125, 0.75 and
	// 0.375 s. Each request takes at least 50 ms, so connection j starts at
	// most ceil(active/50 ms): 30 + 23 + 15 + 8 = 76; and at least
	// floor(active/cycle) with a cycle of the measured mean service time
	// plus 3 ms of slack.
	n := got.Counters.Requests
	cycle := meanService(got) + 3*time.Millisecond
	var lo int64
	for _, active := range []time.Duration{1500 * time.Millisecond, 1125 * time.Millisecond, 750 * time.Millisecond, 375 * time.Millisecond} {
		lo += int64(active / cycle)
	}
	if n < lo || n > 76 {
		t.Errorf("requests = %d, want between %d (cycles of %v) and 76", n, lo, cycle)
	}
	if ts := tp.stats(t); ts.Requests != n {
		t.Errorf("target saw %d requests, engine counted %d", ts.Requests, n)
	}
}

// TestCollectWhileRunning: interval collection during the run loses and
// duplicates nothing; the intervals add up to what the target saw.
func TestCollectWhileRunning(t *testing.T) {
	tp := startTarget(t)
	engines(t, func(t *testing.T) { collectWhileRunning(t, tp) })
}

func collectWhileRunning(t *testing.T, tp *targetProc) {
	tp.post(t, "/stats/reset")
	s := testSpec(tp.URL+"/ping", spec.Load{Model: spec.ModelAvalanche, Concurrency: 6, Duration: spec.D(1500 * time.Millisecond)})
	r, err := Prepare(context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(context.Background(), time.Now())
	}()
	var sum, hsum int64
	intervals := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-time.After(time.Millisecond):
		}
		iv := r.Collect()
		sum += iv.Counters.Requests
		hsum += iv.Latency.Count()
		intervals++
	}
	iv := r.Collect()
	sum += iv.Counters.Requests
	hsum += iv.Latency.Count()
	if ts := tp.stats(t); ts.Requests != sum || hsum != sum || sum == 0 {
		t.Errorf("over %d collections: counted %d, histogram %d, target saw %d", intervals, sum, hsum, ts.Requests)
	}
}

func TestPrepareRejectsBadPlans(t *testing.T) {
	s := testSpec("ftp://x/", spec.Load{Model: spec.ModelAvalanche, Requests: 1})
	if _, err := Prepare(context.Background(), Plan{Spec: s}); err == nil {
		t.Errorf("Prepare with an ftp URL succeeded, want ErrInvalidPlan")
	}
	s = testSpec("http://127.0.0.1:1/", spec.Load{Model: spec.ModelAvalanche, Requests: 1})
	if _, err := Prepare(context.Background(), Plan{Spec: s, Share: plan.Share{Index: 3, Of: 2}}); err == nil {
		t.Errorf("Prepare with share 3 of 2 succeeded, want an error")
	}
}

// TestPrepareRefusesMoreConnectionsThanFDs: a plan needing more sockets
// than the process may open is refused at prepare, naming the limit,
// rather than failing its connections once load has started.
func TestPrepareRefusesMoreConnectionsThanFDs(t *testing.T) {
	limit, ok := fdLimit()
	if !ok {
		t.Skip("no file descriptor limit on this platform")
	}
	s := testSpec("http://127.0.0.1:1/", spec.Load{Model: spec.ModelAvalanche, Concurrency: limit, Duration: spec.D(time.Second)})
	_, err := Prepare(context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
	if !errors.Is(err, ErrInvalidPlan) || !strings.Contains(err.Error(), "load.concurrency") || !strings.Contains(err.Error(), strconv.Itoa(limit)) {
		t.Errorf("Prepare with %d connections = %v, want ErrInvalidPlan naming load.concurrency and the limit %d", limit, err, limit)
	}
}

// meanService is the mean service time of what a run recorded.
func meanService(iv Interval) time.Duration {
	return time.Duration(iv.Service.Summary().Mean * float64(time.Millisecond))
}
