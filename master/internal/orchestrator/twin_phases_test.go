package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stampede-load/stampede/internal/twintest"
	"github.com/stampede-load/stampede/master/internal/view"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

func absent(t *testing.T, c *coord.Client, p, why string) {
	t.Helper()
	ok, _, err := c.Exists(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatalf("%s exists: %s", p, why)
	}
}

// checkCompleted checks a completed test's result, lines and timeline
// against exactly what the workers reported.
func checkCompleted(t *testing.T, tw *twin, c *coord.Client, id string, perWorker map[string]int64) {
	t.Helper()
	var total int64
	for _, n := range perWorker {
		total += n
	}
	res := tw.result(c, id)
	if res.Requests != total || res.Errors != 0 || res.StatusCodes["200"] != total {
		t.Errorf("result: %d requests, %d errors, status %v; want exactly %d, 0, all 200", res.Requests, res.Errors, res.StatusCodes, total)
	}
	if res.LatencyMs.P50 < 1.4 || res.LatencyMs.P50 > 1.6 {
		t.Errorf("p50 %.3f ms, want the 1.5 ms every worker recorded", res.LatencyMs.P50)
	}
	rd := &view.Reader{C: c, P: tw.p}
	lines, err := rd.Lines(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, l := range lines {
		got[l.ID] = l.Requests
	}
	for w, n := range perWorker {
		if got[w] != n {
			t.Errorf("worker %s line: %d requests, want %d (lines %+v)", w, got[w], n, lines)
		}
	}
	pts, err := rd.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, p := range pts {
		sum += p.Requests
	}
	if sum != total {
		t.Errorf("timeline: %d points summing to %d requests, want %d", len(pts), sum, total)
	}
}

// A test moves pending → preparing → running → completed: every idle
// worker gets a plan, the barrier opens once all voted, and the result is
// the exact merge of what each worker reported.
func TestPhaseMachineOnTheTwin(t *testing.T) {
	tw := newTwin(t)
	m := tw.master("m1")
	ws := []*twintest.Worker{tw.worker("w1", 100), tw.worker("w2", 100), tw.worker("w3", 100)}
	obs := tw.client()
	id := tw.submit(obs, `{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":300,"duration":"2s"},"workers":3}`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m.awaitLead(t)
	// The workers play only once preparing was seen: with their votes in,
	// the test can pass through preparing faster than a poll can see it.
	prep := tw.awaitPhase(obs, id, proto.PhasePreparing, 10*time.Second)
	playAll(ctx, id, 2, ws...)
	if prep.Chosen != 3 || prep.PlannedAt == 0 || prep.Leader != "m1" {
		t.Errorf("preparing state %+v, want 3 workers chosen, planned by m1", prep)
	}
	kids, err := obs.Children(ctx, tw.p.Plans(id))
	if err != nil || !slices.Equal(kids, []string{"w1", "w2", "w3"}) {
		t.Errorf("plans %v (%v), want one per worker", kids, err)
	}
	run := tw.awaitPhase(obs, id, proto.PhaseRunning, 10*time.Second)
	d, _, err := obs.Get(ctx, tw.p.Start(id))
	var start proto.Start
	if err != nil || json.Unmarshal(d, &start) != nil || start.StartAt != run.StartAt || run.StartAt == 0 {
		t.Errorf("start barrier %s (%v), want start_at %d as in the state", d, err, run.StartAt)
	}
	waitAll(t, ws...)
	done := tw.awaitPhase(obs, id, proto.PhaseCompleted, 10*time.Second)
	if len(done.Gaps) != 0 || len(done.Lost) != 0 || done.EndedAt < run.StartAt {
		t.Errorf("completed state %+v: want no gaps, no lost worker, ended after the start", done)
	}
	checkCompleted(t, tw, obs, id, map[string]int64{"w1": 200, "w2": 200, "w3": 200})
}

// A worker that never votes fails the test after the ready timeout, with a
// reason naming it, and the barrier never opens.
func TestReadyTimeoutFailsTheTestOnTheTwin(t *testing.T) {
	tw := newTwin(t)
	tw.master("m1")
	voter, silent := tw.worker("w1", 100), tw.worker("w2", 100)
	silent.Silent = true
	obs := tw.client()
	id := tw.submit(obs, `{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":100,"duration":"1s"},"workers":2}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	playAll(ctx, id, 1, voter, silent)
	prep := tw.awaitPhase(obs, id, proto.PhasePreparing, 10*time.Second)
	st := tw.awaitPhase(obs, id, proto.PhaseFailed, 10*time.Second)
	if want := "workers not ready within 2s: w2"; st.Reason != want {
		t.Errorf("reason %q, want %q", st.Reason, want)
	}
	if waited := time.Duration(st.EndedAt - prep.PlannedAt); waited < 2*time.Second || waited > 4*time.Second {
		t.Errorf("failed %v after planning, want the 2 s ready timeout", waited)
	}
	absent(t, obs, tw.p.Start(id), "the barrier opened without every vote")
	absent(t, obs, tw.p.Result(id), "a failed test has a result")
}

// The leader is cut off mid-run: it stops leading at once, its session
// expires a session timeout (2 s) later, and only then does the other
// master take over. It resumes the running test from ZooKeeper and
// finishes it with exact counts and no gap: the seconds nobody merged
// meanwhile come from the intervals every worker repeats until the leader
// acknowledges them.
func TestFailoverResumesARunningTestOnTheTwin(t *testing.T) {
	tw := newTwin(t)
	first := tw.master("m1")
	select {
	case <-first.leading:
	case <-time.After(10 * time.Second):
		t.Fatal("m1 never led")
	}
	second := tw.master("m2")
	ws := []*twintest.Worker{tw.worker("w1", 150), tw.worker("w2", 50)}
	obs := tw.client()
	id := tw.submit(obs, `{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":200,"duration":"4s"},"workers":2}`)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	playAll(ctx, id, 4, ws...)
	run := tw.awaitPhase(obs, id, proto.PhaseRunning, 10*time.Second)
	// wait until m1 merged a second, then cut it off in the middle of the
	// next one: m2 leads in the middle of second 3, when second 1 is
	// only in what the workers repeat
	for {
		d, _, err := obs.Get(ctx, tw.p.Merged(id))
		var m proto.Merged
		if err == nil && json.Unmarshal(d, &m) == nil && m.Through >= 0 {
			break
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			t.Fatal("m1 never merged a second")
		}
	}
	if !sleepCtx(ctx, time.Until(time.Unix(0, run.StartAt).Add(1500*time.Millisecond))) {
		t.Fatal(ctx.Err())
	}
	cut := time.Now()
	tw.srv.Partition(first.c.Session().ID)
	select {
	case <-second.leading:
	case <-time.After(10 * time.Second):
		t.Fatal("m2 never took over")
	}
	if d := time.Since(cut); d < 1500*time.Millisecond {
		t.Fatalf("m2 led %v after the cut, before m1's session could expire", d)
	}
	waitAll(t, ws...)
	done := tw.awaitPhase(obs, id, proto.PhaseCompleted, 15*time.Second)
	if done.Leader != "m2" || len(done.Gaps) != 0 || len(done.Lost) != 0 {
		t.Errorf("completed state %+v: want written by m2, no gaps, no lost worker", done)
	}
	checkCompleted(t, tw, obs, id, map[string]int64{"w1": 600, "w2": 200})
}

// The live summary of a test with one request name carries that name's
// line, and it is the whole test's: the same requests, status codes and
// latencies as the summary itself (the line is refreshed with the live
// node's once-a-second write; a write for points alone may keep the last
// one, so the test waits for a live node where both are fresh).
func TestLiveLineOfTheOneNameIsTheWholeTestsOnTheTwin(t *testing.T) {
	tw := newTwin(t)
	tw.master("m1")
	ws := []*twintest.Worker{tw.worker("w1", 100), tw.worker("w2", 100)}
	obs := tw.client()
	id := tw.submit(obs, `{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":200,"duration":"4s"},"workers":2}`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tw.awaitPhase(obs, id, proto.PhasePreparing, 10*time.Second)
	playAll(ctx, id, 4, ws...)
	tw.awaitPhase(obs, id, proto.PhaseRunning, 10*time.Second)
	same := func(sum *report.Summary) bool {
		if len(sum.Names) != 1 {
			return false
		}
		n := sum.Names[0]
		return n.Requests == sum.Requests && n.StatusCodes["200"] == sum.Requests && n.LatencyMs == sum.LatencyMs && n.RPS == sum.RPS && n.Histogram == ""
	}
	var live proto.Live
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, _, err := obs.Get(ctx, tw.p.Live(id))
		if err == nil && json.Unmarshal(d, &live) == nil && live.Summary != nil && live.Summary.Requests >= 200 && same(live.Summary) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live summary with 200 requests whose one name line (without its histogram) is the whole test's within 10 s; last %+v", live.Summary)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitAll(t, ws...)
}

// A worker whose reports arrive seconds late (here 4 s after each of its
// seconds, past the old 3 s grace) but whose session lives is waited for
// with the leader's default point grace: every second of the timeline is
// complete, none a gap, and the timeline adds up to the result. (A worker
// that dies is marked lost at its session's expiry, and points stop
// waiting for it then.)
func TestLateReportsOfALiveWorkerAreNoGapOnTheTwin(t *testing.T) {
	tw := newTwin(t)
	cfg := testConfig("m1")
	cfg.PointGrace, cfg.FinalGrace = DefaultConfig("").PointGrace, 15*time.Second
	m := tw.masterWith(cfg)
	slow := tw.worker("w2", 100)
	slow.Delay = 4 * time.Second
	ws := []*twintest.Worker{tw.worker("w1", 100), slow}
	obs := tw.client()
	id := tw.submit(obs, `{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":200,"duration":"3s"},"workers":2}`)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	m.awaitLead(t)
	tw.awaitPhase(obs, id, proto.PhasePreparing, 10*time.Second)
	playAll(ctx, id, 3, ws...)
	waitAll(t, ws...)
	done := tw.awaitPhase(obs, id, proto.PhaseCompleted, 20*time.Second)
	if len(done.Lost) != 0 {
		t.Errorf("lost workers %v, want none (the slow worker was live)", done.Lost)
	}
	pts, err := (&view.Reader{C: obs, P: tw.p}).Timeline(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pts {
		if p.Gap {
			t.Errorf("timeline second %d is a gap (%d requests), want every second complete", p.Second, p.Requests)
		}
	}
	checkCompleted(t, tw, obs, id, map[string]int64{"w1": 300, "w2": 300})
}

// The state of a test does not grow with its fleet: 4,200 workers of
// 64-byte ids (about 280 KB of ids, more than a node may hold) are chosen
// and planned, the state only counts them, and every reader lists them
// from the plans. Such a test whose workers never vote fails with a reason
// naming a few of them, not all.
func TestAFleetOfLongIDsKeepsTheStateSmallOnTheTwin(t *testing.T) {
	tw := newTwin(t)
	tw.master("m1")
	reg := tw.client()
	ctx := context.Background()
	const n = 4200
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("w%063d", i)
		if _, err := reg.Register(ctx, tw.p.Workers(), "w-", proto.Marshal(proto.WorkerInfo{ID: ids[i], State: proto.WorkerIdle})); err != nil {
			t.Fatal(err)
		}
	}
	obs := tw.client()
	id := tw.submit(obs, `{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":100,"duration":"1s"}}`)
	st := tw.awaitPhase(obs, id, proto.PhasePreparing, 30*time.Second)
	d, _, err := obs.Get(ctx, tw.p.State(id))
	if err != nil || st.Chosen != n || len(d) > 1024 {
		t.Fatalf("preparing state of %d bytes (%v) says %d chosen; want %d chosen in under 1 KB", len(d), err, st.Chosen, n)
	}
	chosen, err := (&view.Reader{C: obs, P: tw.p}).Chosen(ctx, id, st)
	if err != nil || !slices.Equal(chosen, ids) {
		t.Fatalf("chosen workers: %d (%v), want the %d registered", len(chosen), err, n)
	}
	st = tw.awaitPhase(obs, id, proto.PhaseFailed, 30*time.Second)
	t.Log(st.Reason)
	if want := "not ready within 2s: " + ids[0] + ", "; !strings.Contains(st.Reason, want) || !strings.HasSuffix(st.Reason, fmt.Sprintf("and %d more", n-maxNamed)) {
		t.Errorf("reason %.300q..., want it to start %q and end naming how many more", st.Reason, want)
	}
	if d, _, err := obs.Get(ctx, tw.p.State(id)); err != nil || len(d) > 2048 {
		t.Errorf("failed state of %d bytes (%v), want under 2 KB", len(d), err)
	}
}

// A worker that cannot run its plan says why in refused/ (votes in ready/
// are names the leader never reads): the test fails quoting the reason,
// bounded, and the barrier never opens.
func TestARefusalFailsTheTestBeforeTheBarrierOnTheTwin(t *testing.T) {
	tw := newTwin(t)
	tw.master("m1")
	tw.worker("w1", 100)
	tw.worker("w2", 100)
	obs := tw.client()
	ctx := context.Background()
	id := tw.submit(obs, `{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":100,"duration":"1s"},"workers":2}`)
	tw.awaitPhase(obs, id, proto.PhasePreparing, 10*time.Second)
	if _, err := obs.Create(ctx, tw.p.Ready(id, "w1"), proto.Marshal(proto.Ready{OK: true}), coord.Ephemeral); err != nil {
		t.Fatal(err)
	}
	why := "worker w2 refuses its plan: request.url is outside its policy " + strings.Repeat("é", 1000)
	if _, err := obs.Create(ctx, tw.p.Refused(id, "w2"), proto.Marshal(proto.Ready{Error: why}), coord.Ephemeral); err != nil {
		t.Fatal(err)
	}
	st := tw.awaitPhase(obs, id, proto.PhaseFailed, 10*time.Second)
	if want := "worker w2 cannot run its plan: worker w2 refuses its plan: request.url is outside its policy éé"; !strings.HasPrefix(st.Reason, want) || len(st.Reason) > 600 || !utf8.ValidString(st.Reason) {
		t.Errorf("reason %q (%d bytes), want it to start %q, bounded", st.Reason, len(st.Reason), want)
	}
	absent(t, obs, tw.p.Start(id), "a start barrier for a refused plan")
}
