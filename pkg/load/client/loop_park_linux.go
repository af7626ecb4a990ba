package client

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// parkMax bounds one parked wait (see parker).
const parkMax = time.Second

// parker waits out the loop's long waits — nothing due for more than
// idleAfter: a low rate — parked in the runtime's network poller, where
// the loop's epoll instance is registered like a socket, instead of in a
// raw epoll_pwait that keeps the P. A P held in the kernel that long looks
// to the runtime like a goroutine that will not yield: its monitor
// preempts it by signal every 10 ms and, busy with it, polls every few
// tens of microseconds instead of backing off. At 10 req/s those wake-ups
// were most of a worker's CPU (docs/scale.md, "Workers at rest"). Parked,
// the goroutine holds no P, and the wait lasts until a millisecond before
// the next thing due (a parked connection's wake-up or an exchange's
// deadline), an event, or a stop, which wakes it at once: at 10 req/s the
// loop wakes a few times per request instead of every few milliseconds.
// The poller is set up on the first long wait, so a loop that never waits
// long never pays for it.
type parker struct {
	f    *os.File // a duplicate of the loop's epoll descriptor, in the poller
	rc   syscall.RawConn
	off  bool            // the poller refused the descriptor: wait raw
	stop <-chan struct{} // Run's stop
	done chan struct{}   // closed when Run returns: ends the stop watch
}

// park waits for events for at most d, parked.
func (l *Loop) park(d time.Duration) (int, error) {
	p := &l.idle
	if p.rc == nil && !p.off && !p.setUp(l.epfd) {
		p.off = true
	}
	if p.off || p.f.SetReadDeadline(time.Now().Add(d)) != nil {
		return epollWait(l.epfd, l.events, min(d, idleWait))
	}
	if stopped(p.stop) { // closed before the deadline was set: the watch may have passed
		return 0, nil
	}
	l.parked = true
	var n int
	var werr error
	err := p.rc.Read(func(uintptr) bool {
		n, werr = epollWait(l.epfd, l.events, 0)
		return n > 0 || (werr != nil && !errors.Is(werr, syscall.EINTR))
	})
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, nil
	case err != nil:
		return 0, err
	}
	return n, werr
}

// setUp registers a duplicate of epfd (the same epoll instance) with the
// runtime's poller, and starts the watch that ends a parked wait when the
// run is stopped; false if the poller refused it. The duplicate is the
// poller's to close; the loop keeps closing its own.
func (p *parker) setUp(epfd int) bool {
	dup, err := syscall.Dup(epfd)
	if err != nil {
		return false
	}
	syscall.CloseOnExec(dup)
	if err := syscall.SetNonblock(dup, true); err != nil {
		_ = syscall.Close(dup)
		return false
	}
	f := os.NewFile(uintptr(dup), "epoll")
	rc, err := f.SyscallConn()
	if err != nil || f.SetReadDeadline(time.Time{}) != nil {
		_ = f.Close()
		return false
	}
	p.f, p.rc, p.done = f, rc, make(chan struct{})
	go func() {
		select {
		case <-p.stop:
			_ = f.SetReadDeadline(time.Unix(1, 0))
		case <-p.done:
		}
	}()
	return true
}

// ran ends the stop watch, once Run returns.
func (p *parker) ran() {
	if p.done != nil {
		close(p.done)
		p.done = nil
	}
}

// close unregisters and closes the duplicate, if there is one.
func (p *parker) close() {
	p.ran()
	if p.f != nil {
		_ = p.f.Close()
		p.f, p.rc = nil, nil
	}
}
