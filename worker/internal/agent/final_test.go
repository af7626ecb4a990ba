package agent

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/twintest"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/load"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// The final report is one coordination request, a multi that writes
// metrics/<worker> and creates done/<worker> with the same report: with
// thousands of workers ending in the same instant, each
// request more per worker queues thousands on ZooKeeper. A run too short
// for any periodic report (no metrics node yet) still ends with both nodes
// holding the final report.
func TestFinalReportIsOneRequest(t *testing.T) {
	for _, c := range []struct {
		duration string
		periodic bool // the run is long enough for periodic reports
	}{{"2500ms", true}, {"300ms", false}} {
		t.Run(c.duration, func(t *testing.T) {
			l, srv := newLeader(t)
			ts, _ := target(t)
			startAgent(t, srv, Config{ID: "w1"})
			id := l.plan(`{"request":{"url":"`+ts.URL+`/"},"load":{"model":"constant-rate","rate":20,"duration":"`+c.duration+`"}}`, "w1")
			l.vote(id, "w1")
			srv.Record()
			l.open(id, []string{"w1"}, 200*time.Millisecond)
			final := l.final(id, "w1", 15*time.Second)
			if final.State != report.StateDone {
				t.Fatalf("done/w1 holds a report in state %s", final.State)
			}
			ctx := context.Background()
			md, _, err := l.c.Get(ctx, l.p.Metrics(id, "w1"))
			l.must(err)
			dd, _, err := l.c.Get(ctx, l.p.Done(id, "w1"))
			l.must(err)
			if !bytes.Equal(md, dd) {
				t.Errorf("metrics/w1 does not hold the final report done/w1 holds")
			}
			metrics, done := l.p.Metrics(id, "w1"), l.p.Done(id, "w1")
			var touching []coord.MemRequest
			lastPeriodic := -1
			scripted := l.c.Session().ID
			for _, r := range srv.Requests() {
				if r.Session == scripted {
					continue // the scripted leader's own reads
				}
				if slices.Contains(r.Paths, done) {
					touching = append(touching, r)
				} else if slices.Contains(r.Paths, metrics) {
					lastPeriodic = len(touching)
				}
			}
			if !c.periodic {
				if len(touching) == 0 || len(touching) > 3 || lastPeriodic >= 0 {
					t.Errorf("a run with no periodic report: requests on done/w1 %+v, one on metrics/w1 alone: %v", touching, lastPeriodic >= 0)
				}
				return
			}
			if len(touching) != 1 || touching[0].Op != "multi" || !slices.Equal(touching[0].Paths, []string{metrics, done}) ||
				!slices.Equal(touching[0].Kinds, []string{"set", "create"}) {
				t.Errorf("requests naming done/w1: %+v; want one multi setting metrics/w1 and creating done/w1", touching)
			}
		})
	}
}

// A periodic write still under way when the final report is written (the
// final report does not wait for it) cannot land over the final report:
// periodic writes go at the version of the worker's own last write, which
// the final report moved.
func TestLatePeriodicWriteCannotOverwriteTheFinalReport(t *testing.T) {
	l, srv := newLeader(t)
	l.must(l.c.EnsurePath(context.Background(), l.p.Tests()))
	id := l.plan(`{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":20,"duration":"5s"}}`, "w1")
	a := New(twintest.Dial(t, srv), Config{ID: "w1", Root: "/stampede", Logger: twintest.Quiet()})
	rep := newReporter(id, "w1", time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := newPublisher(ctx, a, id, rep, 0)
	at := func(seq int64, state string) *report.Report {
		return &report.Report{Test: id, Worker: "w1", Seq: seq, State: state}
	}
	for seq := range int64(2) {
		if err := p.periodic(ctx, at(seq, report.StateRunning)); err != nil {
			t.Fatalf("periodic report %d: %v", seq, err)
		}
	}
	p.finish(ctx, at(3, report.StateDone), time.Second)
	late := p.periodic(ctx, at(2, report.StateRunning)) // issued before the final report, landing after it
	d, _, err := l.c.Get(ctx, l.p.Metrics(id, "w1"))
	l.must(err)
	r, err := report.DecodeReport(d)
	l.must(err)
	if r.Seq != 3 || r.State != report.StateDone {
		t.Errorf("metrics/w1 holds report %d (%s) after a late periodic write (err %v), want the final report 3", r.Seq, r.State, late)
	}
}

// After its final report a worker of a large test keeps its vote and its
// running registration a while (the fleet's final reports go first; see
// afterFinal), then deletes the one and becomes idle; a worker of a small
// test does both at once.
func TestVoteAndIdleWaitForTheFleetsFinalReports(t *testing.T) {
	for _, c := range []struct {
		workers  int
		min, max time.Duration // from done/w1 until the vote is gone and w1 idle
	}{{1, 0, 300 * time.Millisecond}, {1000, 400 * time.Millisecond, 3 * time.Second}} {
		t.Run(fmt.Sprint(c.workers), func(t *testing.T) {
			l, _ := newLeader(t)
			ts, _ := target(t)
			startAgent(t, l.srv, Config{ID: "w1"})
			workers := []string{"w1"}
			for i := 2; i <= c.workers; i++ {
				workers = append(workers, fmt.Sprintf("w%d", i))
			}
			id := l.plan(`{"request":{"url":"`+ts.URL+`/"},"load":{"model":"constant-rate","rate":1000,"duration":"1s"}}`, workers...)
			l.vote(id, "w1")
			l.open(id, workers, 200*time.Millisecond)
			l.final(id, "w1", 15*time.Second)
			finalAt := time.Now() // within 20 ms of the final report
			ctx := context.Background()
			for {
				vote, _, err := l.c.Exists(ctx, l.p.Ready(id, "w1"))
				l.must(err)
				idle := l.registered("w1").State == proto.WorkerIdle
				waited := time.Since(finalAt)
				if !vote && idle {
					if waited < c.min {
						t.Errorf("vote gone and idle %v after the final report of one of %d workers, want at least %v", waited, c.workers, c.min)
					}
					return
				}
				if waited > c.max {
					t.Fatalf("%v after the final report of one of %d workers: vote still there %v, idle %v; want both done within %v", waited, c.workers, vote, idle, c.max)
				}
				if idle != !vote && waited > c.min+200*time.Millisecond {
					t.Errorf("vote there %v but idle %v %v after the final report", vote, idle, waited)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestAfterFinalGrowsWithTheFleet(t *testing.T) {
	for _, c := range []struct {
		workers  int
		u        float64
		min, max time.Duration
	}{{0, 0.5, 0, 0}, {1, 0, 500 * time.Microsecond, 500 * time.Microsecond}, {1000, 0, 500 * time.Millisecond, 500 * time.Millisecond},
		{1000, 0.99, 990 * time.Millisecond, time.Second}, {100000, 0.99, 1980 * time.Millisecond, 2 * time.Second}} {
		if d := afterFinal(c.workers, c.u); d < c.min || d > c.max {
			t.Errorf("afterFinal(%d, %v) = %v, want %v..%v", c.workers, c.u, d, c.min, c.max)
		}
	}
}

// fakeRun is an engine whose every interval holds one request and whose
// schedule ends end after its start (never, if zero).
type fakeRun struct{ end time.Duration }

func (fakeRun) Collect() load.Interval {
	return load.Interval{Latency: hist.New(), Service: hist.New(), Counters: report.Counters{Requests: 1}}
}
func (fakeRun) Skew() time.Duration        { return 0 }
func (fakeRun) Drain(int64, time.Duration) {}
func (fakeRun) Paused(int64) bool          { return false }
func (f fakeRun) PlannedEnd(startAt time.Time) time.Time {
	if f.end == 0 {
		return startAt.Add(time.Hour)
	}
	return startAt.Add(f.end)
}

// A run that ends while the timer of its last whole second is due too
// (both at once, as at every run's end) closes that second as its own
// interval, which the final report carries, and offers no report for it
// alone (it would be replaced at once); the final report is the rest.
// Whichever of the two the loop sees first.
func TestTheLastSecondRidesWithTheFinalReport(t *testing.T) {
	for range 50 {
		startAt := time.Now().Add(-1500 * time.Millisecond) // second 0 has ended, second 1 has not
		rep := newReporter("t", "w1", startAt)
		done := make(chan error, 1)
		done <- nil
		offered := 0
		if err := reportSeconds(fakeRun{}, rep, startAt, time.Second, done, func(*report.Report) { offered++ }); err != nil {
			t.Fatal(err)
		}
		final := rep.withPending(rep.interval(fakeRun{}, time.Now(), true))
		if offered != 0 || final.Seq != 1 || len(final.Recent) != 1 || final.Recent[0].Seq != 0 ||
			final.Recent[0].End != startAt.Add(time.Second).UnixNano() || final.Totals.Requests != 2 {
			t.Fatalf("offered %d reports; final report %d carrying %+v with %d requests; want none offered, final 1 carrying interval 0 (ending at 1 s), 2 requests",
				offered, final.Seq, final.Recent, final.Totals.Requests)
		}
	}
}

// The report of a run's last whole second waits for the run's end (up to
// endWait), so that the fleet sends one report each at its end, not two:
// a run that ends within endWait of that second's end offers no report
// for it, and the final report carries it as its own interval. A second
// before the planned end is offered at once, and a run that ends later
// than endWait after its last second offers that second on its own.
func TestTheLastSecondWaitsForTheRunsEnd(t *testing.T) {
	for _, c := range []struct {
		name       string
		plannedEnd time.Duration // after startAt; second 0 ends at 1 s
		endsAfter  time.Duration // the run's end, after second 0's end
		offered    int
	}{
		{"ends soon after its last second", time.Second, 200 * time.Millisecond, 0},
		{"ends later than endWait", time.Second, endWait + 300*time.Millisecond, 1},
		{"a second before the planned end", 5 * time.Second, 300 * time.Millisecond, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			startAt := time.Now().Add(-900 * time.Millisecond) // second 0 ends in 100 ms
			run := fakeRun{end: c.plannedEnd}
			rep := newReporter("t", "w1", startAt)
			done := make(chan error, 1)
			ended := make(chan time.Time, 1)
			go func() {
				time.Sleep(time.Until(startAt.Add(time.Second + c.endsAfter)))
				ended <- time.Now()
				done <- nil
			}()
			var offeredAt []time.Time
			err := reportSeconds(run, rep, startAt, time.Second, done, func(r *report.Report) {
				if r.Seq != 0 {
					t.Errorf("offered report %d, want only 0", r.Seq)
				}
				offeredAt = append(offeredAt, time.Now())
			})
			if err != nil {
				t.Fatal(err)
			}
			end := <-ended
			final := rep.withPending(rep.interval(run, time.Now(), true))
			if len(offeredAt) != c.offered {
				t.Fatalf("offered %d reports, want %d", len(offeredAt), c.offered)
			}
			if c.offered == 1 && c.plannedEnd > time.Second && !offeredAt[0].Before(end) {
				t.Errorf("second 0 offered at %v, after the run's end at %v: a second before the planned end waited", offeredAt[0], end)
			}
			if c.offered == 1 && c.plannedEnd == time.Second && offeredAt[0].Sub(startAt.Add(time.Second)) < endWait {
				t.Errorf("the last second offered %v after its end, want endWait (%v)", offeredAt[0].Sub(startAt.Add(time.Second)), endWait)
			}
			if c.offered == 0 && (final.Seq != 1 || len(final.Recent) != 1 || final.Recent[0].Seq != 0 ||
				final.Recent[0].End != startAt.Add(time.Second).UnixNano()) {
				t.Errorf("final report %d carrying %+v, want final 1 carrying interval 0 (ending at 1 s)", final.Seq, final.Recent)
			}
			if final.Totals.Requests != 2 {
				t.Errorf("final totals %d requests, want 2 (second 0 and the rest)", final.Totals.Requests)
			}
		})
	}
}

// clockRun is an engine that starts (and at once finishes) a request every
// 10 ms of its first three seconds, the first of each on its boundary, and
// none in its paused second; Collect counts those started since the last
// Collect.
type clockRun struct {
	fakeRun
	startAt time.Time
	paused  int64
	last    time.Time
}

func (c *clockRun) Paused(sec int64) bool { return sec == c.paused }

func (c *clockRun) Collect() load.Interval {
	now := time.Now()
	var n int64
	for k := range int64(300) {
		at := c.startAt.Add(time.Duration(k) * 10 * time.Millisecond)
		if k/100 != c.paused && at.After(c.last) && !at.After(now) {
			n++
		}
	}
	c.last = now
	return load.Interval{Latency: hist.New(), Service: hist.New(), Counters: report.Counters{Requests: n}}
}

// A paused second holds none of the requests that start on the boundary
// where the run resumes: its timer, which fires after that boundary and
// never before, would otherwise find the first of them already counted.
func TestAPausedSecondHoldsNoneOfTheResume(t *testing.T) {
	startAt := time.Now().Add(50 * time.Millisecond)
	run := &clockRun{startAt: startAt, paused: 1, last: startAt.Add(-time.Nanosecond)}
	rep := newReporter("t", "w1", startAt)
	done := make(chan error, 1)
	go func() {
		time.Sleep(time.Until(startAt.Add(3100 * time.Millisecond)))
		done <- nil
	}()
	var got []int64
	if err := reportSeconds(run, rep, startAt, time.Second, done, func(r *report.Report) {
		got = append(got, r.Interval.Requests)
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != 100 || got[1] != 0 || got[2] != 100 {
		t.Errorf("requests per second %v, want [100 0 100] (second 1 paused)", got)
	}
}

// The watermark is read in the middle of a second, away from the burst of
// reports at its start, at a point that differs from worker to worker, and
// never before it was asked for.
func TestAckReadsFallMidSecondSpreadByWorker(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	offsets := map[time.Duration]bool{}
	for i := range 200 {
		w := fmt.Sprintf("w%05d", i)
		for _, now := range []time.Time{start.Add(-3 * time.Second), start.Add(20 * time.Millisecond), start.Add(7*time.Second + 950*time.Millisecond)} {
			at := ackAt(start, now, w)
			if at.Before(now) || (!now.Before(start) && at.Sub(now) > time.Second+ackFrom+ackSpread) {
				t.Fatalf("%s asked at %v reads at %v", w, now.Sub(start), at.Sub(start))
			}
			off := at.Sub(start) % time.Second
			if off < ackFrom || off >= ackFrom+ackSpread {
				t.Fatalf("%s reads %v into a second, want within [%v, %v)", w, off, ackFrom, ackFrom+ackSpread)
			}
			offsets[off] = true
		}
	}
	if len(offsets) < 100 {
		t.Errorf("200 workers read at %d distinct points of the second, want them spread", len(offsets))
	}
}

// A fleet's periodic reports are spread over the start of each second, by
// worker id, in proportion to the fleet (at most reportSpreadMax); a
// worker alone barely waits.
func TestReportDelaySpreadsAFleetOverTheSecondsStart(t *testing.T) {
	if d := reportDelay("w1", 1); d >= reportSpreadPerWorker {
		t.Errorf("a worker alone waits %v, want under %v", d, reportSpreadPerWorker)
	}
	if d := reportDelay("w1", 0); d != 0 {
		t.Errorf("no fleet: %v, want 0", d)
	}
	for _, n := range []int{2000, 10000} {
		buckets := make([]int, 6) // 50 ms each
		for i := range n {
			d := reportDelay(fmt.Sprintf("sim-%05d", i), n)
			if d < 0 || d >= reportSpreadMax {
				t.Fatalf("%d workers: worker %d waits %v, want within [0, %v)", n, i, d, reportSpreadMax)
			}
			buckets[d/(50*time.Millisecond)]++
		}
		for b, c := range buckets {
			if c < n/12 {
				t.Errorf("%d workers: %d reports in %d–%d ms, want at least %d in each 50 ms: %v", n, c, 50*b, 50*(b+1), n/12, buckets)
			}
		}
	}
}

// The publisher writes a periodic report its delay after the interval's
// end, and a stop while it waits writes nothing (the final report carries
// the interval).
func TestPeriodicReportsWaitForTheirTurn(t *testing.T) {
	l, srv := newLeader(t)
	l.must(l.c.EnsurePath(context.Background(), l.p.Tests()))
	id := l.plan(`{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":20,"duration":"5s"}}`, "w1")
	a := New(twintest.Dial(t, srv), Config{ID: "w1", Root: "/stampede", Logger: twintest.Quiet()})
	ctx := context.Background()
	const delay = 300 * time.Millisecond
	p := newPublisher(ctx, a, id, newReporter(id, "w1", time.Now()), delay)
	end := time.Now()
	p.offer(&report.Report{Test: id, Worker: "w1", Seq: 0, State: report.StateRunning, IntervalEnd: end.UnixNano()})
	l.await("the periodic report", func() bool {
		ok, _, err := l.c.Exists(ctx, l.p.Metrics(id, "w1"))
		return err == nil && ok
	})
	if took := time.Since(end); took < delay {
		t.Errorf("the report was written %v after its interval's end, want at least %v", took, delay)
	}
	p.offer(&report.Report{Test: id, Worker: "w1", Seq: 1, State: report.StateRunning, IntervalEnd: time.Now().UnixNano()})
	time.Sleep(50 * time.Millisecond) // the loop waits for report 1's turn
	close(p.stop)
	<-p.done
	d, _, err := l.c.Get(ctx, l.p.Metrics(id, "w1"))
	l.must(err)
	r, err := report.DecodeReport(d)
	l.must(err)
	if r.Seq != 0 {
		t.Errorf("metrics/w1 holds report %d after a stop during report 1's wait, want report 0", r.Seq)
	}
}

// A test's first report creates its worker's metrics node in one request:
// at a fleet's first second, a set refused for want of the node and then a
// create were two requests per worker, thousands queued on ZooKeeper in the
// second the leader also starts reading every report. A node that exists
// already (an earlier process with this id) is still overwritten, and later
// reports are one set each.
func TestTheFirstReportIsOneCreate(t *testing.T) {
	for _, existing := range []bool{false, true} {
		t.Run(fmt.Sprintf("existing=%v", existing), func(t *testing.T) {
			l, srv := newLeader(t)
			ctx := context.Background()
			l.must(l.c.EnsurePath(ctx, l.p.Tests()))
			id := l.plan(`{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":20,"duration":"5s"}}`, "w1")
			metrics := l.p.Metrics(id, "w1")
			if existing {
				l.must(l.c.EnsurePath(ctx, l.p.MetricsDir(id)))
				_, err := l.c.Create(ctx, metrics, []byte("{}"), coord.Persistent)
				l.must(err)
			}
			a := New(twintest.Dial(t, srv), Config{ID: "w1", Root: "/stampede", Logger: twintest.Quiet()})
			p := newPublisher(ctx, a, id, newReporter(id, "w1", time.Now()), 0)
			srv.Record()
			for seq := range int64(2) {
				if err := p.periodic(ctx, &report.Report{Test: id, Worker: "w1", Seq: seq, State: report.StateRunning}); err != nil {
					t.Fatalf("periodic report %d: %v", seq, err)
				}
			}
			var ops []string
			for _, r := range srv.Requests() {
				if slices.Contains(r.Paths, metrics) {
					ops = append(ops, r.Op)
				}
			}
			want := []string{"create", "set"}
			if existing {
				want = []string{"create", "set", "set"}
			}
			if !slices.Equal(ops, want) {
				t.Errorf("requests on metrics/w1 for two reports: %v, want %v", ops, want)
			}
			d, _, err := l.c.Get(ctx, metrics)
			l.must(err)
			if r, err := report.DecodeReport(d); err != nil || r.Seq != 1 {
				t.Errorf("metrics/w1 holds %s, want report 1", d)
			}
		})
	}
}
