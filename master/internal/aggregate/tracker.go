package aggregate

import (
	"sort"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
)

// Tracker assembles per-second timeline points from a stream of worker
// reports, in which any report may be missed (watches coalesce, a leader
// changes) or repeated. Interval k of every worker covers
// [start_at + k s, start_at + (k+1) s), so point k merges interval k of every
// worker. A point is emitted once every worker has reported past it, or
// once Grace has passed after its end; a point that lacks a worker's
// interval is marked as a gap. Reports with a sequence number at or below
// the last one seen from that worker are ignored, so nothing is counted
// twice.
//
// The tracker also keeps the exact running merge of everything seen (the
// first report of each worker contributes its cumulative histogram, later
// ones their new intervals) and each worker's latest report, so the live
// summary and the per-worker lines need no further reads. Not safe for
// concurrent use.
type Tracker struct {
	startAt time.Time
	grace   time.Duration
	next    int64 // next second to emit
	workers map[string]*workerTrack
	acc     map[int64]*pointAcc
	maxSeq  int64 // 0: no bound
	// owing is a worker that had not yet reported past next when Emit last
	// looked; waited, by emitted second, the owing of each the last Emit
	// returned that had to wait (see WaitedFor)
	owing  string
	waited map[int64]string

	total  *hist.Histogram // every interval seen, each once
	totals report.Counters
	end    int64 // latest interval end seen (unix ns)
	// names: merge each second per request name too (KeepNames)
	names bool
	// OnSecond, if set, is called by Emit with each point, its merged
	// latency histogram (nil for a second nobody reported) and its per-name
	// merge (nil unless KeepNames), none of which the callee may keep.
	OnSecond func(p report.Point, h *hist.Histogram, names map[string]*NameSecond)
}

// Limit makes Observe ignore reports and intervals past interval maxSeq
// (see Bounds.MaxSeq): a forged sequence number cannot make Emit produce
// points for seconds the test never ran.
func (t *Tracker) Limit(maxSeq int64) { t.maxSeq = maxSeq }

// KeepNames makes every second merge its intervals per request name as
// well, for whoever reads them in OnSecond (a threshold on one name's
// numbers); without it a second costs one merge per worker, not one per
// worker and name.
func (t *Tracker) KeepNames() { t.names = true }

type workerTrack struct {
	lastSeq  int64 // -1 before any report
	final    int64 // seq of the final report, -1 while running
	lost     bool
	totalSeq int64 // intervals through totalSeq are in the running total
	latest   *report.Report
}

type pointAcc struct {
	h       *hist.Histogram
	c       report.Counters
	workers map[string]report.WorkerPoint
	secs    float64 // longest interval merged (< 1 only for a final, partial second)
	// names and nameWorkers: the per-name merge (see addNames)
	names       map[string]*NameSecond
	nameWorkers map[string]bool
}

// NewTracker starts a tracker for a test that started at startAt with the
// given workers; points before `from` are taken as already emitted (a
// resumed leader continues where the persisted timeline ends).
func NewTracker(startAt time.Time, workers []string, from int64, grace time.Duration) *Tracker {
	t := &Tracker{startAt: startAt, grace: grace, next: from, workers: map[string]*workerTrack{},
		acc: map[int64]*pointAcc{}, total: hist.New()}
	for _, w := range workers {
		t.workers[w] = &workerTrack{lastSeq: from - 1, final: -1, totalSeq: -1}
	}
	return t
}

// Observe feeds one report. It returns false if the report was a duplicate
// or older than one already seen.
func (t *Tracker) Observe(r *report.Report) bool {
	w, ok := t.workers[r.Worker]
	if !ok || r.Seq < 0 || (t.maxSeq > 0 && r.Seq > t.maxSeq) {
		return false
	}
	if w.latest == nil || r.Seq > w.latest.Seq || (r.Seq == w.latest.Seq && r.State == report.StateDone) {
		w.latest = r
	}
	if w.totalSeq < 0 && r.Seq >= 0 {
		t.takeCumulative(w, r)
	}
	if r.State == report.StateDone && !w.finished() {
		// A resumed tracker starts past the persisted timeline, so the final
		// report of a worker that finished before the resume is "old": its
		// intervals are in emitted points, but it still says the worker has
		// nothing more to send.
		w.final = r.Seq
	}
	if r.Seq <= w.lastSeq {
		return false
	}
	for _, iv := range r.Recent { // intervals not yet merged, oldest first
		if iv.Seq > w.lastSeq && iv.Seq < r.Seq {
			t.add(r.Worker, w, iv)
		}
	}
	t.add(r.Worker, w, report.Interval{Seq: r.Seq, Start: r.IntervalStart, End: r.IntervalEnd, Counters: r.Interval, Hist: r.IntervalHist})
	t.addNames(r)
	w.lastSeq = r.Seq
	return true
}

// takeCumulative starts the running total of a worker from its first
// report's cumulative histogram and totals.
func (t *Tracker) takeCumulative(w *workerTrack, r *report.Report) {
	h, err := hist.DecodeSparse(r.Cumulative) // merged, never kept: no dense copy per worker
	if err != nil {
		return
	}
	t.total.MergeSparse(h)
	t.totals.Add(r.Totals)
	w.totalSeq = r.Seq
	t.end = max(t.end, r.IntervalEnd)
}

// add merges one worker interval into its point (unless that point was
// emitted already) and into the running total (unless it is there).
func (t *Tracker) add(worker string, w *workerTrack, iv report.Interval) {
	toTotal := iv.Seq > w.totalSeq
	if iv.Seq < t.next && !toTotal {
		return
	}
	h, err := hist.DecodeSparse(iv.Hist) // an interval: a few buckets, merged without a dense copy
	if err != nil {
		return
	}
	if toTotal {
		t.total.MergeSparse(h)
		t.totals.Add(iv.Counters)
		w.totalSeq = iv.Seq
		t.end = max(t.end, iv.End)
	}
	if iv.Seq < t.next {
		return
	}
	a := t.acc[iv.Seq]
	if a == nil {
		a = &pointAcc{h: hist.New(), workers: map[string]report.WorkerPoint{}}
		t.acc[iv.Seq] = a
	}
	if _, dup := a.workers[worker]; dup {
		return
	}
	a.h.MergeSparse(h)
	a.c.Add(iv.Counters)
	secs := float64(iv.End-iv.Start) / 1e9
	a.secs = max(a.secs, secs)
	wp := report.WorkerPoint{Requests: iv.Counters.Requests, Errors: iv.Counters.Errors, P99Ms: float64(h.Percentile(99)) / 1000}
	if secs > 0 {
		wp.RPS = float64(iv.Counters.Requests) / secs
	}
	a.workers[worker] = wp
}

// MarkLost says a worker will report no more; points stop waiting for it.
func (t *Tracker) MarkLost(worker string) {
	if w, ok := t.workers[worker]; ok {
		w.lost = true
	}
}

// Emit returns the points that are complete (or overdue) at now, in order.
func (t *Tracker) Emit(now time.Time) []report.Point {
	var out []report.Point
	clear(t.waited)
	for {
		if t.maxSeq > 0 && t.next > t.maxSeq {
			return out // the run cannot have lasted longer
		}
		end := t.startAt.Add(time.Duration(t.next+1) * time.Second)
		complete, expected, anyAlive, owing := t.expected()
		if !complete {
			t.owing = owing
		}
		a := t.acc[t.next]
		if !anyAlive && a == nil {
			return out
		}
		if !complete && now.Before(end.Add(t.grace)) {
			return out
		}
		p := report.Point{Second: t.next, T: end.UnixMilli()}
		seen := 0
		if a != nil {
			fill(&p, a)
			seen = len(a.workers)
		}
		p.Gap = seen < expected
		if t.OnSecond != nil {
			var h *hist.Histogram
			var names map[string]*NameSecond
			if a != nil {
				h, names = a.h, a.names
			}
			t.OnSecond(p, h, names)
		}
		if t.owing != "" {
			if t.waited == nil {
				t.waited = map[int64]string{}
			}
			t.waited[t.next], t.owing = t.owing, ""
		}
		delete(t.acc, t.next)
		t.next++
		out = append(out, p)
	}
}

// WaitedFor is, for a second the last Emit returned, a live worker whose
// report it was still waiting for the last time Emit found it incomplete
// (the one that held it, as near as the emits' spacing tells), or "" if it
// was complete when first asked.
func (t *Tracker) WaitedFor(second int64) string { return t.waited[second] }

// expected says, for the next second, whether every worker that owes it an
// interval has reported past it, how many owe one (lost workers included,
// though never waited for), whether any live worker does, and one live
// worker that has not reported it yet.
func (t *Tracker) expected() (complete bool, expected int, anyAlive bool, owing string) {
	complete = true
	for id, w := range t.workers {
		if w.finished() && w.final < t.next {
			continue // this worker has nothing for this second
		}
		if w.lost {
			// never waited for, but it may still have run this second
			// (a partitioned worker publishes when it reconnects): a
			// second without it is marked a gap, not passed off as whole
			expected++
			continue
		}
		anyAlive = true
		expected++
		if w.lastSeq < t.next {
			complete = false
			owing = id
		}
	}
	return complete, expected, anyAlive, owing
}

// fill sets a point's numbers from its accumulated intervals, keeping at
// most report.MaxPointWorkers workers by name and summing the rest.
func fill(p *report.Point, a *pointAcc) {
	p.Requests, p.Errors, p.Late = a.c.Requests, a.c.Errors, a.c.Late
	p.ErrorKinds, p.Status = a.c.ErrorKinds, a.c.Status
	p.LatencyMs = a.h.Summary()
	p.RPS = float64(a.c.Requests) // a whole second
	if a.secs > 0 && a.secs < 1 {
		// the last, partial second: its rate is per second of what it covers
		p.RPS = float64(a.c.Requests) / a.secs
		p.Partial, p.Seconds = true, a.secs
	}
	p.Workers = a.workers
	if len(a.workers) <= report.MaxPointWorkers {
		return
	}
	ids := make([]string, 0, len(a.workers))
	for id := range a.workers {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		ri, rj := a.workers[ids[i]].Requests, a.workers[ids[j]].Requests
		return ri > rj || (ri == rj && ids[i] < ids[j])
	})
	top := make(map[string]report.WorkerPoint, report.MaxPointWorkers)
	others := report.WorkerPoint{}
	for i, id := range ids {
		wp := a.workers[id]
		if i < report.MaxPointWorkers {
			top[id] = wp
			continue
		}
		others.Requests += wp.Requests
		others.Errors += wp.Errors
		others.RPS += wp.RPS
	}
	p.Workers, p.Others, p.OtherWorkers = top, &others, len(ids)-report.MaxPointWorkers
}

// Done reports whether every worker has sent its final report or is lost.
func (t *Tracker) Done() bool { return len(t.Pending()) == 0 }

// Finished reports whether a worker's final report has been seen.
func (t *Tracker) Finished(worker string) bool {
	w, ok := t.workers[worker]
	return ok && w.finished()
}

// Pending lists workers that have neither finished nor been lost.
func (t *Tracker) Pending() []string { return t.list((*workerTrack).pending) }

// Unfinished counts the workers Pending and Missing list, without listing
// them.
func (t *Tracker) Unfinished() (pending, missing int) {
	for _, w := range t.workers {
		if w.pending() {
			pending++
		}
		if !w.finished() {
			missing++
		}
	}
	return pending, missing
}

// Missing lists workers whose final report has not been seen (lost or not).
func (t *Tracker) Missing() []string {
	return t.list(func(w *workerTrack) bool { return !w.finished() })
}

// list is the workers that match, sorted.
func (t *Tracker) list(match func(*workerTrack) bool) []string {
	var out []string
	for id, w := range t.workers {
		if match(w) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// finished reports whether the worker's final report has been seen.
func (w *workerTrack) finished() bool { return w.final >= 0 }

// pending reports whether the worker has neither finished nor been lost.
func (w *workerTrack) pending() bool { return !w.lost && !w.finished() }

// Latest is every worker's latest report seen, by worker.
func (t *Tracker) Latest() map[string]*report.Report {
	out := make(map[string]*report.Report, len(t.workers))
	for id, w := range t.workers {
		if w.latest != nil {
			out[id] = w.latest
		}
	}
	return out
}

// Running is the exact merge of every interval seen so far: the live
// summary's histogram and counters, and the end of the latest interval.
func (t *Tracker) Running() (*hist.Histogram, report.Counters, time.Time) {
	return t.total, t.totals, time.Unix(0, t.end)
}
