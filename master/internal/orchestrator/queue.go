package orchestrator

import (
	"fmt"
	"time"
)

// The queue of tests waiting for workers (docs/spec.md, "Which workers a
// test gets").
//
// A test asks for `workers` idle workers, or, without `workers`, for every
// live worker (at least one) to be idle. Tests are admitted first in, first
// out, in the order they were created: a test is planned only when every
// test created before it has been planned or has ended, so a small test
// never overtakes a big one. A free worker is one that is live, registered
// as idle and not chosen by a test that is preparing or running.
//
// A test fails in the queue only when it asks for more workers than are
// live (or, without `workers`, when none is) for longer than the queue
// wait, continuously; busy workers alone never fail it.

// entry is one waiting (pending or queued) test as the admitter sees it.
type entry struct {
	ID string
	// Created orders the queue (unix ns, then the id).
	Created int64
	// Workers is what the spec asks for: 0 means every live worker.
	Workers int
	// ShortSince is when it began asking for more workers than are live
	// (0: enough are live).
	ShortSince int64
	// Stopped means a stop was requested.
	Stopped bool
}

// decision is what the admitter does with one waiting test. Exactly one of
// Run, Fail, Stop or Position is set.
type decision struct {
	ID string
	// Run are the workers the test gets: plan it now.
	Run []string
	// Fail is the reason to fail it with.
	Fail string
	// Stop ends it as stopped.
	Stop bool
	// Position is its place in the queue (1 runs next); Reason says what
	// it waits for; ShortSince is the value to keep in its state.
	Position   int
	Reason     string
	ShortSince int64
}

// less orders waiting tests first in, first out.
func less(a, b entry) bool {
	if a.Created != b.Created {
		return a.Created < b.Created
	}
	return a.ID < b.ID
}

// decide is the queue's rule, a pure function of what the admitter read:
// the waiting tests in queue order, how many workers are live, the free
// ones (sorted), the time and the queue wait. It returns one decision per
// test, in queue order.
func decide(q []entry, live int, free []string, now time.Time, wait time.Duration) []decision {
	out := make([]decision, 0, len(q))
	blocked := false // an earlier test is still waiting: no later one may run
	pos := 0
	for _, e := range q {
		d := decision{ID: e.ID}
		short := e.Workers > live || live == 0
		switch {
		case e.Stopped:
			d.Stop = true
			out = append(out, d)
			continue
		case short:
			d.ShortSince = e.ShortSince
			if d.ShortSince == 0 {
				d.ShortSince = now.UnixNano()
			}
			if now.Sub(time.Unix(0, d.ShortSince)) >= wait {
				d.Fail = fmt.Sprintf("%s for longer than the queue wait (%v)", shortReason(e.Workers, live), wait)
				out = append(out, d)
				continue
			}
		case !blocked:
			if n := want(e.Workers, live); len(free) >= n {
				d.Run = append([]string(nil), free[:n]...)
				free = free[n:]
				out = append(out, d)
				continue
			}
		}
		blocked = true
		pos++
		d.Position, d.Reason = pos, waitReason(e.Workers, live)
		out = append(out, d)
	}
	return out
}

// want is how many free workers a test needs: its `workers`, or every
// live one.
func want(workers, live int) int {
	if workers > 0 {
		return workers
	}
	return live
}

func shortReason(workers, live int) string {
	if workers == 0 {
		return "asks for every live worker but none is live"
	}
	return fmt.Sprintf("asks for %d workers but only %d are live", workers, live)
}

// waitReason is what a queued test waits for.
func waitReason(workers, live int) string {
	switch {
	case workers > live || live == 0:
		return "waiting: " + shortReason(workers, live)
	case workers == 0:
		return fmt.Sprintf("waiting for every live worker (%d) to be idle", live)
	case workers == 1:
		return "waiting for 1 idle worker"
	}
	return fmt.Sprintf("waiting for %d idle workers", workers)
}
