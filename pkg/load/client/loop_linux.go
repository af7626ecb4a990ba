//go:build linux

package client

import (
	"errors"
	"math"
	"runtime"
	"syscall"
	"time"
)

// Loop runs many plain-HTTP keep-alive connections to one endpoint from a
// single goroutine, the way wrk does: its own epoll instance, non-blocking
// sockets, one read and one write system call per exchange and no goroutine
// switch per request. Requests are written by fasthttp; response heads are
// read by the client's own parser (respHead). An open model's loop batches
// its wake-ups (Batch); a closed model's coalesces them while that costs
// no request rate (coalescer).
//
// A Loop is owned by one goroutine: Run must not be called concurrently,
// and the Driver's methods are called from Run's goroutine only. It is
// Linux's transport for the engine; elsewhere the engine uses Serial.
type Loop struct {
	sa      syscall.Sockaddr
	family  int
	timeout time.Duration
	epfd    int
	conns   []*loopConn
	events  []syscall.EpollEvent
	cutoff  int64      // unix ns; no exchange lasts past it (0: none)
	refeed  []int      // connections whose response was read in this batch
	batch   bool       // open-model batching (see Batch)
	lead    int64      // ns a batching wake-up ends before the earliest due time (wakeLead)
	rx      *stamped   // timestamped reads (batching, coalescing); nil: plain reads
	co      *coalescer // closed-model coalescing (see coalescer); nil: off
	idle    parker     // the long waits of a low rate
	parked  bool       // the last wait was parked: other goroutines ran meanwhile
	live    int        // connections not retired
	// next (unix ns) is the earliest deadline or wake-up set since
	// expire's last pass over the connections, wake the earliest
	// wake-up (0: none): until next, a pass would find nothing to do.
	next, wake int64

	// Shared by the loop's connections, one exchange at a time, so that
	// an idle connection holds no buffer: the read buffer and the header
	// parser. (A request is serialized in its Request, shared by the
	// connections that send it.)
	buf  []byte
	head respHead
}

// readSize is the loop's read buffer: what one read system call takes.
const readSize = 32 << 10

// maxWait is the longest the loop waits in the kernel at a time.
const maxWait = 2 * time.Millisecond

// idleAfter and idleWait shape the loop's sleep when nothing is due soon
// (see Loop.wait).
const (
	idleAfter = 5 * time.Millisecond
	idleWait  = 25 * time.Millisecond
)

type connState uint8

const (
	stIdle    connState = iota // no request outstanding
	stParked                   // idle until wake (the driver asked to wait)
	stWriting                  // connecting, or waiting for room to write
	stWaiting                  // request written, response pending
)

// loopConn is one connection's state. It holds no buffer of its own
// while idle: out keeps a request only while the socket cannot take it
// all, hdr a response head only while it arrives in pieces, and a body
// is counted and discarded as it arrives (body).
type loopConn struct {
	fd         int // -1: no socket
	idx        int // the connection's number in the loop
	state      connState
	retired    bool
	inBody     bool // the head has been read; body follows
	got        bool // some of the response has arrived
	closeAfter bool // the response asks to close the connection
	status     int
	deadline   int64 // unix ns: the exchange fails with Timeout after it
	wake       int64 // unix ns: parked until then
	sent       time.Time
	req        *Request
	off        int    // bytes of the request written
	out        []byte // the unwritten request, while the socket is full
	hdr        []byte // a response head that arrived in pieces
	body       body
}

// NewLoop prepares n connections to ep, each exchange bounded by timeout.
// TLS endpoints are not supported (use Conn).
func NewLoop(ep Endpoint, n int, timeout time.Duration) (*Loop, error) {
	if ep.TLS != nil {
		return nil, errors.New("client: the event loop does not do TLS")
	}
	ap, err := resolve(ep.Addr)
	if err != nil {
		return nil, err
	}
	l := &Loop{timeout: timeout, epfd: -1, events: make([]syscall.EpollEvent, n+1), refeed: make([]int, 0, n)}
	if ap.Addr().Is4() {
		l.family = syscall.AF_INET
		l.sa = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	} else {
		l.family = syscall.AF_INET6
		l.sa = &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	l.epfd, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	for range n {
		l.conns = append(l.conns, &loopConn{fd: -1, idx: len(l.conns)})
	}
	l.live = n
	l.buf = make([]byte, readSize)
	if n >= coMinConns {
		l.co = &coalescer{backoff: coBackoff}
		l.stampAll()
	}
	return l, nil
}

// Dial connects every connection that has no socket, blocking, before the
// run. It stops at the first failure, so that an unreachable target costs
// one timeout, not one per connection; the run re-dials and counts the
// errors.
func (l *Loop) Dial() {
	for i, c := range l.conns {
		if c.fd < 0 {
			if _, k := l.connect(i, true); k != OK {
				return
			}
		}
	}
}

// Close closes every connection and the epoll instance.
func (l *Loop) Close() {
	for _, c := range l.conns {
		l.closeSocket(c)
	}
	l.idle.close()
	if l.epfd >= 0 {
		_ = syscall.Close(l.epfd)
		l.epfd = -1
	}
}

// Run drives the connections with d until d has retired every one and
// none has a request in flight. Closing stop wakes the parked connections
// at once (d then decides; after a stop it retires them), so that a stop
// waits only for the exchanges in flight, each bounded by the timeout. No
// exchange lasts past cutoff (zero: no cutoff): it fails as a Timeout.
// Run may be called once.
func (l *Loop) Run(stop <-chan struct{}, cutoff time.Time, d Driver) {
	if !cutoff.IsZero() {
		l.cutoff = cutoff.UnixNano()
	}
	l.idle.stop = stop
	defer l.idle.ran()
	now := time.Now()
	for i := range l.conns {
		l.feed(i, now, d)
	}
	busy, wake := l.expire(now, stopped(stop), 0, d)
	lastYield := now
	for busy {
		// The loop holds its P even while the kernel waits (see
		// epollWait); yield it regularly so that the process's other
		// goroutines (collection, coordination) run on time. now is the
		// clock read that ended the last round.
		if l.parked {
			l.parked, lastYield = false, now
		} else if now.Sub(lastYield) > time.Millisecond {
			runtime.Gosched()
			lastYield = now
		}
		// maxWait bounds how late a stop, a timeout or the process's other
		// goroutines wait; a parked connection may need less.
		var n int
		var err error
		if l.batch {
			n, err = l.tick(wake)
		} else {
			n, err = l.wait(wake)
		}
		if err != nil && !errors.Is(err, syscall.EINTR) {
			return
		}
		// Read (and time) every response that is ready before writing
		// the next requests: a response is not timed late because the
		// loop was busy sending on other connections.
		for k := range n {
			ev := &l.events[k]
			l.event(int(ev.Fd), ev.Events, d)
		}
		fed := len(l.refeed) > 0
		if fed {
			now = time.Now()
			for _, i := range l.refeed {
				l.feed(i, now, d)
			}
			l.refeed = l.refeed[:0]
		}
		// The clock read the requests were sent by serves expire too
		// (a timeout is then noticed after this round's writes, a few
		// microseconds late), unless a parked connection may be due: it
		// is woken by a reading taken after the writes.
		if !fed || wake > 0 {
			now = time.Now()
		}
		busy, wake = l.expire(now, stopped(stop), wake, d)
		if l.co != nil {
			l.co.advance(now.UnixNano())
		}
	}
}

// wait waits for events for at most waitFor(wake), parked if it says so,
// or, while the loop coalesces, sleeps for the coalescing window and then
// collects what arrived (see coalescer).
func (l *Loop) wait(wake int64) (int, error) {
	if w := l.coWindow(wake); w > 0 {
		return l.coalesced(w)
	}
	d, park := l.waitFor(wake)
	if park {
		return l.park(d)
	}
	return epollWait(l.epfd, l.events, d)
}

// waitFor is how long the loop may wait before the earliest parked
// connection's wake-up (unix ns, 0 if none), and whether it parks for it
// (see parker), from one clock reading. When the next thing due (that
// wake-up or an exchange's deadline, l.next) is more than idleAfter away
// (a low rate: nothing is due for a while) it parks until a millisecond
// before it, at most parkMax. Otherwise it waits raw: at most maxWait, or,
// when only the wake-up is that far, up to idleWait, ending a millisecond
// before it, so that the last stretch is a short, precise wait. The raw
// wait bounds how late a stop, a timeout or the cutoff is noticed to
// idleWait; the runtime's preemption signal still interrupts it, so other
// goroutines are not held longer than the scheduler's time slice.
func (l *Loop) waitFor(wake int64) (d time.Duration, park bool) {
	if wake <= 0 {
		return maxWait, false // every live connection has an exchange in flight
	}
	now := time.Now().UnixNano()
	if next := time.Duration(min(wake, l.next) - now); next > idleAfter {
		return min(next-time.Millisecond, parkMax), true
	}
	until := time.Duration(wake - now)
	if until > idleAfter {
		return min(until-time.Millisecond, idleWait), false
	}
	return min(maxWait, max(until, 0)), false
}

// stopped reports whether stop is closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// expire fails exchanges past their deadline and wakes parked connections
// that are due (all of them once the run is stopping), in one pass over
// the connections. When batching, a wake-up that found the earliest
// parked connection (due, unix ns, from the last pass) due, or due within
// the lead (wakeLead), also wakes every one due within Window after now.
// It reports whether any request is in flight or any connection will ask
// for one later, and the earliest wake-up time of a parked connection
// (unix ns, 0 if none). Before the earliest deadline or wake-up it knows of (l.next)
// it does not pass over the connections: none is due, and every
// connection not retired has a request in flight or is parked (feed
// leaves it so), so the loop is busy while any is live.
func (l *Loop) expire(now time.Time, stopping bool, due int64, d Driver) (busy bool, wake int64) {
	ns := now.UnixNano()
	soon := ns
	if l.batch && due > 0 && ns >= due-l.lead {
		soon += int64(Window)
	}
	if !stopping && soon < l.next {
		return l.live > 0, l.wake
	}
	l.next, l.wake = math.MaxInt64, 0
	for i, c := range l.conns {
		switch {
		case c.req != nil && ns >= c.deadline:
			l.fail(i, c, Timeout, now, d)
		case c.state == stParked && (soon >= c.wake || stopping):
			c.state = stIdle
			l.feed(i, now, d)
		}
		if c.state == stParked && (wake == 0 || c.wake < wake) {
			wake = c.wake
		}
		if c.req != nil {
			l.next = min(l.next, c.deadline)
		}
		busy = busy || c.req != nil || c.state == stParked
	}
	if wake > 0 {
		l.next = min(l.next, wake)
	}
	l.wake = wake
	return busy, wake
}

// fail ends connection i's exchange with a failure, closes its socket and
// feeds it again.
func (l *Loop) fail(i int, c *loopConn, k Kind, now time.Time, d Driver) {
	l.finish(i, c, Result{Kind: k, BytesOut: c.off}, now, d)
	l.closeSocket(c)
	l.feed(i, now, d)
}

// feed asks the driver for connection i's next requests and starts one;
// requests that fail at once (a refused connect) are counted and the next
// one is asked for, without recursion.
func (l *Loop) feed(i int, now time.Time, d Driver) {
	c := l.conns[i]
	for !c.retired {
		st := d.Next(i, now)
		req := st.Req
		if req == nil {
			if st.Wait <= 0 {
				c.retired = true
				l.live--
				l.closeSocket(c)
				return
			}
			if st.Idle {
				l.closeSocket(c)
			}
			c.state, c.wake = stParked, now.Add(st.Wait).UnixNano()
			l.next = min(l.next, c.wake)
			if l.wake == 0 || c.wake < l.wake {
				l.wake = c.wake
			}
			return
		}
		c.req, c.sent = req, now
		c.deadline = now.Add(l.timeout).UnixNano()
		if l.cutoff > 0 && c.deadline > l.cutoff {
			c.deadline = l.cutoff
		}
		l.next = min(l.next, c.deadline)
		c.off, c.inBody, c.got, c.hdr = 0, false, false, c.hdr[:0]
		out, err := req.bytes()
		if err != nil { // the request cannot be serialized: nothing is sent
			now = time.Now()
			l.finish(i, c, Result{Kind: Other}, now, d)
			continue
		}
		if c.fd < 0 {
			pending, k := l.connect(i, false)
			if k != OK {
				now = time.Now()
				l.finish(i, c, Result{Kind: k}, now, d)
				continue
			}
			if pending {
				c.out = append(c.out[:0], out...)
				c.state = stWriting
				return
			}
		}
		if k := l.write(c, out); k != OK {
			now = time.Now()
			l.finish(i, c, Result{Kind: k, BytesOut: c.off}, now, d)
			l.closeSocket(c)
			continue
		}
		return
	}
}

// write writes what is left of c's request p (of which c.off bytes are
// written). When the socket buffer is full it keeps the request in c.out
// and waits for EPOLLOUT (state stWriting).
func (l *Loop) write(c *loopConn, p []byte) Kind {
	for c.off < len(p) {
		n, err := rawWrite(c.fd, p[c.off:])
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			if c.state != stWriting {
				c.out = append(c.out[:0], p...)
				c.state = stWriting
				ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLOUT, Fd: int32(c.idx)}
				_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, c.fd, &ev)
			}
			return OK
		case err != nil:
			return Classify(err)
		}
		c.off += n
	}
	if c.state == stWriting {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.idx)}
		_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, c.fd, &ev)
	}
	c.state = stWaiting
	return OK
}

// event handles readiness of connection i.
func (l *Loop) event(i int, events uint32, d Driver) {
	c := l.conns[i]
	switch {
	case c.req == nil:
		// Readable while idle: the server closed the connection (or sent
		// something unasked). Either way it is not reusable.
		l.closeSocket(c)
	case c.state == stWriting:
		if k := sockErr(c.fd); k != OK {
			l.fail(i, c, k, time.Now(), d)
			return
		}
		if events&(syscall.EPOLLOUT|syscall.EPOLLERR|syscall.EPOLLHUP) == 0 {
			return
		}
		if k := l.write(c, c.out); k != OK {
			l.fail(i, c, k, time.Now(), d)
		}
	case c.state == stWaiting:
		l.read(i, c, d)
	}
}

// finish reports connection i's exchange; the connection becomes idle.
func (l *Loop) finish(i int, c *loopConn, res Result, now time.Time, d Driver) {
	if c.req == nil {
		return
	}
	c.req = nil
	c.state = stIdle
	if l.co != nil {
		l.co.done(now.Sub(c.sent))
	}
	d.Done(i, res, c.sent, now)
}
