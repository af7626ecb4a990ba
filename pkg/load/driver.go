package load

import (
	"time"

	"github.com/stampede-load/stampede/pkg/load/client"
)

// driver is the load model of one lane, written once for every model and
// every transport (it is the transport's client.Driver). A free connection
// claims the next ticket of the run (one atomic add shared by every lane),
// checks the budget, and sends the ticket's request when it is due:
//
//   - open models (constant-rate, ramping-rate): a ticket is due at its
//     time in the schedule. A connection holds its ticket until then, or
//     until it is within the transport's batching window of it (a loop's
//     wake-up serves every ticket due within its window, so a request may
//     go out up to the window early). A ticket sent more than
//     LateThreshold after it was due (every connection was busy, or the
//     transport was behind) is counted late. Latency counts from the due
//     time, or from the send if that was earlier (no coordinated omission,
//     and never less than the exchange took); service time from the send.
//   - closed models (avalanche, tsunami, ramping-concurrency): a ticket is
//     due when it is claimed, while the run lasts; tsunami rests each
//     connection for the delay after each response, ramping-concurrency
//     keeps connection j closed while the profile is at or below j.
//     Latency counts from the send.
//
// A driver is used by its transport's goroutine only.
type driver struct {
	r       *Run
	ln      *lane
	lr      *laneRequests
	start   time.Time
	end     time.Time
	base    int // the run-wide number of this lane's connection 0 (profiles)
	of, idx int64
	o       outcome
	conns   []ticket
	window  time.Duration // the transport's batching window (see Next)
	rested  []time.Time   // tsunami: when each connection may send again
}

// ticket is the request a connection holds: claimed, then sent when due.
type ticket struct {
	held  bool
	n     int64 // the run's request number
	due   time.Time
	late  bool // sent more than LateThreshold after it was due
	entry int  // the request entry picked for it (see outcome.entry)
	// sched is the open-model schedule due was taken from; nil: not yet
	// scheduled (a live run's schedule had run out when it was claimed)
	sched *rampSchedule
}

var _ client.Driver = (*driver)(nil)

// newDriver makes the driver of lane j, whose transport has conns
// connections numbered from base in the run.
func (r *Run) newDriver(j, base, conns int, start, end time.Time) *driver {
	d := &driver{r: r, ln: r.lanes[j], lr: r.laneReqs[j], start: start, end: end, base: base,
		of: int64(r.plan.Share.Of), idx: int64(r.plan.Share.Index), conns: make([]ticket, conns)}
	d.o.expected = &r.reqs.expected
	if r.delay > 0 {
		d.rested = make([]time.Time, conns)
	}
	return d
}

// Next implements client.Driver.
func (d *driver) Next(i int, now time.Time) client.Step {
	r := d.r
	if r.stopped.Load() {
		return client.Step{}
	}
	t := &d.conns[i]
	claimed := false
	if !t.held {
		if st, ok := d.gate(i, now); !ok {
			return st
		}
		n := r.next.Add(1) - 1
		if r.bounded && n >= r.budget {
			return client.Step{}
		}
		t.held, t.n, t.due, t.late, t.sched, claimed = true, n, now, false, nil, true
	}
	if r.open {
		if st, ok := d.schedule(t, now, claimed); !ok {
			return st
		}
	}
	if wait := t.due.Sub(now); wait > d.window {
		if r.live { // a change may move the ticket: ask again at the boundary
			wait = min(wait, nextBoundary(d.start, now).Sub(now))
		}
		return client.Step{Wait: wait}
	}
	t.held = false
	t.late = now.Sub(t.due) > LateThreshold
	if t.n == 0 {
		first := d.start // closed: the run's start
		if r.open {
			first = t.due // open: this worker's phase-shifted first due time
		}
		r.noteStart(first, now)
	}
	seq := t.n*d.of + d.idx
	if t.sched != nil {
		seq, _ = t.sched.global(t.n)
	}
	var req *client.Request
	req, t.entry = d.lr.pick(seq)
	if r.live {
		d.ln.inflight.Add(1)
	}
	return client.Step{Req: req}
}

// schedule gives an open-model ticket its due time from the schedule in
// force (again after a change swapped it). A ticket the schedule does not
// hold retires its connection, unless the run is live and before its end:
// then it waits for a change until the next second boundary. ok is false
// with the Step to return.
func (d *driver) schedule(t *ticket, now time.Time, claimed bool) (client.Step, bool) {
	r := d.r
	s := r.sched.Load()
	if t.sched == s {
		return client.Step{}, true
	}
	at, ok := s.At(t.n)
	if !ok {
		end := r.PlannedEnd(d.start)
		if !r.live || !now.Before(end) {
			return client.Step{}, false
		}
		t.sched = nil
		return client.Step{Wait: max(min(nextBoundary(d.start, now).Sub(now), end.Sub(now)), time.Microsecond)}, false
	}
	t.sched, t.due = s, d.start.Add(at)
	if claimed {
		// claimed late: every connection was busy when it fell due
		t.late = now.Sub(t.due) > LateThreshold
	}
	return client.Step{}, true
}

// gate is what a closed model checks before a connection claims a ticket:
// the run's end, the concurrency profile and tsunami's rest. It returns
// ok == false with the Step to return instead (a wait, or retirement).
func (d *driver) gate(i int, now time.Time) (client.Step, bool) {
	r := d.r
	if r.open {
		return client.Step{}, true
	}
	end := d.end
	if r.live {
		end = r.PlannedEnd(d.start)
	}
	if !now.Before(end) {
		return client.Step{}, false
	}
	if cs := r.closed.Load(); !cs.constant {
		at, ok := cs.profile.NextActive(d.base+i, now.Sub(d.start))
		if !ok && !r.live {
			return client.Step{}, false
		}
		wait := d.start.Add(at).Sub(now)
		if r.live { // a change may wake it: look again at the boundary
			wait = min(wait, nextBoundary(d.start, now).Sub(now), end.Sub(now))
			if !ok {
				wait = min(nextBoundary(d.start, now).Sub(now), end.Sub(now))
			}
		}
		if wait > 0 {
			return client.Step{Wait: wait, Idle: true}, false // an inactive connection is closed
		}
	}
	if d.rested != nil {
		if at := d.rested[i]; now.Before(at) {
			return client.Step{Wait: at.Sub(now)}, false
		}
	}
	return client.Step{}, true
}

// Done implements client.Driver.
func (d *driver) Done(i int, res client.Result, sent, done time.Time) {
	if d.r.live {
		d.ln.inflight.Add(-1)
	}
	t := &d.conns[i]
	o := &d.o
	o.res, o.sent, o.done, o.entry = res, sent, done, t.entry
	o.scheduled, o.late = sent, false
	if d.r.open {
		// from the due time, or from the send if the batching window
		// sent it early: never less than the exchange itself took
		o.scheduled, o.late = t.due, t.late
		if sent.Before(t.due) {
			o.scheduled = sent
		}
	}
	d.ln.record(o)
	if d.rested != nil {
		d.rested[i] = done.Add(d.r.delay)
	}
}
