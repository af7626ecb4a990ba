package report

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
)

// TestIterationTotalsMerge: two workers' reports merge exactly (counts
// summed, histograms merged); a hostile report adds nothing; no journeys
// means no iterations section.
func TestIterationTotalsMerge(t *testing.T) {
	var empty IterationTotals
	if empty.Report() != nil || empty.Summary(true) != nil {
		t.Error("iterations of a test without journeys are not nil")
	}
	var w1, w2, fleet IterationTotals
	h := hist.New()
	for i := 1; i <= 10; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	w1.Add(h, 10, 2)
	w2.Add(nil, 0, 3)
	for _, w := range []*IterationTotals{&w1, &w2} {
		if err := fleet.AddReport(w.Report()); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []*IterationReport{{Completed: -1}, {Cumulative: "not a histogram"}} {
		if err := fleet.AddReport(bad); err == nil {
			t.Errorf("report %+v accepted", bad)
		}
	}
	s := fleet.Summary(true)
	got, err := hist.Decode(s.Histogram)
	if err != nil {
		t.Fatal(err)
	}
	if s.Completed != 10 || s.Failed != 5 || got.Count() != 10 || s.DurationMs.Max < 9.9 || s.DurationMs.Max > 10.1 {
		t.Errorf("fleet = %+v (histogram of %d), want 10 completed, 5 failed, max 10 ms", s, got.Count())
	}
	if fleet.Summary(false).Histogram != "" {
		t.Error("the live summary carries the histogram")
	}
}
