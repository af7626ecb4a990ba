//go:build linux

package client

import (
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

func resolve(addr string) (netip.AddrPort, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap := ta.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// Len is the number of connections.
func (l *Loop) Len() int { return len(l.conns) }

// connect opens connection i's socket. With block, it waits until the
// connection is established; otherwise pending reports a connect in
// progress (completed on EPOLLOUT).
func (l *Loop) connect(i int, block bool) (pending bool, k Kind) {
	c := l.conns[i]
	typ := syscall.SOCK_STREAM | syscall.SOCK_CLOEXEC
	if !block {
		typ |= syscall.SOCK_NONBLOCK
	}
	fd, err := syscall.Socket(l.family, typ, syscall.IPPROTO_TCP)
	if err != nil {
		return false, Classify(err)
	}
	_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	if l.rx != nil {
		stampReads(fd)
	}
	if block {
		// SO_SNDTIMEO bounds a blocking connect on Linux.
		tv := syscall.NsecToTimeval(l.timeout.Nanoseconds())
		_ = syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_SNDTIMEO, &tv)
	}
	err = syscall.Connect(fd, l.sa)
	for err == syscall.EINTR && block {
		err = syscall.Connect(fd, l.sa)
	}
	if err != nil && (block || err != syscall.EINPROGRESS) {
		_ = syscall.Close(fd)
		if err == syscall.EINPROGRESS || err == syscall.EAGAIN {
			return false, Timeout
		}
		return false, Classify(err)
	}
	if block {
		if err := syscall.SetNonblock(fd, true); err != nil {
			_ = syscall.Close(fd)
			return false, Classify(err)
		}
	}
	pending = err == syscall.EINPROGRESS
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(i)}
	if pending {
		ev.Events |= syscall.EPOLLOUT
	}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		_ = syscall.Close(fd)
		return false, Classify(err)
	}
	c.fd = fd
	return pending, OK
}

func sockErr(fd int) Kind {
	v, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err != nil {
		return Classify(err)
	}
	if v != 0 {
		return Classify(syscall.Errno(v))
	}
	return OK
}

// closeSocket closes c's socket; the next request re-dials.
func (l *Loop) closeSocket(c *loopConn) {
	if c.fd >= 0 {
		_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
		_ = syscall.Close(c.fd)
	}
	c.fd = -1
	c.hdr, c.inBody = c.hdr[:0], false
}

// epollWait waits for events at most d, with epoll_pwait2's nanosecond
// timeout where the kernel has it (Linux 5.11+; epoll_pwait's milliseconds
// would make parked connections wake up to 1 ms late), and without the
// runtime's system-call hand-off: the loop keeps its P while the kernel
// waits (at most maxWait, or until a signal such as the runtime's
// preemption interrupts it). Handing the P over on every wait costs more
// CPU than the exchange itself: measured about 15 % fewer requests per
// CPU-second with syscall.EpollWait. Run yields the P every millisecond.
func epollWait(epfd int, events []syscall.EpollEvent, d time.Duration) (int, error) {
	if !noPwait2.Load() {
		ts := syscall.NsecToTimespec(int64(d))
		r, _, e := syscall.RawSyscall6(sysEpollPwait2, uintptr(epfd),
			uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
		if e != syscall.ENOSYS {
			if e != 0 {
				return 0, e
			}
			return int(r), nil
		}
		noPwait2.Store(true)
	}
	msec := int((d + time.Millisecond - 1) / time.Millisecond)
	r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd),
		uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), uintptr(msec), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// sysEpollPwait2 is epoll_pwait2's number, the same on every Linux
// architecture (the syscall package predates it).
const sysEpollPwait2 = 441

// noPwait2 is set once the kernel answered ENOSYS to epoll_pwait2.
var noPwait2 atomic.Bool

// rawWrite and rawRead are write(2) and read(2) on a non-blocking socket
// without the runtime's system-call bookkeeping (entersyscall and
// exitsyscall, which let another goroutine take the P while a call
// blocks): they never block, and the loop keeps its P anyway (see
// epollWait). The bookkeeping was a measurable part of the loop's
// user-space time per request.
func rawWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

func rawRead(fd int, p []byte) (int, error) {
	r, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}
