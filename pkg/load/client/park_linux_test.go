//go:build linux

package client

import (
	"io"
	"net"
	"testing"
	"time"
)

// lowRate is a Driver for a loop at a low rate: connection 0 waits rest
// before each of its turns and never sends, so that the loop always has a
// connection parked far away and parks itself; connection 1 sends one
// request at once, then retires. It keeps connection 1's outcome.
type lowRate struct {
	req    *Request
	rest   time.Duration
	rests  int // connection 0's waits before it retires
	sent   bool
	res    Result
	took   time.Duration
	doneAt time.Time
}

func (d *lowRate) Next(i int, _ time.Time) Step {
	switch {
	case i == 0 && d.rests > 0:
		d.rests--
		return Step{Wait: d.rest}
	case i == 1 && !d.sent:
		d.sent = true
		return Step{Req: d.req}
	}
	return Step{}
}

func (d *lowRate) Done(_ int, res Result, sent, done time.Time) {
	d.res, d.took, d.doneAt = res, done.Sub(sent), time.Now()
}

// parkedLoop is a loop of two connections to addr that parks, as a
// loop at a low rate does (see parker).
func parkedLoop(t *testing.T, addr string, timeout time.Duration) *Loop {
	t.Helper()
	l, err := NewLoop(Endpoint{Addr: addr}, 2, timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	l.Dial()
	return l
}

// TestParkedLoopReadsResponsesAtOnce: while the loop is parked in the
// runtime's poller (a connection waits seconds for its turn), a response
// on another connection wakes it at once, not at the end of the parked
// wait, and a stop ends the run at once.
func TestParkedLoopReadsResponsesAtOnce(t *testing.T) {
	addr := scripted(t, []string{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}, 1<<20)
	l := parkedLoop(t, addr, 5*time.Second)
	d := &lowRate{req: NewRequest(Spec{Method: "GET", URL: "http://" + addr + "/", KeepAlive: true}),
		rest: 10 * time.Second, rests: 1}
	stop := make(chan struct{})
	stopAt := make(chan time.Time, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		stopAt <- time.Now()
		close(stop)
	}()
	l.Run(stop, time.Time{}, d)
	ended := time.Now()
	if d.res.Kind != OK || d.res.Status != 200 {
		t.Fatalf("the request ended as %+v, want 200", d.res)
	}
	if d.took > 100*time.Millisecond {
		t.Errorf("the response was read %v after its send, want at once (the parked wait is %v)", d.took, parkMax)
	}
	if late := ended.Sub(<-stopAt); late > 100*time.Millisecond {
		t.Errorf("the run ended %v after its stop, want at once", late)
	}
	if l.idle.f == nil || l.idle.off {
		t.Error("the loop never parked in the runtime's poller")
	}
}

// TestParkedLoopTimesOutOnTime: a request with no answer times out at its
// deadline while the loop is parked, not at the end of the parked wait.
func TestParkedLoopTimesOutOnTime(t *testing.T) {
	addr := serveConns(t, func(_ int, c net.Conn) {
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.Copy(io.Discard, c)
	})
	const timeout = 150 * time.Millisecond
	l := parkedLoop(t, addr, timeout)
	d := &lowRate{req: NewRequest(Spec{Method: "GET", URL: "http://" + addr + "/", KeepAlive: true}),
		rest: 2 * time.Second, rests: 1}
	l.Run(make(chan struct{}), time.Time{}, d)
	if d.res.Kind != Timeout || d.took < timeout || d.took > timeout+100*time.Millisecond {
		t.Errorf("the unanswered request ended %v after its send as %v, want a timeout after %v (within 100 ms)", d.took, d.res.Kind, timeout)
	}
}
