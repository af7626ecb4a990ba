package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/zktest"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
)

// fieldsOf is a 400's body.
type fieldsOf struct {
	Error  string `json:"error"`
	Fields []struct {
		Field   string `json:"field"`
		Problem string `json:"problem"`
	} `json:"fields"`
}

// call sends one API request with the operator token and returns the
// status, the Retry-After header and the body.
func call(t *testing.T, method, url, contentType string, body []byte) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+tc.OperatorToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, url, err)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), b
}

// allAlive fails the test if any process of the cluster has exited.
func allAlive(t *testing.T, c *tc.Cluster) {
	t.Helper()
	for _, p := range append(append([]*tc.Proc{}, c.Masters...), c.Workers...) {
		if p.Exited() {
			t.Fatalf("%s exited; log tail:\n%s", p.Name, p.LogTail(30))
		}
	}
	if c.ZKSrv != nil {
		if out := zkFourLetter(c.ZK, "ruok"); out != "imok" {
			t.Fatalf("ZooKeeper answers ruok with %q", out)
		}
	}
}

// TestHostileSpecsGetA400NamingTheFieldAndTheLimit sends each input that
// once crashed or misused a process, and checks the answer names the field
// and the limit, nothing is stored, and a normal test still runs exactly.
func TestHostileSpecsGetA400NamingTheFieldAndTheLimit(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	z := c.ZKClient()
	before, err := z.Children(context.Background(), c.Paths().Tests())
	if err != nil {
		t.Fatal(err)
	}
	url := c.TargetURL("/ping")
	ok := func(load string) string {
		return `{"request":{"url":"` + url + `"},"load":` + load + `}`
	}
	// 100 KB anchor used 40,000 times: 220 KB of YAML, 4 GB of JSON
	bomb := "name: &a \"" + strings.Repeat("x", 100<<10) + "\"\nrequest: {url: \"" + url + "\", headers: {X: [" +
		strings.TrimSuffix(strings.Repeat("*a,", 40000), ",") + "]}}\nload: {model: avalanche, duration: 1s}\n"
	tests := []struct {
		name, ct, body, field, want string
	}{
		{"YAML alias bomb", "application/yaml", bomb, "", "limit is 262144 bytes"},
		{"a million connections", "application/json", ok(`{"model":"avalanche","duration":"1s","concurrency":1000000}`), "load.concurrency", "limit is 10000"},
		{"292 years", "application/json", ok(`{"model":"avalanche","duration":"2562047h"}`), "load.duration", "limit is 24h0m0s"},
		{"rate per worker", "application/json", ok(`{"model":"constant-rate","rate":5000000,"duration":"1s"}`), "load.rate", "limit is 100000 req/s per worker"},
		{"cloud metadata", "application/json", `{"request":{"url":"http://169.254.169.254/latest/meta-data/"},"load":{"model":"avalanche","duration":"1s"}}`, "request.url", "link-local"},
		{"the cluster's ZooKeeper", "application/json", `{"request":{"url":"http://` + c.ZK + `/"},"load":{"model":"avalanche","duration":"1s"}}`, "request.url", "ZooKeeper"},
		{"ZooKeeper in a mix", "application/json", `{"requests_mix":[{"weight":1,"url":"` + url + `"},{"weight":1,"url":"http://` + c.ZK + `/"}],"load":{"model":"avalanche","duration":"1s"}}`, "requests_mix[1].url", "ZooKeeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, _, b := call(t, http.MethodPost, c.API()+"/tests", tt.ct, []byte(tt.body))
			var out fieldsOf
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatalf("POST %s: %v in %.300s", tt.name, err, b)
			}
			found := false
			for _, f := range out.Fields {
				found = found || (f.Field == tt.field && strings.Contains(f.Problem, tt.want))
			}
			if code != http.StatusBadRequest || !found {
				t.Fatalf("POST %s = %d %+v, want 400 naming field %q with %q", tt.name, code, out.Fields, tt.field, tt.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("the answer took %v", d)
			}
			allAlive(t, c)
		})
	}
	for _, p := range []string{"/tests/..", "/tests/.", "/tests/%2e%2e", "/tests/a.b", "/tests/../timeline", "/tests/..%2fworkers"} {
		if code, _, b := call(t, http.MethodGet, c.API()+p, "", nil); code != http.StatusNotFound {
			t.Errorf("GET %s = %d %s, want 404", p, code, b)
		}
	}
	after, err := z.Children(context.Background(), c.Paths().Tests())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("refused specs were stored: tests %v -> %v", before, after)
	}
	c.ResetTarget()
	id := c.Submit(spec("avalanche", map[string]any{"requests": 200, "concurrency": 2}, url))
	res := c.WaitPhase(id, "completed", 60*time.Second)
	if res.Summary == nil || res.Summary.Requests != 200 || c.TargetRequests() != 200 {
		t.Fatalf("a normal test after the attacks: summary %+v, target saw %d, want 200", res.Summary, c.TargetRequests())
	}
	allAlive(t, c)
}

// TestDeleteTest: 204 for a finished or pending test, 409 while it runs,
// 404 for no test; the deleted test is gone from ZooKeeper and the list.
func TestDeleteTest(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	z := c.ZKClient()
	url := c.TargetURL("/ping")
	running := c.Submit(spec("constant-rate", map[string]any{"rate": 50, "duration": "30s"}, url))
	c.WaitPhase(running, "running", 30*time.Second)
	// the only worker is busy: this one stays pending
	pending := c.Submit(spec("avalanche", map[string]any{"requests": 10}, url))
	if code, _, b := call(t, http.MethodDelete, c.API()+"/tests/"+running, "", nil); code != http.StatusConflict {
		t.Fatalf("DELETE a running test = %d %s, want 409", code, b)
	}
	if code, _, b := call(t, http.MethodDelete, c.API()+"/tests/"+pending, "", nil); code != http.StatusNoContent {
		t.Fatalf("DELETE a pending test = %d %s, want 204", code, b)
	}
	tc.Absent(t, z, c.Paths().Test(pending), "a deleted pending test")
	if code := tc.PostJSON(t, c.API()+"/tests/"+running+"/stop", nil, nil); code != http.StatusAccepted {
		t.Fatalf("stop = %d", code)
	}
	c.WaitPhase(running, "stopped", 30*time.Second)
	if code, _, b := call(t, http.MethodDelete, c.API()+"/tests/"+running, "", nil); code != http.StatusNoContent {
		t.Fatalf("DELETE a stopped test = %d %s, want 204", code, b)
	}
	tc.Absent(t, z, c.Paths().Test(running), "a deleted finished test")
	for _, id := range []string{running, "nope", ".."} {
		if code, _, _ := call(t, http.MethodGet, c.API()+"/tests/"+id, "", nil); code != http.StatusNotFound {
			t.Errorf("GET deleted or unknown test %s = %d, want 404", id, code)
		}
		if code, _, _ := call(t, http.MethodDelete, c.API()+"/tests/"+id, "", nil); code != http.StatusNotFound {
			t.Errorf("DELETE deleted or unknown test %s = %d, want 404", id, code)
		}
	}
	var list []struct{ ID string }
	tc.GetJSON(t, c.API()+"/tests", &list)
	for _, it := range list {
		if it.ID == running || it.ID == pending {
			t.Errorf("deleted test %s is still listed", it.ID)
		}
	}
	// the worker is free for the next test
	next := c.Submit(spec("avalanche", map[string]any{"requests": 10}, url))
	c.WaitPhase(next, "completed", 60*time.Second)
	allAlive(t, c)
}

// TestRetentionPrunesTheOldestTests: with --retain-tests 2 the leader keeps
// the two newest finished tests and deletes the others.
func TestRetentionPrunesTheOldestTests(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1, MasterArgs: []string{"--retain-tests", "2"}})
	url := c.TargetURL("/ping")
	var ids []string
	for i := 0; i < 4; i++ {
		id := c.Submit(spec("avalanche", map[string]any{"requests": 10}, url))
		c.WaitPhase(id, "completed", 60*time.Second)
		ids = append(ids, id)
	}
	z := c.ZKClient()
	tc.Eventually(t, 20*time.Second, "the two oldest tests pruned", func() bool {
		kids, err := z.Children(context.Background(), c.Paths().Tests())
		if err != nil {
			t.Fatal(err)
		}
		return len(kids) == 2
	})
	for i, id := range ids {
		code, _, _ := call(t, http.MethodGet, c.API()+"/tests/"+id, "", nil)
		want := http.StatusOK
		if i < 2 {
			want = http.StatusNotFound
		}
		if code != want {
			t.Errorf("GET test %d (%s) = %d, want %d", i, id, code, want)
		}
	}
}

// TestSpecFloodLeavesZooKeeperAliveAndUnderBudget submits thousands of
// maximum-size specs with no worker to run them (each once stayed in
// ZooKeeper, and 226 of them ran it out of heap): beyond the storage
// budget the API answers 429 with Retry-After, and ZooKeeper stays alive
// and within the budget.
func TestSpecFloodLeavesZooKeeperAliveAndUnderBudget(t *testing.T) {
	budget := int64(32 << 20) // the default --retain-bytes, what a cluster gets unless told otherwise
	// with no worker live, each test fails once it has waited this long in
	// the queue, and is then pruned like any finished test
	args := []string{"--queue-wait", "5s"}
	if v := os.Getenv("STAMPEDE_FLOOD_BUDGET"); v != "" { // to measure another --retain-bytes
		if _, err := fmt.Sscan(v, &budget); err != nil {
			t.Fatalf("STAMPEDE_FLOOD_BUDGET=%q: %v", v, err)
		}
		args = append(args, "--retain-bytes", fmt.Sprint(budget))
	}
	c := tc.New(t, tc.Options{Masters: 1, MasterArgs: args})
	url := c.TargetURL("/ping")
	// a spec just under the 256 KiB stored limit
	body := []byte(`{"name":"flood","request":{"url":"` + url + `","body":"` + strings.Repeat("x", 60<<10) + `"},` +
		`"requests_mix":[` + strings.TrimSuffix(strings.Repeat(`{"weight":1,"body":"`+strings.Repeat("y", 60<<10)+`"},`, 3), ",") + `],` +
		`"load":{"model":"avalanche","duration":"1s"}}`)
	counts := map[int]int{}
	const n = 2000
	for i := 0; i < n; i++ {
		code, retry, b := call(t, http.MethodPost, c.API()+"/tests", "application/json", body)
		counts[code]++
		switch code {
		case http.StatusCreated:
		case http.StatusTooManyRequests:
			if retry == "" || !strings.Contains(string(b), "storage is full") {
				t.Fatalf("429 without Retry-After or reason: %q %s", retry, b)
			}
		default:
			t.Fatalf("POST %d of %d = %d %.300s", i+1, n, code, b)
		}
	}
	t.Logf("%d submissions of %d bytes: %v", n, len(body), counts)
	if counts[http.StatusCreated] == 0 || counts[http.StatusTooManyRequests] == 0 {
		t.Fatalf("answers %v, want both 201 and 429", counts)
	}
	allAlive(t, c)
	size := zkDataSize(t, c.ZK)
	t.Logf("ZooKeeper approximate data size %d bytes (budget %d)", size, budget)
	if size > budget {
		t.Fatalf("ZooKeeper holds %d bytes, more than the %d-byte budget", size, budget)
	}
	// once the queued tests failed (no workers) and were pruned, there is
	// room again
	tc.Eventually(t, 60*time.Second, "a submission accepted again", func() bool {
		code, _, _ := call(t, http.MethodPost, c.API()+"/tests", "application/json", body)
		return code == http.StatusCreated
	})
	allAlive(t, c)
}

func zkFourLetter(addr, cmd string) string {
	return strings.TrimSpace(zktest.FourLetter(addr, cmd))
}

// zkDataSize is ZooKeeper's own account of the bytes of node data and paths
// it holds (mntr zk_approximate_data_size).
func zkDataSize(t *testing.T, addr string) int64 {
	t.Helper()
	for _, line := range strings.Split(zktest.FourLetter(addr, "mntr"), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "zk_approximate_data_size" {
			var n int64
			if _, err := fmt.Sscan(f[1], &n); err == nil {
				return n
			}
		}
	}
	t.Fatal("mntr has no zk_approximate_data_size")
	return 0
}

// writeJunk creates p with data (and its parents), as any ZooKeeper client
// with the cluster's credentials could.
func writeJunk(t *testing.T, z *coord.Client, p string, data []byte) {
	t.Helper()
	if _, err := z.Create(context.Background(), p, data, coord.Persistent); err != nil {
		t.Fatalf("creating %s: %v", p, err)
	}
}

// TestForgedZooKeeperDataIsIgnored writes what an attacker with ZooKeeper
// access would: a junk election candidate, a worker registration whose id
// names no node, a forged report sequence in a running test, junk test
// nodes, a test straight into ZooKeeper that asks for a million
// connections. Masters keep a leader and running, the running test's
// result is still exact, the junk fails or is skipped.
func TestForgedZooKeeperDataIsIgnored(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 2, Workers: 2})
	z := c.ZKClient()
	p := c.Paths()
	ctx := context.Background()
	writeJunk(t, z, p.Masters()+"/evil", []byte("junk"))
	writeJunk(t, z, p.Masters()+"/_c_00000000000000000000000000000000-n_0000000000", []byte("{}"))
	// a live registration whose id names no node of its own: were it
	// chosen, its plan could never be written and the test would wait
	// for ever
	if _, err := z.Register(ctx, p.Workers(), "w-", proto.Marshal(proto.WorkerInfo{ID: "evil/../w1", State: proto.WorkerIdle})); err != nil {
		t.Fatalf("registering a forged worker: %v", err)
	}
	// the leader goes: the other master must lead despite the junk
	c.Masters[0].Kill()
	c.ResetTarget()
	id := c.Submit(spec("constant-rate", map[string]any{"rate": 200, "duration": "6s"}, c.TargetURL("/ping")))
	c.WaitPhase(id, "running", 30*time.Second)
	tc.Eventually(t, 15*time.Second, "w1 published a report", func() bool {
		ok, _, err := z.Exists(ctx, p.Metrics(id, "w1"))
		return err == nil && ok
	})
	if _, err := z.Set(ctx, p.Metrics(id, "w1"), []byte(`{"test":"`+id+`","worker":"w1","seq":100000000}`), -1); err != nil {
		t.Fatalf("forging w1's report: %v", err)
	}
	writeJunk(t, z, p.Metrics(id, "evil"), []byte(`{"seq":100000000,"worker":"w2"}`))
	writeJunk(t, z, p.Test("junk-spec"), []byte("not json"))
	writeJunk(t, z, p.State("junk-spec"), []byte("{\"phase\":\"pending\"}"))
	writeJunk(t, z, p.Test("junk-state"), []byte(`{"request":{"url":"`+c.TargetURL("/ping")+`"},"load":{"model":"avalanche","duration":"1s"}}`))
	writeJunk(t, z, p.State("junk-state"), []byte("\x00\x01"))
	huge := `{"request":{"url":"` + c.TargetURL("/ping") + `"},"load":{"model":"avalanche","duration":"1s","concurrency":1000000}}`
	writeJunk(t, z, p.Test("direct"), []byte(huge))
	writeJunk(t, z, p.State("direct"), proto.Marshal(proto.TestState{Phase: proto.PhasePending, CreatedAt: time.Now().UnixNano()}))

	res := c.WaitPhase(id, "completed", 90*time.Second)
	if got, want := res.Summary.Requests, c.TargetRequests(); got != want || got == 0 {
		t.Fatalf("after a forged report the result counts %d requests, the target saw %d", got, want)
	}
	for _, junk := range []string{"junk-spec", "junk-state", "direct"} {
		tt := c.WaitPhase(junk, "failed", 30*time.Second)
		if tt.Reason == "" {
			t.Errorf("junk test %s failed without a reason", junk)
		}
		t.Logf("%s: %s", junk, tt.Reason)
	}
	if r := c.Get("direct").Reason; !strings.Contains(r, "load.concurrency") || !strings.Contains(r, "10000") {
		t.Errorf("a test written straight into ZooKeeper with a million connections failed with %q, want the limit named", r)
	}
	var list []struct{ ID string }
	if code := tc.GetJSON(t, c.API()+"/tests", &list); code != http.StatusOK || len(list) < 1 {
		t.Fatalf("GET /tests = %d with %d entries", code, len(list))
	}
	var ws []struct{ ID string }
	if code := tc.GetJSON(t, c.API()+"/workers", &ws); code != http.StatusOK || len(ws) != 2 {
		t.Errorf("GET /workers = %d with %+v, want w1 and w2 only", code, ws)
	}
	if log := c.Masters[1].LogTail(100000); strings.Count(log, "ignoring a worker registration") != 1 || !strings.Contains(log, `holds '/'`) {
		t.Errorf("the leader does not say once that it ignores the forged registration, and why")
	}
	var cl struct {
		Leader *struct{ ID string } `json:"leader"`
	}
	tc.GetJSON(t, c.API()+"/cluster", &cl)
	if cl.Leader == nil || cl.Leader.ID != "m2" {
		t.Errorf("leader %+v, want m2", cl.Leader)
	}
	c.Masters[0].Restart()
	tc.WaitReady(t, c.Masters[0].URL()+"/readyz", 30*time.Second)
	allAlive(t, c)
}

// TestWorkerWithNarrowerPolicyRefusesItsPlan: a worker whose
// --allow-targets does not include the target votes not ready with the
// reason, and the test fails naming that worker; nothing is sent.
func TestWorkerWithNarrowerPolicyRefusesItsPlan(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	c.AddWorker("narrow", c.ZK, "--allow-targets", "10.0.0.0/8")
	c.WaitWorkers(2, 30*time.Second)
	c.ResetTarget()
	id := c.Submit(spec("avalanche", map[string]any{"requests": 100}, c.TargetURL("/ping")))
	res := c.WaitPhase(id, "failed", 60*time.Second)
	if !strings.Contains(res.Reason, "narrow") || !strings.Contains(res.Reason, "allow-targets") {
		t.Fatalf("failed with %q, want the worker and its --allow-targets named", res.Reason)
	}
	if n := c.TargetRequests(); n != 0 {
		t.Fatalf("the target saw %d requests of a refused test", n)
	}
	allAlive(t, c)
}

// TestWorkerRefusesAnIDThatNamesNoNode: a worker started with an id that
// cannot name its nodes (a '/', a space, too long) exits at once with an
// error naming --id and the rule, before it touches ZooKeeper.
func TestWorkerRefusesAnIDThatNamesNoNode(t *testing.T) {
	bin := filepath.Join(tc.Binaries(t), "worker")
	for id, want := range map[string]string{
		"rack1/w3":              `--id: worker id "rack1/w3" holds '/'`,
		"my worker":             `holds ' '`,
		strings.Repeat("w", 65): "65 bytes, more than the limit of 64",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		// no ZooKeeper listens on port 1: a worker that got past the
		// check would hang connecting, not exit
		out, err := exec.CommandContext(ctx, bin, "--id", id, "--zk", "127.0.0.1:1", "--listen", tc.FreeAddr(t)).CombinedOutput()
		hung := ctx.Err() != nil
		cancel()
		if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || hung {
			t.Errorf("--id %.20q: %v, want an exit with an error; output:\n%s", id, err, out)
			continue
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("--id %.20q: output lacks %q:\n%s", id, want, out)
		}
	}
}

// TestAWorkerThatRefusesItsPlanFailsTheTest: a real worker whose own limit
// is below its share of the load refuses its plan (refused/<worker>, not a
// vote in ready/), and the test fails before the barrier, naming the
// worker and quoting its reason; the target sees nothing.
func TestAWorkerThatRefusesItsPlanFailsTheTest(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 2, WorkerArgs: []string{"--max-rate-per-worker", "40"}})
	id := c.Submit(spec("constant-rate", map[string]any{"rate": 100, "duration": "3s"}, c.TargetURL("/ping")))
	res := c.WaitPhase(id, "failed", 30*time.Second)
	if !strings.Contains(res.Reason, "cannot run its plan") || !strings.Contains(res.Reason, "load.rate") {
		t.Errorf("reason %q, want a worker that cannot run its plan, naming load.rate", res.Reason)
	}
	if n := c.TargetRequests(); n != 0 {
		t.Errorf("the target saw %d requests of a refused test", n)
	}
}
