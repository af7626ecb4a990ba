package verdict

import (
	"fmt"
	"strings"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Evaluator judges one test. Whole-test thresholds are judged on the
// numbers of the whole run: live by Check (for display and abort), finally
// by Final. A windowed threshold ("error_rate[10s] < 1%") is judged each
// time a second completes, on the last window of seconds, and fails for good
// the first time a window fails: it says "at no point did it exceed".
// An abort threshold asks to end the test the first time it is seen failing
// once its grace (after) has passed since the start.
//
// An Evaluator is not safe for concurrent use.
type Evaluator struct {
	startAt time.Time
	items   []*item
	bufs    map[string]*buffer // scope ("" = whole test, or a name) -> recent seconds
	scratch *hist.Histogram
}

type item struct {
	th     spec.Threshold
	expr   spec.Expr
	res    report.ThresholdResult
	sticky bool // failed for good: a window failed, or it aborted the test
}

// New returns an evaluator for a validated spec's thresholds of a test that
// started (or starts) at startAt. Thresholds whose expression does not parse
// are reported failed (a validated spec has none).
func New(ths []spec.Threshold, startAt time.Time) *Evaluator {
	e := &Evaluator{startAt: startAt, bufs: map[string]*buffer{}, scratch: hist.New()}
	for _, t := range ths {
		x, err := spec.ParseExpr(t.Expr)
		it := &item{th: t, expr: x, res: report.ThresholdResult{Expr: t.Expr, Name: t.Name, Passed: err == nil, Abort: t.Abort}}
		it.sticky = err != nil
		e.items = append(e.items, it)
		if err != nil || x.Window == 0 {
			continue
		}
		b := e.bufs[t.Name]
		if b == nil {
			b = &buffer{}
			e.bufs[t.Name] = b
		}
		b.size = max(b.size, int64(x.Window/time.Second))
		b.latency = b.latency || x.IsLatency()
	}
	return e
}

// Empty reports whether there is nothing to judge.
func (e *Evaluator) Empty() bool { return e == nil || len(e.items) == 0 }

// Restore takes over what an earlier evaluator of the same spec had found
// (a new leader resuming a test): windowed failures and the abort stay
// failed, first-failure times are kept.
func (e *Evaluator) Restore(prev []report.ThresholdResult) {
	for i, it := range e.items {
		if i >= len(prev) || prev[i].Expr != it.th.Expr || prev[i].Name != it.th.Name {
			return // another spec's results
		}
		p := prev[i]
		it.res.FailedAt = p.FailedAt
		if !p.Passed && (it.expr.Window > 0 || p.Aborted) {
			it.sticky, it.res = true, p
		}
	}
}

// graceOver reports whether a threshold's grace has passed at t.
func (e *Evaluator) graceOver(it *item, t time.Time) bool {
	return !t.Before(e.startAt.Add(it.th.After.D))
}

// AddSecond feeds one merged second (in increasing order) and judges every
// windowed threshold on the window that ends with it.
func (e *Evaluator) AddSecond(now time.Time, sec Second) {
	for scope, b := range e.bufs {
		sl := sec.Total
		if scope != "" {
			sl = sec.Names[scope]
		}
		b.add(sec.Index, sec.Secs, sl)
	}
	end := e.startAt.Add(time.Duration(sec.Index+1) * time.Second)
	for _, it := range e.items {
		if it.sticky || it.expr.Window == 0 || !e.graceOver(it, end) {
			continue
		}
		st := e.bufs[it.th.Name].stats(sec.Index, int64(it.expr.Window/time.Second), e.scratch)
		it.judge(st, now, true)
	}
}

// judge records an evaluation; sticky failures keep their first value.
func (it *item) judge(st Stats, now time.Time, sticky bool) {
	v := st.Value(it.expr.Metric)
	ok := it.expr.Holds(v)
	it.res.Passed, it.res.Observed = ok, v
	if !ok && it.res.FailedAt == 0 {
		it.res.FailedAt = now.UnixMilli()
	}
	if !ok && sticky {
		it.sticky = true
	}
}

// Check judges every whole-test threshold on the current numbers (whole
// returns the stats of the whole test for name "" or of one name, false if
// there is nothing yet) and returns the abort threshold that ends the test,
// if one fails now. It returns an abort only once.
func (e *Evaluator) Check(now time.Time, whole func(name string) (Stats, bool)) *report.ThresholdResult {
	for _, it := range e.items {
		if it.sticky || it.expr.Window > 0 {
			continue
		}
		if st, ok := whole(it.th.Name); ok && st.Requests > 0 {
			it.judge(st, now, false)
		}
	}
	for _, it := range e.items {
		if it.th.Abort && !it.res.Passed && !it.res.Aborted && e.graceOver(it, now) {
			for _, o := range e.items {
				if o.res.Aborted {
					return nil
				}
			}
			it.res.Aborted, it.sticky = true, true
			r := it.res
			return &r
		}
	}
	return nil
}

// Results is the current outcome of every threshold, in spec order.
func (e *Evaluator) Results() []report.ThresholdResult {
	out := make([]report.ThresholdResult, len(e.items))
	for i, it := range e.items {
		out[i] = it.res
	}
	return out
}

// Final judges the whole-test thresholds on the final numbers and returns
// the verdict and every result.
func (e *Evaluator) Final(now time.Time, whole func(name string) (Stats, bool)) (string, []report.ThresholdResult) {
	for _, it := range e.items {
		if it.sticky || it.expr.Window > 0 {
			continue
		}
		st, _ := whole(it.th.Name)
		it.judge(st, now, false)
	}
	rs := e.Results()
	return report.Verdict(rs), rs
}

// Reason is the phase reason of a test a threshold aborted.
func Reason(r report.ThresholdResult) string {
	s := fmt.Sprintf("threshold %q", r.Expr)
	if r.Name != "" {
		s += fmt.Sprintf(" on %q", r.Name)
	}
	return s + " failed: observed " + FormatObserved(r.Expr, r.Observed)
}

// FormatObserved renders an observed value in the unit of its expression's
// metric.
func FormatObserved(expr string, v float64) string {
	x, err := spec.ParseExpr(expr)
	switch {
	case err != nil:
		return fmt.Sprintf("%g", v)
	case x.IsLatency():
		return fmt.Sprintf("%.3f ms", v)
	case x.Metric == "error_rate":
		return fmt.Sprintf("%.2f%%", v*100)
	case x.Metric == "rps":
		return fmt.Sprintf("%.1f req/s", v)
	case strings.HasPrefix(x.Metric, spec.StatusMetricPrefix):
		return fmt.Sprintf("%.0f responses", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}
