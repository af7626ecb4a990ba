package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/stampede-load/stampede/master/internal/aggregate"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
	"github.com/stampede-load/stampede/pkg/verdict"
)

// judge is the leader's live evaluation of one running test's thresholds:
// every merged second feeds the windows, the whole-test numbers are judged
// whenever a worker's report changed (and at least once a second), the
// judgement is published in the verdict node for every master's test view,
// and an abort threshold that fails writes the abort stop request. Without
// thresholds it does nothing.
type judge struct {
	o       *Orchestrator
	id      string
	s       *spec.Spec
	ev      *verdict.Evaluator
	tr      *aggregate.Tracker // set by newAnswers
	seen    int64              // fingerprint of the reports last judged
	checked time.Time
	written []byte
	wroteAt time.Time
	exists  bool
	byName  bool // a threshold reads a name's numbers
}

func (o *Orchestrator) newJudge(ctx context.Context, id string, s *spec.Spec, st *proto.TestState) *judge {
	j := &judge{o: o, id: id, s: s}
	if len(s.Thresholds) == 0 {
		return j
	}
	j.ev = verdict.New(s.Thresholds, time.Unix(0, st.StartAt))
	for _, t := range s.Thresholds {
		j.byName = j.byName || t.Name != ""
	}
	if d, _, err := o.c.Get(ctx, o.p.Verdict(id)); err == nil {
		var lv proto.LiveVerdict
		if json.Unmarshal(d, &lv) == nil {
			j.ev.Restore(lv.Thresholds) // a resumed test keeps its windowed failures
		}
		j.exists, j.written = true, d
	}
	return j
}

// second feeds one merged second to the windows.
func (j *judge) second(p report.Point, h *hist.Histogram, names map[string]*aggregate.NameSecond) {
	if j.ev.Empty() {
		return
	}
	sec := verdict.SecondOf(p, h)
	if len(names) > 0 {
		sec.Names = make(map[string]verdict.Slice, len(names))
		for n, ns := range names {
			sec.Names[n] = verdict.Slice{Counters: ns.Counters, Hist: ns.Hist}
		}
	}
	j.ev.AddSecond(time.Now(), sec)
}

// observe judges the current reports (after the tracker's Emit fed the new
// seconds); it returns true when it has just requested the abort of the
// test.
func (j *judge) observe(ctx context.Context, l *coord.Leader, st *proto.TestState, pts []report.Point, now time.Time) (bool, error) {
	if j.ev.Empty() {
		return false, nil
	}
	reps := j.tr.Latest() // only with thresholds: a map of every worker
	var fp int64
	for _, r := range reps {
		fp += r.Seq + 1
		if r.State == report.StateDone {
			fp += 1 << 40
		}
	}
	if fp == j.seen && now.Sub(j.checked) < time.Second && len(pts) == 0 {
		return false, nil
	}
	j.seen, j.checked = fp, now
	// the tracker's exact running merge: no report is decoded again
	sum := aggregate.Running(j.s, st, j.tr)
	if j.byName {
		// per-name numbers only when a threshold reads them
		names, err := aggregate.Names(j.s, reps, sum.DurationS)
		if err != nil {
			return false, err
		}
		sum.Names = names
	}
	abort := j.ev.Check(now, verdict.Whole(&sum))
	if abort != nil {
		req := proto.StopRequest{Reason: verdict.Reason(*abort), Abort: true}
		err := l.Multi(ctx, coord.CreateOp{Path: j.o.p.Stop(j.id), Data: proto.Marshal(req)})
		if err != nil && !isExists(err) {
			return false, err
		}
		j.o.log.Warn("threshold failed: aborting the test", "test", j.id, "reason", req.Reason)
	}
	return abort != nil, j.publish(ctx, l, now, abort != nil)
}

// publish writes the live verdict when it changed, at most once a second
// unless a threshold's outcome changed.
func (j *judge) publish(ctx context.Context, l *coord.Leader, now time.Time, urgent bool) error {
	rs := j.ev.Results()
	data := proto.Marshal(proto.LiveVerdict{Verdict: report.Verdict(rs), Thresholds: rs})
	if bytes.Equal(data, j.written) {
		return nil
	}
	var old proto.LiveVerdict
	_ = json.Unmarshal(j.written, &old)
	if !urgent && now.Sub(j.wroteAt) < time.Second && sameOutcomes(old.Thresholds, rs) {
		return nil
	}
	var op coord.Op = coord.CreateOp{Path: j.o.p.Verdict(j.id), Data: data}
	if j.exists {
		op = coord.SetOp{Path: j.o.p.Verdict(j.id), Data: data, Version: -1}
	}
	err := l.Multi(ctx, op)
	if isExists(err) {
		err = l.Multi(ctx, coord.SetOp{Path: j.o.p.Verdict(j.id), Data: data, Version: -1})
	}
	if err != nil && !errors.Is(err, coord.ErrNoNode) {
		return err
	}
	j.exists, j.written, j.wroteAt = err == nil, data, now
	return nil
}

func sameOutcomes(a, b []report.ThresholdResult) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Passed != b[i].Passed || a[i].Aborted != b[i].Aborted {
			return false
		}
	}
	return true
}

// final judges the final summary (the last seconds were fed by Emit) and
// writes the verdict into it.
func (j *judge) final(sum *report.Summary) {
	if j.ev.Empty() {
		return
	}
	now := time.Now()
	sum.Verdict, sum.Thresholds = j.ev.Final(now, verdict.Whole(sum))
}
