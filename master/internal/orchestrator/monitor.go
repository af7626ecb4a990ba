package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/stampede-load/stampede/master/internal/aggregate"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// LinesEvery is how often the leader rewrites a running test's per-worker
// lines when it has many workers (the live summary and the timeline are
// rewritten every second, and so are the lines of up to 100 workers).
const LinesEvery = 5 * time.Second

func linesEvery(workers int) time.Duration {
	if workers <= 100 {
		return time.Second
	}
	return LinesEvery
}

// monitorRun is the leader's merge of one running test.
type monitorRun struct {
	o   *Orchestrator
	l   *coord.Leader
	id  string
	s   *spec.Spec
	st  *proto.TestState
	log *slog.Logger
	// workers are the chosen workers (their plan nodes), sorted
	workers []string

	tl    *timeline
	tr    *aggregate.Tracker
	col   *collector
	lines *lines
	ans   *answers
	lost  map[string]bool
	// bounds is what a trusted report can claim; untrusted logs each
	// worker's reason for ignoring its report once
	bounds    aggregate.Bounds
	untrusted map[string]string
	// aborted: the test is being aborted (a lost worker under
	// on_worker_loss: abort), so lost workers get no final grace
	aborted    bool
	plannedEnd time.Time

	observed     bool // reports merged since the live node was last written
	lastLive     time.Time
	lastLiveness time.Time
	lastLines    time.Time
	quietSince   time.Time // when the last non-lost worker finished
	names        []report.NameSummary
	namesAt      time.Time

	ch      *liveChanges // change.go
	asksDue bool
	// sumSpec is the spec the summaries are made from: the test's own, or
	// a copy whose rate is the one its live changes planned
	sumSpec *spec.Spec
}

// monitor merges a running test's reports into the persisted timeline and
// the live node, tracks lost workers and writes the result when every
// worker has finished (or is given up on).
func (o *Orchestrator) monitor(ctx context.Context, l *coord.Leader, id string, s *spec.Spec, st *proto.TestState, workers []string) error {
	ctx, cancel := context.WithCancel(ctx) // ends the collector's watches
	defer cancel()
	m, err := o.startMonitor(ctx, l, id, s, st, workers)
	if err != nil {
		return err
	}
	tick := time.NewTicker(o.cfg.Poll)
	defer tick.Stop()
	for ctx.Err() == nil {
		now := time.Now()
		if m.asksDue {
			m.asksDue = false
			if err := m.answerAsks(ctx, now); err != nil {
				return err
			}
		}
		m.mergeReports()
		pts, err := m.persist(ctx, now, false)
		if err != nil {
			return err
		}
		if abort, err := m.ans.observe(ctx, l, st, pts, now); err != nil {
			return err
		} else if abort {
			m.aborted = true
		}
		if err := m.checkLiveness(ctx, now); err != nil {
			return err
		}
		if now.Sub(m.lastLines) >= linesEvery(len(m.workers)) {
			if err := m.lines.write(ctx, m.l, m.currentLines()); err != nil {
				return err
			}
			m.lastLines = now
		}
		if m.ended(now) {
			return m.finalize(ctx)
		}
		select {
		case <-tick.C:
		case <-m.col.notify:
			// reports of one second arrive together: merge them as one batch
			sleep(ctx, mergeBatch)
		case <-m.ch.asks:
			m.asksDue = true
		case <-ctx.Done():
		}
	}
	return ctx.Err()
}

// mergeBatch is how long the merge loop lets changed reports gather
// before merging them.
const mergeBatch = 20 * time.Millisecond

// startMonitor restores what a previous leader persisted, starts following
// the workers' reports and waits until each has been read once.
func (o *Orchestrator) startMonitor(ctx context.Context, l *coord.Leader, id string, s *spec.Spec, st *proto.TestState, workers []string) (*monitorRun, error) {
	m := &monitorRun{o: o, l: l, id: id, s: s, st: st, workers: workers, log: o.log.With("test", id), lost: map[string]bool{}}
	var err error
	if m.tl, err = o.restoreTimeline(ctx, id); err != nil {
		return nil, err
	}
	if m.lines, err = o.restoreLines(ctx, id); err != nil {
		return nil, err
	}
	if err := o.ensureNodes(ctx, l, o.p.Live(id), o.p.Merged(id)); err != nil {
		return nil, err
	}
	startAt := time.Unix(0, st.StartAt)
	m.tr = aggregate.NewTracker(startAt, workers, m.tl.next(), o.cfg.PointGrace)
	m.bounds, m.untrusted = aggregate.NewBounds(id, st, workers, s), map[string]string{}
	m.tr.Limit(m.bounds.MaxSeq)
	if m.tl.next() > 0 {
		m.log.Info("resuming a running test", "timeline_from", m.tl.next())
	}
	for _, w := range st.Lost {
		m.lost[w] = true
		m.tr.MarkLost(w)
	}
	m.plannedEnd = startAt.Add(s.Load.RunBound() + s.Request.Timeout.D)
	if err := m.startChanges(ctx); err != nil { // moves plannedEnd and the bounds
		return nil, err
	}
	m.aborted = o.abortRequested(ctx, id)
	if m.ans, err = o.newAnswers(ctx, id, s, st, m.tr); err != nil {
		return nil, err
	}
	m.col = o.collect(ctx, id, workers)
	m.col.awaitPrimed(ctx, 10*time.Second)
	return m, nil
}

// ensureNodes creates whichever of the nodes is missing (fenced).
func (o *Orchestrator) ensureNodes(ctx context.Context, l *coord.Leader, paths ...string) error {
	for _, p := range paths {
		ok, _, err := o.c.Exists(ctx, p)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		if err := l.Multi(ctx, coord.CreateOp{Path: p}); err != nil && !isExists(err) {
			return err
		}
	}
	return nil
}

// mergeReports feeds the reports that changed since the last tick.
func (m *monitorRun) mergeReports() {
	for _, r := range m.col.take() {
		if err := m.bounds.Check(r.Worker, r); err != nil {
			// anything under metrics/ and done/ may have been written by
			// anyone: a report that claims more than the plan allows is
			// ignored
			if m.untrusted[r.Worker] != err.Error() {
				m.untrusted[r.Worker] = err.Error()
				m.log.Warn("ignoring a report", "worker", r.Worker, "err", err)
			}
			continue
		}
		if m.tr.Observe(r) || r.State == "done" {
			m.observed = true
		}
		if m.lost[r.Worker] && m.tr.Finished(r.Worker) {
			// back from a partition with its final report: its counts are
			// complete, so it is no longer lost
			m.log.Info("lost worker published its final report", "worker", r.Worker)
			delete(m.lost, r.Worker)
		}
	}
}

// persist writes the points that are complete, with the merged-through
// watermark and the live node, in one fenced transaction; the live node
// alone once per second when only reports arrived. final flushes every
// point whatever is missing.
func (m *monitorRun) persist(ctx context.Context, now time.Time, final bool) ([]report.Point, error) {
	at := now
	if final {
		at = now.Add(time.Hour)
	}
	pts := m.tr.Emit(at)
	m.noteLate(pts, now)
	m.markPaused(pts)
	ops := m.tl.add(pts)
	liveDue := m.observed && now.Sub(m.lastLive) >= time.Second
	if len(ops) == 0 && !final && !liveDue {
		return pts, nil
	}
	if len(ops) > 0 {
		ops = append(ops, coord.SetOp{Path: m.o.p.Merged(m.id), Data: proto.Marshal(proto.Merged{Through: m.tl.last}), Version: -1})
	}
	ops = append(ops, coord.SetOp{Path: m.o.p.Live(m.id), Data: proto.Marshal(m.live(now)), Version: -1})
	if err := m.l.Multi(ctx, ops...); err != nil {
		return nil, err
	}
	m.tl.stored()
	m.observed, m.lastLive = false, now
	return pts, nil
}

// lateMerge is how long after its end a second may be merged before the
// leader logs which worker it waited for.
const lateMerge = time.Second

// noteLate logs each point merged more than lateMerge after its second
// ended, with the worker whose report it waited for last: at scale, the
// one place that says which worker (or its ZooKeeper session) holds the
// timeline back.
func (m *monitorRun) noteLate(pts []report.Point, now time.Time) {
	for _, p := range pts {
		end := time.UnixMilli(p.T)
		lag := now.Sub(end)
		if lag <= lateMerge {
			continue
		}
		w := m.tr.WaitedFor(p.Second)
		args := []any{"second", p.Second, "lag_ms", lag.Milliseconds(), "waited_for", w, "gap", p.Gap}
		if a := m.col.arrivedOf(w); w != "" && !a.read.IsZero() {
			// that worker's latest report, after the second's end
			args = append(args, "written_ms", a.written.Sub(end).Milliseconds(), "read_ms", a.read.Sub(end).Milliseconds())
		}
		m.log.Info("second merged late", args...)
	}
}

// live is the live node's payload.
func (m *monitorRun) live(now time.Time) proto.Live {
	sum := aggregate.Running(m.sumSpec, m.st, m.tr)
	sum.LostWorkers, sum.LostCount = report.ListLost(sortedSet(m.lost))
	// the per-name lines merge every worker's cumulative histogram of each
	// name: with a large fleet they are refreshed less often than the rest
	if m.names == nil || now.Sub(m.namesAt) >= linesEvery(len(m.workers)) {
		m.ans.decorate(&sum, m.tr.Latest())
		m.names, m.namesAt = sum.Names, now
	}
	sum.Names = m.names
	return proto.Live{MergedThrough: m.tl.last, UpdatedAt: now.UnixNano(), Points: m.tl.recent(proto.LivePoints), Summary: &sum}
}

// currentLines is every chosen worker's line as the leader knows it; every
// chosen worker voted ready before the test started.
func (m *monitorRun) currentLines() []report.WorkerSummary {
	ready := make(map[string]bool, len(m.workers))
	for _, w := range m.workers {
		ready[w] = true
	}
	return aggregate.Lines(m.workers, m.tr.Latest(), m.lost, ready)
}

// checkLiveness, once per second, marks chosen workers whose ready vote is
// gone (their session ended) and that have not finished as lost, persists
// that and applies the test's on_worker_loss policy.
func (m *monitorRun) checkLiveness(ctx context.Context, now time.Time) error {
	if now.Sub(m.lastLiveness) < time.Second {
		return nil
	}
	m.lastLiveness = now
	newlyLost, err := m.findLost(ctx)
	if err != nil || len(newlyLost) == 0 {
		return err
	}
	for _, w := range newlyLost {
		m.lost[w] = true
	}
	// persisted at once, so that a resumed leader stops waiting for them
	if err := m.o.recordLost(ctx, m.l, m.id, m.lost); err != nil {
		return err
	}
	if m.s.OnWorkerLoss == spec.OnLossRebalance {
		if err := m.rebalance(ctx, newlyLost, now); err != nil {
			return err
		}
	}
	for _, w := range newlyLost {
		m.log.Warn("worker lost", "worker", w, "policy", m.s.OnWorkerLoss)
		m.tr.MarkLost(w)
		if m.s.OnWorkerLoss == spec.OnLossAbort {
			req := proto.StopRequest{Reason: fmt.Sprintf("worker %s lost", w), Abort: true}
			err := m.l.Multi(ctx, coord.CreateOp{Path: m.o.p.Stop(m.id), Data: proto.Marshal(req)})
			if err != nil && !isExists(err) {
				return err
			}
			m.aborted = true
		}
	}
	return nil
}

// findLost returns chosen workers without a ready vote and without a final
// report, not already known lost: one listing of the votes and, if any
// worker lacks one, one of the final reports, never a read per worker.
func (m *monitorRun) findLost(ctx context.Context) ([]string, error) {
	alive, err := m.children(ctx, m.o.p.ReadyDir(m.id))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, w := range m.workers {
		if !alive[w] && !m.tr.Finished(w) && !m.lost[w] {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	// A worker deletes its vote right after writing its final report,
	// which the report watch may not have delivered yet: a worker whose
	// final report exists finished, it was not lost. At the end of a run
	// that is most of the fleet at once.
	done, err := m.children(ctx, m.o.p.DoneDir(m.id))
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(out, func(w string) bool { return done[w] }), nil
}

// children is the set of dir's children (none if dir does not exist).
func (m *monitorRun) children(ctx context.Context, dir string) (map[string]bool, error) {
	kids, err := m.o.c.Children(ctx, dir)
	if err != nil && !errors.Is(err, coord.ErrNoNode) {
		return nil, err
	}
	set := make(map[string]bool, len(kids))
	for _, k := range kids {
		set[k] = true
	}
	return set, nil
}

// ended decides whether the test is over: every worker finished; or every
// one finished or was lost and the final grace passed (none if aborting);
// or the planned end plus the final grace passed. Workers still missing
// then are lost.
func (m *monitorRun) ended(now time.Time) bool {
	pending, missing := m.tr.Unfinished() // counts: the loop runs many times a second
	if pending == 0 && m.quietSince.IsZero() {
		m.quietSince = now
	}
	over := missing == 0 ||
		(!m.quietSince.IsZero() && (m.aborted || now.Sub(m.quietSince) >= m.o.cfg.FinalGrace)) ||
		now.After(m.plannedEnd.Add(m.o.cfg.FinalGrace))
	if over {
		for _, w := range m.tr.Missing() {
			m.lost[w] = true
		}
	}
	return over
}

// finalize flushes the timeline, writes the per-worker lines beside the
// result, then the result and the terminal phase in one fenced transaction.
func (m *monitorRun) finalize(ctx context.Context) error {
	o, id := m.o, m.id
	st, ver, err := o.view.State(ctx, id)
	if err != nil {
		return err
	}
	if _, err := m.persist(ctx, time.Now(), true); err != nil {
		return err
	}
	reps := m.tr.Latest()
	for w := range m.lost {
		if reps[w] == nil {
			delete(m.lost, w) // never reported: nothing to show but its name
		}
	}
	var lostNames []string
	lostAll := map[string]bool{}
	for _, w := range m.workers {
		if m.lost[w] || reps[w] == nil {
			lostNames = append(lostNames, w)
			lostAll[w] = true
		}
	}
	sum, err := aggregate.Summarize(m.sumSpec, st, m.workers, reps, m.lost)
	if err != nil {
		return err
	}
	if err := m.lines.write(ctx, m.l, aggregate.Lines(m.workers, reps, lostAll, nil)); err != nil {
		return err
	}
	sum.Workers = nil // beside the result, in the lines chunks
	sum.LostWorkers, sum.LostCount = report.ListLost(lostNames)
	if err := m.ans.final(ctx, m.l, &sum); err != nil {
		return err
	}
	st.Phase, st.EndedAt = proto.PhaseCompleted, time.Now().UnixNano()
	st.Lost, st.LostCount = report.ListLost(lostNames)
	if err := o.endPhase(ctx, id, st); err != nil {
		return err
	}
	res, _ := json.Marshal(sum)
	if err := o.setState(ctx, m.l, id, st, ver, coord.CreateOp{Path: o.p.Result(id), Data: res}); err != nil {
		return err
	}
	o.log.Info("test finished", "test", id, "phase", st.Phase, "requests", sum.Requests, "p99_ms", sum.LatencyMs.P99)
	return nil
}

// endPhase sets the terminal phase and reason from the stop node, if any.
func (o *Orchestrator) endPhase(ctx context.Context, id string, st *proto.TestState) error {
	if d, _, err := o.c.Get(ctx, o.p.Stop(id)); err == nil {
		var req proto.StopRequest
		_ = json.Unmarshal(d, &req)
		st.Phase, st.Reason = proto.PhaseStopped, req.Reason
		if req.Abort {
			st.Phase = proto.PhaseAborted
		}
	} else if !errors.Is(err, coord.ErrNoNode) {
		return err
	}
	if len(st.Lost) > 0 && st.Phase == proto.PhaseCompleted {
		st.Reason = "lost workers: " + nameSome(st.Lost, st.LostCount)
	}
	return nil
}

// abortRequested reports whether the test's stop node asks for an abort.
func (o *Orchestrator) abortRequested(ctx context.Context, id string) bool {
	d, _, err := o.c.Get(ctx, o.p.Stop(id))
	if err != nil {
		return false
	}
	var req proto.StopRequest
	return json.Unmarshal(d, &req) == nil && req.Abort
}

// recordLost writes the lost workers into the test's state (fenced,
// compare-and-set on the state's version).
func (o *Orchestrator) recordLost(ctx context.Context, l *coord.Leader, id string, lost map[string]bool) error {
	st, ver, err := o.view.State(ctx, id)
	if err != nil {
		return err
	}
	st.Lost, st.LostCount = report.ListLost(sortedSet(lost))
	return o.setState(ctx, l, id, st, ver)
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isExists(err error) bool { return errors.Is(err, coord.ErrNodeExists) }
