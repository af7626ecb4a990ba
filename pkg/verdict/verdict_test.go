package verdict

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

var t0 = time.Unix(1_800_000_000, 0)

// second builds second i with n requests of lat µs, errs of them errors.
func second(i, n, errs, lat int64) Second {
	h := hist.New()
	h.RecordN(lat, n)
	return Second{Index: i, Secs: 1, Total: Slice{Counters: report.Counters{Requests: n, Errors: errs}, Hist: h}}
}

func ths(exprs ...string) []spec.Threshold {
	var out []spec.Threshold
	for _, e := range exprs {
		out = append(out, spec.Threshold{Expr: e})
	}
	return out
}

func whole(st Stats) func(string) (Stats, bool) {
	return func(string) (Stats, bool) { return st, true }
}

func TestWholeTestThresholdsJudgedOnFinalNumbers(t *testing.T) {
	e := New(ths("p99 < 250ms", "error_rate < 1%", "rps > 900", "status.503 == 0"), t0)
	final := Stats{Requests: 10000, Errors: 50, RPS: 1000, Latency: hist.Latency{P99: 300}, Status: map[string]int64{"503": 50}}
	v, rs := e.Final(t0.Add(10*time.Second), whole(final))
	want := []bool{false, true, true, false}
	if v != report.VerdictFailed {
		t.Errorf("verdict %q, want failed", v)
	}
	for i, r := range rs {
		if r.Passed != want[i] {
			t.Errorf("%s: passed %v observed %v, want passed %v", r.Expr, r.Passed, r.Observed, want[i])
		}
	}
	if rs[0].Observed != 300 || rs[1].Observed != 0.005 || rs[3].Observed != 50 {
		t.Errorf("observed %v %v %v, want 300 0.005 50", rs[0].Observed, rs[1].Observed, rs[3].Observed)
	}
	e = New(ths("p99 < 250ms"), t0)
	if v, _ := e.Final(t0, whole(Stats{Requests: 1, Latency: hist.Latency{P99: 10}})); v != report.VerdictPassed {
		t.Errorf("verdict %q, want passed", v)
	}
}

// A windowed threshold fails for good when one window fails, although the
// whole test's number passes, and the window slides: seconds older than it
// do not count.
func TestWindowedThresholdFailsOnOneBadWindow(t *testing.T) {
	e := New(ths("error_rate[2s] < 50%", "error_rate < 50%", "p50[1s] < 100ms"), t0)
	secs := []Second{
		second(0, 100, 90, 1000), // 90 % errors, but the 2-s window [−1,0] ...
		second(1, 100, 0, 1000),  // ... and [0,1] = 45 %: passes
		second(2, 100, 0, 1000),
		second(3, 100, 0, 500_000), // slow second: p50 500 ms
		second(4, 100, 0, 1000),
	}
	// Only the first window (second 0 alone) has 90 % errors.
	for _, s := range secs {
		e.AddSecond(t0.Add(time.Duration(s.Index+1)*time.Second), s)
	}
	_, rs := e.Final(t0.Add(5*time.Second), whole(Stats{Requests: 500, Errors: 90, Latency: hist.Latency{P50: 1}}))
	if rs[0].Passed || rs[0].Observed != 0.9 {
		t.Errorf("error_rate[2s]: %+v, want failed with observed 0.9 (the first window)", rs[0])
	}
	if !rs[1].Passed {
		t.Errorf("whole-test error_rate: %+v, want passed (18 %%)", rs[1])
	}
	if rs[2].Passed || rs[2].Observed < 499 || rs[2].Observed > 501 {
		t.Errorf("p50[1s]: %+v, want failed at about 500 ms", rs[2])
	}
	if rs[0].FailedAt != t0.Add(time.Second).UnixMilli() {
		t.Errorf("failed_at %d, want the end of second 0", rs[0].FailedAt)
	}

	// the same seconds without the first bad one: the 2-s window passes
	e = New(ths("error_rate[2s] < 50%"), t0)
	e.AddSecond(t0, second(0, 100, 40, 1000))
	e.AddSecond(t0, second(1, 100, 50, 1000)) // window 45 %
	e.AddSecond(t0, second(2, 100, 49, 1000)) // window 49.5 %
	if _, rs := e.Final(t0, whole(Stats{})); !rs[0].Passed || rs[0].Observed != 0.495 {
		t.Errorf("error_rate[2s]: %+v, want passed with the last window's 0.495", rs[0])
	}
}

func TestAbortWaitsForGraceAndFiresOnce(t *testing.T) {
	e := New([]spec.Threshold{
		{Expr: "p99 < 250ms"},
		{Expr: "error_rate < 10%", Abort: true, After: spec.D(5 * time.Second)},
	}, t0)
	bad := whole(Stats{Requests: 10, Errors: 5, Latency: hist.Latency{P99: 1}})
	if a := e.Check(t0.Add(4*time.Second), bad); a != nil {
		t.Fatalf("aborted within the grace: %+v", a)
	}
	a := e.Check(t0.Add(5*time.Second), bad)
	if a == nil || a.Expr != "error_rate < 10%" || a.Observed != 0.5 || !a.Aborted {
		t.Fatalf("abort = %+v, want error_rate observed 0.5", a)
	}
	if got := Reason(*a); got != `threshold "error_rate < 10%" failed: observed 50.00%` {
		t.Errorf("reason %q", got)
	}
	if again := e.Check(t0.Add(6*time.Second), bad); again != nil {
		t.Errorf("second abort %+v", again)
	}
	// the final numbers pass, but the threshold that aborted stays failed
	v, rs := e.Final(t0.Add(7*time.Second), whole(Stats{Requests: 1000, Errors: 5, Latency: hist.Latency{P99: 1}}))
	if v != report.VerdictFailed || rs[1].Passed || !rs[0].Passed {
		t.Errorf("final %s %+v, want failed with only the abort threshold failed", v, rs)
	}
}

func TestWindowedAbort(t *testing.T) {
	e := New([]spec.Threshold{{Expr: "error_rate[2s] < 50%", Abort: true}}, t0)
	e.AddSecond(t0.Add(time.Second), second(0, 10, 0, 1000))
	if a := e.Check(t0.Add(time.Second), whole(Stats{})); a != nil {
		t.Fatalf("abort on a passing window: %+v", a)
	}
	e.AddSecond(t0.Add(2*time.Second), second(1, 10, 10, 1000))
	if a := e.Check(t0.Add(2*time.Second), whole(Stats{})); a == nil || a.Observed != 0.5 {
		// window = 10/20 = 50 %, which is not < 50 %
		t.Fatalf("abort = %+v, want one at 0.5", a)
	}
}

func TestRestoreKeepsWindowedFailures(t *testing.T) {
	list := ths("error_rate[1s] < 1%", "p99 < 10ms")
	e := New(list, t0)
	e.AddSecond(t0, second(0, 10, 10, 1000))
	prev := e.Results()
	r := New(list, t0)
	r.Restore(prev)
	r.AddSecond(t0, second(1, 10, 0, 1000))
	if _, rs := r.Final(t0, whole(Stats{Requests: 1, Latency: hist.Latency{P99: 1}})); rs[0].Passed || rs[0].Observed != 1 || !rs[1].Passed {
		t.Errorf("restored results %+v, want the windowed failure kept", rs)
	}
}
