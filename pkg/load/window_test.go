package load

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/load/client"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// windowDriver is the driver of a one-lane constant-rate run of 1,000/s
// (ticket n is due n ms after start), with the given batching window, on
// a lane of conns connections; no socket is opened.
func windowDriver(t *testing.T, window time.Duration, conns int) (*driver, *lane, time.Time) {
	t.Helper()
	s := testSpec("http://127.0.0.1:9/ping", spec.Load{Model: spec.ModelConstantRate, Rate: 1000, Duration: spec.D(time.Second)})
	r, err := newRun(Plan{Spec: s, Share: plan.Share{Of: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ln := &lane{}
	ln.cur.Store(r.newRunSlot())
	r.lanes = append(r.lanes, ln)
	r.laneReqs = append(r.laneReqs, r.reqs.forLane("w0", 1))
	start := time.Now()
	d := r.newDriver(0, 0, conns, start, start.Add(time.Second))
	d.window = window
	return d, ln, start
}

// TestBatchWindowTiming is what a batching window may and may not change,
// at exact synthetic times (ticket n due at n ms, window 1 ms):
//
//   - a ticket due within the window of a wake-up is sent at that wake-up
//     (early), one due later waits exactly until it is due;
//   - latency counts from the due time, or from the send when the window
//     sent it early: never less than the exchange itself took;
//   - a ticket sent more than LateThreshold after it was due is counted
//     late, and its latency includes the wait;
//   - without a window (0) nothing is sent before it is due.
func TestBatchWindowTiming(t *testing.T) {
	ms := time.Millisecond
	type turn struct {
		conn       int
		at         time.Duration // Next's now, from start
		wantSend   bool
		wantWait   time.Duration // when not sent
		done       time.Duration // when sent: the outcome's time, from start
		wantLatUs  int64         // when sent
		wantLate   bool
		wantSvcUs  int64
		wantTicket int64
	}
	cases := []struct {
		name   string
		window time.Duration
		turns  []turn
	}{{
		name: "window 1ms", window: ms,
		turns: []turn{
			{conn: 0, at: 0, wantSend: true, done: 300 * time.Microsecond, wantLatUs: 300, wantSvcUs: 300, wantTicket: 0},
			// due at 1 ms, within the window of a wake-up at 0: sent early,
			// latency from the send (400 µs), not from the due time (-600)
			{conn: 1, at: 0, wantSend: true, done: 400 * time.Microsecond, wantLatUs: 400, wantSvcUs: 400, wantTicket: 1},
			// due at 2 ms: outside the window, waits exactly 2 ms
			{conn: 2, at: 0, wantWait: 2 * ms},
			// asked 0.5 ms before: within the window, sent early
			{conn: 2, at: 1500 * time.Microsecond, wantSend: true, done: 2500 * time.Microsecond, wantLatUs: 1000, wantSvcUs: 1000, wantTicket: 2},
			// due at 3 ms, sent at 5.5 ms: late, latency from the due time
			{conn: 3, at: 5500 * time.Microsecond, wantSend: true, done: 6 * ms, wantLatUs: 3000, wantLate: true, wantSvcUs: 500, wantTicket: 3},
			// due at 4 ms, sent at 4.9 ms: behind, but within LateThreshold
			{conn: 0, at: 4900 * time.Microsecond, wantSend: true, done: 5 * ms, wantLatUs: 1000, wantSvcUs: 100, wantTicket: 4},
		},
	}, {
		name: "no window",
		turns: []turn{
			{conn: 0, at: 0, wantSend: true, done: 200 * time.Microsecond, wantLatUs: 200, wantSvcUs: 200, wantTicket: 0},
			{conn: 1, at: 0, wantWait: ms},
			{conn: 1, at: 999 * time.Microsecond, wantWait: time.Microsecond},
			{conn: 1, at: ms, wantSend: true, done: 1100 * time.Microsecond, wantLatUs: 100, wantSvcUs: 100, wantTicket: 1},
			// claimed on time (due at 2 ms), but the transport came back
			// 2 ms behind: sent late, counted late, latency from the due time
			{conn: 2, at: 0, wantWait: 2 * ms},
			{conn: 2, at: 4 * ms, wantSend: true, done: 4200 * time.Microsecond, wantLatUs: 2200, wantLate: true, wantSvcUs: 200, wantTicket: 2},
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, ln, start := windowDriver(t, tc.window, 4)
			var late, sent int64
			for k, tn := range tc.turns {
				now := start.Add(tn.at)
				st := d.Next(tn.conn, now)
				if !tn.wantSend {
					if st.Req != nil || st.Wait != tn.wantWait {
						t.Fatalf("turn %d: Next = %+v, want a wait of %v", k, st, tn.wantWait)
					}
					continue
				}
				if st.Req == nil {
					t.Fatalf("turn %d: Next = %+v, want a request", k, st)
				}
				if got := d.conns[tn.conn].n; got != tn.wantTicket {
					t.Errorf("turn %d: ticket %d sent, want %d", k, got, tn.wantTicket)
				}
				s := ln.cur.Load()
				s.lat.Reset()
				s.svc.Reset()
				d.Done(tn.conn, client.Result{Status: 200}, now, start.Add(tn.done))
				sent++
				if tn.wantLate {
					late++
				}
				if s.lat.Count() != 1 || s.lat.Max() != recorded(tn.wantLatUs) {
					t.Errorf("turn %d: latency %d µs (count %d), want %d µs", k, s.lat.Max(), s.lat.Count(), tn.wantLatUs)
				}
				if s.svc.Max() != recorded(tn.wantSvcUs) {
					t.Errorf("turn %d: service time %d µs, want %d µs", k, s.svc.Max(), tn.wantSvcUs)
				}
				if s.late != late || s.requests != sent {
					t.Errorf("turn %d: late %d of %d requests, want %d of %d", k, s.late, s.requests, late, sent)
				}
			}
		})
	}
}

// recorded is how a histogram reports a single value of us µs (its
// bucket's highest equivalent value).
func recorded(us int64) int64 {
	h := hist.New()
	h.RecordMicros(us)
	return h.Max()
}
