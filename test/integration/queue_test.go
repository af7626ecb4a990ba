package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// queuedTest is what the queue tests read of GET /api/v1/tests/{id}.
type queuedTest struct {
	ID       string            `json:"id"`
	Phase    string            `json:"phase"`
	Reason   string            `json:"reason"`
	Position int               `json:"position"`
	RerunOf  string            `json:"rerun_of"`
	Created  string            `json:"created_at"`
	StartAt  string            `json:"start_at"`
	EndedAt  string            `json:"ended_at"`
	Spec     map[string]any    `json:"spec"`
	Workers  []tc.WorkerStatus `json:"workers"`
	Summary  *report.Summary   `json:"summary"`
}

// at parses one of the view's RFC 3339 times.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}

func getTest(t *testing.T, c *tc.Cluster, id string) queuedTest {
	t.Helper()
	var q queuedTest
	if code := tc.GetJSON(t, c.API()+"/tests/"+id, &q); code != http.StatusOK {
		t.Fatalf("GET /tests/%s = %d", id, code)
	}
	return q
}

// waitQueued waits until a test is queued at position pos.
func waitQueued(t *testing.T, c *tc.Cluster, id string, pos int) queuedTest {
	t.Helper()
	var q queuedTest
	tc.Eventually(t, 30*time.Second, fmt.Sprintf("test %s queued at position %d", id, pos), func() bool {
		q = getTest(t, c, id)
		return q.Phase == "queued" && q.Position == pos
	})
	return q
}

// listed is the entry of id in GET /api/v1/tests.
func listed(t *testing.T, c *tc.Cluster, id string) (queuedTest, bool) {
	t.Helper()
	var items []queuedTest
	if code := tc.GetJSON(t, c.API()+"/tests", &items); code != http.StatusOK {
		t.Fatalf("GET /tests = %d", code)
	}
	for _, it := range items {
		if it.ID == id {
			return it, true
		}
	}
	return queuedTest{}, false
}

// tagged is a constant-rate spec whose every request carries tag in the
// target's per-value header, so the target counts each test apart.
func tagged(c *tc.Cluster, tag string, rate int, duration string) map[string]any {
	s := spec("constant-rate", map[string]any{"rate": rate, "duration": duration, "concurrency": 8}, c.TargetURL("/ping"))
	s["name"] = "queue-" + tag
	s["request"].(map[string]any)["headers"] = map[string]any{tc.WorkerHeader: tag + "-{{worker}}"}
	return s
}

// seen is how many requests the target saw tagged tag, and when the first
// and last of them arrived.
func seen(st tc.TargetStats, tag string) (n int64, first, last time.Time) {
	for k, v := range st.ByWorker {
		if !strings.HasPrefix(k, tag+"-") {
			continue
		}
		n += v
		sp := st.ByWorkerSpan[k]
		if first.IsZero() || sp.First().Before(first) {
			first = sp.First()
		}
		if sp.Last().After(last) {
			last = sp.Last()
		}
	}
	return n, first, last
}

// TestQueueRunsTwoTestsOneAfterTheOther: two tests submitted together over
// the same two workers both complete, the second queued (position 1) until
// the first ends, each on both workers, with exact counts the target agrees
// with, and the target saw no request of the second before the first's last.
func TestQueueRunsTwoTestsOneAfterTheOther(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 2})
	c.ResetTarget()
	a := c.Submit(tagged(c, "A", 200, "4s"))
	b := c.Submit(tagged(c, "B", 200, "3s"))
	waitQueued(t, c, b, 1)
	if it, ok := listed(t, c, b); !ok || it.Phase != "queued" || it.Position != 1 {
		t.Errorf("GET /tests lists %s as %+v (found %v), want queued at position 1", b, it, ok)
	}
	ra := c.WaitPhase(a, "completed", 60*time.Second)
	rb := c.WaitPhase(b, "completed", 60*time.Second)
	st := c.Settled(10 * time.Second)
	for _, tt := range []struct {
		tag  string
		res  tc.Test
		want int64
	}{{"A", ra, 800}, {"B", rb, 600}} {
		n, _, _ := seen(st, tt.tag)
		if tt.res.Summary.Requests != tt.want || n != tt.want {
			t.Errorf("test %s: result %d requests, target saw %d; want exactly %d", tt.tag, tt.res.Summary.Requests, n, tt.want)
		}
		if len(tt.res.Workers) != 2 {
			t.Errorf("test %s ran on %d workers, want both", tt.tag, len(tt.res.Workers))
		}
	}
	qa, qb := getTest(t, c, a), getTest(t, c, b)
	if !at(t, qb.StartAt).After(at(t, qa.EndedAt)) {
		t.Errorf("B started at %v, before A ended at %v", qb.StartAt, qa.EndedAt)
	}
	_, _, lastA := seen(st, "A")
	if _, firstB, _ := seen(st, "B"); !firstB.After(lastA) {
		t.Errorf("the target saw B's first request at %v, before A's last at %v", firstB, lastA)
	}
	if st.Requests != 1400 {
		t.Errorf("target saw %d requests in all, want 1400", st.Requests)
	}
}

// leaderOf is the master that leads, by its cluster view.
func leaderOf(t *testing.T, c *tc.Cluster) *tc.Proc {
	t.Helper()
	var v struct {
		Leader *struct{ ID string } `json:"leader"`
	}
	var leader *tc.Proc
	tc.Eventually(t, 20*time.Second, "a leader", func() bool {
		tc.GetJSON(t, c.API()+"/cluster", &v)
		for _, m := range c.Masters {
			if v.Leader != nil && m.Name == v.Leader.ID && !m.Exited() {
				leader = m
			}
		}
		return leader != nil
	})
	return leader
}

// TestQueuedTestSurvivesLeaderKill: with a test running and another queued
// behind it, the leader is killed (-9); the new leader finishes the first
// and then runs the queued one, both with exact counts.
func TestQueuedTestSurvivesLeaderKill(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 2, Workers: 1})
	c.ResetTarget()
	a := c.Submit(tagged(c, "A", 100, "8s"))
	b := c.Submit(tagged(c, "B", 100, "2s"))
	waitQueued(t, c, b, 1)
	c.WaitPhase(a, "running", 30*time.Second)
	killed := leaderOf(t, c)
	killed.Kill()
	waitQueued(t, c, b, 1) // still queued, read through the other master
	ra := c.WaitPhase(a, "completed", 60*time.Second)
	rb := c.WaitPhase(b, "completed", 60*time.Second)
	st := c.Settled(10 * time.Second)
	na, _, lastA := seen(st, "A")
	nb, firstB, _ := seen(st, "B")
	if ra.Summary.Requests != 800 || na != 800 {
		t.Errorf("A: result %d, target %d; want exactly 800", ra.Summary.Requests, na)
	}
	if rb.Summary.Requests != 200 || nb != 200 {
		t.Errorf("B: result %d, target %d; want exactly 200", rb.Summary.Requests, nb)
	}
	if !firstB.After(lastA) {
		t.Errorf("the target saw B's first request at %v, before A's last at %v", firstB, lastA)
	}
	d, _, err := c.ZKClient().Get(context.Background(), c.Paths().State(b))
	if err != nil {
		t.Fatal(err)
	}
	var state proto.TestState
	if err := json.Unmarshal(d, &state); err != nil {
		t.Fatal(err)
	}
	if state.Leader == "" || state.Leader == killed.Name {
		t.Errorf("B's final state was written by %q, want the new leader (not the killed %s)", state.Leader, killed.Name)
	}
}

// TestQueuedTestCanBeStoppedAndDeleted: of two tests queued behind a
// running one, the first is stopped (it never runs, and the other moves up
// to position 1) and the second deleted (gone from the list and from
// ZooKeeper); no request of either reaches the target.
func TestQueuedTestCanBeStoppedAndDeleted(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	c.ResetTarget()
	a := c.Submit(tagged(c, "A", 20, "30s"))
	b := c.Submit(tagged(c, "B", 20, "2s"))
	d := c.Submit(tagged(c, "D", 20, "2s"))
	waitQueued(t, c, b, 1)
	waitQueued(t, c, d, 2)
	if code := tc.PostJSON(t, c.API()+"/tests/"+b+"/stop", nil, nil); code != http.StatusAccepted {
		t.Fatalf("POST /tests/%s/stop = %d, want 202", b, code)
	}
	rb := c.WaitPhase(b, "stopped", 30*time.Second)
	if rb.Reason != "stopped before it started" || len(rb.Workers) != 0 {
		t.Errorf("stopped queued test: reason %q, workers %+v; want \"stopped before it started\" and none", rb.Reason, rb.Workers)
	}
	waitQueued(t, c, d, 1)
	if code, _, body := call(t, http.MethodDelete, c.API()+"/tests/"+d, "", nil); code != http.StatusNoContent {
		t.Fatalf("DELETE /tests/%s = %d %s, want 204", d, code, body)
	}
	if code := tc.GetJSON(t, c.API()+"/tests/"+d, nil); code != http.StatusNotFound {
		t.Errorf("GET deleted /tests/%s = %d, want 404", d, code)
	}
	if _, ok := listed(t, c, d); ok {
		t.Errorf("deleted test %s is still listed", d)
	}
	tc.Absent(t, c.ZKClient(), c.Paths().Test(d), "a deleted queued test")
	if code := tc.PostJSON(t, c.API()+"/tests/"+a+"/stop", nil, nil); code != http.StatusAccepted {
		t.Fatalf("POST /tests/%s/stop = %d", a, code)
	}
	c.WaitPhase(a, "stopped", 30*time.Second)
	time.Sleep(2 * time.Second) // were either of them run now, it would start here
	st := c.Settled(10 * time.Second)
	for _, tag := range []string{"B", "D"} {
		if n, _, _ := seen(st, tag); n != 0 {
			t.Errorf("the target saw %d requests of the removed queued test %s", n, tag)
		}
	}
	if got := getTest(t, c, b); got.Phase != "stopped" {
		t.Errorf("stopped test %s is now %s", b, got.Phase)
	}
}

// TestQueueFailsTestAskingForMoreWorkersThanLive: a test asking for two
// workers where one is live waits in the queue saying so, and fails after
// --queue-wait with that reason; the same test submitted again runs as soon
// as a second worker joins within the wait.
func TestQueueFailsTestAskingForMoreWorkersThanLive(t *testing.T) {
	const wait = 4 * time.Second
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1, MasterArgs: []string{"--queue-wait", wait.String()}})
	two := tagged(c, "X", 50, "2s")
	two["workers"] = 2
	x := c.Submit(two)
	q := waitQueued(t, c, x, 1)
	if q.Reason != "waiting: asks for 2 workers but only 1 are live" {
		t.Errorf("queued reason = %q", q.Reason)
	}
	res := c.WaitPhase(x, "failed", wait+20*time.Second)
	want := "asks for 2 workers but only 1 are live for longer than the queue wait (4s)"
	if res.Reason != want {
		t.Errorf("failed with %q, want %q", res.Reason, want)
	}
	f := getTest(t, c, x)
	if waited := at(t, f.EndedAt).Sub(at(t, f.Created)); waited < wait {
		t.Errorf("failed %v after it was created, before the %v queue wait", waited, wait)
	}

	c.ResetTarget()
	y := c.Submit(two)
	waitQueued(t, c, y, 1)
	c.AddWorker("w2", c.ZK)
	ry := c.WaitPhase(y, "completed", 60*time.Second)
	if ry.Summary.Requests != 100 || len(ry.Workers) != 2 || c.TargetRequests() != 100 {
		t.Errorf("after a worker joined: %d requests on %d workers, target %d; want 100 on 2, 100",
			ry.Summary.Requests, len(ry.Workers), c.TargetRequests())
	}
}

// TestRerunCreatesLinkedTestThatRuns: a rerun of a finished scenario test
// (with inline data) is a new test with the same spec and rerun_of naming
// the original, and it runs: every data row is used once more.
func TestRerunCreatesLinkedTestThatRuns(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	rows := "user\n"
	for i := range 10 {
		rows += fmt.Sprintf("u%02d\n", i)
	}
	sc := map[string]any{
		"name": "rerun-me",
		"load": map[string]any{"model": "avalanche", "concurrency": 2, "iterations": 10, "max_duration": "30s"},
		"scenario": map[string]any{
			"data": map[string]any{"mode": "unique", "content": rows},
			"steps": []any{map[string]any{"name": "ping", "request": map[string]any{
				"url": c.TargetURL("/ping"), "headers": map[string]any{tc.WorkerHeader: "{{data.user}}"}}}},
		},
	}
	c.ResetTarget()
	orig := c.Submit(sc)
	c.WaitPhase(orig, "completed", 60*time.Second)
	var created struct {
		ID      string `json:"id"`
		RerunOf string `json:"rerun_of"`
	}
	if code := tc.PostJSON(t, c.API()+"/tests/"+orig+"/rerun", nil, &created); code != http.StatusCreated {
		t.Fatalf("POST /tests/%s/rerun = %d", orig, code)
	}
	if created.ID == "" || created.ID == orig || created.RerunOf != orig {
		t.Fatalf("rerun answered %+v, want a new id with rerun_of %s", created, orig)
	}
	res := c.WaitPhase(created.ID, "completed", 60*time.Second)
	again, first := getTest(t, c, created.ID), getTest(t, c, orig)
	if again.RerunOf != orig || first.RerunOf != "" {
		t.Errorf("rerun_of: new test %q, original %q; want %q and none", again.RerunOf, first.RerunOf, orig)
	}
	if it, ok := listed(t, c, created.ID); !ok || it.RerunOf != orig {
		t.Errorf("GET /tests lists the rerun as %+v (found %v), want rerun_of %s", it, ok, orig)
	}
	if fmt.Sprint(again.Spec) != fmt.Sprint(first.Spec) {
		t.Errorf("rerun spec differs:\n got %v\nwant %v", again.Spec, first.Spec)
	}
	st := c.Settled(10 * time.Second)
	for i := range 10 {
		if u := fmt.Sprintf("u%02d", i); st.ByWorker[u] != 2 {
			t.Errorf("data row %s was used %d times over the test and its rerun, want 2", u, st.ByWorker[u])
		}
	}
	if res.Summary.Requests != 10 || st.Requests != 20 {
		t.Errorf("rerun sent %d requests, target saw %d in all; want 10 and 20", res.Summary.Requests, st.Requests)
	}
	if code := tc.PostJSON(t, c.API()+"/tests/nope/rerun", nil, nil); code != http.StatusNotFound {
		t.Errorf("POST /tests/nope/rerun = %d, want 404", code)
	}
}
