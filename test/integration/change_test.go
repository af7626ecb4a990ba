package integration

import (
	"math"
	"net/http"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/report"
)

// changed is the answer of PATCH, pause and resume.
type changed struct {
	ID     string      `json:"id"`
	Change plan.Change `json:"change"`
	Error  string      `json:"error"`
	Fields []struct {
		Field, Problem string
	} `json:"fields"`
}

// startedAt waits for a test's start and returns start_at.
func startedAt(t *testing.T, c *tc.Cluster, id string) time.Time {
	t.Helper()
	var v struct {
		StartAt time.Time `json:"start_at"`
	}
	tc.Eventually(t, 30*time.Second, "the test's start", func() bool {
		tc.GetJSON(t, c.API()+"/tests/"+id, &v)
		return !v.StartAt.IsZero()
	})
	return v.StartAt
}

// c0 marks a target path that runAndWait puts on its cluster's target.
func c0(path string) string { return "target:" + path }

// runAndWait starts a cluster, submits sp (its
// URL put on the cluster's target) and waits until after into the run.
func runAndWait(t *testing.T, o tc.Options, sp map[string]any, after time.Duration) (*tc.Cluster, string) {
	t.Helper()
	c := tc.New(t, o)
	c.ResetTarget()
	req := sp["request"].(map[string]any)
	req["url"] = c.TargetURL(req["url"].(string)[len("target:"):])
	id := c.Submit(sp)
	time.Sleep(time.Until(startedAt(t, c, id).Add(after)))
	return c, id
}

// refusedChange checks that a PATCH of load is a 400 naming field.
func refusedChange(t *testing.T, url string, load map[string]any, field string) {
	t.Helper()
	var bad changed
	if code := tc.SendJSON(t, http.MethodPatch, url, map[string]any{"load": load}, &bad); code != http.StatusBadRequest || len(bad.Fields) != 1 || bad.Fields[0].Field != field {
		t.Errorf("PATCH %v = %d %+v, want 400 naming %s", load, code, bad, field)
	}
}

// change sends a live change and returns the change the leader made of it.
func change(t *testing.T, api, method, path string, body any) plan.Change {
	t.Helper()
	var out changed
	if code := tc.SendJSON(t, method, api+path, body, &out); code != http.StatusOK {
		t.Fatalf("%s %s = %d %s %v, want 200 with the change", method, path, code, out.Error, out.Fields)
	}
	return out.Change
}

// timeline returns a test's persisted timeline by second.
func timeline(t *testing.T, c *tc.Cluster, id string) map[int64]report.Point {
	t.Helper()
	var tl struct{ Points []report.Point }
	tc.GetJSON(t, c.API()+"/tests/"+id+"/timeline", &tl)
	out := map[int64]report.Point{}
	for _, p := range tl.Points {
		out[p.Second] = p
	}
	return out
}

// sumRequests adds the requests of seconds [from, to).
func sumRequests(pts map[int64]report.Point, from, to int64) int64 {
	var n int64
	for sec := from; sec < to; sec++ {
		n += pts[sec].Requests
	}
	return n
}

// near reports whether got is within frac of want.
func near(got, want int64, frac float64) bool {
	return math.Abs(float64(got-want)) <= frac*float64(want)
}

// TestLiveRateChange: 1,000/s changed to 2,000/s at second 5 of 10 sends
// exactly what the changed schedule holds, the per-second rate steps at
// the change's second, and the target saw what the result counts.
func TestLiveRateChange(t *testing.T) {
	c, id := runAndWait(t, tc.Options{Masters: 1, Workers: 2}, spec("constant-rate", map[string]any{"rate": 1000, "duration": "10s", "concurrency": 32}, c0("/ping")), 3500*time.Millisecond)
	// a bad change is refused like a spec, naming the field and the limit
	refusedChange(t, c.API()+"/tests/"+id, map[string]any{"concurrency": 5}, "load.concurrency")
	ch := change(t, c.API(), http.MethodPatch, "/tests/"+id, map[string]any{"load": map[string]any{"rate": 2000}})
	if ch.Seq != 1 || ch.Kind != plan.ChangeLoad || ch.Rate != 2000 || ch.By != "operator" || ch.At < 5 {
		t.Fatalf("change = %+v, want seq 1, load, rate 2000 by operator from second 5", ch)
	}
	res := c.WaitPhase(id, "completed", 60*time.Second)
	want := 1000*ch.At + 2000*(10-ch.At)
	got := res.Summary.Requests
	// the schedule is exact across the change
	if got != want {
		t.Errorf("requests = %d, want exactly %d (1,000/s for %d s, then 2,000/s)", got, want, ch.At)
	}
	if !near(got, want, 0.01) {
		t.Errorf("requests = %d, not within 1 %% of %d", got, want)
	}
	if target := c.TargetRequests(); target != got {
		t.Errorf("result counts %d requests but the target saw %d", got, target)
	}
	if tr := res.Summary.TargetRate; tr != float64(want)/10 {
		t.Errorf("target rate %g, want %g, the rate the change planned over the 10 s", tr, float64(want)/10)
	}
	// The step: 1,000/s in the seconds before the change's second, 2,000/s
	// from the one after it (a point counts the requests that finished in
	// its second, so a stalled machine moves a few across a boundary: the
	// rates are measured over the seconds on each side).
	pts := timeline(t, c, id)
	per := make([]int64, 11)
	for sec := range per {
		per[sec] = pts[int64(sec)].Requests
	}
	t.Logf("requests per second %v, late %d", per, res.Summary.Late)
	before, after := sumRequests(pts, 1, ch.At-1), sumRequests(pts, ch.At+1, 9)
	if !near(before, 1000*(ch.At-2), 0.02) || !near(after, 2000*(8-ch.At), 0.02) {
		t.Errorf("seconds 1..%d: %d requests, want %d ± 2 %%; seconds %d..8: %d, want %d ± 2 %%",
			ch.At-2, before, 1000*(ch.At-2), ch.At+1, after, 2000*(8-ch.At))
	}
	// the step is within one second: the second before the change's
	// and the change's own hold one second of each rate
	if n := sumRequests(pts, ch.At-1, ch.At+1); !near(n, 3000, 0.02) {
		t.Errorf("seconds %d and %d: %d requests, want 1,000 + 2,000 ± 2 %%", ch.At-1, ch.At, n)
	}
	var v struct{ Events []plan.Change }
	tc.GetJSON(t, c.API()+"/tests/"+id, &v)
	if len(v.Events) != 1 || v.Events[0].Rate != 2000 || v.Events[0].Time == 0 {
		t.Errorf("events = %+v, want the one rate change with its time", v.Events)
	}
}

// TestLiveConcurrencyChange: a closed model's connections per worker
// change from 4 to 12 (more than each worker prepared: they open the rest
// while running) at a second boundary, and its rate follows.
func TestLiveConcurrencyChange(t *testing.T) {
	c, id := runAndWait(t, tc.Options{Masters: 1, Workers: 2}, spec("avalanche", map[string]any{"concurrency": 4, "duration": "8s"}, c0("/ping?delay=20ms")), 2500*time.Millisecond)
	refusedChange(t, c.API()+"/tests/"+id, map[string]any{"rate": 10}, "load.rate")
	refusedChange(t, c.API()+"/tests/"+id, map[string]any{"concurrency": 1_000_000}, "load.concurrency")
	ch := change(t, c.API(), http.MethodPatch, "/tests/"+id, map[string]any{"load": map[string]any{"concurrency": 12}})
	if ch.Concurrency != 12 || ch.At < 4 {
		t.Fatalf("change = %+v, want concurrency 12 from second 4 on", ch)
	}
	res := c.WaitPhase(id, "completed", 60*time.Second)
	pts := timeline(t, c, id)
	// 8 connections at about 20 ms a request, then 24: three times the rate
	before, after := sumRequests(pts, 1, ch.At), sumRequests(pts, ch.At+1, 8)
	perBefore, perAfter := before/(ch.At-1), after/(7-ch.At)
	t.Logf("%d req/s with 4 connections per worker, %d with 12", perBefore, perAfter)
	if perBefore < 200 || perAfter*10 < perBefore*22 || perAfter*10 > perBefore*35 {
		t.Errorf("%d req/s before second %d, %d after; want the rate to triple", perBefore, ch.At, perAfter)
	}
	if target := c.TargetRequests(); target != res.Summary.Requests {
		t.Errorf("result counts %d requests but the target saw %d", res.Summary.Requests, target)
	}
}

// TestPauseResume: paused for 3 s, a test starts no request in those
// seconds (each has a point, 0 requests, paused), then sends the rest of
// its planned duration's worth: exactly the planned total.
func TestPauseResume(t *testing.T) {
	c, id := runAndWait(t, tc.Options{Masters: 1, Workers: 2}, spec("constant-rate", map[string]any{"rate": 500, "duration": "6s", "concurrency": 16}, c0("/ping")), 1500*time.Millisecond)
	start := startedAt(t, c, id)
	pause := change(t, c.API(), http.MethodPost, "/tests/"+id+"/pause", nil)
	var conflict changed
	if code := tc.SendJSON(t, http.MethodPost, c.API()+"/tests/"+id+"/pause", nil, &conflict); code != http.StatusConflict {
		t.Errorf("a second pause = %d %+v, want 409", code, conflict)
	}
	// asked in second 4, a resume applies at second 6 (at least a second ahead)
	time.Sleep(time.Until(start.Add(time.Duration(pause.At)*time.Second + 1500*time.Millisecond)))
	resume := change(t, c.API(), http.MethodPost, "/tests/"+id+"/resume", nil)
	if resume.At-pause.At != 3 {
		t.Fatalf("paused from second %d to %d, want 3 s", pause.At, resume.At)
	}
	res := c.WaitPhase(id, "completed", 60*time.Second)
	if res.Summary.Requests != 3000 {
		t.Errorf("requests = %d, want the planned 3,000 (500/s for 6 s of running time)", res.Summary.Requests)
	}
	if target := c.TargetRequests(); target != res.Summary.Requests {
		t.Errorf("result counts %d requests but the target saw %d", res.Summary.Requests, target)
	}
	pts := timeline(t, c, id)
	for sec := int64(0); sec < 9; sec++ {
		p, ok := pts[sec]
		paused := sec >= pause.At && sec < resume.At
		switch {
		case !ok:
			t.Errorf("second %d has no point", sec)
		case paused && (p.Requests != 0 || !p.Paused):
			t.Errorf("paused second %d: %d requests, paused %v; want 0 and paused", sec, p.Requests, p.Paused)
		case !paused && p.Paused:
			t.Errorf("running second %d is marked paused", sec)
		}
	}
	// 500/s in the running seconds on each side of the pause
	if n := sumRequests(pts, 0, pause.At) + sumRequests(pts, resume.At, 8); !near(n, 500*(pause.At+8-resume.At), 0.02) {
		t.Errorf("running seconds 0..%d and %d..7: %d requests, want %d ± 2 %%", pause.At-1, resume.At, n, 500*(pause.At+8-resume.At))
	}
}

// TestRebalanceKeepsTheRate: with on_worker_loss: rebalance, a worker
// killed with SIGKILL is found lost and its share goes to the two
// survivors at a second boundary; from there the fleet's rate is the
// test's total again, within 2 %.
func TestRebalanceKeepsTheRate(t *testing.T) {
	sp := spec("constant-rate", map[string]any{"rate": 600, "duration": "14s", "concurrency": 16}, c0("/ping"))
	sp["on_worker_loss"] = "rebalance"
	// the lost worker's final report never comes: a short grace ends the test soon after its end
	c, id := runAndWait(t, tc.Options{Masters: 1, Workers: 3, MasterArgs: []string{"--final-grace", "3s"}}, sp, 2*time.Second)
	victim := c.Workers[0]
	victim.Kill()
	var v struct {
		Events []plan.Change
	}
	tc.Eventually(t, 20*time.Second, "a rebalance", func() bool {
		tc.GetJSON(t, c.API()+"/tests/"+id, &v)
		return len(v.Events) == 1
	})
	rb := v.Events[0]
	if rb.Kind != plan.ChangeRebalance || len(rb.Lost) != 1 || rb.Lost[0] != victim.Name || rb.By != "leader" {
		t.Fatalf("event = %+v, want a rebalance by the leader for %s", rb, victim.Name)
	}
	if rb.At > 11 {
		t.Fatalf("rebalanced from second %d; too late to measure", rb.At)
	}
	res := c.WaitPhase(id, "completed", 60*time.Second)
	pts := timeline(t, c, id)
	for sec := rb.At; sec < 14; sec++ {
		if p := pts[sec]; !near(p.Requests, 600, 0.02) {
			t.Errorf("second %d (rebalanced from %d): %d requests, want 600 ± 2 %%", sec, rb.At, p.Requests)
		}
	}
	if len(res.Summary.LostWorkers) != 1 || res.Summary.LostWorkers[0] != victim.Name {
		t.Errorf("lost workers %v, want [%s]", res.Summary.LostWorkers, victim.Name)
	}
}

// TestChangeSurvivesLeaderKill: a rate change written by a leader that is
// then killed with SIGKILL holds under the new leader, which numbers the
// next change after it; the run sends exactly what both changes add up to.
func TestChangeSurvivesLeaderKill(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 2, Workers: 2})
	c.ResetTarget()
	id := c.Submit(spec("constant-rate", map[string]any{"rate": 1000, "duration": "10s", "concurrency": 32}, c.TargetURL("/ping")))
	start := startedAt(t, c, id)
	time.Sleep(time.Until(start.Add(2500 * time.Millisecond)))
	first := change(t, c.API(), http.MethodPatch, "/tests/"+id, map[string]any{"load": map[string]any{"rate": 2000}})
	var cl struct {
		Leader *struct{ ID string } `json:"leader"`
	}
	tc.GetJSON(t, c.API()+"/cluster", &cl)
	var follower *tc.Proc
	for _, m := range c.Masters {
		if m.Name == cl.Leader.ID {
			m.Kill()
		} else {
			follower = m
		}
	}
	if follower == nil {
		t.Fatalf("no follower besides leader %v", cl.Leader)
	}
	api := follower.URL() + "/api/v1"
	tc.Eventually(t, 20*time.Second, "the follower leads", func() bool {
		tc.GetJSON(t, api+"/cluster", &cl)
		return cl.Leader != nil && cl.Leader.ID == follower.Name
	})
	var second changed
	tc.Eventually(t, 20*time.Second, "the new leader answers a change", func() bool {
		return tc.SendJSON(t, http.MethodPatch, api+"/tests/"+id, map[string]any{"load": map[string]any{"duration": "14s"}}, &second) == http.StatusOK
	})
	if first.Seq != 1 || second.Change.Seq != 2 || second.Change.At < first.At {
		t.Fatalf("changes %+v then %+v, want seq 1 then 2", first, second.Change)
	}
	var res tc.Test
	tc.Eventually(t, 60*time.Second, "the test completed under the new leader", func() bool {
		tc.GetJSON(t, api+"/tests/"+id, &res)
		return res.Phase == "completed"
	})
	want := 1000*first.At + 2000*(14-first.At)
	if got := res.Summary.Requests; got != want {
		t.Errorf("requests = %d, want exactly %d (1,000/s for %d s, then 2,000/s to 14 s)", got, want, first.At)
	}
	if target := c.TargetRequests(); target != res.Summary.Requests {
		t.Errorf("result counts %d requests but the target saw %d", res.Summary.Requests, target)
	}
}
