package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/load"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// runTest runs this worker's plan of one test, from reading the plan to
// publishing the final report; stateVer is the version of the test's state
// that showed the plan.
func (a *Agent) runTest(ctx context.Context, id string, stateVer int32) {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	log := a.log.With("test", id)

	plan, ok := a.takePlan(ctx, id, log)
	if !ok {
		return
	}
	// The registration moves from idle to ready after the vote, not
	// through preparing first: at 2,000 workers that write was 2,000
	// requests among the votes, in the phase that decides how soon the test
	// starts. (A chosen worker is not free whatever its registration says:
	// the leader takes the chosen workers from the plans.)
	defer a.setState(context.WithoutCancel(ctx), proto.WorkerIdle, "")
	run, err := load.PrepareWith(ctx, plan, load.Options{Transports: a.cfg.Transports, Resolve: a.resolve, Live: true})
	if err != nil {
		log.Warn("prepare failed", "err", err)
		a.vote(ctx, id, proto.Ready{Error: err.Error()})
		return
	}
	defer run.Close()
	vote := a.vote(ctx, id, proto.Ready{OK: true})
	if vote == nil {
		return
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = vote.Close(cctx)
	}()
	a.setStateSoon(ctx, proto.WorkerReady, id)

	startAt, ok := a.awaitStart(ctx, id, stateVer)
	if !ok {
		log.Info("test ended before it started")
		return
	}
	a.setStateSoon(ctx, proto.WorkerRunning, id)
	log.Info("running", "start_at", startAt, "share", plan.Share)
	a.runAndReport(ctx, id, plan, run, startAt, log)
	sleep(ctx, afterFinal(plan.Share.Of, rand.Float64()))
}

// Every worker of a test ends in the same instant, and what each does then
// the fleet does at once. After its final report a worker deletes its vote
// and rewrites its registration (idle): two more writes per worker, which
// ZooKeeper took in the second where it also takes every final report and
// the leader reads them, so they delayed the last second's point. Neither
// is waited for (a worker whose final report exists has finished, whatever
// its vote), so a worker does both afterFinal later: half a millisecond per
// worker of the test, spread over each worker's draw so that they come
// after the fleet's final reports, not among them. A worker alone waits
// about a millisecond; a fleet of 2,000 one to two seconds, which delays
// its next test as long (the leader plans idle workers only). A worker
// shutting down does not wait.
const (
	finalSpreadPerWorker = 500 * time.Microsecond
	finalSpreadMax       = time.Second
)

// afterFinal is how long a worker of a test with workers workers waits
// after its final report, for a draw u in [0, 1): between one and two
// times workers × finalSpreadPerWorker, at most twice finalSpreadMax.
func afterFinal(workers int, u float64) time.Duration {
	d := min(time.Duration(max(workers, 0))*finalSpreadPerWorker, finalSpreadMax)
	return d + time.Duration(u*float64(d))
}

// takePlan reads this worker's plan, unless it is not ours to run (an
// earlier process with this id took it, or it has finished); a plan that
// cannot be read is refused with a vote that says why.
func (a *Agent) takePlan(ctx context.Context, id string, log *slog.Logger) (load.Plan, bool) {
	data, _, err := a.c.Get(ctx, a.p.Plan(id, a.cfg.ID))
	if err != nil {
		log.Warn("reading plan", "err", err)
		return load.Plan{}, false
	}
	// A plan whose start has long passed belongs to an earlier process with
	// this id (restarted mid-test): it is not ours to run.
	if sd, _, err := a.c.Get(ctx, a.p.Start(id)); err == nil {
		var s proto.Start
		if json.Unmarshal(sd, &s) == nil && time.Since(time.Unix(0, s.StartAt)) > 2*time.Second {
			log.Info("skipping a test that started before this worker took its plan")
			return load.Plan{}, false
		}
	}
	if ok, _, _ := a.c.Exists(ctx, a.p.Done(id, a.cfg.ID)); ok {
		return load.Plan{}, false
	}
	plan, err := a.readPlan(ctx, id, data)
	if err == nil {
		err = a.refuse(ctx, &plan)
	}
	if err != nil {
		log.Error("bad plan", "err", err)
		a.vote(ctx, id, proto.Ready{Error: err.Error()})
		return load.Plan{}, false
	}
	return plan, true
}

// runAndReport runs the load from startAt, reports every second and
// publishes the final report. The run is bounded by its plan whatever
// ZooKeeper does: a hard deadline past the planned end (followChanges).
func (a *Agent) runAndReport(ctx context.Context, id string, plan load.Plan, run *load.Run, startAt time.Time, log *slog.Logger) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopReason := make(chan string, 1)
	go a.watchStop(runCtx, id, cancel, stopReason)
	go a.followChanges(runCtx, id, plan, run, startAt, cancel, log) // and the hard deadline

	rep := newReporter(id, a.cfg.ID, startAt)
	pub := newPublisher(context.WithoutCancel(ctx), a, id, rep, reportDelay(a.cfg.ID, plan.Share.Of)) // reports outlive a stop
	done := make(chan error, 1)
	go func() { done <- run.Run(runCtx, startAt) }()
	runErr := reportSeconds(run, rep, startAt, plan.Spec.Request.Timeout.D, done, pub.offer)
	if runErr != nil && !errors.Is(runErr, context.Canceled) && !errors.Is(runErr, context.DeadlineExceeded) {
		log.Warn("run ended with an error", "err", runErr)
	}
	final := rep.interval(run, time.Now(), true)
	select {
	case final.Reason = <-stopReason:
	default:
		if ctx.Err() != nil {
			final.Reason = "worker shutting down"
		}
	}
	if a.c.Session().State != coord.Connected {
		log.Warn("run finished while cut off from ZooKeeper; the final report is kept until it can be published")
	}
	pub.finish(ctx, final, a.cfg.PublishGrace)
	log.Info("finished", "requests", final.Totals.Requests, "errors", final.Totals.Errors)
}

// reportSeconds offers a report at the end of every whole second of the
// run until done yields the run's end (a paused second's pausedCut before
// its end: see pausedCut). A second that ends with the run (its
// timer and the run's end both due: at a run's end, usually) gets no report
// of its own, which would be replaced at once: the final report carries it.
// Nor is it left to the final report's interval, which then covers the last
// second too: every whole second is its own interval. At the first second
// that ends at or after the planned end the run is given up to endWait to
// end before that second is offered on its own (see endWait).
func reportSeconds(run engine, rep *reporter, startAt time.Time, drainMax time.Duration, done <-chan error, offer func(*report.Report)) error {
	waited := false
	for {
		next := startAt.Add(time.Duration(rep.seq+1) * time.Second)
		fire := next
		if run.Paused(rep.seq) {
			fire = next.Add(-pausedCut)
		}
		t := time.NewTimer(time.Until(fire))
		select {
		case <-t.C:
			// before a pause, the exchanges in flight finish in the
			// second they started in
			run.Drain(rep.seq+1, drainMax)
			select {
			case err := <-done:
				rep.fold(run, next)
				return err
			default:
			}
			a := rep.absorb(run, next)
			if !waited && !next.Before(run.PlannedEnd(startAt)) {
				waited = true
				if ended, err := awaitDone(done, endWait); ended {
					return err // the final report carries the second
				}
			}
			offer(rep.build(a, false))
		case err := <-done:
			t.Stop()
			if !time.Now().Before(next) {
				rep.fold(run, next)
			}
			return err
		}
	}
}

// pausedCut is how long before its end a paused second is closed. No
// request starts in a paused second, but the first after a resume starts
// on its boundary, and a timer that fires a little late (a busy machine)
// would find it already counted in the paused second. Only a request
// still in flight past the pause's drain (see Run.Drain) can finish in
// the last pausedCut; it is counted in the next second.
const pausedCut = 500 * time.Millisecond

// endWait is how long the report of a run's last whole second waits for
// the run's end, so that the final report carries it instead. A run ends
// at most OpenGrace after its planned end unless exchanges are still in
// flight, and every worker of a test reaches its end in the same instant:
// without the wait the fleet sends two reports each (the last second's,
// then the final one) in the second where the runs' last exchanges finish,
// and those exchanges wait for CPU behind the first burst. A run that takes
// longer offers the second on its own, endWait late.
const endWait = 500 * time.Millisecond

// awaitDone waits up to d for done: whether the run ended, and how.
func awaitDone(done <-chan error, d time.Duration) (bool, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		return true, err
	case <-t.C:
		return false, nil
	}
}

// readPlan combines the plan node with the test's spec.
func (a *Agent) readPlan(ctx context.Context, id string, data []byte) (load.Plan, error) {
	var pn proto.PlanNode
	if err := json.Unmarshal(data, &pn); err != nil {
		return load.Plan{}, fmt.Errorf("bad plan: %w", err)
	}
	if sh := pn.Share; pn.Test != id || pn.Worker != a.cfg.ID || sh.Of < 1 || sh.Index < 0 || sh.Index >= sh.Of || sh.Requests < 0 {
		return load.Plan{}, fmt.Errorf("bad plan: test %.64q, worker %.64q, share %d of %d with %d requests", pn.Test, pn.Worker, sh.Index, sh.Of, sh.Requests)
	}
	sd, _, err := a.c.Get(ctx, a.p.Test(id))
	if err != nil {
		return load.Plan{}, fmt.Errorf("reading spec: %w", err)
	}
	sp, errs := spec.Parse(sd)
	if len(errs) > 0 {
		return load.Plan{}, errs
	}
	return load.Plan{TestID: id, WorkerID: a.cfg.ID, Spec: sp, Share: pn.Share}, nil
}

// vote creates the ephemeral ready/<id> node, or for a plan it cannot run
// refused/<id> saying why (so that the leader reads no vote, only the
// names in ready/).
func (a *Agent) vote(ctx context.Context, id string, r proto.Ready) *coord.Registration {
	at := a.p.Ready(id, a.cfg.ID)
	if !r.OK {
		at = a.p.Refused(id, a.cfg.ID)
	}
	reg, err := a.c.RegisterAt(ctx, at, proto.Marshal(r))
	if err != nil {
		a.log.Warn("voting ready", "test", id, "err", err)
		return nil
	}
	if !r.OK {
		// keep a failed vote until the leader has seen it and failed the test
		a.awaitStart(ctx, id, -1)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = reg.Close(cctx)
		return nil
	}
	return reg
}

// awaitStart waits for the start barrier; false if the test ended (stop,
// terminal phase), ctx ended or the ready timeout passed. The state is
// read only once it is no longer version seen (-1: at once): with
// thousands of workers each read is thousands of copies, and the change
// that usually comes (running) comes with the barrier, which is looked at
// first.
func (a *Agent) awaitStart(ctx context.Context, id string, seen int32) (time.Time, bool) {
	deadline := time.After(a.cfg.ReadyTimeout)
	for ctx.Err() == nil {
		ok, sw, err := a.c.ExistsW(ctx, a.p.Start(id))
		if err != nil {
			sleep(ctx, 300*time.Millisecond)
			continue
		}
		if ok {
			d, _, err := a.c.Get(ctx, a.p.Start(id))
			var s proto.Start
			if err == nil && json.Unmarshal(d, &s) == nil {
				return time.Unix(0, s.StartAt), true
			}
			sleep(ctx, 300*time.Millisecond)
			continue
		}
		stopped, stw, err := a.c.ExistsW(ctx, a.p.Stop(id))
		if err == nil && stopped {
			return time.Time{}, false
		}
		stateW, terminal := a.followState(ctx, id, seen)
		seen = -1 // a state that changed since is read
		if terminal {
			return time.Time{}, false
		}
		select {
		case <-sw:
		case <-stw:
		case <-stateW:
		case <-deadline:
			return time.Time{}, false
		case <-ctx.Done():
		}
	}
	return time.Time{}, false
}

// followState watches the test's state and reads it unless its version is
// still seen; terminal says the phase read is terminal.
func (a *Agent) followState(ctx context.Context, id string, seen int32) (w <-chan coord.WatchEvent, terminal bool) {
	if seen >= 0 {
		if ok, st, w, err := a.c.ExistsWStat(ctx, a.p.State(id)); ok && err == nil && st.Version == seen {
			return w, false // unchanged since it showed the plan: not terminal
		}
	}
	d, _, w, err := a.c.GetW(ctx, a.p.State(id))
	if err != nil {
		return w, false
	}
	phase, _ := proto.PhaseOf(d)
	return w, proto.Terminal(phase)
}

// watchStop cancels the run when the stop node appears.
func (a *Agent) watchStop(ctx context.Context, id string, cancel context.CancelFunc, reason chan<- string) {
	for ctx.Err() == nil {
		ok, w, err := a.c.ExistsW(ctx, a.p.Stop(id))
		if err != nil {
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		if ok {
			var s proto.StopRequest
			if d, _, err := a.c.Get(ctx, a.p.Stop(id)); err == nil {
				_ = json.Unmarshal(d, &s)
			}
			reason <- fmt.Sprintf("stopped: %s", s.Reason)
			cancel()
			return
		}
		select {
		case <-w:
		case <-ctx.Done():
		}
	}
}

// putNew is put for a node that most likely does not exist yet (a test's
// first report): it tries the create first, so that a fleet's first
// reports are one request each, not a refused set and a create.
func (a *Agent) putNew(ctx context.Context, path string, data []byte) (version int32, err error) {
	if _, err = a.c.Create(ctx, path, data, coord.Persistent); err == nil {
		return 0, nil
	}
	if errors.Is(err, coord.ErrNodeExists) {
		return a.put(ctx, path, data)
	}
	return 0, err
}

// put creates or overwrites a persistent node.
func (a *Agent) put(ctx context.Context, path string, data []byte) (version int32, err error) {
	st, err := a.c.Set(ctx, path, data, -1)
	if errors.Is(err, coord.ErrNoNode) {
		if _, err = a.c.Create(ctx, path, data, coord.Persistent); err == nil {
			return 0, nil
		}
		if errors.Is(err, coord.ErrNodeExists) {
			st, err = a.c.Set(ctx, path, data, -1)
		}
	}
	return st.Version, err
}
