package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/load"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// runTest runs this worker's plan of one test, from reading the plan to
// publishing the final report.
func (a *Agent) runTest(ctx context.Context, id string) {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	log := a.log.With("test", id)

	data, _, err := a.c.Get(ctx, a.p.Plan(id, a.cfg.ID))
	if err != nil {
		log.Warn("reading plan", "err", err)
		return
	}
	// A plan whose start has long passed belongs to an earlier process with
	// this id (restarted mid-test): it is not ours to run.
	if sd, _, err := a.c.Get(ctx, a.p.Start(id)); err == nil {
		var s proto.Start
		if json.Unmarshal(sd, &s) == nil && time.Since(time.Unix(0, s.StartAt)) > 2*time.Second {
			log.Info("skipping a test that started before this worker took its plan")
			return
		}
	}
	if ok, _, _ := a.c.Exists(ctx, a.p.Done(id, a.cfg.ID)); ok {
		return
	}
	plan, err := a.readPlan(ctx, id, data)
	if err == nil {
		err = a.refuse(ctx, &plan)
	}
	if err != nil {
		log.Error("bad plan", "err", err)
		a.vote(ctx, id, proto.Ready{Error: err.Error()})
		return
	}

	a.setState(ctx, proto.WorkerPreparing, id)
	defer a.setState(context.WithoutCancel(ctx), proto.WorkerIdle, "")
	run, err := load.Prepare(ctx, plan)
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
	a.setState(ctx, proto.WorkerReady, id)

	startAt, ok := a.awaitStart(ctx, id)
	if !ok {
		log.Info("test ended before it started")
		return
	}
	a.setState(ctx, proto.WorkerRunning, id)
	log.Info("running", "start_at", startAt, "share", plan.Share)

	// The run is bounded by its plan whatever ZooKeeper does: a hard
	// deadline past the planned end.
	bound := plan.Spec.Load.RunBound() + plan.Spec.Request.Timeout.D + 5*time.Second
	runCtx, cancel := context.WithDeadline(ctx, startAt.Add(bound))
	defer cancel()
	stopReason := make(chan string, 1)
	go a.watchStop(runCtx, id, cancel, stopReason)

	pub := newPublisher(context.WithoutCancel(ctx), a, id) // reports outlive a stop
	rep := &reporter{test: id, worker: a.cfg.ID, startAt: startAt, cumulative: hist.New(), service: hist.New()}
	done := make(chan error, 1)
	go func() { done <- run.Run(runCtx, startAt) }()

	var runErr error
	for finished := false; !finished; {
		next := startAt.Add(time.Duration(rep.seq+1) * time.Second)
		t := time.NewTimer(time.Until(next))
		select {
		case <-t.C:
			pub.offer(rep.interval(run, next, false))
		case runErr = <-done:
			t.Stop()
			finished = true
		}
	}
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

// vote creates the ephemeral ready/<id> node.
func (a *Agent) vote(ctx context.Context, id string, r proto.Ready) *coord.Registration {
	reg, err := a.c.RegisterAt(ctx, a.p.Ready(id, a.cfg.ID), proto.Marshal(r))
	if err != nil {
		a.log.Warn("voting ready", "test", id, "err", err)
		return nil
	}
	if !r.OK {
		// keep a failed vote until the leader has seen it and failed the test
		a.awaitStart(ctx, id)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = reg.Close(cctx)
		return nil
	}
	return reg
}

// awaitStart waits for the start barrier; false if the test ended (stop,
// terminal phase), ctx ended or the ready timeout passed.
func (a *Agent) awaitStart(ctx context.Context, id string) (time.Time, bool) {
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
		d, _, stateW, err := a.c.GetW(ctx, a.p.State(id))
		var st proto.TestState
		if err == nil && json.Unmarshal(d, &st) == nil && proto.Terminal(st.Phase) {
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

// reporter turns engine intervals into reports aligned on start_at + k s.
type reporter struct {
	test, worker string
	startAt      time.Time
	seq          int64
	totals       report.Counters
	cumulative   *hist.Histogram
	service      *hist.Histogram
	recent       []report.Interval
}

func (r *reporter) interval(run *load.Run, end time.Time, final bool) *report.Report {
	iv := run.Collect()
	r.cumulative.Merge(iv.Latency)
	r.service.Merge(iv.Service)
	r.totals.Add(iv.Counters)
	ih, _ := iv.Latency.Encode()
	ch, _ := r.cumulative.Encode()
	rep := &report.Report{
		Test: r.test, Worker: r.worker, Seq: r.seq, State: report.StateRunning,
		StartAt: r.startAt.UnixNano(), StartSkewUs: run.Skew().Microseconds(),
		IntervalStart: r.startAt.Add(time.Duration(r.seq) * time.Second).UnixNano(),
		IntervalEnd:   end.UnixNano(),
		Interval:      iv.Counters, IntervalHist: ih,
		Totals: r.totals, Cumulative: ch,
	}
	rep.Totals.ErrorKinds = copyMap(r.totals.ErrorKinds)
	rep.Totals.Status = copyMap(r.totals.Status)
	if final {
		rep.State = report.StateDone
		rep.Service, _ = r.service.Encode()
	}
	rep.Recent = append([]report.Interval(nil), r.recent...)
	r.recent = append(r.recent, report.Interval{Seq: rep.Seq, Start: rep.IntervalStart, End: rep.IntervalEnd, Counters: rep.Interval, Hist: ih})
	if len(r.recent) > report.RecentIntervals {
		r.recent = r.recent[1:]
	}
	r.seq++
	return rep
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

// publisher writes the latest report to metrics/<worker> without ever
// blocking the reporter: while ZooKeeper is slow or unreachable, newer
// reports replace older ones (they are cumulative, so nothing is lost).
type publisher struct {
	a      *Agent
	test   string
	mu     sync.Mutex
	latest *report.Report
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

func newPublisher(base context.Context, a *Agent, test string) *publisher {
	p := &publisher{a: a, test: test, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop(base)
	return p
}

func (p *publisher) offer(r *report.Report) {
	p.mu.Lock()
	p.latest = r
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// loop publishes with base, which a stop does not cancel.
func (p *publisher) loop(base context.Context) {
	defer close(p.done)
	for {
		select {
		case <-p.kick:
		case <-p.stop:
			return
		}
		p.mu.Lock()
		r := p.latest
		p.latest = nil
		p.mu.Unlock()
		if r == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(base, 3*time.Second)
		err := p.a.put(ctx, p.a.p.Metrics(p.test, p.a.cfg.ID), r.Encode())
		cancel()
		if err != nil {
			p.a.log.Debug("publishing report deferred", "test", p.test, "seq", r.Seq, "err", err)
			p.mu.Lock()
			if p.latest == nil {
				p.latest = r // retry it unless a newer one came
			}
			p.mu.Unlock()
			select {
			case <-time.After(250 * time.Millisecond):
				select {
				case p.kick <- struct{}{}:
				default:
				}
			case <-p.stop:
				return
			}
		}
	}
}

// finish stops periodic publishing and writes the final report to both
// metrics/<worker> and done/<worker>, retrying for up to grace.
func (p *publisher) finish(ctx context.Context, final *report.Report, grace time.Duration) {
	close(p.stop)
	<-p.done
	deadline := time.Now().Add(grace)
	data := final.Encode()
	for attempt := 0; ; attempt++ {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err := p.a.put(wctx, p.a.p.Metrics(p.test, p.a.cfg.ID), data)
		if err == nil {
			err = p.a.put(wctx, p.a.p.Done(p.test, p.a.cfg.ID), data)
		}
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || (ctx.Err() != nil && attempt >= 3) {
			p.a.log.Error("final report could not be published", "test", p.test, "err", err)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// put creates or overwrites a persistent node.
func (a *Agent) put(ctx context.Context, path string, data []byte) error {
	_, err := a.c.Set(ctx, path, data, -1)
	if errors.Is(err, coord.ErrNoNode) {
		_, err = a.c.Create(ctx, path, data, coord.Persistent)
		if errors.Is(err, coord.ErrNodeExists) {
			_, err = a.c.Set(ctx, path, data, -1)
		}
	}
	return err
}
