package aggregate

import (
	"errors"
	"fmt"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// ErrBadReport wraps every reason a report is not trusted.
var ErrBadReport = errors.New("aggregate: report not trusted")

// MaxMapKeys bounds the distinct error kinds and status codes of one
// report's counters.
const MaxMapKeys = 1000

// Bounds are what a report of one running test can claim: anything in a
// metrics/ or done/ node may have been written by anyone, so the leader
// checks each report against the plan before merging it.
type Bounds struct {
	Test    string
	Workers map[string]bool
	StartAt int64 // unix ns
	// MaxSeq is the last interval a worker can report: the run's bound,
	// the request timeout and the worker's grace, in seconds.
	MaxSeq int64
}

// NewBounds derives the bounds of test id from its state, its chosen
// workers and its spec.
func NewBounds(id string, st *proto.TestState, workers []string, s *spec.Spec) Bounds {
	b := Bounds{Test: id, Workers: make(map[string]bool, len(workers)), StartAt: st.StartAt}
	for _, w := range workers {
		b.Workers[w] = true
	}
	// the worker's own deadline is RunBound + timeout + 5 s; one more
	// interval for the final, partial one
	run := s.Load.RunBound() + s.Request.Timeout.D + 5*time.Second
	b.MaxSeq = int64(run/time.Second) + 2
	return b
}

// Check returns nil if the report under node name key can be merged, or
// why not (wrapping ErrBadReport).
func (b Bounds) Check(key string, r *report.Report) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrBadReport, key, fmt.Sprintf(format, args...))
	}
	switch {
	case r.Worker != key:
		return bad("names worker %.64q", r.Worker)
	case !b.Workers[key]:
		return bad("is not a worker of this test")
	case r.Test != b.Test:
		return bad("names test %.64q", r.Test)
	case r.Seq < 0 || r.Seq > b.MaxSeq:
		return bad("sequence %d is outside 0..%d", r.Seq, b.MaxSeq)
	case b.StartAt != 0 && r.StartAt != b.StartAt:
		return bad("start_at %d is not the test's %d", r.StartAt, b.StartAt)
	case r.IntervalStart > b.StartAt+(b.MaxSeq+1)*int64(time.Second) || r.IntervalEnd > b.StartAt+(b.MaxSeq+2)*int64(time.Second):
		// (a run stopped before its start ends before its first interval
		// begins, so end < start is legitimate)
		return bad("interval %d..%d is past the run", r.IntervalStart, r.IntervalEnd)
	}
	if err := checkParts(r); err != nil {
		return bad("%v", err)
	}
	if err := checkCounters(r.Interval, r.Totals); err != nil {
		return bad("%v", err)
	}
	hists, err := iterationHists(r.Iterations, []string{r.IntervalHist, r.Cumulative, r.Service})
	if err != nil {
		return bad("%v", err)
	}
	for _, iv := range r.Recent {
		if iv.Seq < 0 || iv.Seq >= r.Seq {
			return bad("repeated interval %d is not before %d", iv.Seq, r.Seq)
		}
		if err := checkCounters(iv.Counters); err != nil {
			return bad("%v", err)
		}
		hists = append(hists, iv.Hist)
	}
	for _, h := range hists {
		if err := hist.CheckEncoded(h); err != nil {
			return bad("%v", err)
		}
	}
	return nil
}

// checkParts bounds how many earlier intervals and names a report carries.
func checkParts(r *report.Report) error {
	switch {
	case r.Name != "" && len(r.Names) > 0:
		return fmt.Errorf("names its one request name and lists %d names", len(r.Names))
	case len(r.Recent) > report.MaxPending:
		return fmt.Errorf("repeats %d intervals; at most %d", len(r.Recent), report.MaxPending)
	}
	return nil
}

func checkCounters(cs ...report.Counters) error {
	for _, c := range cs {
		if c.Requests < 0 || c.Errors < 0 || c.Errors > c.Requests || c.Late < 0 {
			return fmt.Errorf("counters out of range (requests %d, errors %d, late %d)", c.Requests, c.Errors, c.Late)
		}
		if len(c.ErrorKinds) > MaxMapKeys || len(c.Status) > MaxMapKeys {
			return fmt.Errorf("%d error kinds and %d status codes; at most %d each", len(c.ErrorKinds), len(c.Status), MaxMapKeys)
		}
		if err := checkSamples(c.ErrorSamples); err != nil {
			return err
		}
	}
	return nil
}

// checkSamples bounds a report's sampled error messages.
func checkSamples(s report.Samples) error {
	if len(s) > MaxMapKeys {
		return fmt.Errorf("error samples of %d kinds; at most %d", len(s), MaxMapKeys)
	}
	for k, ms := range s {
		if len(k) > report.MaxSampleBytes || len(ms) > report.MaxSamples {
			return fmt.Errorf("%d error samples of a kind; at most %d", len(ms), report.MaxSamples)
		}
		for _, m := range ms {
			if len(m) > report.MaxSampleBytes {
				return fmt.Errorf("an error sample of %d bytes; at most %d", len(m), report.MaxSampleBytes)
			}
		}
	}
	return nil
}

// iterationHists checks a report's iterations (nil: none) and adds their
// histogram to hists.
func iterationHists(it *report.IterationReport, hists []string) ([]string, error) {
	if it == nil {
		return hists, nil
	}
	if it.Completed < 0 || it.Failed < 0 {
		return nil, fmt.Errorf("iterations out of range (completed %d, failed %d)", it.Completed, it.Failed)
	}
	return append(hists, it.Cumulative), nil
}
