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
// measures it: a probe of coSlices slices of coSlice each, alternately
// without and with coalescing (alternating, so that a host whose speed
// drifts favours neither), counts the exchanges completed in each, and
// the loop coalesces for the next coKeep only if the slices with it
// completed at least coKeepShare as many as those without. If they did
// not, it does not coalesce for a backoff that doubles (up to
// coBackoffMax) each time a probe fails again. A probe whose slices
// without coalescing see too few exchanges to compare (a low rate, where
// wake-ups are cheap anyway) fails too.
type coalescer struct {
	phase       coPhase
	slice       int   // the probe's current slice: even without, odd with
	from, until int64 // the phase's (or slice's) start and end, unix ns (0: not started)
	count       int   // exchanges completed in it
	off, on     int   // exchanges completed in the probe's slices without and with
	backoff     time.Duration
	avg         time.Duration // moving average of an exchange's duration
	empty       bool          // the last window collected nothing: block once
	sleeps      int           // windows slept (for tests)
}

type coPhase uint8

const (
	coProbing coPhase = iota // comparing the rate without and with coalescing
	coKeepOn                 // coalescing: the probe showed it costs no rate
	coKeepOff                // not coalescing: it did, or too few exchanges
)

const (
	coMinConns   = 8                      // a loop with fewer connections never coalesces
	coWindowMax  = 100 * time.Microsecond // the longest window
	coWindowMin  = 10 * time.Microsecond  // a shorter window is not worth a sleep
	coSlice      = 25 * time.Millisecond  // a probe's slice
	coSlices     = 4                      // slices in a probe, half of them with coalescing
	coKeep       = time.Second            // coalescing between probes
	coBackoff    = time.Second            // not coalescing after a failed probe, at first
	coBackoffMax = 8 * time.Second
	coMinCount   = 500 // exchanges a probe's slices without coalescing must see to compare
)

// coKeepShare: coalescing is kept if a probe's slices with it completed
// at least this share of the exchanges its slices without it did.
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
	if c.phase != coKeepOn && (c.phase != coProbing || c.slice%2 == 0) {
		return 0
	}
	w := min(c.avg/2, coWindowMax)
	if w < coWindowMin {
		return 0
	}
	return w
}

// advance ends the current phase or slice at ns (unix ns) if it is over,
// and starts the next.
func (c *coalescer) advance(ns int64) {
	if c.until == 0 {
		c.probe(ns)
		return
	}
	if ns < c.until {
		return
	}
	if c.phase != coProbing {
		c.probe(ns)
		return
	}
	n := perSlice(c.count, ns-c.from)
	if c.slice%2 == 0 {
		c.off += n
	} else {
		c.on += n
	}
	c.slice++
	if c.slice < coSlices {
		c.begin(coProbing, ns, coSlice)
		return
	}
	if c.off < coMinCount || float64(c.on) < coKeepShare*float64(c.off) {
		c.begin(coKeepOff, ns, c.backoff)
		c.backoff = min(2*c.backoff, coBackoffMax)
		return
	}
	c.backoff = coBackoff
	c.begin(coKeepOn, ns, coKeep)
}

// probe starts a probe at ns.
func (c *coalescer) probe(ns int64) {
	c.slice, c.off, c.on = 0, 0, 0
	c.begin(coProbing, ns, coSlice)
}

func (c *coalescer) begin(p coPhase, ns int64, d time.Duration) {
	c.phase, c.from, c.until, c.count = p, ns, ns+int64(d), 0
}

// perSlice scales count exchanges over took ns to a slice's length (a
// slice ends at the first round after its end, so lengths differ a little).
func perSlice(count int, took int64) int {
	if took <= 0 {
		return 0
	}
	return int(int64(count) * int64(coSlice) / took)
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
