package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// The leader's protocol on the in-memory coordination twin: real
// orchestrators elected on a coord.MemServer, and scripted workers that
// speak the worker's side of the protocol (register, vote, wait for the
// barrier, report each second). The real worker is tested against a
// scripted leader in worker/internal/agent, and both together as processes
// in test/integration.

// twin is one in-memory ZooKeeper with a cluster root.
type twin struct {
	t   *testing.T
	srv *coord.MemServer
	p   proto.Paths
}

func newTwin(t *testing.T) *twin {
	tw := &twin{t: t, srv: coord.NewMemServer(), p: proto.Paths{Root: "/stampede"}}
	c := tw.client()
	for _, d := range []string{tw.p.Masters(), tw.p.Workers(), tw.p.Tests()} {
		if err := c.EnsurePath(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	return tw
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// client opens a session on the twin, closed when the test ends.
func (tw *twin) client() *coord.Client {
	cfg := coord.Config{SessionTimeout: 2 * time.Second, OpTimeout: 5 * time.Second, Logger: quiet()}
	c, err := coord.DialMemory(context.Background(), tw.srv, cfg)
	if err != nil {
		tw.t.Fatal(err)
	}
	tw.t.Cleanup(c.Close)
	return c
}

// testConfig is the leader's timing scaled down for tests.
func testConfig(id string) Config {
	cfg := DefaultConfig(id)
	cfg.ReadyTimeout, cfg.StartDelay, cfg.QueueWait = 2*time.Second, 300*time.Millisecond, 10*time.Second
	cfg.FinalGrace, cfg.PointGrace, cfg.Poll = 3*time.Second, time.Second, 50*time.Millisecond
	cfg.PrunePeriod, cfg.Logger = 0, quiet()
	return cfg
}

// master campaigns with a real orchestrator on its own session until the
// test ends; leading receives each time it starts leading.
type master struct {
	c       *coord.Client
	leading chan struct{}
}

func (tw *twin) master(id string) *master {
	m := &master{c: tw.client(), leading: make(chan struct{}, 4)}
	o := New(m.c, tw.p.Root, testConfig(id))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = coord.NewElection(m.c, tw.p.Masters(), proto.Marshal(proto.MasterInfo{ID: id})).Run(ctx, func(lctx context.Context, l *coord.Leader) {
			m.leading <- struct{}{}
			o.Lead(lctx, l)
		})
	}()
	tw.t.Cleanup(func() {
		cancel()
		<-done
	})
	return m
}

// submit creates a test the way POST /api/v1/tests stores it.
func (tw *twin) submit(c *coord.Client, specJSON string) string {
	tw.t.Helper()
	sp, errs := spec.Parse([]byte(specJSON))
	if len(errs) > 0 {
		tw.t.Fatal(errs)
	}
	id := proto.NewTestID(time.Now())
	err := c.Multi(context.Background(),
		coord.CreateOp{Path: tw.p.Test(id), Data: sp.Encode()},
		coord.CreateOp{Path: tw.p.State(id), Data: proto.Marshal(proto.TestState{Phase: proto.PhasePending, CreatedAt: time.Now().UnixNano()})},
		coord.CreateOp{Path: tw.p.Plans(id)}, coord.CreateOp{Path: tw.p.ReadyDir(id)},
		coord.CreateOp{Path: tw.p.MetricsDir(id)}, coord.CreateOp{Path: tw.p.DoneDir(id)})
	if err != nil {
		tw.t.Fatal(err)
	}
	return id
}

// state reads a test's state.
func (tw *twin) state(c *coord.Client, id string) *proto.TestState {
	tw.t.Helper()
	d, _, err := c.Get(context.Background(), tw.p.State(id))
	if err != nil {
		tw.t.Fatal(err)
	}
	var st proto.TestState
	if err := json.Unmarshal(d, &st); err != nil {
		tw.t.Fatal(err)
	}
	return &st
}

// awaitPhase waits until the test is in phase (failing at once if it ends
// in another) and returns its state.
func (tw *twin) awaitPhase(c *coord.Client, id, phase string, within time.Duration) *proto.TestState {
	tw.t.Helper()
	deadline := time.Now().Add(within)
	for {
		st := tw.state(c, id)
		if st.Phase == phase {
			return st
		}
		if proto.Terminal(st.Phase) || time.Now().After(deadline) {
			tw.t.Fatalf("test %s is %s (%s), want %s within %v", id, st.Phase, st.Reason, phase, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// result reads a finished test's result.
func (tw *twin) result(c *coord.Client, id string) *report.Summary {
	tw.t.Helper()
	d, _, err := c.Get(context.Background(), tw.p.Result(id))
	if err != nil {
		tw.t.Fatal(err)
	}
	var s report.Summary
	if err := json.Unmarshal(d, &s); err != nil {
		tw.t.Fatal(err)
	}
	return &s
}

// scriptedWorker speaks the worker's side of the protocol for one test:
// it registers idle, votes ready for its plan (unless silent), and from
// the barrier reports perSecond requests of latency µs every second for
// the planned duration, each report carrying every interval the leader
// has not acknowledged, and the last one as its final report.
type scriptedWorker struct {
	tw        *twin
	id        string
	c         *coord.Client
	silent    bool // never votes
	perSecond int64
	latency   int64 // µs
	errc      chan error
}

func (tw *twin) worker(id string, perSecond int64) *scriptedWorker {
	w := &scriptedWorker{tw: tw, id: id, c: tw.client(), perSecond: perSecond, latency: 1500, errc: make(chan error, 1)}
	info := proto.WorkerInfo{ID: id, Version: "test", Cores: 1, State: proto.WorkerIdle}
	if _, err := w.c.Register(context.Background(), tw.p.Workers(), "w-", proto.Marshal(info)); err != nil {
		tw.t.Fatal(err)
	}
	return w
}

// run plays test id with a duration of seconds; its error comes on errc.
func (w *scriptedWorker) run(ctx context.Context, id string, seconds int) {
	go func() { w.errc <- w.play(ctx, id, seconds) }()
}

func (w *scriptedWorker) play(ctx context.Context, id string, seconds int) error {
	p := w.tw.p
	for {
		ok, _, err := w.c.Exists(ctx, p.Plan(id, w.id))
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
	if w.silent {
		return nil
	}
	if _, err := w.c.RegisterAt(ctx, p.Ready(id, w.id), proto.Marshal(proto.Ready{OK: true})); err != nil {
		return err
	}
	var start proto.Start
	for {
		d, _, err := w.c.Get(ctx, p.Start(id))
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
func (w *scriptedWorker) report(ctx context.Context, id string, startAt time.Time, seconds int) error {
	p := w.tw.p
	cum := hist.New()
	var totals report.Counters
	var pending []report.Interval
	for k := 0; k < seconds; k++ {
		end := startAt.Add(time.Duration(k+1) * time.Second)
		if !sleepCtx(ctx, time.Until(end)) {
			return ctx.Err()
		}
		ih := hist.New()
		ih.RecordN(w.latency, w.perSecond)
		cum.Merge(ih)
		iv := report.Counters{Requests: w.perSecond, Status: map[string]int64{"200": w.perSecond}}
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
		r := &report.Report{Test: id, Worker: w.id, Seq: int64(k), State: report.StateRunning, StartAt: startAt.UnixNano(),
			IntervalStart: end.Add(-time.Second).UnixNano(), IntervalEnd: end.UnixNano(),
			Interval: iv, IntervalHist: ihs, Totals: copyCounters(totals), Cumulative: chs, P99Us: cum.Percentile(99)}
		if final {
			r.State = report.StateDone
		}
		r.Recent = unacked(ctx, w.c, p.Merged(id), pending)
		if err := put(ctx, w.c, p.Metrics(id, w.id), r.Encode()); err != nil {
			return err
		}
		if final {
			return put(ctx, w.c, p.Done(id, w.id), r.Encode())
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

func put(ctx context.Context, c *coord.Client, p string, data []byte) error {
	_, err := c.Set(ctx, p, data, -1)
	if errors.Is(err, coord.ErrNoNode) {
		_, err = c.Create(ctx, p, data, coord.Persistent)
	}
	return err
}

// sleepCtx is sleep that says whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	sleep(ctx, d)
	return ctx.Err() == nil
}

// playAll has every worker play test id for seconds.
func playAll(ctx context.Context, id string, seconds int, ws ...*scriptedWorker) {
	for _, w := range ws {
		w.run(ctx, id, seconds)
	}
}

// waitAll collects the scripted workers' errors.
func waitAll(t *testing.T, ws ...*scriptedWorker) {
	t.Helper()
	var mu sync.Mutex
	for _, w := range ws {
		select {
		case err := <-w.errc:
			if err != nil {
				mu.Lock()
				t.Errorf("worker %s: %v", w.id, err)
				mu.Unlock()
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("worker %s never finished", w.id)
		}
	}
}
