//go:build linux

package client

import (
	"io"
	"net"
	"testing"
	"time"
)

// busyDriver sends one request on connection 0 and, until stop, request
// after request on the others; it keeps connection 0's outcome.
type busyDriver struct {
	req   *Request
	stop  time.Time
	sent0 bool
	first Result
	took  time.Duration
	other int
}

func (b *busyDriver) Next(i int, now time.Time) Step {
	switch {
	case i == 0 && !b.sent0:
		b.sent0 = true
		return Step{Req: b.req}
	case i > 0 && now.Before(b.stop):
		return Step{Req: b.req}
	}
	return Step{}
}

func (b *busyDriver) Done(i int, res Result, sent, done time.Time) {
	if i == 0 {
		b.first, b.took = res, done.Sub(sent)
		return
	}
	b.other++
}

// TestLoopTimesOutWhileBusy: a request that gets no answer times out on
// time while the loop's other connections keep exchanging (the loop
// looks for expired exchanges only when one may be due, not every round).
func TestLoopTimesOutWhileBusy(t *testing.T) {
	answers := make([]string, 100_000)
	for i := range answers {
		answers[i] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	}
	addr := serveConns(t, func(n int, c net.Conn) {
		if n > 0 {
			serveScript(c, answers, 1<<20)
			return
		}
		// the loop dials connection 0 first: never answer it
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.Copy(io.Discard, c)
	})
	const timeout = 150 * time.Millisecond
	l, err := NewLoop(Endpoint{Addr: addr}, 3, timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Dial()
	d := &busyDriver{req: NewRequest(Spec{Method: "GET", URL: "http://" + addr + "/", KeepAlive: true}),
		stop: time.Now().Add(time.Second)}
	l.Run(make(chan struct{}), time.Now().Add(3*time.Second), d)
	if d.first.Kind != Timeout || d.took < timeout || d.took > timeout+100*time.Millisecond {
		t.Errorf("the unanswered request ended %v after its send as %v, want a timeout after %v (within 100 ms)", d.took, d.first.Kind, timeout)
	}
	if d.other < 100 {
		t.Errorf("%d exchanges on the other connections, want the loop busy (at least 100)", d.other)
	}
}
