package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/stampede-load/stampede/master/internal/aggregate"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// monitor merges a running test's reports into the persisted timeline,
// tracks lost workers and writes the result when every worker has finished
// (or is given up on).
func (o *Orchestrator) monitor(ctx context.Context, l *coord.Leader, id string, s *spec.Spec, st *proto.TestState) error {
	log := o.log.With("test", id)
	startAt := time.Unix(0, st.StartAt)
	tl, err := o.restoreTimeline(ctx, id)
	if err != nil {
		return err
	}
	tr := aggregate.NewTracker(startAt, st.Workers, tl.next(), o.cfg.PointGrace)
	bounds := aggregate.NewBounds(id, st, s)
	tr.Limit(bounds.MaxSeq)
	untrusted := map[string]string{} // logged once per node and reason
	if tl.next() > 0 {
		log.Info("resuming a running test", "timeline_from", tl.next())
	}
	lost := map[string]bool{}
	for _, w := range st.Lost {
		lost[w] = true
		tr.MarkLost(w)
	}
	plannedEnd := startAt.Add(s.Load.RunBound() + s.Request.Timeout.D)
	var lastLiveness time.Time
	var quietSince time.Time // when the last non-lost worker finished
	// aborted: the test is being aborted (a lost worker under
	// on_worker_loss: abort), so lost workers get no final grace
	aborted := o.abortRequested(ctx, id)
	tick := time.NewTicker(o.cfg.Poll)
	defer tick.Stop()
	for ctx.Err() == nil {
		now := time.Now()
		reps, err := o.view.Reports(ctx, o.p.MetricsDir(id))
		if err != nil {
			return err
		}
		done, err := o.view.Reports(ctx, o.p.DoneDir(id))
		if err != nil {
			return err
		}
		trusted(log, bounds, reps, untrusted)
		trusted(log, bounds, done, untrusted)
		for _, w := range sortedKeys(reps) {
			tr.Observe(reps[w])
		}
		for _, w := range sortedKeys(done) {
			tr.Observe(done[w])
			reps[w] = done[w]
			if lost[w] {
				// back from a partition with its final report: its counts
				// are complete, so it is no longer lost
				log.Info("lost worker published its final report", "worker", w)
				delete(lost, w)
			}
		}
		if err := tl.add(ctx, l, tr.Emit(now)); err != nil {
			return err
		}

		if now.Sub(lastLiveness) >= time.Second {
			lastLiveness = now
			newlyLost, err := o.findLost(ctx, st.Workers, done, lost)
			if err != nil {
				return err
			}
			if len(newlyLost) > 0 {
				for _, w := range newlyLost {
					lost[w] = true
				}
				// persisted at once, so that a resumed leader and every
				// master's live feed stop waiting for these workers
				if err := o.recordLost(ctx, l, id, lost); err != nil {
					return err
				}
			}
			for _, w := range newlyLost {
				log.Warn("worker lost", "worker", w, "policy", s.OnWorkerLoss)
				tr.MarkLost(w)
				if s.OnWorkerLoss == spec.OnLossAbort {
					req := proto.StopRequest{Reason: fmt.Sprintf("worker %s lost", w), Abort: true}
					err := l.Multi(ctx, coord.CreateOp{Path: o.p.Stop(id), Data: proto.Marshal(req)})
					if err != nil && !isExists(err) {
						return err
					}
					aborted = true
				}
			}
		}

		pending := 0
		for _, w := range st.Workers {
			if done[w] == nil && !lost[w] {
				pending++
			}
		}
		missing := 0
		for _, w := range st.Workers {
			if done[w] == nil {
				missing++
			}
		}
		if pending == 0 && quietSince.IsZero() {
			quietSince = now
		}
		switch {
		case missing == 0,
			pending == 0 && (aborted || now.Sub(quietSince) >= o.cfg.FinalGrace),
			now.After(plannedEnd.Add(o.cfg.FinalGrace)):
			for _, w := range st.Workers {
				if done[w] == nil {
					lost[w] = true
				}
			}
			return o.finalize(ctx, l, id, s, tl, tr, reps, lost)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	return ctx.Err()
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
	names := make([]string, 0, len(lost))
	for w := range lost {
		names = append(names, w)
	}
	sort.Strings(names)
	st.Lost = names
	return o.setState(ctx, l, id, st, ver)
}

// findLost returns chosen workers that have no registration and no final
// report and are not already known lost.
func (o *Orchestrator) findLost(ctx context.Context, chosen []string, done map[string]*report.Report, lost map[string]bool) ([]string, error) {
	live, err := o.view.Workers(ctx)
	if err != nil {
		return nil, err
	}
	alive := map[string]bool{}
	for _, w := range live {
		alive[w.ID] = true
	}
	var out []string
	for _, w := range chosen {
		if !alive[w] && done[w] == nil && !lost[w] {
			out = append(out, w)
		}
	}
	return out, nil
}

// finalize writes the result and the terminal phase in one fenced
// transaction.
func (o *Orchestrator) finalize(ctx context.Context, l *coord.Leader, id string, s *spec.Spec, tl *timeline, tr *aggregate.Tracker, reps map[string]*report.Report, lost map[string]bool) error {
	st, ver, err := o.view.State(ctx, id)
	if err != nil {
		return err
	}
	if err := tl.add(ctx, l, tr.Emit(time.Now().Add(time.Hour))); err != nil {
		return err
	}
	for w := range lost {
		if reps[w] == nil {
			delete(lost, w) // never reported: nothing to show but its name
		}
	}
	var lostNames []string
	for _, w := range st.Workers {
		if lost[w] || reps[w] == nil {
			lostNames = append(lostNames, w)
		}
	}
	sum, err := aggregate.Summarize(s, st, reps, lost)
	if err != nil {
		return err
	}
	sum.LostWorkers = lostNames
	st.Phase, st.EndedAt, st.Lost = proto.PhaseCompleted, time.Now().UnixNano(), lostNames
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
	if len(lostNames) > 0 && st.Phase == proto.PhaseCompleted {
		st.Reason = "lost workers: " + strings.Join(lostNames, ", ")
	}
	res, _ := json.Marshal(sum)
	err = o.setState(ctx, l, id, st, ver, coord.CreateOp{Path: o.p.Result(id), Data: res})
	if err != nil {
		return err
	}
	o.log.Info("test finished", "test", id, "phase", st.Phase, "requests", sum.Requests, "p99_ms", sum.LatencyMs.P99)
	return nil
}

// timeline is the leader's copy of the persisted timeline chunks.
type timeline struct {
	o      *Orchestrator
	id     string
	chunks map[int64][]report.Point
	exists map[int64]bool
	last   int64 // last second persisted, -1 if none
}

func (o *Orchestrator) restoreTimeline(ctx context.Context, id string) (*timeline, error) {
	tl := &timeline{o: o, id: id, chunks: map[int64][]report.Point{}, exists: map[int64]bool{}, last: -1}
	names, err := o.c.Children(ctx, o.p.TimelineDir(id))
	if errors.Is(err, coord.ErrNoNode) {
		return tl, nil
	}
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		d, _, err := o.c.Get(ctx, path.Join(o.p.TimelineDir(id), n))
		if err != nil {
			return nil, err
		}
		var pts []report.Point
		if err := json.Unmarshal(d, &pts); err != nil {
			continue
		}
		for _, p := range pts {
			c := p.Second / proto.ChunkPoints
			tl.chunks[c] = append(tl.chunks[c], p)
			tl.exists[c] = true
			tl.last = max(tl.last, p.Second)
		}
	}
	return tl, nil
}

func (tl *timeline) next() int64 { return tl.last + 1 }

// add persists new points, rewriting the chunks they fall in.
func (tl *timeline) add(ctx context.Context, l *coord.Leader, pts []report.Point) error {
	if len(pts) == 0 {
		return nil
	}
	touched := map[int64]bool{}
	for _, p := range pts {
		c := p.Second / proto.ChunkPoints
		tl.chunks[c] = append(tl.chunks[c], p)
		touched[c] = true
		tl.last = max(tl.last, p.Second)
	}
	var ops []coord.Op
	hasDir := len(tl.exists) > 0
	if !hasDir {
		if ok, _, err := tl.o.c.Exists(ctx, tl.o.p.TimelineDir(tl.id)); err != nil {
			return err
		} else if !ok {
			ops = append(ops, coord.CreateOp{Path: tl.o.p.TimelineDir(tl.id)})
		}
	}
	for _, c := range sortedChunks(touched) {
		data, _ := json.Marshal(tl.chunks[c])
		if tl.exists[c] {
			ops = append(ops, coord.SetOp{Path: tl.o.p.TimelineChunk(tl.id, c), Data: data, Version: -1})
		} else {
			ops = append(ops, coord.CreateOp{Path: tl.o.p.TimelineChunk(tl.id, c), Data: data})
		}
	}
	if err := l.Multi(ctx, ops...); err != nil {
		return err
	}
	for c := range touched {
		tl.exists[c] = true
	}
	return nil
}

func sortedChunks(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func sortedKeys(m map[string]*report.Report) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isExists(err error) bool { return errors.Is(err, coord.ErrNodeExists) }

// trusted drops the reports that do not pass the test's bounds (anything
// under metrics/ and done/ may have been written by anyone), logging each
// node's reason once.
func trusted(log *slog.Logger, b aggregate.Bounds, reps map[string]*report.Report, logged map[string]string) {
	for k, r := range reps {
		err := b.Check(k, r)
		if err == nil {
			continue
		}
		delete(reps, k)
		if logged[k] != err.Error() && len(logged) < 1000 {
			logged[k] = err.Error()
			log.Warn("ignoring a report", "node", k, "err", err)
		}
	}
}
