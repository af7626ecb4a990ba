package report

import (
	"fmt"

	"github.com/stampede-load/stampede/pkg/hist"
)

// IterationReport is a worker's journeys since the start (scenarios only):
// how many completed and failed, and the cumulative histogram of the
// completed ones' durations (V2 compressed).
type IterationReport struct {
	Completed  int64  `json:"completed"`
	Failed     int64  `json:"failed"`
	Cumulative string `json:"cumulative_hist"`
}

// IterationSummary is summary.iterations: the fleet's journeys, merged
// exactly (counts summed, histograms merged).
type IterationSummary struct {
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
	// DurationMs are the percentiles of completed journeys' durations,
	// from the first step's due time (or send) to the end of the last
	// step, think times included.
	DurationMs hist.Latency `json:"duration_ms"`
	// Histogram is the merged duration histogram (result only).
	Histogram string `json:"histogram,omitempty"`
}

// IterationTotals accumulates journeys: a worker's since the start, or
// the fleet's when reports are merged. The zero value is empty; not safe
// for concurrent use.
type IterationTotals struct {
	h                 *hist.Histogram
	completed, failed int64
	seen              bool
}

// Add folds in durations h (nil: none) and the counts.
func (t *IterationTotals) Add(h *hist.Histogram, completed, failed int64) {
	if t.h == nil {
		t.h = hist.New()
	}
	if h != nil {
		t.h.Merge(h)
	}
	t.completed += completed
	t.failed += failed
	t.seen = true
}

// AddReport folds in a worker's IterationReport (nil: nothing); a bad
// histogram or a negative count is an error and adds nothing.
func (t *IterationTotals) AddReport(r *IterationReport) error {
	if r == nil {
		return nil
	}
	if r.Completed < 0 || r.Failed < 0 {
		return fmt.Errorf("iterations out of range (completed %d, failed %d)", r.Completed, r.Failed)
	}
	h, err := hist.Decode(r.Cumulative)
	if err != nil {
		return fmt.Errorf("iterations: %w", err)
	}
	t.Add(h, r.Completed, r.Failed)
	return nil
}

// Report is the totals as a worker report's part (nil if nothing was
// added).
func (t *IterationTotals) Report() *IterationReport {
	if !t.seen {
		return nil
	}
	enc, _ := t.h.Encode()
	return &IterationReport{Completed: t.completed, Failed: t.failed, Cumulative: enc}
}

// Summary is the totals as summary.iterations (nil if nothing was added);
// withHist includes the merged histogram.
func (t *IterationTotals) Summary(withHist bool) *IterationSummary {
	if !t.seen {
		return nil
	}
	s := &IterationSummary{Completed: t.completed, Failed: t.failed, DurationMs: t.h.Summary()}
	if withHist {
		s.Histogram, _ = t.h.Encode()
	}
	return s
}
