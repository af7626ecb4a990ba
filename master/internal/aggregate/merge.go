// Package aggregate merges worker reports: per-second timeline points from
// interval histograms, and summaries from cumulative histograms. Merges are
// exact (same histogram geometry everywhere); percentiles are never
// averaged.
package aggregate

import (
	"fmt"
	"sort"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Summarize merges the cumulative histograms and totals of each worker's
// latest (or final) report into a summary. lost names workers whose last
// report is all that is known of them. The duration runs from start_at to
// the end of the latest interval reported.
func Summarize(s *spec.Spec, st *proto.TestState, reps map[string]*report.Report, lost map[string]bool) (report.Summary, error) {
	merged := hist.New()
	service := hist.New()
	var totals report.Counters
	var end int64
	var maxSkew int64
	workers := make([]report.WorkerSummary, 0, len(reps))
	ids := make([]string, 0, len(reps))
	for id := range reps {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	haveService := false
	for _, id := range ids {
		r := reps[id]
		h, err := hist.Decode(r.Cumulative)
		if err != nil {
			return report.Summary{}, fmt.Errorf("%w: %s: %w", ErrBadReport, id, err)
		}
		merged.Merge(h)
		if r.Service != "" {
			sh, err := hist.Decode(r.Service)
			if err != nil {
				return report.Summary{}, fmt.Errorf("%w: %s: %w", ErrBadReport, id, err)
			}
			service.Merge(sh)
			haveService = true
		}
		totals.Add(r.Totals)
		if r.IntervalEnd > end {
			end = r.IntervalEnd
		}
		skew := r.StartSkewUs
		if skew < 0 {
			skew = -skew
		}
		if skew > maxSkew {
			maxSkew = skew
		}
		state := r.State
		if lost[id] {
			state = "lost"
		}
		dur := float64(r.IntervalEnd-r.StartAt) / 1e9
		ws := report.WorkerSummary{
			ID: id, State: state, Requests: r.Totals.Requests, Errors: r.Totals.Errors,
			P99Ms: float64(h.Percentile(99)) / 1000, StartSkewMs: float64(r.StartSkewUs) / 1000,
			Late: r.Totals.Late,
		}
		if dur > 0 {
			ws.RPS = float64(r.Totals.Requests) / dur
		}
		workers = append(workers, ws)
	}
	start := st.StartAt
	if start == 0 {
		start = end
	}
	dur := float64(end-start) / 1e9
	if dur < 0 {
		dur = 0
	}
	sum := report.Summarize(merged, totals, dur)
	sum.Workers = workers
	sum.MaxSkewMs = float64(maxSkew) / 1000
	if haveService {
		l := service.Summary()
		sum.ServiceMs = &l
	}
	if rate := TargetRate(s, len(st.Workers)); rate > 0 {
		sum.TargetRate = rate
		sum.RateMissed = totals.Requests > 0 && float64(totals.Late) > 0.05*float64(totals.Requests)
	}
	for id := range lost {
		sum.LostWorkers = append(sum.LostWorkers, id)
	}
	sort.Strings(sum.LostWorkers)
	return sum, nil
}

// TargetRate is the total requested rate of a constant-rate test over n
// workers (0 for other models).
func TargetRate(s *spec.Spec, n int) float64 {
	if s == nil || s.Load.Model != spec.ModelConstantRate {
		return 0
	}
	if s.Load.RatePerWorker > 0 {
		return s.Load.RatePerWorker * float64(n)
	}
	return s.Load.Rate
}
