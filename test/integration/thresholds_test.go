package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/report"
)

// judged is GET /api/v1/tests/{id} with the times the abort test measures.
type judged struct {
	Phase   string          `json:"phase"`
	Reason  string          `json:"reason"`
	StartAt time.Time       `json:"start_at"`
	EndedAt time.Time       `json:"ended_at"`
	Summary *report.Summary `json:"summary"`
}

// cli runs one of the built binaries and returns its exit code, stdout and
// stderr.
func cli(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errOut.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errOut.String()
	}
	t.Fatalf("%s %v: %v", bin, args, err)
	return -1, "", ""
}

func specFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestThresholdsExitCodes: a passing threshold exits 0 and a failing one
// exits 99, from `master submit` (judged by the leader over the fleet) and
// from `worker run`; a test that cannot run exits with another code.
func TestThresholdsExitCodes(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 2, MasterArgs: []string{"--queue-wait", "3s"}})
	master, worker := filepath.Join(c.Bin, "master"), filepath.Join(c.Bin, "worker")
	api := c.Masters[0].URL()
	tests := []struct {
		name, url, thresholds string
		want                  int
		passed                []bool
	}{
		{"pass", "/ping", `["p99 < 2s", "error_rate < 1%", "requests == 400", "status.200 == 400"]`, 0, []bool{true, true, true, true}},
		{"fail", "/ping?status=503", `["p99 < 2s", "error_rate < 1%", {expr: "status.503 == 0"}]`, 99, []bool{true, false, false}},
	}
	for _, tt := range tests {
		f := specFile(t, "request: {url: '"+c.TargetURL(tt.url)+"'}\nload: {model: constant-rate, rate: 200, duration: 2s}\nthresholds: "+tt.thresholds+"\n")
		for _, run := range []struct {
			cli  string
			args []string
		}{
			{"master submit", []string{master, "submit", "-f", f, "--api", api, "--token", tc.OperatorToken, "--json"}},
			{"worker run", []string{worker, "run", "-f", f, "--json", "--quiet"}},
		} {
			t.Run(tt.name+"/"+run.cli, func(t *testing.T) {
				code, out, errOut := cli(t, run.args[0], run.args[1:]...)
				if code != tt.want {
					t.Fatalf("exit %d, want %d:\n%s\n%s", code, tt.want, out, errOut)
				}
				sum := summaryOf(t, out)
				want := report.VerdictPassed
				if tt.want == 99 {
					want = report.VerdictFailed
				}
				if sum.Verdict != want || len(sum.Thresholds) != len(tt.passed) {
					t.Fatalf("verdict %q with %d thresholds, want %q with %d:\n%s", sum.Verdict, len(sum.Thresholds), want, len(tt.passed), out)
				}
				for i, r := range sum.Thresholds {
					if r.Passed != tt.passed[i] {
						t.Errorf("%s: passed %v (observed %v), want %v", r.Expr, r.Passed, r.Observed, tt.passed[i])
					}
				}
			})
		}
	}
	t.Run("abort within 2s", func(t *testing.T) { testAbortThreshold(t, c) })
	t.Run("windowed", func(t *testing.T) { testWindowedThreshold(t, c) })

	// a test that cannot get its workers (more than are live, for longer
	// than the queue wait) fails to run: neither 0 nor 99
	f := specFile(t, "request: {url: '"+c.TargetURL("/ping")+"'}\nload: {model: avalanche, requests: 5}\nworkers: 3\nthresholds: ['p99 < 1s']\n")
	code, out, errOut := cli(t, master, "submit", "-f", f, "--api", api, "--token", tc.OperatorToken)
	if code != 1 || !strings.Contains(out, "failed") {
		t.Errorf("exit %d for a test that could not run, want 1:\n%s\n%s", code, out, errOut)
	}
}

// summaryOf decodes the summary from --json output: the test view of
// master submit, or the summary itself from worker run.
func summaryOf(t *testing.T, out string) report.Summary {
	t.Helper()
	var v struct {
		Summary *report.Summary `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if v.Summary != nil {
		return *v.Summary
	}
	var sum report.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

// testAbortThreshold: an abort threshold that fails ends a 30-s test within
// 2 s of the leader seeing it fail, as phase aborted with the threshold and
// its observed value as the reason (all times measured by the leader).
func testAbortThreshold(t *testing.T, c *tc.Cluster) {
	sp := spec("constant-rate", map[string]any{"rate": 200, "duration": "30s"}, c.TargetURL("/ping?status=503"))
	sp["thresholds"] = []any{map[string]any{"expr": "error_rate < 10%", "abort": true}, "p99 < 2s"}
	id := c.Submit(sp)
	c.WaitPhase(id, "aborted|completed|stopped|failed", 40*time.Second)
	var v judged
	tc.GetJSON(t, c.API()+"/tests/"+id, &v)
	if v.Phase != "aborted" || v.Reason != `threshold "error_rate < 10%" failed: observed 100.00%` {
		t.Fatalf("phase %q reason %q, want aborted by the error_rate threshold", v.Phase, v.Reason)
	}
	if v.Summary == nil || v.Summary.Verdict != report.VerdictFailed || len(v.Summary.Thresholds) != 2 {
		t.Fatalf("summary %+v, want verdict failed with 2 thresholds", v.Summary)
	}
	th := v.Summary.Thresholds[0]
	if th.Passed || !th.Aborted || th.Observed != 1 || th.FailedAt == 0 || !v.Summary.Thresholds[1].Passed {
		t.Fatalf("thresholds %+v, want the first failed with observed 1 and aborted, the second passed", v.Summary.Thresholds)
	}
	failedAt := time.UnixMilli(th.FailedAt)
	if took := v.EndedAt.Sub(failedAt); took < 0 || took > 2*time.Second {
		t.Errorf("test ended %v after the threshold failed, want within 2 s", took)
	}
	if first := failedAt.Sub(v.StartAt); first > 2*time.Second {
		t.Errorf("threshold seen failing %v after the start, want within the first 2 s of 100 %% errors", first)
	}
	t.Logf("failed %v after start, ended %v later, after %d requests", failedAt.Sub(v.StartAt), v.EndedAt.Sub(failedAt), v.Summary.Requests)
}

// testWindowedThreshold: the target freezes for 2 s in an 8-s test. The
// whole test's p50 stays fast, but the 1-s window that holds the frozen
// requests fails, and with it the verdict.
func testWindowedThreshold(t *testing.T, c *tc.Cluster) {
	sp := spec("constant-rate", map[string]any{"rate": 100, "duration": "8s"}, c.TargetURL("/ping"))
	sp["request"].(map[string]any)["timeout"] = "5s" // the frozen requests wait, they do not time out
	sp["thresholds"] = []any{"p50 < 100ms", "p50[1s] < 100ms", "error_rate[2s] < 1%"}
	id := c.Submit(sp)
	c.WaitPhase(id, "running", 30*time.Second)
	var v judged
	tc.Eventually(t, 10*time.Second, "the test's start", func() bool {
		tc.GetJSON(t, c.API()+"/tests/"+id, &v)
		return !v.StartAt.IsZero()
	})
	time.Sleep(time.Until(v.StartAt.Add(2500 * time.Millisecond)))
	tc.PostJSON(t, c.TargetURL("/control/stall?for=2s"), nil, nil)
	c.WaitPhase(id, "completed", 40*time.Second)
	tc.GetJSON(t, c.API()+"/tests/"+id, &v)
	rs := v.Summary.Thresholds
	if v.Summary.Verdict != report.VerdictFailed || len(rs) != 3 {
		t.Fatalf("verdict %q thresholds %+v, want failed with 3", v.Summary.Verdict, rs)
	}
	if !rs[0].Passed || rs[0].Observed >= 100 {
		t.Errorf("whole-test p50: %+v, want passed", rs[0])
	}
	if rs[1].Passed || rs[1].Observed < 100 || rs[1].FailedAt == 0 {
		t.Errorf("p50[1s]: %+v, want failed with the frozen second's p50 (hundreds of ms)", rs[1])
	}
	if !rs[2].Passed {
		t.Errorf("error_rate[2s]: %+v, want passed", rs[2])
	}
	t.Logf("whole p50 %.3f ms, worst 1-s window p50 %.3f ms", rs[0].Observed, rs[1].Observed)
}

// TestWindowedFailureSurvivesLeaderChange: a windowed threshold fails early
// in a test, then the leader is killed. The new leader keeps that failure
// (from the verdict node), although every window it judges itself passes.
func TestWindowedFailureSurvivesLeaderChange(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 2, Workers: 2})
	sp := spec("constant-rate", map[string]any{"rate": 100, "duration": "14s"}, c.TargetURL("/ping"))
	sp["request"].(map[string]any)["timeout"] = "5s"
	sp["thresholds"] = []any{"p50[1s] < 100ms"}
	id := c.Submit(sp)
	var v judged
	tc.Eventually(t, 30*time.Second, "the test's start", func() bool {
		tc.GetJSON(t, c.API()+"/tests/"+id, &v)
		return !v.StartAt.IsZero()
	})
	time.Sleep(time.Until(v.StartAt.Add(1500 * time.Millisecond)))
	tc.PostJSON(t, c.TargetURL("/control/stall?for=2s"), nil, nil)
	tc.Eventually(t, 15*time.Second, "the live verdict failing", func() bool {
		tc.GetJSON(t, c.API()+"/tests/"+id, &v)
		return v.Summary != nil && len(v.Summary.Thresholds) == 1 && !v.Summary.Thresholds[0].Passed
	})
	firstFail := v.Summary.Thresholds[0]
	var cl struct {
		Leader *struct{ ID string } `json:"leader"`
	}
	tc.GetJSON(t, c.API()+"/cluster", &cl)
	var other *tc.Proc
	for _, m := range c.Masters {
		if m.Name == cl.Leader.ID {
			m.Kill()
		} else {
			other = m
		}
	}
	if other == nil || time.Since(v.StartAt) > 10*time.Second {
		t.Fatalf("leader %v killed %v after the start; want a follower left and time for the new leader to judge", cl.Leader, time.Since(v.StartAt))
	}
	tc.Eventually(t, 60*time.Second, "the test completed under the new leader", func() bool {
		tc.GetJSON(t, other.URL()+"/api/v1/tests/"+id, &v)
		return v.Phase == "completed"
	})
	r := v.Summary.Thresholds[0]
	if v.Summary.Verdict != report.VerdictFailed || r.Passed || r.Observed != firstFail.Observed || r.FailedAt != firstFail.FailedAt {
		t.Errorf("final %s %+v, want the failure seen before the leader change (%+v)", v.Summary.Verdict, r, firstFail)
	}
}
