// Package aggregate merges worker reports: per-second timeline points from
// interval histograms, and summaries from cumulative histograms. Merges are
// exact (same histogram geometry everywhere); percentiles are never
// averaged.
package aggregate

import (
	"fmt"
	"sort"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Summarize merges the cumulative histograms and totals of each worker's
// latest (or final) report into a summary. lost names workers whose last
// report is all that is known of them. The duration runs from start_at to
// the end of the latest interval reported.
func Summarize(s *spec.Spec, st *proto.TestState, workers []string, reps map[string]*report.Report, lost map[string]bool) (report.Summary, error) {
	merged := hist.New()
	service := hist.New()
	var totals report.Counters
	var end, maxSkew int64
	ids := make([]string, 0, len(reps))
	for id := range reps {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	haveService := false
	p99 := make(map[string]float64, len(ids))
	for _, id := range ids {
		r := reps[id]
		h, err := hist.DecodeSparse(r.Cumulative) // merged, never kept: no dense copy per worker
		if err != nil {
			return report.Summary{}, fmt.Errorf("%w: %s: %w", ErrBadReport, id, err)
		}
		merged.MergeSparse(h)
		p99[id] = float64(h.Percentile(99)) / 1000
		if r.Service != "" {
			sh, err := hist.DecodeSparse(r.Service)
			if err != nil {
				return report.Summary{}, fmt.Errorf("%w: %s: %w", ErrBadReport, id, err)
			}
			service.MergeSparse(sh)
			haveService = true
		}
		totals.Add(r.Totals)
		end = max(end, r.IntervalEnd)
		maxSkew = max(maxSkew, r.StartSkewUs, -r.StartSkewUs)
	}
	sum := summary(s, st, merged, totals, time.Unix(0, end))
	var err error
	if sum.Names, err = summarizeNames(s, reps, sum.DurationS); err != nil {
		return report.Summary{}, err
	}
	if sum.Iterations, err = iterations(reps, true); err != nil {
		return report.Summary{}, err
	}
	sum.Workers = Lines(workers, reps, lost, nil)
	for i := range sum.Workers {
		if v, ok := p99[sum.Workers[i].ID]; ok {
			sum.Workers[i].P99Ms = v // exact from the histogram, whatever the report says
		}
	}
	sum.MaxSkewMs = float64(maxSkew) / 1000
	if haveService {
		l := service.Summary()
		sum.ServiceMs = &l
	}
	var all []string
	for id := range lost {
		all = append(all, id)
	}
	sort.Strings(all)
	sum.LostWorkers, sum.LostCount = report.ListLost(all)
	return sum, nil
}

// Running is the live summary of a running test from its tracker's exact
// running merge, without per-worker lines (see Lines).
func Running(s *spec.Spec, st *proto.TestState, tr *Tracker) report.Summary {
	h, totals, end := tr.Running()
	sum := summary(s, st, h, totals, end)
	var maxSkew int64
	for _, r := range tr.Latest() {
		maxSkew = max(maxSkew, r.StartSkewUs, -r.StartSkewUs)
	}
	sum.MaxSkewMs = float64(maxSkew) / 1000
	sum.Iterations, _ = iterations(tr.Latest(), false) // reports were validated on arrival
	return sum
}

// iterations merges the workers' journeys exactly (nil unless a report has
// them); withHist includes the merged histogram.
func iterations(reps map[string]*report.Report, withHist bool) (*report.IterationSummary, error) {
	var t report.IterationTotals
	for id, r := range reps {
		if err := t.AddReport(r.Iterations); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadReport, id, err)
		}
	}
	return t.Summary(withHist), nil
}

// summary is the headline numbers of a merged histogram and counters whose
// latest interval ended at end.
func summary(s *spec.Spec, st *proto.TestState, h *hist.Histogram, totals report.Counters, end time.Time) report.Summary {
	start := st.StartAt
	if start == 0 {
		start = end.UnixNano()
	}
	dur := max(0, float64(end.UnixNano()-start)/1e9)
	sum := report.Summarize(h, totals, dur)
	if rate := TargetRate(s, st.Chosen); rate > 0 {
		sum.TargetRate = rate
		sum.RateMissed = totals.Requests > 0 && float64(totals.Late) > 0.05*float64(totals.Requests)
	}
	return sum
}

// Lines is the per-worker lines of the chosen workers, in order: from each
// one's latest report, "lost" for lost workers, "ready" for those in ready
// without a report yet, and "planned" for the rest. Workers that are not
// chosen but reported (never the case for a well-formed test) are left out.
func Lines(chosen []string, reps map[string]*report.Report, lost, ready map[string]bool) []report.WorkerSummary {
	out := make([]report.WorkerSummary, 0, len(chosen))
	for _, w := range chosen {
		var ws report.WorkerSummary
		if r, ok := reps[w]; ok {
			ws = r.Line(r.State)
			ws.ID = w
		} else {
			state := "planned"
			if ready[w] {
				state = "ready"
			}
			ws = report.WorkerSummary{ID: w, State: state}
		}
		if lost[w] {
			ws.State = "lost"
		}
		out = append(out, ws)
	}
	return out
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
