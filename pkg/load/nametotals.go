package load

import (
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
)

// NameTotals accumulates the per-name part of a run's intervals: the
// cumulative histogram and counters of each name, in first-seen (spec)
// order. Not safe for concurrent use.
type NameTotals struct {
	order []string
	cum   map[string]*hist.Histogram
	tot   map[string]*report.Counters
}

// Add folds one interval's names in and returns each name's report part
// (this interval and the totals so far).
func (nt *NameTotals) Add(names []NameInterval) []report.NameReport {
	if nt.cum == nil {
		nt.cum, nt.tot = map[string]*hist.Histogram{}, map[string]*report.Counters{}
	}
	this := make(map[string]NameInterval, len(names))
	for _, n := range names {
		if nt.cum[n.Name] == nil {
			nt.order = append(nt.order, n.Name)
			nt.cum[n.Name], nt.tot[n.Name] = hist.New(), &report.Counters{}
		}
		nt.cum[n.Name].Merge(n.Latency)
		nt.tot[n.Name].Add(n.Counters)
		this[n.Name] = n
	}
	out := make([]report.NameReport, 0, len(nt.order))
	for _, name := range nt.order {
		nr := report.NameReport{Name: name, Totals: cloneCounters(*nt.tot[name])}
		nr.Cumulative, _ = nt.cum[name].Encode()
		if n, ok := this[name]; ok {
			nr.Interval = n.Counters
			nr.IntervalHist, _ = n.Latency.Encode()
		}
		out = append(out, nr)
	}
	return out
}

// Summaries is each name's summary line over durationS seconds.
func (nt *NameTotals) Summaries(durationS float64) []report.NameSummary {
	out := make([]report.NameSummary, 0, len(nt.order))
	for _, name := range nt.order {
		out = append(out, report.SummarizeName(name, nt.cum[name], cloneCounters(*nt.tot[name]), durationS))
	}
	return out
}
