package load

import (
	"time"
)

// openLane is one load goroutine of an open model. It claims the next
// ticket of the schedule as soon as it is free, sleeps until the ticket is
// due and sends it. A ticket claimed more than LateThreshold after it was
// due found every connection busy: it is late, and its latency still counts
// from when it was due (no coordinated omission).
func (r *Run) openLane(j int, start, end time.Time) {
	last := end.Add(r.timeout) // no exchange lasts past this
	ln, lr := r.lanes[j], r.laneReqs[j]
	defer lr.close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	of, idx := int64(r.plan.Share.Of), int64(r.plan.Share.Index)
	var o outcome
	o.expected = &r.reqs.expected
	for !r.stopped.Load() {
		n := r.next.Add(1) - 1
		if r.bounded && n >= r.budget {
			return
		}
		at, ok := r.sched.At(n)
		if !ok {
			return
		}
		due := start.Add(at)
		now := time.Now()
		o.late = false
		if wait := due.Sub(now); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-r.stopc:
				return
			}
			now = time.Now()
		} else if -wait > LateThreshold {
			o.late = true
		}
		if r.stopped.Load() {
			return
		}
		req, conn := lr.pick(n*of + idx)
		if n == 0 {
			r.noteStart(due, now)
		}
		o.scheduled, o.sent = due, now
		o.res = conn.DoBy(req, minTime(now.Add(r.timeout), last))
		o.done = time.Now()
		ln.record(&o)
	}
}

// closedLane is one load goroutine of a closed model: connection j sends
// back to back (avalanche), with a pause between requests (tsunami), or
// while the concurrency profile has it active (ramping-concurrency).
func (r *Run) closedLane(j int, start, end time.Time) {
	ln, lr := r.lanes[j], r.laneReqs[j]
	defer lr.close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	sleep := func(d time.Duration) bool {
		timer.Reset(d)
		select {
		case <-timer.C:
			return true
		case <-r.stopc:
			return false
		}
	}
	of, idx := int64(r.plan.Share.Of), int64(r.plan.Share.Index)
	var o outcome
	o.expected = &r.reqs.expected
	now := time.Now()
	for !r.stopped.Load() {
		if !r.constant {
			at, ok := r.profile.NextActive(j, now.Sub(start))
			if !ok {
				lr.close()
				return
			}
			if d := start.Add(at).Sub(now); d > 0 {
				lr.close() // an inactive connection is closed
				if !sleep(d) {
					return
				}
				now = time.Now()
				continue
			}
		}
		if !now.Before(end) {
			return
		}
		n := r.next.Add(1) - 1
		if r.bounded && n >= r.budget {
			return
		}
		req, conn := lr.pick(n*of + idx)
		if n == 0 {
			r.noteStart(start, now)
		}
		o.scheduled, o.sent = now, now
		o.res = conn.Do(req)
		o.done = time.Now()
		ln.record(&o)
		now = o.done
		if r.delay > 0 {
			if !sleep(r.delay) {
				return
			}
			now = time.Now()
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
