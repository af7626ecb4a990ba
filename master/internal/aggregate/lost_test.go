package aggregate

import (
	"testing"
	"time"
)

// A lost worker is no longer waited for, but a second it did not report is
// still marked a gap: a partitioned worker may have run it and publish it
// when it reconnects, so the second is never passed off as whole.
func TestLostWorkersMissingSecondsAreGaps(t *testing.T) {
	tr := NewTracker(t0, []string{"a", "b"}, 0, 2*time.Second)
	b0 := rep("b", 0, 5, 500, false)
	a0 := rep("a", 0, 10, 500, false)
	tr.Observe(a0)
	tr.Observe(b0)
	tr.MarkLost("b")
	tr.Observe(rep("a", 1, 20, 500, true, iv(a0)))
	pts := tr.Emit(t0.Add(2100 * time.Millisecond)) // before the grace: b is not waited for
	if len(pts) != 2 {
		t.Fatalf("emitted %d points, want seconds 0 and 1 at once: %+v", len(pts), pts)
	}
	if pts[0].Gap || pts[0].Requests != 15 {
		t.Errorf("second 0 = %+v, want both workers' 15 requests and no gap", pts[0])
	}
	if !pts[1].Gap || pts[1].Requests != 20 {
		t.Errorf("second 1 = %+v, want a's 20 requests marked as a gap (lost b did not report it)", pts[1])
	}
}
