//go:build linux

package client

import (
	"syscall"
	"time"
	"unsafe"
)

// stamped is the state of a Loop's timestamped reads (batching and
// coalescing): the message header, buffer vector and control buffer of
// recvmsg.
type stamped struct {
	more bool // a read filled the buffer: collect again before sleeping
	msg  syscall.Msghdr
	iov  syscall.Iovec
	oob  [64]byte
}

// Batch switches the loop to open-model batching, for a driver that
// schedules its connections' requests (they wait between responses
// rather than send at once). Each wake-up then
//
//   - serves every parked connection whose wait ends within Window of it
//     (the first up to wakeLead early, the others up to Window early: a
//     driver sees Next called early and may send; see Driver.Next), and
//   - reads every response that arrived since the last one, timing each
//     by the kernel's receive timestamp of its last bytes
//     (SO_TIMESTAMPNS), not by when the loop got to it.
//
// Between wake-ups the loop sleeps until wakeLead before the earliest
// parked connection is due (bounded as without batching), so arriving
// responses do not wake it: a wake-up costs one trip through the
// scheduler for a whole window of requests instead of one per request and
// one per response. A response read late keeps its connection busy a
// little longer, so an open model needs about rate × Window more
// connections. Where the kernel gives no timestamp the response is timed
// when read. Call Batch before Run.
func (l *Loop) Batch() {
	l.batch, l.co, l.lead = true, nil, int64(wakeLead)
	l.stampAll()
}

// stampAll makes every read of the loop timestamped, on the sockets open
// now and on those connected later (connect).
func (l *Loop) stampAll() {
	if l.rx != nil {
		return
	}
	l.rx = &stamped{}
	for _, c := range l.conns {
		if c.fd >= 0 {
			stampReads(c.fd)
		}
	}
}

// stampReads asks the kernel to timestamp what arrives on fd.
func stampReads(fd int) {
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
}

// recv reads from fd into the loop's buffer and returns when the data
// arrived: the kernel's receive timestamp when reads are stamped
// (batching, coalescing; never later than now), otherwise now.
func (l *Loop) recv(fd int) (int, time.Time, error) {
	b := l.rx
	if b == nil {
		n, err := rawRead(fd, l.buf)
		return n, time.Now(), err
	}
	b.iov.Base = &l.buf[0]
	b.iov.SetLen(len(l.buf))
	b.msg.Iov = &b.iov
	b.msg.Iovlen = 1
	b.msg.Control = &b.oob[0]
	b.msg.SetControllen(len(b.oob))
	r, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.msg)), 0)
	now := time.Now()
	if e != 0 {
		return -1, now, e
	}
	n := int(r)
	if n == len(l.buf) {
		b.more = true
	}
	return n, b.stamp(now), nil
}

// stamp is the receive timestamp of the last read, as a time with now's
// monotonic reading shifted to it; now if there is none or it is later.
func (b *stamped) stamp(now time.Time) time.Time {
	if int(b.msg.Controllen) < syscall.CmsgSpace(int(unsafe.Sizeof(syscall.Timespec{}))) {
		return now
	}
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&b.oob[0]))
	if h.Level != syscall.SOL_SOCKET || h.Type != syscall.SO_TIMESTAMPNS {
		return now
	}
	ts := (*syscall.Timespec)(unsafe.Pointer(&b.oob[syscall.CmsgLen(0)]))
	ago := now.Sub(time.Unix(ts.Unix()))
	if ago <= 0 {
		return now
	}
	return now.Add(-ago)
}

// wakeLead is how long before the earliest parked connection is due a
// batching loop's sleep ends. A sleep overshoots by the kernel's timer
// slack (50µs for an ordinary thread) and the wake-up's own latency; a
// wake-up that ends on the due time would make that connection's request
// late by them (and its latency, counted from the due time, longer by
// them). Ending the sleep wakeLead early sends it early instead, within
// Window like every other request the wake-up serves: its latency is
// then counted from the send, the exchange itself. A wake-up later than
// wakeLead still sends late, and is counted so.
const wakeLead = 200 * time.Microsecond

// tick is the batching loop's wait. With a parked connection (wake > 0,
// unix ns) it sleeps without epoll, so that responses arriving meanwhile
// do not wake it, until wakeLead before that connection is due (bounded
// as wait's sleeps are, see waitFor), then
// collects every ready event at once; it does not sleep while a read
// left data behind. With none parked (every connection busy: the run is
// behind its schedule, or stopping) it waits as without batching, so
// that each response frees its connection for an overdue request at once.
func (l *Loop) tick(wake int64) (int, error) {
	if wake <= 0 {
		l.rx.more = false
		return l.wait(0)
	}
	if !l.rx.more {
		switch d, park := l.waitFor(wake - l.lead); {
		case park:
			return l.park(d) // a low rate: nothing to batch
		case d > 0:
			nanosleep(d)
		}
	}
	l.rx.more = false
	return epollWait(l.epfd, l.events, 0)
}

// nanosleep sleeps for d. Raw, like epollWait: the loop keeps its P; a
// signal ends the sleep early, which only makes the wake-up early.
func nanosleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	_, _, _ = syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
}
