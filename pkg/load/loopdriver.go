package load

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/stampede-load/stampede/pkg/load/client"
	"github.com/stampede-load/stampede/pkg/spec"
)

// useEventLoop selects the event-loop engine for the closed models that it
// serves; tests and benchmarks switch it off to compare with one goroutine
// per connection.
var useEventLoop = true

// canLoop reports whether the run can use event loops: an open model or a
// closed one with a fixed connection count (avalanche, tsunami), plain HTTP
// to a single endpoint, on a platform that has the loop. Everything else
// (ramping-concurrency, TLS, several endpoints) runs one goroutine per
// connection.
func (r *Run) canLoop() bool {
	m := r.plan.Spec.Load.Model
	return useEventLoop && client.LoopSupported && m != spec.ModelRampingConcurrency &&
		len(r.reqs.endpoints) == 1 && r.reqs.endpoints[0].TLS == nil
}

// prepareLoops spreads conns connections over event loops (each loop is
// one lane with its own histograms) and connects them. A loop keeps its P
// while it waits for the kernel, so it leaves one P to the rest of the
// process (collection, coordination) when there is more than one.
func (r *Run) prepareLoops(ctx context.Context, conns int) error {
	n := min(max(runtime.GOMAXPROCS(0)-1, 1), conns)
	for j := range n {
		share := conns / n
		if j < conns%n {
			share++
		}
		lp, err := client.NewLoop(r.reqs.endpoints[0], share, r.timeout)
		if err != nil {
			r.Close()
			return fmt.Errorf("load: prepare: %w", err)
		}
		r.loops = append(r.loops, lp)
		ln := &lane{}
		ln.cur.Store(newSlot(r.open))
		r.lanes = append(r.lanes, ln)
		seed := uint64(r.plan.Share.Index)<<32 | uint64(j)
		r.laneReqs = append(r.laneReqs, r.reqs.forLane(r.plan.WorkerID, seed^uint64(time.Now().UnixNano()), 0))
	}
	var wg sync.WaitGroup
	for _, lp := range r.loops {
		wg.Go(lp.Dial)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		r.Close()
		return fmt.Errorf("load: prepare: %w", err)
	}
	return nil
}

// loopLane runs event loop j: its connections follow the schedule (open
// models), send back to back (avalanche) or pause after each response
// (tsunami).
func (r *Run) loopLane(j int, start, end time.Time) {
	lp := r.loops[j]
	defer lp.Close()
	if r.open {
		lp.SetCutoff(end.Add(r.timeout))
		d := &openDriver{r: r, ln: r.lanes[j], lr: r.laneReqs[j], start: start,
			of: int64(r.plan.Share.Of), idx: int64(r.plan.Share.Index), conns: make([]ticket, lp.Len())}
		d.o.expected = &r.reqs.expected
		lp.Run(&r.stopped, d)
		return
	}
	d := &loopDriver{r: r, ln: r.lanes[j], lr: r.laneReqs[j], start: start, end: end,
		of: int64(r.plan.Share.Of), idx: int64(r.plan.Share.Index)}
	d.o.expected = &r.reqs.expected
	if r.delay > 0 {
		d.rested = make([]time.Time, lp.Len())
	}
	lp.Run(&r.stopped, d)
}

// loopDriver is a closed model as a client.Driver. It is used by its
// loop's goroutine only.
type loopDriver struct {
	r       *Run
	ln      *lane
	lr      *laneRequests
	start   time.Time
	end     time.Time
	of, idx int64
	o       outcome
	rested  []time.Time // tsunami: when each connection may send again
}

var _ client.Driver = (*loopDriver)(nil)

// Next implements client.Driver.
func (d *loopDriver) Next(i int, now time.Time) (*client.Request, time.Duration, bool) {
	r := d.r
	if r.stopped.Load() || !now.Before(d.end) {
		return nil, 0, false
	}
	if d.rested != nil {
		if at := d.rested[i]; now.Before(at) {
			return nil, at.Sub(now), true
		}
	}
	n := r.next.Add(1) - 1
	if r.bounded && n >= r.budget {
		return nil, 0, false
	}
	if n == 0 {
		r.noteStart(d.start, now)
	}
	req, _ := d.lr.pick(n*d.of + d.idx)
	return req, 0, true
}

// Done implements client.Driver.
func (d *loopDriver) Done(i int, res client.Result, sent, done time.Time) {
	d.o.res, d.o.scheduled, d.o.sent, d.o.done = res, sent, sent, done
	d.ln.record(&d.o)
	if d.rested != nil {
		d.rested[i] = done.Add(d.r.delay)
	}
}

// ticket is an open-model request held by one connection of a loop: claimed
// when the connection became free, sent when due.
type ticket struct {
	held bool
	n    int64
	due  time.Time
	late bool // claimed more than LateThreshold after it was due
}

// openDriver is an open model as a client.Driver: a free connection claims
// the next ticket of the schedule at once (one atomic add, shared with the
// other loops), parks until it is due and sends it. Latency counts from the
// due time. It is used by its loop's goroutine only.
type openDriver struct {
	r       *Run
	ln      *lane
	lr      *laneRequests
	start   time.Time
	of, idx int64
	o       outcome
	conns   []ticket // held or in flight, per connection
}

var _ client.Driver = (*openDriver)(nil)

// Next implements client.Driver.
func (d *openDriver) Next(i int, now time.Time) (*client.Request, time.Duration, bool) {
	r := d.r
	t := &d.conns[i]
	if !t.held {
		if r.stopped.Load() {
			return nil, 0, false
		}
		n := r.next.Add(1) - 1
		if r.bounded && n >= r.budget {
			return nil, 0, false
		}
		at, ok := r.sched.At(n)
		if !ok {
			return nil, 0, false
		}
		t.held, t.n, t.due = true, n, d.start.Add(at)
		t.late = now.Sub(t.due) > LateThreshold
	}
	if wait := t.due.Sub(now); wait > 0 {
		return nil, wait, true
	}
	t.held = false
	if t.n == 0 {
		r.noteStart(t.due, now)
	}
	req, _ := d.lr.pick(t.n*d.of + d.idx)
	return req, 0, true
}

// Done implements client.Driver.
func (d *openDriver) Done(i int, res client.Result, sent, done time.Time) {
	t := &d.conns[i]
	d.o.res, d.o.scheduled, d.o.sent, d.o.done, d.o.late = res, t.due, sent, done, t.late
	d.ln.record(&d.o)
}
