package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/journey"
	"github.com/stampede-load/stampede/pkg/load/client"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// LateThreshold is how far behind its schedule an open-model request may
// start before it counts as late.
const LateThreshold = time.Millisecond

// LateFlagFraction is the fraction of late requests above which a run is
// flagged: the generator could not keep the rate.
const LateFlagFraction = 0.05

// OpenGrace is how long after the end of an open model's duration a
// request that was due before the end may still start (late). Its exchange
// is cut at the end plus the request timeout, so a run never lasts longer
// than RunBound() plus the request timeout.
const OpenGrace = 250 * time.Millisecond

// startSpin is how long before startAt Run stops sleeping and spins.
const startSpin = 2 * time.Millisecond

// ErrInvalidPlan means Prepare was given a plan it cannot run.
var ErrInvalidPlan = errors.New("load: invalid plan")

// Run is one worker's prepared share of a test. Prepare it, call Run once,
// Collect concurrently (typically each second) and after Run returns, then
// Close.
type Run struct {
	plan    Plan
	reqs    *requestSet
	open    bool
	sched   atomic.Pointer[rampSchedule] // open models; swapped by Adopt
	closed  atomic.Pointer[closedState]  // closed models; swapped by Adopt
	delay   time.Duration                // tsunami
	timeout time.Duration
	budget  int64 // requests this worker may send, if bounded
	bounded bool
	bound   time.Duration
	// live: the run takes changes (Adopt); endS is the schedule's end in
	// seconds from the start (float64 bits) and changed wakes Run's
	// deadline when Adopt moved it.
	live    bool
	endS    atomic.Uint64
	changed chan struct{}
	course  atomic.Pointer[plan.Course] // the last course adopted
	// growMu guards what a change that adds connections (grow.go) needs:
	// the transports, the running lanes and their common start.
	growMu        sync.Mutex
	openT         OpenTransports
	ownTransports bool
	group         *laneGroup
	runStart      time.Time
	runEnd        time.Time
	cutoff        time.Time

	// One lane per transport: its recording slot, its requests.
	transports []Transport
	lanes      []*lane
	laneReqs   []*laneRequests
	conns      int  // connections the run uses
	onLoops    bool // the transports are event loops
	// h2 is the HTTP/2 connection pool the transports share
	// (request.protocol h2 or h2c; nil otherwise).
	h2 *client.H2Pool

	next    atomic.Int64 // next ticket (open) or request number (closed)
	stopped atomic.Bool
	stopc   chan struct{}
	started atomic.Bool
	skewNs  atomic.Int64
	skewSet atomic.Bool

	mu    sync.Mutex // guards spare and collections
	spare *slot

	names     []string // distinct request names, in spec order
	entryName []int    // entry index -> index in names

	closeOnce sync.Once

	// journey runs a scenario instead of the transports (journey.go);
	// collected holds what its Run returned, for the next Collect.
	journey   *journey.Runner
	collected []journey.Result
}

// Info describes a prepared run for reports.
type Info struct {
	Model string
	// TargetRate is this worker's scheduled average rate (req/s) for open
	// models, 0 for closed ones.
	TargetRate float64
	// Connections is the most connections (load goroutines) the run uses.
	Connections int
	// Budget is this worker's request budget, if Bounded.
	Budget  int64
	Bounded bool
	// Bound is the longest the run may last.
	Bound time.Duration
}

// Options are Prepare's choices that a plan does not make.
type Options struct {
	// Transports opens the run's transports; nil: the event loop where it
	// can serve the run (Linux, one plain-HTTP endpoint), else one
	// goroutine transport per connection.
	Transports OpenTransports
	// Resolve, if set, maps each endpoint's host:port to the address to
	// dial before any connection opens (the worker's target policy:
	// pkg/policy's Resolve checks every address a name resolves to and
	// returns the checked one, so a DNS answer that changes after the
	// check cannot redirect the load). An error refuses the plan. TLS
	// keeps the name for SNI and certificate checks, and requests keep
	// their Host header.
	Resolve func(ctx context.Context, hostport string) (string, error)
	// Live prepares the run for live changes (Adopt): connections holding
	// a ticket ask again at every second boundary, a schedule that ran
	// out waits for a change until its end, and exchanges are bounded by
	// the request timeout alone (the end may move).
	Live bool
}

// Prepare compiles templates and opens connections; it does not send load.
// ctx bounds the preparation only.
func Prepare(ctx context.Context, p Plan) (*Run, error) { return PrepareWith(ctx, p, Options{}) }

// PrepareWith is Prepare with explicit options.
func PrepareWith(ctx context.Context, p Plan, opts Options) (*Run, error) {
	r, err := newRun(p)
	if err != nil {
		return nil, err
	}
	r.live = opts.Live
	if r.journey != nil {
		return r, r.pinJourneys(ctx, opts.Resolve) // journeys open their own connections
	}
	if opts.Resolve != nil {
		for i := range r.reqs.endpoints {
			ep := &r.reqs.endpoints[i]
			addr, err := opts.Resolve(ctx, ep.Addr)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrInvalidPlan, ep.Addr, err)
			}
			ep.Addr = addr
		}
	}
	openT := opts.Transports
	if openT == nil {
		if err := checkFDs(r.conns, len(r.reqs.endpoints)); err != nil {
			return nil, err
		}
		openT, r.onLoops = r.serialTransports, r.canLoop()
		switch {
		case r.h2Protocol():
			openT = r.h2Transports
		case r.onLoops:
			openT = r.loopTransports
		}
	}
	ts, err := openT(ctx, r.conns)
	if err != nil {
		return nil, err
	}
	r.transports, r.openT, r.ownTransports = ts, openT, opts.Transports == nil
	for range ts {
		r.addLane()
	}
	return r, nil
}

// newRun validates a plan and works out its model, budget and connection
// count; it opens nothing.
func newRun(p Plan) (*Run, error) {
	s := p.Spec
	s.Normalize()
	if errs := s.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPlan, errs)
	}
	if p.Share.Of < 1 {
		p.Share.Of, p.Share.Index = 1, 0
	}
	if p.Share.Index < 0 || p.Share.Index >= p.Share.Of {
		return nil, fmt.Errorf("%w: share index %d of %d", ErrInvalidPlan, p.Share.Index, p.Share.Of)
	}
	p.Spec = s
	if s.Scenario != nil {
		p.Spec = s
		return newJourneyRun(p)
	}
	reqs, err := compileRequests(&s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPlan, err)
	}
	l := &s.Load
	r := &Run{
		plan:    p,
		reqs:    reqs,
		open:    l.IsOpen(),
		timeout: s.Request.Timeout.D,
		budget:  p.Share.Requests,
		bound:   l.RunBound(),
		stopc:   make(chan struct{}),
		changed: make(chan struct{}, 1),
	}
	r.endS.Store(math.Float64bits(r.bound.Seconds()))
	// A spec with a request total bounds every worker, even one whose
	// exact share is 0 (2 requests over 3 workers), which Share.Requests
	// alone cannot say.
	if l.Requests > 0 || l.RequestsPerWorker > 0 || p.Share.Requests > 0 {
		r.bounded = true
		if r.budget == 0 {
			r.budget = plan.Split(&s, p.Share.Of)[p.Share.Index].Requests
		}
	}
	lanes := l.Concurrency // connections
	switch l.Model {
	case spec.ModelConstantRate, spec.ModelRampingRate:
		r.sched.Store(scheduleFor(&p))
	case spec.ModelAvalanche:
		r.closed.Store(&closedState{profile: ConstantProfile(lanes), constant: true})
	case spec.ModelTsunami:
		r.closed.Store(&closedState{profile: ConstantProfile(lanes), constant: true})
		r.delay = l.Delay.D
	case spec.ModelRampingConcurrency:
		r.closed.Store(&closedState{profile: RampProfile(l.Stages)})
		lanes = r.closed.Load().profile.Max()
	}
	if r.bounded && int64(lanes) > r.budget {
		lanes = int(r.budget) // more would idle
	}
	r.conns = max(lanes, 1)
	r.entryName, r.names = nameIndex(s.EntryNames())
	r.spare = r.newRunSlot()
	return r, nil
}

// addLane adds the recording slot and the requests of the next transport.
func (r *Run) addLane() {
	r.mu.Lock()
	defer r.mu.Unlock()
	j := len(r.lanes)
	ln := &lane{}
	ln.cur.Store(r.newRunSlot())
	r.lanes = append(r.lanes, ln)
	seed := uint64(r.plan.Share.Index)<<32 | uint64(j)
	r.laneReqs = append(r.laneReqs, r.reqs.forLane(r.plan.WorkerID, seed^uint64(time.Now().UnixNano())))
}

// useEventLoop selects the event-loop transport where it can serve a run;
// tests and benchmarks switch it off to run the same models on the
// goroutine transport.
var useEventLoop = true

// canLoop reports whether the run can use event loops: plain HTTP to a
// single endpoint, on a platform that has the loop. Everything else (TLS,
// several endpoints, other platforms) runs on the goroutine transport.
func (r *Run) canLoop() bool {
	return useEventLoop && haveLoop && len(r.reqs.endpoints) == 1 && r.reqs.endpoints[0].TLS == nil && !r.h2Protocol()
}

// Info describes the run.
func (r *Run) Info() Info {
	r.growMu.Lock()
	conns := r.conns
	r.growMu.Unlock()
	in := Info{Model: r.plan.Spec.Load.Model, Connections: conns, Budget: r.budget, Bounded: r.bounded, Bound: r.bound}
	if s := r.sched.Load(); r.open && s != nil {
		exp := s.Expected()
		if s.end > 0 {
			in.TargetRate = float64(exp) / s.end
		}
	}
	return in
}

// Plan is the plan the run was prepared from (normalized).
func (r *Run) Plan() Plan { return r.plan }

// Run waits until startAt, then runs the plan until its bound (duration,
// request budget, or spec.Load.RunBound() hard maximum) or until ctx is
// cancelled (a stop): it stops starting requests, waits for the ones in
// flight (bounded by the request timeout) and counts them, then returns.
// It never runs past startAt + RunBound() + request timeout. Run may be
// called once; it returns ctx.Err() if cancelled before startAt, else nil.
func (r *Run) Run(ctx context.Context, startAt time.Time) error {
	if !r.started.CompareAndSwap(false, true) {
		return errors.New("load: Run called twice")
	}
	if r.journey != nil {
		return r.runJourneys(ctx, startAt)
	}
	// A timer gets within about a millisecond of startAt; the last
	// stretch is a short spin, so that workers start within microseconds
	// of each other (as far as their clocks agree).
	wait := time.NewTimer(time.Until(startAt) - startSpin)
	select {
	case <-ctx.Done():
		wait.Stop()
		r.stop()
		return ctx.Err()
	case <-wait.C:
	}
	for time.Now().Before(startAt) {
		runtime.Gosched()
	}
	end := r.PlannedEnd(startAt)
	watch := make(chan struct{})
	go r.awaitEnd(ctx, startAt, watch)
	// Open models cut every exchange at the end plus the request timeout
	// (unless live: the end may move); closed ones bound each exchange by
	// the timeout alone.
	var cutoff time.Time
	if r.open && !r.live {
		cutoff = end.Add(r.timeout)
	}
	g := r.startLanes(startAt, end, cutoff)
	<-g.done
	close(watch)
	r.closeH2()
	return nil
}

// awaitEnd stops the run at its end (plus OpenGrace for open models), at
// ctx's end or when watch closes; a change that moves the end re-arms it.
func (r *Run) awaitEnd(ctx context.Context, startAt time.Time, watch <-chan struct{}) {
	defer r.stop()
	for {
		stopAt := r.PlannedEnd(startAt)
		if r.open {
			stopAt = stopAt.Add(min(OpenGrace, r.timeout))
		}
		deadline := time.NewTimer(time.Until(stopAt))
		select {
		case <-ctx.Done():
		case <-deadline.C:
		case <-watch:
		case <-r.changed:
			deadline.Stop()
			continue
		}
		deadline.Stop()
		return
	}
}

// stop makes every lane stop starting requests. Idempotent.
func (r *Run) stop() {
	if r.stopped.CompareAndSwap(false, true) {
		close(r.stopc)
	}
}

// noteStart records the start skew from the first request.
func (r *Run) noteStart(due, actual time.Time) {
	if !r.skewSet.Load() && r.skewSet.CompareAndSwap(false, true) {
		r.skewNs.Store(int64(actual.Sub(due)))
	}
}

// Skew is how late the first request started relative to its scheduled
// start: startAt for closed models, startAt plus this worker's phase offset
// for open ones (valid once Run has begun load; negative if early).
func (r *Run) Skew() time.Duration { return time.Duration(r.skewNs.Load()) }

// Interval is everything recorded between two Collects.
type Interval struct {
	Latency  *hist.Histogram // from the scheduled start (open models) or the send (closed)
	Service  *hist.Histogram // from the actual send
	Counters report.Counters
	// Names splits Latency and Counters by request name, in spec order.
	Names []NameInterval
	// Iterations are a scenario's journeys ended in the interval (nil for
	// other tests).
	Iterations *Iterations
}

// Iterations are journeys that ended: the durations of the completed ones
// and the counts.
type Iterations struct {
	Duration          *hist.Histogram
	Completed, Failed int64
}

// Collect returns everything recorded since the previous Collect: the
// merged latency and service-time histograms (fresh objects the caller
// owns) and counter deltas. Safe to call concurrently with Run, typically
// once per second; after Run returns, one more Collect gets the remainder.
// For closed models Service equals Latency (both are measured from the
// send).
func (r *Run) Collect() Interval {
	if r.journey != nil {
		return r.collectJourneys()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	iv := Interval{Latency: hist.New(), Service: hist.New()}
	acc := r.newNameAcc()
	for _, ln := range r.lanes {
		old := ln.swap(r.spare)
		old.addTo(&iv)
		r.foldNames(old, acc)
		old.reset()
		r.spare = old
	}
	if !r.open {
		iv.Service.Merge(iv.Latency)
	}
	r.splitNames(&iv, acc)
	iv.Counters.ErrorSamples = r.reqs.errs.Take()
	return iv
}

// Close releases connections. It stops a Run still in progress from
// starting requests; it does not wait for it.
func (r *Run) Close() {
	r.closeOnce.Do(func() {
		r.stop()
		if r.started.Load() {
			return // lanes close their own transports when they exit
		}
		r.growMu.Lock()
		defer r.growMu.Unlock()
		closeAll(r.transports)
		r.closeH2()
	})
}

// RateMissed reports whether a run with this many late starts among its
// requests missed its rate (more than LateFlagFraction late).
func RateMissed(late, requests int64) bool {
	return requests > 0 && float64(late) > LateFlagFraction*float64(requests)
}
