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
// twice. Not safe for concurrent use.
type Tracker struct {
	startAt time.Time
	grace   time.Duration
	next    int64 // next second to emit
	workers map[string]*workerTrack
	acc     map[int64]*pointAcc
	maxSeq  int64 // 0: no bound
}

// Limit makes Observe ignore reports and intervals past interval maxSeq
// (see Bounds.MaxSeq): a forged sequence number cannot make Emit produce
// points for seconds the test never ran.
func (t *Tracker) Limit(maxSeq int64) { t.maxSeq = maxSeq }

type workerTrack struct {
	lastSeq int64 // -1 before any report
	final   int64 // seq of the final report, -1 while running
	lost    bool
}

type pointAcc struct {
	h       *hist.Histogram
	c       report.Counters
	workers map[string]report.WorkerPoint
	secs    float64 // longest interval merged (< 1 only for a final, partial second)
}

// NewTracker starts a tracker for a test that started at startAt with the
// given workers; points before `from` are taken as already emitted (a
// resumed leader continues where the persisted timeline ends).
func NewTracker(startAt time.Time, workers []string, from int64, grace time.Duration) *Tracker {
	t := &Tracker{startAt: startAt, grace: grace, next: from, workers: map[string]*workerTrack{}, acc: map[int64]*pointAcc{}}
	for _, w := range workers {
		t.workers[w] = &workerTrack{lastSeq: from - 1, final: -1}
	}
	return t
}

// Next is the second of the next point to be emitted.
func (t *Tracker) Next() int64 { return t.next }

// Observe feeds one report. It returns false if the report was a duplicate
// or older than one already seen.
func (t *Tracker) Observe(r *report.Report) bool {
	w, ok := t.workers[r.Worker]
	if !ok || r.Seq < 0 || (t.maxSeq > 0 && r.Seq > t.maxSeq) {
		return false
	}
	if r.Seq <= w.lastSeq {
		// A resumed tracker starts past the persisted timeline, so the
		// final report of a worker that finished before the resume is
		// "old": its intervals are in emitted points, but it still says
		// the worker has nothing more to send.
		if r.State == report.StateDone && w.final < 0 {
			w.final = r.Seq
		}
		return false
	}
	for _, iv := range r.Recent { // intervals missed since the last report seen
		if iv.Seq > w.lastSeq && iv.Seq < r.Seq {
			t.add(r.Worker, iv)
		}
	}
	w.lastSeq = r.Seq
	if r.State == report.StateDone {
		w.final = r.Seq
	}
	t.add(r.Worker, report.Interval{Seq: r.Seq, Start: r.IntervalStart, End: r.IntervalEnd, Counters: r.Interval, Hist: r.IntervalHist})
	return true
}

// add merges one worker interval into its point, unless that point was
// emitted already (the interval then only counts in the totals).
func (t *Tracker) add(worker string, iv report.Interval) {
	if iv.Seq < t.next {
		return
	}
	h, err := hist.Decode(iv.Hist)
	if err != nil {
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
	a.h.Merge(h)
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
	for {
		if t.maxSeq > 0 && t.next > t.maxSeq {
			return out // the run cannot have lasted longer
		}
		end := t.startAt.Add(time.Duration(t.next+1) * time.Second)
		complete, expected := true, 0
		anyAlive := false
		for _, w := range t.workers {
			if w.lost || (w.final >= 0 && w.final < t.next) {
				continue // this worker has nothing for this second
			}
			anyAlive = true
			expected++
			if w.lastSeq < t.next {
				complete = false
			}
		}
		a := t.acc[t.next]
		if !anyAlive && a == nil {
			return out
		}
		if !complete && now.Before(end.Add(t.grace)) {
			return out
		}
		p := report.Point{Second: t.next, T: end.UnixMilli()}
		if a != nil {
			p.Requests, p.Errors, p.Late = a.c.Requests, a.c.Errors, a.c.Late
			p.ErrorKinds, p.Status = a.c.ErrorKinds, a.c.Status
			p.LatencyMs = a.h.Summary()
			p.RPS = float64(a.c.Requests) // a whole second
			if a.secs > 0 && a.secs < 1 {
				p.RPS = float64(a.c.Requests) / a.secs // the last, partial second
			}
			p.Workers = a.workers
		}
		seen := 0
		if a != nil {
			seen = len(a.workers)
		}
		p.Gap = seen < expected
		delete(t.acc, t.next)
		t.next++
		out = append(out, p)
	}
}

// Done reports whether every worker has sent its final report or is lost.
func (t *Tracker) Done() bool {
	for _, w := range t.workers {
		if !w.lost && w.final < 0 {
			return false
		}
	}
	return true
}

// Pending lists workers that have neither finished nor been lost.
func (t *Tracker) Pending() []string {
	var out []string
	for id, w := range t.workers {
		if !w.lost && w.final < 0 {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}
