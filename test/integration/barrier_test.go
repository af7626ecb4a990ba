package integration

import (
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
)

// startBound is how long after its scheduled time a worker's first request
// may reach the target: the engine wakes a millisecond early and spins, so
// this is loopback latency plus scheduling noise on a busy machine.
const startBound = 50 * time.Millisecond

// The start barrier, seen from the target's own clock: no worker sends
// anything before start_at, each worker's first request arrives within
// startBound of its scheduled time (start_at plus its phase offset in the
// global stream), its last before the planned end, and the start skew each
// worker reports agrees with what the target saw (it is not measured from
// a start the engine moved).
func TestWorkersStartAtTheBarrier(t *testing.T) {
	const workers, rate, secs = 3, 600, 3
	c := tc.New(t, tc.Options{Masters: 1, Workers: workers})
	c.ResetTarget()
	s := spec("constant-rate", map[string]any{"rate": rate, "duration": "3s", "concurrency": 32}, c.TargetURL("/ping"))
	s["request"].(map[string]any)["headers"] = map[string]any{tc.WorkerHeader: "{{worker}}"}
	id := c.Submit(s)
	res := c.WaitPhase(id, "completed", 60*time.Second)
	startAt := c.StartAt(c.ZKClient(), id)
	ts := c.Settled(10 * time.Second)
	if len(res.Workers) != workers || len(ts.ByWorkerSpan) != workers {
		t.Fatalf("result has %d workers, the target saw %d senders (%v); want %d", len(res.Workers), len(ts.ByWorkerSpan), ts.ByWorker, workers)
	}
	end := startAt.Add(secs * time.Second)
	for _, w := range res.Workers {
		span, ok := ts.ByWorkerSpan[w.ID]
		if !ok {
			t.Errorf("the target saw nothing from %s", w.ID)
			continue
		}
		// every worker's first request is due within one global
		// inter-arrival period per worker of start_at
		due := startAt.Add(time.Duration(workers) * time.Second / rate)
		first, last := span.First(), span.Last()
		if first.Before(startAt) {
			t.Errorf("%s: first request reached the target %v BEFORE start_at", w.ID, startAt.Sub(first))
		}
		if late := first.Sub(due); late > startBound {
			t.Errorf("%s: first request reached the target %v after start_at, want within %v of its due time", w.ID, first.Sub(startAt), startBound)
		}
		if last.After(end.Add(startBound)) {
			t.Errorf("%s: last request reached the target %v after the planned end", w.ID, last.Sub(end))
		}
		if want := int64(rate * secs / workers); w.Requests != want || ts.ByWorker[w.ID] != want {
			t.Errorf("%s: result counts %d requests, the target %d; want exactly %d", w.ID, w.Requests, ts.ByWorker[w.ID], want)
		}
		// the reported skew is the engine's send time minus the due time;
		// the target sees the request after it was sent
		seen := first.Sub(startAt)
		reported := time.Duration(w.StartSkewMs * float64(time.Millisecond))
		if reported > seen+100*time.Microsecond || seen-reported > startBound {
			t.Errorf("%s: reports a start skew of %v, but its first request reached the target %v after start_at", w.ID, reported, seen)
		}
		t.Logf("%s: first request %v after start_at (reported skew %v), last %v before the planned end",
			w.ID, seen, reported, end.Sub(last))
	}
}
