package aggregate

import (
	"sort"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Names is the per-name lines of the workers' latest reports (see
// summarizeNames).
func Names(s *spec.Spec, reps map[string]*report.Report, durationS float64) ([]report.NameSummary, error) {
	return summarizeNames(s, reps, durationS)
}

// summarizeNames merges each request name's cumulative histogram and totals
// across the workers' reports, exactly as the whole test's. Lines follow
// the spec's name order; a name the spec does not have is ignored (a report
// of another version or a hostile one cannot grow the result), and so is
// any name a report repeats.
func summarizeNames(s *spec.Spec, reps map[string]*report.Report, durationS float64) ([]report.NameSummary, error) {
	if s == nil {
		return nil, nil
	}
	order := s.RequestNames()
	type acc struct {
		h *hist.Histogram
		c report.Counters
	}
	byName := make(map[string]*acc, len(order))
	for _, n := range order {
		byName[n] = nil
	}
	seen := false
	ids := make([]string, 0, len(reps))
	for id := range reps {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		dup := map[string]bool{}
		for _, nr := range reps[id].NameParts() {
			a, known := byName[nr.Name]
			if !known || dup[nr.Name] {
				continue
			}
			dup[nr.Name] = true
			h, err := hist.DecodeSparse(nr.Cumulative) // no dense copy per worker
			if err != nil {
				return nil, err
			}
			if a == nil {
				a = &acc{h: hist.New()}
				byName[nr.Name] = a
			}
			a.h.MergeSparse(h)
			a.c.Add(nr.Totals)
			seen = true
		}
	}
	if !seen {
		return nil, nil
	}
	out := make([]report.NameSummary, 0, len(order))
	for _, n := range order {
		a := byName[n]
		if a == nil {
			a = &acc{h: hist.New()}
		}
		out = append(out, report.SummarizeName(n, a.h, a.c, durationS))
	}
	return out, nil
}

// NameSecond is one request name's part of a merged second.
type NameSecond struct {
	Counters report.Counters
	Hist     *hist.Histogram
}

// addNames merges the per-name intervals of a report into its second's
// point (once per worker; intervals repeated in Recent carry no names, so a
// missed report leaves its second's per-name numbers partial).
func (t *Tracker) addNames(r *report.Report) {
	a := t.acc[r.Seq]
	if !t.names || r.Seq < t.next || a == nil || a.nameWorkers[r.Worker] {
		return
	}
	parts := r.NameParts()
	if len(parts) == 0 {
		return
	}
	if a.names == nil {
		a.names, a.nameWorkers = map[string]*NameSecond{}, map[string]bool{}
	}
	a.nameWorkers[r.Worker] = true
	for _, nr := range parts {
		ns := a.names[nr.Name]
		if ns == nil {
			if len(a.names) >= spec.MaxNames {
				continue
			}
			ns = &NameSecond{Hist: hist.New()}
			a.names[nr.Name] = ns
		}
		if h, err := hist.DecodeSparse(nr.IntervalHist); err == nil {
			ns.Hist.MergeSparse(h)
			ns.Counters.Add(nr.Interval)
		}
	}
}
