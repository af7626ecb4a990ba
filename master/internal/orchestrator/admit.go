package orchestrator

import (
	"context"
	"errors"
	"maps"
	"sort"
	"time"

	"github.com/stampede-load/stampede/master/internal/view"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
)

// waitingTest is a pending or queued test with the state version it was
// read at (every write is a compare-and-set on it).
type waitingTest struct {
	entry
	st  *proto.TestState
	ver int32
}

// admitter is the leader's queue: the only place that plans a test. It
// keeps nothing ZooKeeper does not hold (the order is the states' creation
// time, the wait the states' short_since), so a new leader rebuilds it on
// its first pass.
type admitter struct {
	o *Orchestrator
	l *coord.Leader
	// workers caches each test's `workers` (a spec never changes).
	workers map[string]int
	// finished are tests seen in a terminal phase (never read again).
	finished map[string]bool
}

// admit runs the queue until ctx (the leadership context) ends: each pass
// reads every unfinished test's state and the live workers, and plans,
// queues, stops or fails each waiting test. It passes again when a test is
// created or deleted, and every Poll while any test waits (a worker turning
// idle changes its own node, which no children watch sees), less often for
// a long queue.
func (o *Orchestrator) admit(ctx context.Context, l *coord.Leader) {
	a := &admitter{o: o, l: l, workers: map[string]int{}, finished: map[string]bool{}}
	for ctx.Err() == nil {
		waiting, w, err := a.pass(ctx)
		if errors.Is(err, coord.ErrFenced) || errors.Is(err, coord.ErrNotLeader) {
			return
		}
		if err != nil && ctx.Err() == nil {
			o.log.Warn("queue pass failed", "err", err)
		}
		d := 2 * time.Second
		if waiting > 0 || err != nil {
			// a pass reads about two nodes per waiting test: a long queue
			// is passed over less often, so ZooKeeper sees at most a few
			// hundred reads a second from it
			d = min(max(o.cfg.Poll, 50*time.Millisecond, time.Duration(waiting)*10*time.Millisecond), 2*time.Second)
		}
		t := time.NewTimer(d)
		select {
		case <-w:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
}

// pass runs the queue once. It returns how many tests still wait and a
// watch on the tests directory (nil if it could not be set).
func (a *admitter) pass(ctx context.Context) (int, <-chan coord.WatchEvent, error) {
	q, busy, w, err := a.read(ctx)
	if err != nil || len(q) == 0 {
		return 0, w, err
	}
	workers, err := a.o.view.Workers(ctx)
	if err != nil {
		return len(q), w, err
	}
	var free []string
	for _, wk := range workers {
		if wk.State == proto.WorkerIdle && !busy[wk.ID] {
			free = append(free, wk.ID)
		}
	}
	sort.Strings(free)
	entries := make([]entry, len(q))
	for i, t := range q {
		entries[i] = t.entry
	}
	left := 0
	for i, d := range decide(entries, len(workers), free, time.Now(), a.o.cfg.QueueWait) {
		if d.Position > 0 {
			left++
		}
		err := a.apply(ctx, q[i], d)
		if errors.Is(err, coord.ErrFenced) || errors.Is(err, coord.ErrNotLeader) {
			return left, w, err
		}
		if err != nil && !errors.Is(err, coord.ErrBadVersion) && !errors.Is(err, coord.ErrNoNode) {
			// changed meanwhile (deleted, stopped by the API): next pass
			a.o.log.Warn("queue decision failed", "test", d.ID, "err", err)
		}
	}
	return left, w, nil
}

// read lists the waiting tests in queue order and the workers chosen by
// tests that are preparing or running.
func (a *admitter) read(ctx context.Context) ([]waitingTest, map[string]bool, <-chan coord.WatchEvent, error) {
	ids, w, err := a.o.c.ChildrenW(ctx, a.o.p.Tests())
	if err != nil {
		return nil, nil, nil, err
	}
	present := make(map[string]bool, len(ids))
	busy := map[string]bool{}
	var q []waitingTest
	for _, id := range ids {
		present[id] = true
		if a.finished[id] {
			continue
		}
		st, ver, err := a.o.view.State(ctx, id)
		switch {
		case errors.Is(err, view.ErrNotFound), errors.Is(err, view.ErrInvalid): // deleted; or failed by its driver
			continue
		case err != nil:
			return nil, nil, w, err
		case proto.Terminal(st.Phase):
			a.finished[id] = true
		case st.Phase == proto.PhasePreparing || st.Phase == proto.PhaseRunning:
			chosen, err := a.o.view.Chosen(ctx, id, st)
			if errors.Is(err, view.ErrInvalid) {
				continue // its driver fails it
			}
			if err != nil {
				return nil, nil, w, err
			}
			for _, wk := range chosen {
				busy[wk] = true
			}
		default:
			t, ok, err := a.waiting(ctx, id, st, ver)
			if err != nil {
				return nil, nil, w, err
			}
			if ok {
				q = append(q, t)
			}
		}
	}
	maps.DeleteFunc(a.finished, func(id string, _ bool) bool { return !present[id] })
	maps.DeleteFunc(a.workers, func(id string, _ int) bool { return !present[id] })
	sort.Slice(q, func(i, j int) bool { return less(q[i].entry, q[j].entry) })
	return q, busy, w, nil
}

// waiting is a pending or queued test's queue entry; ok is false for a
// test whose spec does not read (its driver fails it).
func (a *admitter) waiting(ctx context.Context, id string, st *proto.TestState, ver int32) (waitingTest, bool, error) {
	n, ok := a.workers[id]
	if !ok {
		s, err := a.o.view.Spec(ctx, id)
		if errors.Is(err, view.ErrNotFound) || errors.Is(err, view.ErrInvalid) {
			return waitingTest{}, false, nil
		}
		if err != nil {
			return waitingTest{}, false, err
		}
		n = s.Workers
		a.workers[id] = n
	}
	stopped, _, err := a.o.c.Exists(ctx, a.o.p.Stop(id))
	if err != nil {
		return waitingTest{}, false, err
	}
	e := entry{ID: id, Created: st.CreatedAt, Workers: n, ShortSince: st.ShortSince, Stopped: stopped}
	return waitingTest{entry: e, st: st, ver: ver}, true, nil
}

// apply carries one decision out with a compare-and-set on the state.
func (a *admitter) apply(ctx context.Context, t waitingTest, d decision) error {
	st := t.st
	switch {
	case d.Stop:
		st.Phase, st.Reason, st.EndedAt = proto.PhaseStopped, "stopped before it started", time.Now().UnixNano()
		st.Position, st.ShortSince = 0, 0
		return a.o.setState(ctx, a.l, t.ID, st, t.ver)
	case d.Fail != "":
		st.Position = 0
		return a.o.fail(ctx, a.l, t.ID, st, t.ver, d.Fail)
	case d.Run != nil:
		s, err := a.o.view.Spec(ctx, t.ID)
		if err != nil {
			return err
		}
		if err := a.o.checkLimits(s, len(d.Run)); err != nil {
			return a.o.fail(ctx, a.l, t.ID, st, t.ver, "stored spec is invalid: "+err.Error())
		}
		st.Reason, st.Position, st.ShortSince = "", 0, 0
		return a.o.plan(ctx, a.l, t.ID, s, st, t.ver, d.Run)
	}
	if st.Phase == proto.PhaseQueued && st.Position == d.Position && st.Reason == d.Reason && st.ShortSince == d.ShortSince {
		return nil // unchanged: no write
	}
	if st.Phase != proto.PhaseQueued {
		a.o.log.Info("queued", "test", t.ID, "position", d.Position, "reason", d.Reason)
	}
	st.Phase, st.Position, st.Reason, st.ShortSince = proto.PhaseQueued, d.Position, d.Reason, d.ShortSince
	return a.o.setState(ctx, a.l, t.ID, st, t.ver)
}

// awaitAdmission is a waiting test's driver: it returns once the state
// changes from version ver (the queue planned, stopped or failed it), or
// after a while so that the driver re-reads it anyway.
func (o *Orchestrator) awaitAdmission(ctx context.Context, id string, ver int32) error {
	_, st, w, err := o.c.GetW(ctx, o.p.State(id))
	if errors.Is(err, coord.ErrNoNode) || (err == nil && st.Version != ver) {
		return nil // deleted, or changed: the driver reads it again
	}
	if err != nil {
		return err
	}
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-w:
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}
