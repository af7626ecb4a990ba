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
	if !t.held {
		if st, ok := d.gate(i, now); !ok {
			return st
		}
		n := r.next.Add(1) - 1
		if r.bounded && n >= r.budget {
			return client.Step{}
		}
		due := now
		if r.open {
			at, ok := r.sched.At(n)
			if !ok {
				return client.Step{}
			}
			due = d.start.Add(at)
		}
		t.held, t.n, t.due = true, n, due
	}
	if wait := t.due.Sub(now); wait > d.window {
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
	var req *client.Request
	req, t.entry = d.lr.pick(t.n*d.of + d.idx)
	return client.Step{Req: req}
}

// gate is what a closed model checks before a connection claims a ticket:
// the run's end, the concurrency profile and tsunami's rest. It returns
// ok == false with the Step to return instead (a wait, or retirement).
func (d *driver) gate(i int, now time.Time) (client.Step, bool) {
	r := d.r
	if r.open {
		return client.Step{}, true
	}
	if !now.Before(d.end) {
		return client.Step{}, false
	}
	if !r.constant {
		at, ok := r.profile.NextActive(d.base+i, now.Sub(d.start))
		if !ok {
			return client.Step{}, false
		}
		if wait := d.start.Add(at).Sub(now); wait > 0 {
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
