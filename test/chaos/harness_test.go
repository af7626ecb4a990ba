package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// measure is what one run of a scenario measured, for the table.
type measure struct {
	failover time.Duration
	skewMs   float64
	lost     int64
}

// scenario runs fn repetitions() times in a row (once without
// STAMPEDE_CHAOS_FULL=1), each as its own subtest on a fresh cluster, and
// records every run in the table. No scenario is ever skipped.
func scenario(t *testing.T, name string, fn func(t *testing.T, m *measure)) {
	for i := 1; i <= repetitions(); i++ {
		m := &measure{}
		ok := t.Run(fmt.Sprintf("run%d", i), func(t *testing.T) {
			start := time.Now()
			fn(t, m)
			t.Logf("%s run %d: %v, failover %v, max start skew %.1f ms, lost %d",
				name, i, time.Since(start).Round(time.Millisecond), m.failover.Round(time.Millisecond), m.skewMs, m.lost)
		})
		record(name, ok, m)
	}
}

// constantRate is a constant-rate spec against the sample target whose
// requests carry the worker's id in workerHeader.
func constantRate(c *tc.Cluster, rate int, duration string, extra map[string]any) map[string]any {
	s := map[string]any{
		"name": "chaos",
		"request": map[string]any{
			"url": c.TargetURL("/ping"), "timeout": "2s",
			"headers": map[string]any{tc.WorkerHeader: "{{worker}}"},
		},
		"load": map[string]any{"model": "constant-rate", "rate": rate, "duration": duration, "concurrency": 32},
	}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

// waitRunningFor waits until the test is running and then d more.
func waitRunningFor(t *testing.T, c *tc.Cluster, id string, d time.Duration) {
	t.Helper()
	c.WaitPhase(id, "running", 60*time.Second)
	time.Sleep(d)
}

// waitEnd waits for any terminal phase and fails unless it is want.
func waitEnd(t *testing.T, c *tc.Cluster, id, want string, d time.Duration) tc.Test {
	t.Helper()
	res := c.WaitPhase(id, "completed|stopped|aborted|failed", d)
	if res.Phase != want {
		t.Fatalf("test ended %s (%s), want %s", res.Phase, res.Reason, want)
	}
	if res.Summary == nil {
		t.Fatalf("test %s has no result", id)
	}
	return res
}

// conserve checks request conservation against the target's own count:
// every worker's counted requests equal what the target received from it,
// except a worker in mayLose (killed before it could report its last
// interval), whose shortfall is returned as lost. It also checks that the
// merged histogram holds exactly the counted requests, and the timeline.
func conserve(t *testing.T, c *tc.Cluster, id string, res tc.Test, mayLose ...string) (lost int64) {
	t.Helper()
	// a killed worker's requests may still be in the target's handlers
	ts := c.Settled(10 * time.Second)
	var byHeader int64
	for _, n := range ts.ByWorker {
		byHeader += n
	}
	if byHeader != ts.Requests {
		t.Errorf("target: %d requests carry a worker header, want all %d", byHeader, ts.Requests)
	}
	sum := res.Summary
	may := map[string]bool{}
	for _, w := range mayLose {
		may[w] = true
	}
	var perWorker int64
	seen := map[string]bool{}
	for _, w := range sum.Workers {
		seen[w.ID] = true
		perWorker += w.Requests
		got := ts.ByWorker[w.ID]
		switch {
		case may[w.ID] && got >= w.Requests:
			lost += got - w.Requests
		case got != w.Requests:
			t.Errorf("worker %s: result counts %d requests, the target received %d from it", w.ID, w.Requests, got)
		}
	}
	for w, n := range ts.ByWorker {
		if !seen[w] {
			if !may[w] {
				t.Errorf("worker %s sent %d requests but is not in the result", w, n)
			}
			lost += n
		}
	}
	if perWorker != sum.Requests {
		t.Errorf("per-worker requests sum to %d, result says %d", perWorker, sum.Requests)
	}
	if sum.Requests+lost != ts.Requests {
		t.Errorf("result %d + lost %d != target %d", sum.Requests, lost, ts.Requests)
	}
	if sum.Errors != 0 {
		t.Errorf("errors = %d (%v), want 0", sum.Errors, sum.ErrorKinds)
	}
	h, err := hist.Decode(sum.Histogram)
	if err != nil {
		t.Fatalf("result histogram: %v", err)
	}
	if h.Count() != sum.Requests {
		t.Errorf("merged histogram holds %d values, result counts %d requests", h.Count(), sum.Requests)
	}
	checkTimeline(t, c, id, sum.Requests)
	return lost
}

// checkTimeline checks the persisted timeline: each second once, in
// order, from 0; its requests never exceed the result's, and equal them
// when no second is marked as a gap. It returns the gap seconds.
func checkTimeline(t *testing.T, c *tc.Cluster, id string, requests int64) []int64 {
	t.Helper()
	var tl struct{ Points []report.Point }
	tc.GetJSON(t, c.API()+"/tests/"+id+"/timeline", &tl)
	var total int64
	var gaps []int64
	for i, p := range tl.Points {
		if p.Second != int64(i) {
			t.Errorf("timeline point %d is second %d: seconds must appear once each, in order", i, p.Second)
			break
		}
		total += p.Requests
		if p.Gap {
			gaps = append(gaps, p.Second)
		}
	}
	if len(tl.Points) == 0 {
		t.Error("empty timeline")
	}
	if total > requests || (len(gaps) == 0 && total != requests) {
		t.Errorf("timeline sums to %d requests (gaps at %v), result counts %d", total, gaps, requests)
	}
	if len(gaps) > 0 {
		var desc []string
		for _, p := range tl.Points {
			if p.Gap {
				ws := make([]string, 0, len(p.Workers))
				for w := range p.Workers {
					ws = append(ws, w)
				}
				sort.Strings(ws)
				desc = append(desc, fmt.Sprintf("%d:%d%v", p.Second, p.Requests, ws))
			}
		}
		t.Logf("timeline gaps (second:requests[workers seen]) %s", strings.Join(desc, " "))
	}
	return gaps
}

// lastMerged is the last timeline second persisted in ZooKeeper, -1 if
// none.
func lastMerged(ctx context.Context, z *coord.Client, p proto.Paths, id string) int64 {
	last := int64(-1)
	names, err := z.Children(ctx, p.TimelineDir(id))
	if err != nil {
		return last
	}
	sort.Strings(names)
	for _, n := range names {
		d, _, err := z.Get(ctx, path.Join(p.TimelineDir(id), n))
		if err != nil {
			continue
		}
		var pts []report.Point
		if json.Unmarshal(d, &pts) == nil {
			for _, pt := range pts {
				last = max(last, pt.Second)
			}
		}
	}
	return last
}

// failover measures from killed until a timeline second past the one
// persisted at that moment is merged (by whichever master leads next).
func failover(t *testing.T, c *tc.Cluster, id string, killed time.Time, within time.Duration) time.Duration {
	t.Helper()
	z := c.ZKClient()
	p := c.Paths()
	ctx := context.Background()
	base := lastMerged(ctx, z, p, id)
	var took time.Duration
	tc.Eventually(t, within, "a new leader merges a timeline point", func() bool {
		if lastMerged(ctx, z, p, id) > base {
			took = time.Since(killed)
			return true
		}
		return false
	})
	return took
}

// leaderProc returns the process of the current leader and the others.
func leaderProc(t *testing.T, c *tc.Cluster) (*tc.Proc, []*tc.Proc) {
	t.Helper()
	var leader *tc.Proc
	var others []*tc.Proc
	tc.Eventually(t, 30*time.Second, "a master leads", func() bool {
		var v struct {
			Leader *struct{ ID string } `json:"leader"`
		}
		tc.GetJSON(t, c.API()+"/cluster", &v)
		if v.Leader == nil {
			return false
		}
		leader, others = nil, nil
		for _, m := range c.Masters {
			if m.Name == v.Leader.ID && !m.Exited() {
				leader = m
			} else {
				others = append(others, m)
			}
		}
		return leader != nil
	})
	return leader, others
}

// completedUndisturbed waits for phase completed and checks what a test
// that survived the failure must hold: request conservation, whole timeline
// seconds, every worker done with exactly perWorker requests.
func completedUndisturbed(t *testing.T, c *tc.Cluster, id string, m *measure, perWorker int64) {
	t.Helper()
	res := waitEnd(t, c, id, "completed", 90*time.Second)
	m.skewMs = skew(res)
	m.lost = conserve(t, c, id, res)
	fullSeconds(t, c, id, 3)
	exactShares(t, c, res, perWorker)
	for _, w := range res.Workers {
		if w.State != "done" {
			t.Errorf("worker %s is %q, want done", w.ID, w.State)
		}
	}
}

// leaderKilledAt kills the leader once the test has run for `after`,
// records the failover and the start skew, and returns the result once the
// test completed.
func leaderKilledAt(t *testing.T, c *tc.Cluster, leader *tc.Proc, id string, after time.Duration, m *measure) tc.Test {
	t.Helper()
	waitRunningFor(t, c, id, after)
	killed := time.Now()
	leader.Kill()
	m.failover = failover(t, c, id, killed, c.Session+10*time.Second)
	res := waitEnd(t, c, id, "completed", 90*time.Second)
	m.skewMs = skew(res)
	return res
}

// skew is the result's max start skew in ms.
func skew(res tc.Test) float64 { return res.Summary.MaxSkewMs }

// exactShares checks that each named worker (every worker of the result if
// none is named) ran its whole share of a constant-rate schedule: exactly
// perWorker requests (rate × duration / workers), in the result and at
// the target. A failure that stopped a worker early, or made it run on,
// shows here.
func exactShares(t *testing.T, c *tc.Cluster, res tc.Test, perWorker int64, ids ...string) {
	t.Helper()
	if len(ids) == 0 {
		for _, w := range res.Workers {
			ids = append(ids, w.ID)
		}
	}
	ts := c.TargetStats()
	for _, id := range ids {
		w := workerLine(res, id)
		if w == nil {
			t.Errorf("worker %s is not in the result", id)
			continue
		}
		if w.Requests != perWorker || ts.ByWorker[id] != perWorker {
			t.Errorf("worker %s: result counts %d requests, the target saw %d; want exactly %d", id, w.Requests, ts.ByWorker[id], perWorker)
		}
	}
}

// workerLine is a worker's line in the result.
func workerLine(res tc.Test, id string) *tc.WorkerStatus {
	for i := range res.Workers {
		if res.Workers[i].ID == id {
			return &res.Workers[i]
		}
	}
	return nil
}

// fullSeconds checks, for a run in which all n workers run to the planned
// end, that every timeline second but the last (where workers' final
// intervals end a few ms apart) is either marked as a gap or merges all n
// workers, and adds up: a second is never filled with partial numbers
// without saying so.
func fullSeconds(t *testing.T, c *tc.Cluster, id string, n int) {
	t.Helper()
	var tl struct{ Points []report.Point }
	tc.GetJSON(t, c.API()+"/tests/"+id+"/timeline", &tl)
	for i, p := range tl.Points {
		if i == len(tl.Points)-1 || p.Gap {
			continue
		}
		var sum int64
		for _, w := range p.Workers {
			sum += w.Requests
		}
		if len(p.Workers) != n || sum != p.Requests {
			t.Errorf("second %d is not a gap but has %d of %d workers, %d requests (workers sum to %d)",
				p.Second, len(p.Workers), n, p.Requests, sum)
		}
	}
}
