//go:build linux

package client

import "time"

// A closed model's loop (every connection sends its next request as soon
// as its response is read) against a target that is the bottleneck spends
// most of its CPU going to sleep and waking up: each response wakes it,
// it finds one or two ready and sleeps again, and on a virtual machine a
// sleep and a wake-up through the kernel cost more than the exchange
// itself. Coalescing makes one wake-up serve many responses: instead of
// waiting in epoll, which returns at the first one, the loop sleeps for a
// short window and then collects everything that arrived, each response
// timed by the kernel's receive timestamp (as when batching), so no
// latency is counted late.
//
// The price is a hold: a connection whose response arrives during the
// window sends its next request at the end of it, up to the window later.
// Against a saturated target that costs nothing (its queue has the other
// requests to serve meanwhile, and the exchanges get shorter by as much);
// against one that is not, it would lower the request rate. So the loop
// measures it: it counts completed exchanges for a probe without
// coalescing and a probe with, and coalesces for the next coKeep only if
// the rate with it was at least coKeepShare of the rate without; if it
// was not, it does not coalesce for a backoff that doubles (up to
// coBackoffMax) each time the probe fails again. A run whose probes see
// too few exchanges to compare (a low rate, where wake-ups are cheap
// anyway) does not coalesce either.
type coalescer struct {
	phase       coPhase
	from, until int64 // the phase's start and end, unix ns (0: not started)
	count       int   // exchanges completed in the phase
	offRate     int   // exchanges completed in the last probe without coalescing
	backoff     time.Duration
	avg         time.Duration // moving average of an exchange's duration
	empty       bool          // the last window collected nothing: block once
	sleeps      int           // windows slept (for tests)
}

type coPhase uint8

const (
	coProbeOff coPhase = iota // measuring the rate without coalescing
	coProbeOn                 // measuring it with
	coKeepOn                  // coalescing: the probe showed it costs no rate
	coKeepOff                 // not coalescing: it did, or too few exchanges
)

const (
	coMinConns   = 8                      // a loop with fewer connections never coalesces
	coWindowMax  = 100 * time.Microsecond // the longest window
	coWindowMin  = 10 * time.Microsecond  // a shorter window is not worth a sleep
	coProbe      = 50 * time.Millisecond  // each probe's length
	coKeep       = 500 * time.Millisecond // coalescing between probes
	coBackoff    = time.Second            // not coalescing after a failed probe, at first
	coBackoffMax = 8 * time.Second
	coMinCount   = 500 // exchanges a probe must see to compare
)

// coKeepShare: coalescing is kept if the probe with it completed at least
// this share of the exchanges the probe without it did.
const coKeepShare = 0.97

// done counts a completed exchange and its duration.
func (c *coalescer) done(took time.Duration) {
	c.count++
	c.avg += (took - c.avg) / 16
}

// window is how long the loop sleeps before collecting (0: it waits in
// epoll as usual): half the mean exchange, at most coWindowMax.
func (c *coalescer) window() time.Duration {
	if c.empty {
		c.empty = false
		return 0
	}
	if c.phase != coProbeOn && c.phase != coKeepOn {
		return 0
	}
	w := min(c.avg/2, coWindowMax)
	if w < coWindowMin {
		return 0
	}
	return w
}

// advance ends the current phase at ns (unix ns) if it is over, and
// starts the next.
func (c *coalescer) advance(ns int64) {
	if c.until == 0 {
		c.begin(coProbeOff, ns, coProbe)
		return
	}
	if ns < c.until {
		return
	}
	switch c.phase {
	case coProbeOff:
		c.offRate = perProbe(c.count, ns-c.from)
		if c.offRate < coMinCount {
			c.fail(ns)
			return
		}
		c.begin(coProbeOn, ns, coProbe)
	case coProbeOn:
		if float64(perProbe(c.count, ns-c.from)) < coKeepShare*float64(c.offRate) {
			c.fail(ns)
			return
		}
		c.backoff = coBackoff
		c.begin(coKeepOn, ns, coKeep)
	default:
		c.begin(coProbeOff, ns, coProbe)
	}
}

// fail stops coalescing for the backoff, and doubles it.
func (c *coalescer) fail(ns int64) {
	c.begin(coKeepOff, ns, c.backoff)
	c.backoff = min(2*c.backoff, coBackoffMax)
}

func (c *coalescer) begin(p coPhase, ns int64, d time.Duration) {
	c.phase, c.from, c.until, c.count = p, ns, ns+int64(d), 0
}

// perProbe scales count exchanges over took ns to a probe's length (a
// phase ends at the first round after its end, so lengths differ a little).
func perProbe(count int, took int64) int {
	if took <= 0 {
		return 0
	}
	return int(int64(count) * int64(coProbe) / took)
}

// coWindow is the coalescing window for the loop's next wait (0: none).
// Only a loop with no parked connection coalesces: one that waits for a
// wake-up (tsunami's rests) sleeps until it anyway.
func (l *Loop) coWindow(wake int64) time.Duration {
	if l.co == nil || wake > 0 {
		return 0
	}
	return l.co.window()
}

// coalesced sleeps for w (unless a read left data behind) and collects
// every ready event without waiting. A window that collected nothing
// makes the next wait an ordinary one, so that a loop whose responses
// stopped coming (a stalled target) sleeps in epoll instead of waking
// every window.
func (l *Loop) coalesced(w time.Duration) (int, error) {
	if !l.rx.more {
		nanosleep(w)
		l.co.sleeps++
	}
	l.rx.more = false
	n, err := epollWait(l.epfd, l.events, 0)
	l.co.empty = n == 0 && err == nil
	return n, err
}
