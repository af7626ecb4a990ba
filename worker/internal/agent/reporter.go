package agent

import (
	"sync"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/load"
	"github.com/stampede-load/stampede/pkg/report"
)

// reporter turns engine intervals into reports aligned on start_at + k s,
// and keeps every interval the leader has not acknowledged (merged) yet, so
// that a new leader can rebuild each second exactly after a failover.
type reporter struct {
	test, worker string
	startAt      time.Time
	seq          int64 // next interval; only the run loop touches it
	totals       report.Counters
	cumulative   *hist.Histogram
	service      *hist.Histogram
	names        load.NameTotals
	single       bool // the run has one request name (Report.Name)
	// iterations are a scenario's journeys since the start
	iterations report.IterationTotals

	mu      sync.Mutex
	pending []report.Interval // unacknowledged intervals, oldest first
	bytes   int               // of their histograms
	dropped int64             // intervals dropped unacknowledged (retention)
}

func newReporter(test, worker string, startAt time.Time) *reporter {
	return &reporter{test: test, worker: worker, startAt: startAt, cumulative: hist.New(), service: hist.New()}
}

// engine is what the reporter needs of a run (a *load.Run).
type engine interface {
	Collect() load.Interval
	Skew() time.Duration
	Drain(sec int64, max time.Duration)
	Paused(sec int64) bool
	PlannedEnd(startAt time.Time) time.Time
}

// interval collects the engine's interval ending at end into a report.
// Its Recent part is filled when it is published (see withPending).
func (r *reporter) interval(run engine, end time.Time, final bool) *report.Report {
	return r.build(r.absorb(run, end), final)
}

// build is the report of an absorbed interval, with the running totals as
// they stand (absorb's, as long as nothing was absorbed since).
func (r *reporter) build(a absorbed, final bool) *report.Report {
	iv := a.iv
	ch, _ := r.cumulative.Encode()
	rep := &report.Report{
		Test: r.test, Worker: r.worker, Seq: a.seq, State: report.StateRunning,
		StartAt: r.startAt.UnixNano(), StartSkewUs: a.skew.Microseconds(),
		IntervalStart: r.startAt.Add(time.Duration(a.seq) * time.Second).UnixNano(),
		IntervalEnd:   a.end.UnixNano(),
		Interval:      iv.Counters, IntervalHist: a.hist,
		Totals: r.totals, Cumulative: ch, P99Us: r.cumulative.Percentile(99),
	}
	rep.Name, rep.Names = a.name, a.names
	if iv.Iterations != nil {
		rep.Iterations = r.iterations.Report()
	}
	rep.Totals.ErrorKinds = copyMap(r.totals.ErrorKinds)
	rep.Totals.Status = copyMap(r.totals.Status)
	if final {
		rep.State = report.StateDone
		rep.Service, _ = r.service.Encode()
	}
	return rep
}

// fold collects the engine's interval ending at end without a report of
// its own: the next report carries it with the unacknowledged intervals.
func (r *reporter) fold(run engine, end time.Time) { r.absorb(run, end) }

// absorbed is an interval taken into the running totals, as build needs
// it: its histogram encoded and its per-name parts (none for a run of one
// name).
type absorbed struct {
	seq   int64
	end   time.Time
	skew  time.Duration
	iv    load.Interval
	hist  string
	name  string              // a run of one name: that name, and no names
	names []report.NameReport // otherwise: the per-name parts
}

// absorb collects the engine's interval ending at end into the running
// totals, keeps it unacknowledged and moves on to the next interval.
func (r *reporter) absorb(run engine, end time.Time) absorbed {
	seq := r.seq
	iv := run.Collect()
	r.cumulative.Merge(iv.Latency)
	r.service.Merge(iv.Service)
	r.totals.Add(iv.Counters)
	ih, _ := iv.Latency.Encode()
	if r.seq == 0 {
		r.single = len(iv.Names) == 1 // the engine's names are the spec's, in every interval
	}
	a := absorbed{seq: seq, end: end, iv: iv, hist: ih}
	if r.single && len(iv.Names) == 1 {
		a.name = iv.Names[0].Name // its part is the whole report: not repeated
	} else {
		a.names = r.names.Add(iv.Names)
	}
	if it := iv.Iterations; it != nil {
		r.iterations.Add(it.Duration, it.Completed, it.Failed)
	}
	start := r.startAt.Add(time.Duration(r.seq) * time.Second)
	r.keep(report.Interval{Seq: r.seq, Start: start.UnixNano(), End: end.UnixNano(), Counters: iv.Counters, Hist: ih})
	r.seq++
	a.skew = run.Skew()
	return a
}

// keep adds an interval to the unacknowledged ones, dropping the oldest
// beyond report.MaxPending intervals or report.PendingBytes.
func (r *reporter) keep(iv report.Interval) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, iv)
	r.bytes += len(iv.Hist)
	for len(r.pending) > 1 && (len(r.pending) > report.MaxPending || r.bytes > report.PendingBytes) {
		r.bytes -= len(r.pending[0].Hist)
		r.pending = r.pending[1:]
		r.dropped++
	}
}

// ack forgets the intervals through the leader's merged-through watermark.
func (r *reporter) ack(through int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := 0
	for i < len(r.pending) && r.pending[i].Seq <= through {
		r.bytes -= len(r.pending[i].Hist)
		i++
	}
	r.pending = append([]report.Interval(nil), r.pending[i:]...)
}

// unacked is how many intervals wait for the leader's acknowledgement.
func (r *reporter) unacked() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

// withPending is a copy of rep whose Recent holds the unacknowledged
// intervals before its own.
func (r *reporter) withPending(rep *report.Report) *report.Report {
	out := *rep
	r.mu.Lock()
	defer r.mu.Unlock()
	out.Recent = nil
	for _, iv := range r.pending {
		if iv.Seq < rep.Seq {
			out.Recent = append(out.Recent, iv)
		}
	}
	return &out
}

func copyMap(m map[string]int64) map[string]int64 {
	if m == nil {
		return nil
	}
	c := make(map[string]int64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
