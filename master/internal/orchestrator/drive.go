package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/spec"
)

// drive moves one test through its phases until it is terminal or
// leadership ends. Each step re-reads the state, so it resumes anywhere.
func (o *Orchestrator) drive(ctx context.Context, l *coord.Leader, id string) {
	log := o.log.With("test", id)
	for ctx.Err() == nil {
		st, ver, err := o.view.State(ctx, id)
		if err != nil {
			log.Warn("reading state", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		s, err := o.view.Spec(ctx, id)
		var invalid spec.FieldErrors
		if errors.As(err, &invalid) { // written by another version: never runnable
			if err := o.fail(ctx, l, id, st, ver, "stored spec is invalid: "+invalid.Error()); err == nil {
				return
			}
		}
		if err != nil {
			log.Warn("reading spec", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		switch st.Phase {
		case proto.PhasePending:
			err = o.plan(ctx, l, id, s, st, ver)
		case proto.PhasePreparing:
			err = o.awaitReady(ctx, l, id, st, ver)
		case proto.PhaseRunning:
			err = o.monitor(ctx, l, id, s, st)
		default:
			return
		}
		if err != nil && ctx.Err() == nil {
			if errors.Is(err, coord.ErrFenced) || errors.Is(err, coord.ErrNotLeader) {
				log.Warn("leadership lost", "err", err)
				return
			}
			log.Warn("step failed; retrying", "phase", st.Phase, "err", err)
			sleep(ctx, 500*time.Millisecond)
		}
	}
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

// plan picks the workers, splits the load and writes every plan together
// with phase preparing, in one fenced transaction.
func (o *Orchestrator) plan(ctx context.Context, l *coord.Leader, id string, s *spec.Spec, st *proto.TestState, ver int32) error {
	if stopped, _, _ := o.c.Exists(ctx, o.p.Stop(id)); stopped {
		st.Phase, st.Reason, st.EndedAt = proto.PhaseStopped, "stopped before it started", time.Now().UnixNano()
		return o.setState(ctx, l, id, st, ver)
	}
	workers, err := o.view.Workers(ctx)
	if err != nil {
		return err
	}
	var idle []string
	for _, w := range workers {
		if w.State == proto.WorkerIdle {
			idle = append(idle, w.ID)
		}
	}
	sort.Strings(idle)
	n := s.Workers
	if n == 0 {
		n = len(idle)
	}
	if n == 0 || n > len(idle) {
		waited := time.Since(time.Unix(0, st.CreatedAt))
		if waited < o.cfg.IdleWait {
			sleep(ctx, 250*time.Millisecond)
			return nil
		}
		want := "at least one idle worker"
		if s.Workers > 0 {
			want = fmt.Sprintf("%d idle workers", s.Workers)
		}
		return o.fail(ctx, l, id, st, ver, fmt.Sprintf("needed %s, had %d (of %d live) after %v", want, len(idle), len(workers), o.cfg.IdleWait))
	}
	chosen := idle[:n]
	if err := o.writePlans(ctx, l, id, chosen, plan.Split(s, n)); err != nil {
		return err
	}
	st.Phase, st.Workers, st.PlannedAt = proto.PhasePreparing, chosen, time.Now().UnixNano()
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

// awaitReady waits for every chosen worker's ready vote, then opens the
// start barrier; a refusal or the timeout fails the test and no worker
// starts.
func (o *Orchestrator) awaitReady(ctx context.Context, l *coord.Leader, id string, st *proto.TestState, ver int32) error {
	deadline := time.Unix(0, st.PlannedAt).Add(o.cfg.ReadyTimeout)
	checked := map[string]bool{} // votes read once: a vote's data never changes
	for ctx.Err() == nil {
		if stopped, _, _ := o.c.Exists(ctx, o.p.Stop(id)); stopped {
			st.Phase, st.Reason, st.EndedAt = proto.PhaseStopped, "stopped before it started", time.Now().UnixNano()
			return o.setState(ctx, l, id, st, ver)
		}
		votes, w, err := o.c.ChildrenW(ctx, o.p.ReadyDir(id))
		if err != nil && !errors.Is(err, coord.ErrNoNode) {
			return err
		}
		have := map[string]bool{}
		for _, v := range votes {
			if checked[v] {
				have[v] = true
				continue
			}
			d, _, err := o.c.Get(ctx, o.p.Ready(id, v))
			if err != nil {
				continue
			}
			var r proto.Ready
			if json.Unmarshal(d, &r) == nil && !r.OK {
				return o.fail(ctx, l, id, st, ver, fmt.Sprintf("worker %s cannot run its plan: %s", v, r.Error))
			}
			checked[v], have[v] = true, true
		}
		var missing []string
		for _, wk := range st.Workers {
			if !have[wk] {
				missing = append(missing, wk)
			}
		}
		if len(missing) == 0 {
			startAt := time.Now().Add(o.cfg.StartDelay)
			st.Phase, st.StartAt = proto.PhaseRunning, startAt.UnixNano()
			err := o.setState(ctx, l, id, st, ver,
				coord.CreateOp{Path: o.p.Start(id), Data: proto.Marshal(proto.Start{StartAt: startAt.UnixNano()})})
			if err == nil {
				o.log.Info("start barrier released", "test", id, "start_at", startAt)
			}
			return err
		}
		if time.Now().After(deadline) {
			return o.fail(ctx, l, id, st, ver, fmt.Sprintf("workers not ready within %v: %s", o.cfg.ReadyTimeout, strings.Join(missing, ", ")))
		}
		if w == nil { // no ready dir yet
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		t := time.NewTimer(time.Until(deadline) + 10*time.Millisecond)
		select {
		case <-w:
			sleep(ctx, 50*time.Millisecond) // votes arrive together: list once for many
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	return ctx.Err()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
