package twintest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// Worker speaks the worker's side of the protocol for one test:
// it registers idle, votes ready for its plan (unless silent), and from
// the barrier reports perSecond requests of latency µs every second for
// the planned duration, each report carrying every interval the leader
// has not acknowledged, and the last one as its final report.
type Worker struct {
	ID string
	C  *coord.Client
	// Silent workers never vote (a worker that never prepares).
	Silent bool
	// PerSecond requests of Latency µs are reported each second.
	PerSecond, Latency int64
	// Delay is how long after its interval's end each report is written (a
	// slow worker, or a slow ZooKeeper).
	Delay time.Duration

	p    proto.Paths
	errc chan error
}

// NewWorker registers an idle scripted worker id on its own session of srv
// under root. Its reports latencies of 1.5 ms.
func NewWorker(t testing.TB, srv *coord.MemServer, root, id string, perSecond int64) *Worker {
	t.Helper()
	w := &Worker{ID: id, C: Dial(t, srv), PerSecond: perSecond, Latency: 1500, p: proto.Paths{Root: root}, errc: make(chan error, 1)}
	info := proto.WorkerInfo{ID: id, Version: "test", Cores: 1, State: proto.WorkerIdle}
	if _, err := w.C.Register(context.Background(), w.p.Workers(), "w-", proto.Marshal(info)); err != nil {
		t.Fatal(err)
	}
	return w
}

// Play plays test id, planned for seconds, in the background: it waits for
// its plan, votes, waits for the barrier and reports. Wait returns its error.
func (w *Worker) Play(ctx context.Context, id string, seconds int) {
	go func() { w.errc <- w.play(ctx, id, seconds) }()
}

// Wait returns what Play ended with, or fails t after d.
func (w *Worker) Wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case err := <-w.errc:
		return err
	case <-time.After(d):
		t.Fatalf("worker %s never finished", w.ID)
		return nil
	}
}

func (w *Worker) play(ctx context.Context, id string, seconds int) error {
	p := w.p
	for {
		ok, _, err := w.C.Exists(ctx, p.Plan(id, w.ID))
		if err != nil || ok {
			if err != nil {
				return err
			}
			break
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return ctx.Err()
		}
	}
	if w.Silent {
		return nil
	}
	if _, err := w.C.RegisterAt(ctx, p.Ready(id, w.ID), proto.Marshal(proto.Ready{OK: true})); err != nil {
		return err
	}
	var start proto.Start
	for {
		d, _, err := w.C.Get(ctx, p.Start(id))
		if err == nil {
			if err := json.Unmarshal(d, &start); err != nil {
				return err
			}
			break
		}
		if !errors.Is(err, coord.ErrNoNode) {
			return err
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return ctx.Err()
		}
	}
	return w.report(ctx, id, time.Unix(0, start.StartAt), seconds)
}

// report publishes one report per second from startAt.
func (w *Worker) report(ctx context.Context, id string, startAt time.Time, seconds int) error {
	p := w.p
	cum := hist.New()
	var totals report.Counters
	var pending []report.Interval
	for k := 0; k < seconds; k++ {
		end := startAt.Add(time.Duration(k+1) * time.Second)
		if !sleepCtx(ctx, time.Until(end.Add(w.Delay))) {
			return ctx.Err()
		}
		ih := hist.New()
		ih.RecordN(w.Latency, w.PerSecond)
		cum.Merge(ih)
		iv := report.Counters{Requests: w.PerSecond, Status: map[string]int64{"200": w.PerSecond}}
		totals.Add(iv)
		ihs, err := ih.Encode()
		if err != nil {
			return err
		}
		chs, err := cum.Encode()
		if err != nil {
			return err
		}
		final := k == seconds-1
		r := &report.Report{Test: id, Worker: w.ID, Seq: int64(k), State: report.StateRunning, StartAt: startAt.UnixNano(),
			IntervalStart: end.Add(-time.Second).UnixNano(), IntervalEnd: end.UnixNano(),
			Interval: iv, IntervalHist: ihs, Totals: copyCounters(totals), Cumulative: chs, P99Us: cum.Percentile(99)}
		if final {
			r.State = report.StateDone
		}
		r.Recent = unacked(ctx, w.C, p.Merged(id), pending)
		if err := Put(ctx, w.C, p.Metrics(id, w.ID), r.Encode()); err != nil {
			return err
		}
		if final {
			return Put(ctx, w.C, p.Done(id, w.ID), r.Encode())
		}
		pending = append(pending, report.Interval{Seq: r.Seq, Start: r.IntervalStart, End: r.IntervalEnd, Counters: iv, Hist: ihs})
	}
	return nil
}

func copyCounters(c report.Counters) report.Counters {
	out := c
	out.Status = map[string]int64{}
	for k, v := range c.Status {
		out.Status[k] = v
	}
	return out
}

// unacked is the intervals after the leader's merged-through watermark.
func unacked(ctx context.Context, c *coord.Client, merged string, pending []report.Interval) []report.Interval {
	through := int64(-1)
	if d, _, err := c.Get(ctx, merged); err == nil {
		var m proto.Merged
		if json.Unmarshal(d, &m) == nil {
			through = m.Through
		}
	}
	var out []report.Interval
	for _, iv := range pending {
		if iv.Seq > through {
			out = append(out, iv)
		}
	}
	return out
}

// Put creates or overwrites a persistent node, as a worker writes its reports.
func Put(ctx context.Context, c *coord.Client, p string, data []byte) error {
	_, err := c.Set(ctx, p, data, -1)
	if errors.Is(err, coord.ErrNoNode) {
		_, err = c.Create(ctx, p, data, coord.Persistent)
	}
	return err
}

// sleepCtx waits d; false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
	return ctx.Err() == nil
}
