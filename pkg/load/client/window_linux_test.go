//go:build linux

package client

import (
	"slices"
	"testing"
	"time"
)

// staggered is a Driver that parks connection i until base + i·step after
// the first turn, then sends one request on it and retires it. It keeps
// when each connection was due and when the loop served it.
type staggered struct {
	req        *Request
	base, step time.Duration
	due        []time.Time
	served     []time.Time
	done       []int
	bad        []Result
}

func (s *staggered) Next(i int, now time.Time) Step {
	switch {
	case s.due[i].IsZero():
		w := s.base + time.Duration(i)*s.step
		s.due[i] = now.Add(w)
		return Step{Wait: w}
	case s.served[i].IsZero():
		s.served[i] = now
		return Step{Req: s.req}
	}
	return Step{}
}

func (s *staggered) Done(i int, res Result, _, _ time.Time) {
	s.done[i]++
	if res.Kind != OK || res.Status != 200 {
		s.bad = append(s.bad, res)
	}
}

// batchingLoop is a batching Loop of n dialled connections to a server
// that answers every request "200 ok", and a keep-alive GET of that
// server.
func batchingLoop(t *testing.T, n int) (*Loop, *Request) {
	t.Helper()
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	addr := scripted(t, []string{resp}, 1<<20)
	l, err := NewLoop(Endpoint{Addr: addr}, n, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	l.Dial()
	l.Batch()
	return l, NewRequest(Spec{Method: "GET", URL: "http://" + addr + "/", KeepAlive: true})
}

// TestLoopBatchesWakeUps: connections parked until times a quarter of the
// window apart are served by as few wake-ups as the window allows — every
// connection due within Window of a wake-up is served by it, with the
// same send time — and none is served earlier than Window before its
// time. Each request gets exactly one outcome.
func TestLoopBatchesWakeUps(t *testing.T) {
	const n = 12
	l, req := batchingLoop(t, n)
	d := &staggered{req: req,
		base: 5 * time.Millisecond, step: Window / 4,
		due: make([]time.Time, n), served: make([]time.Time, n), done: make([]int, n)}
	l.Run(make(chan struct{}), time.Time{}, d)
	for i := range n {
		if d.done[i] != 1 {
			t.Errorf("connection %d: %d outcomes, want 1", i, d.done[i])
		}
		if early := d.due[i].Sub(d.served[i]); early > Window {
			t.Errorf("connection %d served %v before its time, more than the %v window", i, early, Window)
		}
	}
	if len(d.bad) > 0 {
		t.Errorf("failed exchanges: %+v", d.bad)
	}
	// A wake-up that served a connection on time (or late) served with it
	// every connection due within the window after it.
	wakeups := map[time.Time]bool{}
	for i := range n {
		wakeups[d.served[i]] = true
		if d.served[i].Before(d.due[i]) {
			continue
		}
		for j := range n {
			if !d.due[j].After(d.served[i].Add(Window)) && d.served[j].After(d.served[i]) {
				t.Errorf("connection %d (due %v after %d was served) served %v after it, want the same wake-up",
					j, d.due[j].Sub(d.served[i]), i, d.served[j].Sub(d.served[i]))
			}
		}
	}
	// Due 0, 0.25, …, 2.75 ms: windows from 0, 1.25 and 2.5 ms cover them
	// all; a late wake-up covers more, never fewer.
	if len(wakeups) > 3 {
		t.Errorf("%d connections served in %d wake-ups, want at most 3", n, len(wakeups))
	}
}

// paced is a Driver that sends n requests over its connections, each
// connection waiting gap before each request. It keeps, in slices made up
// front (it allocates nothing per request), each outcome's send and done
// times and when Done was called.
type paced struct {
	req            *Request
	gap            time.Duration
	n, sent, ok    int
	waited         []bool
	sentAt, doneAt []time.Time
	calledAt       []time.Time
	failed         int
	greedy         bool // no waits: every free connection sends at once (a closed model)
}

// newPaced paces n requests over conns connections, each waiting gap
// before each request. Connection 0 only ever waits, so that one
// connection is always parked: with every connection busy a batching loop
// waits for the responses themselves (see Loop.tick), and connections that
// fall into one batch would otherwise all be busy at once now and then.
func newPaced(req *Request, conns, n int, gap time.Duration) *paced {
	return &paced{req: req, gap: gap, n: n, waited: make([]bool, conns),
		sentAt: make([]time.Time, n), doneAt: make([]time.Time, n), calledAt: make([]time.Time, n)}
}

func (p *paced) Next(i int, _ time.Time) Step {
	if p.sent == p.n {
		return Step{}
	}
	if p.greedy {
		p.sent++
		return Step{Req: p.req}
	}
	if !p.waited[i] || i == 0 { // connection 0 only waits: see newPaced
		p.waited[i] = true
		return Step{Wait: p.gap}
	}
	p.waited[i] = false
	p.sent++
	return Step{Req: p.req}
}

func (p *paced) Done(_ int, res Result, sent, done time.Time) {
	if res.Kind != OK || res.Status != 200 || p.ok == p.n {
		p.failed++
		return
	}
	p.sentAt[p.ok], p.doneAt[p.ok], p.calledAt[p.ok] = sent, done, time.Now()
	p.ok++
}

// TestBatchedLoopTimesArrivals: a batching loop reads responses at its
// wake-ups, not as they arrive, and times each by when it arrived (the
// kernel's receive timestamp): never before its send, never after it was
// read, and for most well before the read, since the loop slept through
// the arrival. Every request gets exactly one outcome, and the batching
// path allocates nothing per request.
func TestBatchedLoopTimesArrivals(t *testing.T) {
	srv, ep := cannedEndpoint(t)
	req := NewRequest(Spec{Method: "GET", URL: srv.URL() + "/ping", KeepAlive: true})
	run := func(n int) *paced {
		l, err := NewLoop(ep, 17, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		l.Dial()
		l.Batch()
		p := newPaced(req, 17, n, 3*Window)
		l.Run(make(chan struct{}), time.Time{}, p)
		return p
	}
	p := run(400)
	if p.ok != 400 || p.failed != 0 {
		t.Fatalf("%d outcomes OK and %d failed, want 400 and 0", p.ok, p.failed)
	}
	slept := 0
	for k := range p.ok {
		if p.doneAt[k].Before(p.sentAt[k]) || p.doneAt[k].After(p.calledAt[k]) {
			t.Fatalf("outcome %d: done %v after the send, Done called %v after it: want the arrival between the send and the read",
				k, p.doneAt[k].Sub(p.sentAt[k]), p.calledAt[k].Sub(p.sentAt[k]))
		}
		if p.calledAt[k].Sub(p.doneAt[k]) > 100*time.Microsecond {
			slept++
		}
	}
	if slept < p.ok/2 {
		t.Errorf("only %d of %d responses were read more than 100 µs after they arrived: the loop does not sleep through arrivals, or does not time them by the kernel's timestamp", slept, p.ok)
	}
	small := testing.AllocsPerRun(1, func() { run(200) })
	big := testing.AllocsPerRun(1, func() { run(2200) })
	if per := (big - small) / 2000; per >= 0.01 {
		t.Errorf("%.3f allocations per request on the batching path (%.0f for 200, %.0f for 2,200), want 0", per, small, big)
	}
}

// ahead is a Driver of one connection that waits gap before each of n
// requests and keeps, for each, how far from its due time the loop asked
// for it (negative: early).
type ahead struct {
	req     *Request
	gap     time.Duration
	due     time.Time
	waiting bool
	off     []time.Duration
	n       int
}

func (a *ahead) Next(_ int, now time.Time) Step {
	if len(a.off) == a.n {
		return Step{}
	}
	if !a.waiting {
		a.waiting, a.due = true, now.Add(a.gap)
		return Step{Wait: a.gap}
	}
	a.waiting = false
	a.off = append(a.off, now.Sub(a.due))
	return Step{Req: a.req}
}

func (a *ahead) Done(int, Result, time.Time, time.Time) {}

// TestBatchedWakeUpsEndAheadOfTheDueTime: a batching loop ends its sleep
// wakeLead before the earliest parked connection is due, so that the
// kernel's timer slack and the wake-up's latency do not make the request
// late. A connection alone, waking once per request, is asked for its
// requests about wakeLead earlier than by the same loop without the lead,
// some of them before they are due and never more than Window before.
// How late a wake-up is depends on the machine and the hour (a virtual
// machine's host can add hundreds of microseconds), so the test compares,
// round by round, with a loop that has no lead, not with the due time
// alone.
func TestBatchedWakeUpsEndAheadOfTheDueTime(t *testing.T) {
	const rounds, n = 6, 50
	var with, without []time.Duration
	for range rounds {
		for _, lead := range []bool{true, false} {
			l, req := batchingLoop(t, 1)
			offs := &with
			if !lead {
				l.lead, offs = 0, &without
			}
			a := &ahead{req: req, gap: 2 * time.Millisecond, n: n}
			l.Run(make(chan struct{}), time.Time{}, a)
			if len(a.off) != n {
				t.Fatalf("%d requests asked for, want %d", len(a.off), n)
			}
			*offs = append(*offs, a.off...)
		}
	}
	early := 0
	for k, off := range with {
		if off < -Window {
			t.Errorf("request %d asked for %v before it was due, more than the %v window", k, -off, Window)
		}
		if off < 0 {
			early++
		}
	}
	// A wake-up within the lead serves the connection then (expire), not
	// when it is due: some requests are asked for early.
	if early < len(with)/20 {
		t.Errorf("%d of %d requests asked for before their due time, want at least a twentieth: a wake-up within the lead does not serve the connection", early, len(with))
	}
	for k, off := range without {
		if off < 0 {
			t.Errorf("without the lead, request %d asked for %v before it was due", k, -off)
		}
	}
	mw, mo := median(with), median(without)
	t.Logf("median offset from the due time: %v with the lead, %v without", mw, mo)
	if gain := mo - mw; gain < wakeLead/2 {
		t.Errorf("the lead moved the median request %v earlier (%v with it, %v without), want at least %v of its %v: the loop's sleep does not end ahead of the due time", gain, mw, mo, wakeLead/2, wakeLead)
	}
}

// median is the middle of ds (ds is sorted).
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}
