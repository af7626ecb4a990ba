// Package verdict judges a test against its thresholds: it evaluates every
// threshold on merged numbers (the whole test, or a sliding window of the
// last seconds), live while the test runs and once at the end, and says
// when an abort threshold asks to end the test.
//
// It reads numbers, never the clock or ZooKeeper, so the leader, `worker
// run` and tests drive it the same way.
package verdict

import (
	"strconv"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Stats are the numbers a threshold reads, for the whole test or one name,
// over the whole run or a window.
type Stats struct {
	Requests int64
	Errors   int64
	RPS      float64
	Latency  hist.Latency
	Status   map[string]int64
}

// FromSummary reads the whole test's stats from a summary.
func FromSummary(s *report.Summary) Stats {
	return Stats{Requests: s.Requests, Errors: s.Errors, RPS: s.RPS, Latency: s.LatencyMs, Status: s.StatusCodes}
}

// Value is the metric's value in its unit (see spec.Expr).
func (st Stats) Value(metric string) float64 {
	l := st.Latency
	switch metric {
	case "min":
		return l.Min
	case "mean":
		return l.Mean
	case "p50":
		return l.P50
	case "p90":
		return l.P90
	case "p95":
		return l.P95
	case "p99":
		return l.P99
	case "p999":
		return l.P999
	case "max":
		return l.Max
	case "error_rate":
		if st.Requests == 0 {
			return 0
		}
		return float64(st.Errors) / float64(st.Requests)
	case "rps":
		return st.RPS
	case "requests":
		return float64(st.Requests)
	case "errors":
		return float64(st.Errors)
	}
	if code, ok := cutStatus(metric); ok {
		return float64(st.Status[code])
	}
	return 0
}

func cutStatus(metric string) (string, bool) {
	if len(metric) <= len(spec.StatusMetricPrefix) || metric[:len(spec.StatusMetricPrefix)] != spec.StatusMetricPrefix {
		return "", false
	}
	code := metric[len(spec.StatusMetricPrefix):]
	if _, err := strconv.Atoi(code); err != nil {
		return "", false
	}
	return code, true
}

// Slice is one second's counters and latency histogram of one scope.
type Slice struct {
	Counters report.Counters
	Hist     *hist.Histogram // may be nil (no requests)
}

// Second is one merged second of the timeline.
type Second struct {
	Index int64
	// Secs is how long the second's intervals were (1, or less for the
	// last, partial second).
	Secs  float64
	Total Slice
	Names map[string]Slice
}

// SecondOf turns a merged timeline point and its histogram into a Second.
func SecondOf(p report.Point, h *hist.Histogram) Second {
	secs := 1.0
	if p.RPS > 0 && float64(p.Requests)/p.RPS < 1 {
		secs = float64(p.Requests) / p.RPS
	}
	sec := Second{Index: p.Second, Secs: secs, Total: Slice{
		Counters: report.Counters{Requests: p.Requests, Errors: p.Errors, Status: p.Status},
		Hist:     h,
	}}
	return sec
}

// Whole returns the stats of a summary's whole test (name "") or of one
// named request, for Check and Final.
func Whole(s *report.Summary) func(name string) (Stats, bool) {
	return func(name string) (Stats, bool) {
		if s == nil {
			return Stats{}, false
		}
		if name == "" {
			return FromSummary(s), true
		}
		for i := range s.Names {
			if n := &s.Names[i]; n.Name == name {
				return Stats{Requests: n.Requests, Errors: n.Errors, RPS: n.RPS, Latency: n.LatencyMs, Status: n.StatusCodes}, true
			}
		}
		return Stats{}, false
	}
}
