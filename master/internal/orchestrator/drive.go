package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stampede-load/stampede/master/internal/aggregate"
	"github.com/stampede-load/stampede/master/internal/view"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// drive moves one test through its phases until it is terminal or
// leadership ends. Each step re-reads the state, so it resumes anywhere.
func (o *Orchestrator) drive(ctx context.Context, l *coord.Leader, id string) {
	log := o.log.With("test", id)
	failures := 0
	for ctx.Err() == nil {
		st, ver, err := o.view.State(ctx, id)
		if errors.Is(err, view.ErrNotFound) {
			return // deleted
		}
		if errors.Is(err, view.ErrInvalid) { // not written by a master: never runnable
			if o.fail(ctx, l, id, &proto.TestState{CreatedAt: time.Now().UnixNano()}, ver, "state node is invalid: "+err.Error()) == nil {
				return
			}
		}
		if err != nil {
			log.Warn("reading state", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		if proto.Terminal(st.Phase) {
			return
		}
		s, err := o.view.Spec(ctx, id)
		var invalid spec.FieldErrors
		if errors.As(err, &invalid) { // written by another version, or straight into ZooKeeper
			if err := o.fail(ctx, l, id, st, ver, "stored spec is invalid: "+invalid.Error()); err == nil {
				return
			}
		}
		if errors.Is(err, view.ErrNotFound) {
			return
		}
		if err != nil {
			log.Warn("reading spec", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		err = o.step(ctx, l, id, s, st, ver)
		if err == nil || ctx.Err() != nil {
			failures = 0
			continue
		}
		if errors.Is(err, coord.ErrFenced) || errors.Is(err, coord.ErrNotLeader) {
			log.Warn("leadership lost", "err", err)
			return
		}
		failures++
		if o.giveUp(ctx, l, id, st, err, failures) {
			return
		}
		log.Warn("step failed; retrying", "phase", st.Phase, "err", err, "failures", failures)
		sleep(ctx, 500*time.Millisecond)
	}
}

// step runs the test's current phase once.
func (o *Orchestrator) step(ctx context.Context, l *coord.Leader, id string, s *spec.Spec, st *proto.TestState, ver int32) error {
	switch st.Phase {
	case proto.PhasePending, proto.PhaseQueued:
		return o.awaitAdmission(ctx, id, ver) // the queue plans it (admit.go)
	case proto.PhasePreparing, proto.PhaseRunning:
		workers, err := o.view.Chosen(ctx, id, st)
		if err != nil {
			return err
		}
		if st.Phase == proto.PhasePreparing {
			return o.awaitReady(ctx, l, id, st, ver, workers)
		}
		return o.monitor(ctx, l, id, s, st, workers)
	}
	return nil
}

// maxFailures is how many times in a row a step may fail with an error
// that might pass (ZooKeeper unreachable, a version conflict) before the
// test is failed with that error.
const maxFailures = 120

// giveUp ends a test whose step failed: at once for an error that no retry
// can change (a payload too large for ZooKeeper, a report that cannot be
// trusted, invalid data), when the user asked to stop it, or after
// maxFailures in a row. It reports whether the test ended.
func (o *Orchestrator) giveUp(ctx context.Context, l *coord.Leader, id string, st *proto.TestState, err error, failures int) bool {
	reason := ""
	switch {
	case permanent(err):
		reason = fmt.Sprintf("%s step failed: %v", st.Phase, err)
	case failures >= maxFailures:
		reason = fmt.Sprintf("%s step failed %d times in a row: %v", st.Phase, failures, err)
	default:
		if stopped, _, _ := o.c.Exists(ctx, o.p.Stop(id)); !stopped {
			return false
		}
		reason = fmt.Sprintf("stop requested while the %s step was failing: %v", st.Phase, err)
	}
	// the step may have written the state meanwhile (lost workers): fail
	// the current version
	cur, ver, rerr := o.view.State(ctx, id)
	if rerr != nil {
		return false
	}
	if proto.Terminal(cur.Phase) {
		return true
	}
	return o.fail(ctx, l, id, cur, ver, reason) == nil
}

// permanent reports whether retrying cannot make err go away.
func permanent(err error) bool {
	return errors.Is(err, coord.ErrDataTooLong) || errors.Is(err, hist.ErrGeometry) ||
		errors.Is(err, aggregate.ErrBadReport) || errors.Is(err, view.ErrInvalid)
}

// checkLimits holds a test about to run on n workers to the leader's
// limits, so that a test written straight into ZooKeeper cannot ask for
// more than the API allows.
func (o *Orchestrator) checkLimits(s *spec.Spec, n int) error {
	if o.cfg.Limits == nil {
		return nil
	}
	if errs := o.cfg.Limits.Check(s, n); len(errs) > 0 {
		return errs
	}
	return nil
}

// setState writes the state (compare-and-set on its version) with any other
// ops, fenced.
func (o *Orchestrator) setState(ctx context.Context, l *coord.Leader, id string, st *proto.TestState, ver int32, ops ...coord.Op) error {
	st.Leader = o.cfg.MasterID
	all := append([]coord.Op{coord.SetOp{Path: o.p.State(id), Data: proto.Marshal(st), Version: ver}}, ops...)
	return l.Multi(ctx, all...)
}

// fail ends a test in phase failed.
func (o *Orchestrator) fail(ctx context.Context, l *coord.Leader, id string, st *proto.TestState, ver int32, reason string) error {
	o.log.Warn("test failed", "test", id, "reason", reason)
	st.Phase, st.Reason, st.EndedAt = proto.PhaseFailed, reason, time.Now().UnixNano()
	return o.setState(ctx, l, id, st, ver)
}

// plan gives a test the chosen workers: it splits the load and writes
// every plan, then phase preparing, in fenced transactions.
func (o *Orchestrator) plan(ctx context.Context, l *coord.Leader, id string, s *spec.Spec, st *proto.TestState, ver int32, chosen []string) error {
	n := len(chosen)
	if err := o.ensureNodes(ctx, l, o.p.RefusedDir(id)); err != nil { // a test not created by the API
		return err
	}
	if err := o.writePlans(ctx, l, id, chosen, plan.Split(s, n)); err != nil {
		return err
	}
	st.Phase, st.Chosen, st.PlannedAt = proto.PhasePreparing, n, time.Now().UnixNano()
	if err := o.setState(ctx, l, id, st, ver); err != nil {
		return err
	}
	o.log.Info("planned", "test", id, "workers", len(chosen))
	return nil
}

// writePlans writes one plan per chosen worker in fenced batches under
// ZooKeeper's request limit, first removing plans a leader that died while
// planning left behind. Workers act on a plan only once the phase is
// preparing, which the caller sets afterwards.
func (o *Orchestrator) writePlans(ctx context.Context, l *coord.Leader, id string, chosen []string, shares []plan.Share) error {
	stale, err := o.c.Children(ctx, o.p.Plans(id))
	if err != nil && !errors.Is(err, coord.ErrNoNode) {
		return err
	}
	ops := make([]coord.Op, 0, len(stale)+len(chosen))
	for _, w := range stale {
		ops = append(ops, coord.DeleteOp{Path: o.p.Plan(id, w), Version: -1})
	}
	for i, w := range chosen {
		pn := proto.PlanNode{Test: id, Worker: w, Share: shares[i]}
		ops = append(ops, coord.CreateOp{Path: o.p.Plan(id, w), Data: proto.Marshal(pn)})
	}
	return o.multiBatched(ctx, l, ops)
}

// maxNamed is how many workers a reason names: a reason is part of the
// state, which must not grow with the fleet.
const maxNamed = 10

// nameSome names the first maxNamed of ids, of n in all, and how many
// more there are.
func nameSome(ids []string, n int) string {
	ids = ids[:min(len(ids), maxNamed)]
	if n <= len(ids) {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids, ", "), n-len(ids))
}

// awaitReady waits for every chosen worker's ready vote, then opens the
// start barrier; a refusal or the timeout fails the test and no worker
// starts. A vote is a name in ready/ and is never read: a worker that
// cannot run its plan says so in refused/ instead (2,000 reads of votes,
// a few at a time behind the fleet's own requests, took more than a
// second of the start).
func (o *Orchestrator) awaitReady(ctx context.Context, l *coord.Leader, id string, st *proto.TestState, ver int32, workers []string) error {
	deadline := time.Unix(0, st.PlannedAt).Add(o.cfg.ReadyTimeout)
	for ctx.Err() == nil {
		if stopped, _, _ := o.c.Exists(ctx, o.p.Stop(id)); stopped {
			st.Phase, st.Reason, st.EndedAt = proto.PhaseStopped, "stopped before it started", time.Now().UnixNano()
			return o.setState(ctx, l, id, st, ver)
		}
		refused, rw, err := o.c.ChildrenW(ctx, o.p.RefusedDir(id))
		if err != nil && !errors.Is(err, coord.ErrNoNode) {
			return err
		}
		if len(refused) > 0 {
			slices.Sort(refused)
			return o.fail(ctx, l, id, st, ver, fmt.Sprintf("worker %.64s cannot run its plan: %s", refused[0], o.refusal(ctx, id, refused[0])))
		}
		votes, w, err := o.c.ChildrenW(ctx, o.p.ReadyDir(id))
		if err != nil && !errors.Is(err, coord.ErrNoNode) {
			return err
		}
		have := make(map[string]bool, len(votes))
		for _, v := range votes {
			have[v] = true
		}
		var missing []string
		for _, wk := range workers {
			if !have[wk] {
				missing = append(missing, wk)
			}
		}
		if len(missing) == 0 {
			startAt := time.Now().Add(startDelay(o.cfg.StartDelay, time.Since(time.Unix(0, st.PlannedAt))))
			st.Phase, st.StartAt = proto.PhaseRunning, startAt.UnixNano()
			err := o.setState(ctx, l, id, st, ver,
				coord.CreateOp{Path: o.p.Start(id), Data: proto.Marshal(proto.Start{StartAt: startAt.UnixNano()})})
			if err == nil {
				o.log.Info("start barrier released", "test", id, "start_at", startAt)
			}
			return err
		}
		if time.Now().After(deadline) {
			return o.fail(ctx, l, id, st, ver, fmt.Sprintf("workers not ready within %v: %s", o.cfg.ReadyTimeout, nameSome(missing, len(missing))))
		}
		if w == nil || rw == nil { // no ready or refused dir yet
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		t := time.NewTimer(time.Until(deadline) + 10*time.Millisecond)
		select {
		case <-w:
			sleep(ctx, 50*time.Millisecond) // votes arrive together: list once for many
		case <-rw:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	return ctx.Err()
}

// maxRefusal bounds how much of a worker's refusal the test's reason
// quotes (the reason is part of the state).
const maxRefusal = 512

// refusal is why worker refused its plan, as its refused/ node says.
func (o *Orchestrator) refusal(ctx context.Context, id, worker string) string {
	d, _, err := o.c.Get(ctx, o.p.Refused(id, worker))
	var r proto.Ready
	if err != nil || json.Unmarshal(d, &r) != nil || r.Error == "" {
		return "no reason given"
	}
	if why := report.ClipTo(r.Error, maxRefusal); why != r.Error {
		return why + "…"
	}
	return r.Error
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// maxStartDelay bounds startDelay's measure of the fleet.
const maxStartDelay = 5 * time.Second

// startDelay is how far after the barrier's release start_at goes: at
// least floor, and at least as long as the fleet took to answer its plans
// (answered: from the plans to the last vote, at most maxStartDelay),
// since the start reaches every worker the same way, one notification and
// a read each, all at once. With 2,000 simulated workers on one host the
// votes took about 2.4 s, and a start one second ahead reached a third of
// the fleet after start_at: those workers started up to 0.7 s late, and
// the timeline's first seconds waited for them (docs/scale.md).
func startDelay(floor, answered time.Duration) time.Duration {
	return max(floor, min(answered, maxStartDelay))
}
