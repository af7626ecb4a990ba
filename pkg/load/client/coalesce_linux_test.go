//go:build linux

package client

import (
	"bufio"
	"math"
	"net"
	"testing"
	"time"
)

// TestCoalescerKeepsOnlyWhatCostsNoRate: the loop coalesces only after a
// probe whose slices with coalescing completed at least coKeepShare of the
// exchanges its slices without it did (the slices alternate); a probe that
// shows a cost, or too few exchanges to compare, stops coalescing for a
// backoff that doubles up to coBackoffMax, and a probe that passes starts
// it again.
func TestCoalescerKeepsOnlyWhatCostsNoRate(t *testing.T) {
	c := &coalescer{backoff: coBackoff}
	ns := int64(1_000_000_000)
	c.avg = 400 * time.Microsecond
	c.advance(ns)
	step := func(count int, d time.Duration) {
		t.Helper()
		c.count = count
		ns += int64(d)
		c.advance(ns)
	}
	expect := func(what string, p coPhase, window time.Duration, until time.Duration) {
		t.Helper()
		if c.phase != p || c.window() != window || c.until != ns+int64(until) {
			t.Fatalf("%s: phase %d, window %v, for %v; want phase %d, window %v, for %v",
				what, c.phase, c.window(), time.Duration(c.until-ns), p, window, until)
		}
	}
	// probe runs a whole probe: off and on exchanges in all, half in each
	// slice, checking that the slices alternate without and with
	probe := func(off, on int) {
		t.Helper()
		for k := range coSlices {
			w := time.Duration(0)
			n := off / 2
			if k%2 == 1 {
				w, n = coWindowMax, on/2
			}
			expect("a probe's slice", coProbing, w, coSlice)
			step(n, coSlice)
		}
	}
	probe(1000, 976)
	expect("a probe with 2.4 % fewer", coKeepOn, coWindowMax, coKeep)
	step(40000, coKeep)
	probe(1000, 960)
	expect("a probe with 4 % fewer", coKeepOff, 0, coBackoff)
	for _, want := range []time.Duration{2 * coBackoff, 4 * coBackoff, coBackoffMax, coBackoffMax} {
		step(0, time.Duration(c.until-ns))
		probe(1000, 900)
		expect("another probe with fewer", coKeepOff, 0, want)
	}
	step(0, coBackoffMax)
	probe(1000, 1100)
	expect("a probe that passes again", coKeepOn, coWindowMax, coKeep)
	if c.backoff != coBackoff {
		t.Errorf("backoff after a passing probe %v, want %v", c.backoff, coBackoff)
	}
	step(0, coKeep)
	probe(coMinCount-2, coMinCount)
	expect("too few exchanges to compare", coKeepOff, 0, coBackoff)
	// a slice is scaled to its length: twice as long, twice the count
	step(0, coBackoff)
	for k := range coSlices {
		n, d := 250, coSlice
		if k == 0 {
			n, d = 500, 2*coSlice
		}
		step(n, d)
	}
	expect("a long first slice", coKeepOn, coWindowMax, coKeep)

	// The window is half the mean exchange, at most coWindowMax; one too
	// short to be worth a sleep is none, and a window that collected
	// nothing makes the next wait an ordinary one.
	c.phase = coKeepOn
	for _, tc := range []struct{ avg, want time.Duration }{
		{time.Millisecond, coWindowMax}, {120 * time.Microsecond, 60 * time.Microsecond}, {2*coWindowMin - 1, 0},
	} {
		c.avg = tc.avg
		if got := c.window(); got != tc.want {
			t.Errorf("window for a mean exchange of %v: %v, want %v", tc.avg, got, tc.want)
		}
	}
	c.avg, c.empty = time.Millisecond, true
	if w1, w2 := c.window(), c.window(); w1 != 0 || w2 != coWindowMax {
		t.Errorf("windows after one that collected nothing: %v then %v, want 0 then %v", w1, w2, coWindowMax)
	}
}

// delayed starts a server that answers each request after delay.
func delayed(t *testing.T, delay time.Duration) string {
	t.Helper()
	return serveConns(t, func(_ int, c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		for readHead(br) {
			time.Sleep(delay)
			if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")); err != nil {
				return
			}
		}
	})
}

// coalescing makes a loop of conns connections to addr that coalesces
// from its start, whatever its probes would find.
func coalescing(t *testing.T, addr string, conns int) *Loop {
	t.Helper()
	l, err := NewLoop(Endpoint{Addr: addr}, conns, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	if l.co == nil || l.rx == nil {
		t.Fatalf("a loop of %d connections does not coalesce", conns)
	}
	l.co.phase, l.co.from, l.co.until = coKeepOn, 1, math.MaxInt64
	l.Dial()
	return l
}

// TestCoalescedLoopTimesArrivals: a closed loop that coalesces reads
// responses at the end of its window, not as they arrive, and times each
// by when it arrived (the kernel's receive timestamp): never before its
// send, never after it was read, and for many well before the read.
// Every request gets exactly one outcome.
func TestCoalescedLoopTimesArrivals(t *testing.T) {
	addr := delayed(t, time.Millisecond)
	l := coalescing(t, addr, 16)
	req := NewRequest(Spec{Method: "GET", URL: "http://" + addr + "/", KeepAlive: true})
	p := newPaced(req, 16, 800, 0)
	p.greedy = true
	l.Run(make(chan struct{}), time.Time{}, p)
	if p.ok != 800 || p.failed != 0 {
		t.Fatalf("%d outcomes OK and %d failed, want 800 and 0", p.ok, p.failed)
	}
	if l.co.sleeps == 0 {
		t.Fatal("the loop never slept for a window")
	}
	held := 0
	for k := range p.ok {
		if p.doneAt[k].Before(p.sentAt[k]) || p.doneAt[k].After(p.calledAt[k]) {
			t.Fatalf("outcome %d: done %v after the send, Done called %v after it: want the arrival between the send and the read",
				k, p.doneAt[k].Sub(p.sentAt[k]), p.calledAt[k].Sub(p.sentAt[k]))
		}
		if p.doneAt[k].Sub(p.sentAt[k]) < time.Millisecond {
			t.Fatalf("outcome %d took %v, less than the server's 1 ms", k, p.doneAt[k].Sub(p.sentAt[k]))
		}
		if p.calledAt[k].Sub(p.doneAt[k]) > coWindowMax/4 {
			held++
		}
	}
	if held < p.ok/4 {
		t.Errorf("only %d of %d responses were read more than %v after they arrived: the loop does not sleep through arrivals, or does not time them by the kernel's timestamp", held, p.ok, coWindowMax/4)
	}
}

// TestCoalescedLoopStallDoesNotSpin: while responses do not come (a
// stalled target), a coalescing loop waits in epoll after a window that
// collected nothing, instead of waking every window.
func TestCoalescedLoopStallDoesNotSpin(t *testing.T) {
	const stall, rounds = 30 * time.Millisecond, 4
	addr := delayed(t, stall)
	l := coalescing(t, addr, 8)
	req := NewRequest(Spec{Method: "GET", URL: "http://" + addr + "/", KeepAlive: true})
	p := newPaced(req, 8, 8*rounds, 0)
	p.greedy = true
	l.Run(make(chan struct{}), time.Time{}, p)
	if p.ok != 8*rounds || p.failed != 0 {
		t.Fatalf("%d outcomes OK and %d failed, want %d and 0", p.ok, p.failed, 8*rounds)
	}
	// each stall: a window, then a wait of up to maxWait, again and again
	perStall := int(stall/maxWait) + 3
	if l.co.sleeps > rounds*perStall {
		t.Errorf("%d window sleeps over %d stalls of %v, want at most %d: the loop wakes every window while nothing arrives",
			l.co.sleeps, rounds, stall, rounds*perStall)
	}
}

// TestCoalescedLoopAllocatesNothing: the coalescing path allocates nothing
// per request.
func TestCoalescedLoopAllocatesNothing(t *testing.T) {
	srv, ep := cannedEndpoint(t)
	req := NewRequest(Spec{Method: "GET", URL: srv.URL() + "/ping", KeepAlive: true})
	run := func(n int) {
		l := coalescing(t, ep.Addr, 16)
		p := newPaced(req, 16, n, 0)
		p.greedy = true
		l.Run(make(chan struct{}), time.Time{}, p)
		if p.ok != n {
			t.Fatalf("%d of %d requests OK", p.ok, n)
		}
	}
	small := testing.AllocsPerRun(1, func() { run(200) })
	big := testing.AllocsPerRun(1, func() { run(2200) })
	if per := (big - small) / 2000; per >= 0.01 {
		t.Errorf("%.3f allocations per request on the coalescing path (%.0f for 200, %.0f for 2,200), want 0", per, small, big)
	}
}
