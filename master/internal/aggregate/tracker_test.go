package aggregate

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
)

var t0 = time.Unix(1_800_000_000, 0)

// rep builds worker w's report for interval seq with n requests of lat µs,
// repeating the previous intervals as the worker does.
func rep(w string, seq, n, lat int64, final bool, recent ...report.Interval) *report.Report {
	h := hist.New()
	h.RecordN(lat, n)
	enc, _ := h.Encode()
	r := &report.Report{Worker: w, Seq: seq, StartAt: t0.UnixNano(),
		IntervalStart: t0.Add(time.Duration(seq) * time.Second).UnixNano(),
		IntervalEnd:   t0.Add(time.Duration(seq+1) * time.Second).UnixNano(),
		Interval:      report.Counters{Requests: n}, IntervalHist: enc, State: report.StateRunning, Recent: recent}
	if final {
		r.State = report.StateDone
	}
	return r
}

func iv(r *report.Report) report.Interval {
	return report.Interval{Seq: r.Seq, Start: r.IntervalStart, End: r.IntervalEnd, Counters: r.Interval, Hist: r.IntervalHist}
}

func TestTrackerMergesSecondsAndIgnoresDuplicates(t *testing.T) {
	tr := NewTracker(t0, []string{"a", "b"}, 0, 3*time.Second)
	a0, b0 := rep("a", 0, 100, 1000, false), rep("b", 0, 50, 3000, false)
	if !tr.Observe(a0) || tr.Observe(a0) {
		t.Fatal("first report must be taken and its duplicate ignored")
	}
	if pts := tr.Emit(t0.Add(1500 * time.Millisecond)); len(pts) != 0 {
		t.Fatalf("emitted %v before b reported second 0", pts)
	}
	tr.Observe(b0)
	pts := tr.Emit(t0.Add(1500 * time.Millisecond))
	if len(pts) != 1 || pts[0].Requests != 150 || pts[0].Gap || len(pts[0].Workers) != 2 {
		t.Fatalf("second 0 = %+v, want 150 requests from 2 workers, no gap", pts)
	}
	if pts[0].LatencyMs.Max < 2.99 || pts[0].LatencyMs.Min > 1.01 {
		t.Errorf("merged latency %+v, want min 1 ms and max 3 ms", pts[0].LatencyMs)
	}
	// an out-of-order older report is ignored
	a1 := rep("a", 1, 10, 1000, false, iv(a0))
	tr.Observe(a1)
	if tr.Observe(a0) {
		t.Error("an older report was taken after a newer one")
	}
}

func TestTrackerFillsMissedReportsFromRecentAndMarksGaps(t *testing.T) {
	tr := NewTracker(t0, []string{"a", "b"}, 0, 2*time.Second)
	a0 := rep("a", 0, 10, 500, false)
	a1 := rep("a", 1, 20, 500, false, iv(a0))
	a2 := rep("a", 2, 30, 500, true, iv(a0), iv(a1)) // a0 and a1 were never seen
	tr.Observe(a2)
	tr.Observe(rep("b", 0, 1, 500, false))
	// b never reports seconds 1 and 2: they become gaps after the grace
	pts := tr.Emit(t0.Add(5001 * time.Millisecond)) // second 2 is overdue, 3 is not
	if len(pts) != 3 {
		t.Fatalf("emitted %d points, want 3: %+v", len(pts), pts)
	}
	want := []int64{11, 20, 30}
	for i, p := range pts {
		if p.Requests != want[i] {
			t.Errorf("second %d: %d requests, want %d", i, p.Requests, want[i])
		}
	}
	if pts[0].Gap || !pts[1].Gap || !pts[2].Gap {
		t.Errorf("gaps = %v %v %v, want false true true", pts[0].Gap, pts[1].Gap, pts[2].Gap)
	}
	if tr.Done() {
		t.Error("Done with b still running")
	}
	tr.MarkLost("b")
	if !tr.Done() {
		t.Error("not Done after b was lost and a finished")
	}
}

// A tracker resumed past the persisted timeline (a new leader, or a
// restarted merge loop) must still learn that a worker whose final report
// predates the resume has finished; otherwise it waits for that worker and
// emits empty gap seconds until the grace runs out.
func TestResumedTrackerTakesFinishedWorkersFinalReport(t *testing.T) {
	tr := NewTracker(t0, []string{"a", "b"}, 8, time.Second)
	if tr.Observe(rep("a", 7, 10, 500, true)) {
		t.Error("a report for an already emitted second was merged again")
	}
	tr.Observe(rep("b", 8, 10, 500, true))
	if !tr.Done() {
		t.Errorf("pending %v after both final reports, want none", tr.Pending())
	}
	pts := tr.Emit(t0.Add(time.Hour))
	if len(pts) != 1 || pts[0].Second != 8 || pts[0].Gap || pts[0].Requests != 10 {
		t.Errorf("points %+v, want only second 8 with b's 10 requests and no gap", pts)
	}
}

func TestPartialLastSecondRateIsPerSecond(t *testing.T) {
	tr := NewTracker(t0, []string{"a"}, 0, time.Second)
	last := rep("a", 0, 50, 500, true)
	last.IntervalEnd = t0.Add(250 * time.Millisecond).UnixNano() // the run ended a quarter into the second
	tr.Observe(last)
	pts := tr.Emit(t0.Add(2 * time.Second))
	if len(pts) != 1 || pts[0].Requests != 50 || pts[0].RPS != 200 || !pts[0].Partial || pts[0].Seconds != 0.25 {
		t.Fatalf("partial second = %+v, want 50 requests at 200 req/s", pts)
	}
	if w := pts[0].Workers["a"]; w.RPS != pts[0].RPS {
		t.Errorf("worker rate %v differs from the point's %v", w.RPS, pts[0].RPS)
	}
}

// A leader that took over mid-test reads each worker's report once, with
// every interval after the watermark the old leader published; it must
// rebuild the same seconds an undisturbed leader merged, with no gap.
func TestResumedTrackerRebuildsFromPendingIntervals(t *testing.T) {
	var reps []*report.Report
	var pending []report.Interval
	cum := hist.New()
	var total int64
	for seq := int64(0); seq < 8; seq++ {
		r := rep("a", seq, 10+seq, 700+seq*100, seq == 7, pending...)
		h, _ := hist.Decode(r.IntervalHist)
		cum.Merge(h)
		total += r.Interval.Requests
		r.Cumulative, _ = cum.Encode()
		r.Totals = report.Counters{Requests: total}
		reps = append(reps, r)
		pending = append(pending, iv(r))
	}
	whole := NewTracker(t0, []string{"a"}, 0, time.Second)
	for _, r := range reps {
		whole.Observe(r)
	}
	want := whole.Emit(t0.Add(time.Hour))
	// the old leader merged seconds 0-2 and died; the new one sees only the
	// final report, carrying intervals 3-6 (those after the watermark, 2)
	last := reps[7]
	last.Recent = pending[3:7]
	resumed := NewTracker(t0, []string{"a"}, 3, time.Second)
	resumed.Observe(last)
	got := resumed.Emit(t0.Add(time.Hour))
	if len(got) != 5 {
		t.Fatalf("resumed tracker emitted %d points, want seconds 3-7", len(got))
	}
	for i, p := range got {
		w := want[i+3]
		if p.Second != w.Second || p.Requests != w.Requests || p.Gap || p.LatencyMs != w.LatencyMs {
			t.Errorf("second %d = %+v, want %+v", w.Second, p, w)
		}
	}
	// its running total starts from the cumulative histogram, exactly
	h, c, _ := resumed.Running()
	wh, wc, _ := whole.Running()
	if !h.Equal(wh) || c.Requests != wc.Requests || c.Requests != total {
		t.Errorf("running total %d requests, want %d (histograms equal: %v)", c.Requests, wc.Requests, h.Equal(wh))
	}
}

// A point keeps at most MaxPointWorkers workers and sums the rest, so its
// size does not grow with the fleet; the counts still add up.
func TestPointBoundsWorkers(t *testing.T) {
	const n = 2000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("worker-with-a-long-name-%05d", i)
	}
	tr := NewTracker(t0, ids, 0, time.Second)
	for i, id := range ids {
		tr.Observe(rep(id, 0, int64(1+i%7), 900, false))
	}
	pts := tr.Emit(t0.Add(1100 * time.Millisecond))
	if len(pts) != 1 || pts[0].Gap {
		t.Fatalf("points %d (gap %v), want one complete point", len(pts), len(pts) > 0 && pts[0].Gap)
	}
	p := pts[0]
	if len(p.Workers) != report.MaxPointWorkers || p.Others == nil || p.OtherWorkers != n-report.MaxPointWorkers {
		t.Fatalf("point keeps %d workers, others %+v of %d", len(p.Workers), p.Others, p.OtherWorkers)
	}
	sum := p.Others.Requests
	for _, w := range p.Workers {
		sum += w.Requests
		if w.Requests != 7 {
			t.Errorf("a kept worker has %d requests, want the top ones (7)", w.Requests)
		}
	}
	if sum != p.Requests {
		t.Errorf("workers and others sum to %d, point says %d", sum, p.Requests)
	}
	if b, _ := json.Marshal(p); len(b) > 4096 {
		t.Errorf("a point of %d workers is %d bytes", n, len(b))
	}
}

func TestWaitedForNamesTheWorkerASecondLastWaitedFor(t *testing.T) {
	tr := NewTracker(t0, []string{"a", "b", "c"}, 0, 3*time.Second)
	tr.Observe(rep("a", 0, 10, 1000, false))
	tr.Observe(rep("c", 0, 10, 1000, false))
	if pts := tr.Emit(t0.Add(1100 * time.Millisecond)); len(pts) != 0 {
		t.Fatalf("emitted %v without b", pts)
	}
	tr.Observe(rep("b", 0, 10, 1000, false))
	tr.Observe(rep("a", 1, 10, 1000, false))
	tr.Observe(rep("b", 1, 10, 1000, false))
	tr.Observe(rep("c", 1, 10, 1000, false))
	pts := tr.Emit(t0.Add(2100 * time.Millisecond))
	if len(pts) != 2 {
		t.Fatalf("emitted %d points, want seconds 0 and 1", len(pts))
	}
	if w := tr.WaitedFor(0); w != "b" {
		t.Errorf("second 0 waited for %q, want b (the only worker missing when Emit first looked)", w)
	}
	if w := tr.WaitedFor(1); w != "" {
		t.Errorf("second 1 was complete when first asked, yet waited for %q", w)
	}
	if tr.Emit(t0.Add(2200 * time.Millisecond)); tr.WaitedFor(0) != "" {
		t.Error("WaitedFor must speak only of the last Emit's points")
	}
}
