package orchestrator

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/twintest"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// The leader's protocol on the in-memory coordination twin: real
// orchestrators elected on a coord.MemServer, and scripted workers
// (internal/twintest) that speak the worker's side of the protocol. The
// real worker is tested against a scripted leader in worker/internal/agent,
// and both together as processes in test/integration.

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

// client opens a session on the twin, closed when the test ends.
func (tw *twin) client() *coord.Client { return twintest.Dial(tw.t, tw.srv) }

// testConfig is the leader's timing scaled down for tests.
func testConfig(id string) Config {
	cfg := DefaultConfig(id)
	cfg.ReadyTimeout, cfg.StartDelay, cfg.QueueWait = 2*time.Second, 300*time.Millisecond, 10*time.Second
	cfg.FinalGrace, cfg.PointGrace, cfg.Poll = 3*time.Second, time.Second, 50*time.Millisecond
	cfg.PrunePeriod, cfg.Logger = 0, twintest.Quiet()
	return cfg
}

// master campaigns with a real orchestrator on its own session until the
// test ends; leading receives each time it starts leading.
type master struct {
	c       *coord.Client
	leading chan struct{}
}

func (tw *twin) master(id string) *master { return tw.masterWith(testConfig(id)) }

// masterWith is master with the timing of cfg.
func (tw *twin) masterWith(cfg Config) *master {
	id := cfg.MasterID
	m := &master{c: tw.client(), leading: make(chan struct{}, 4)}
	o := New(m.c, tw.p.Root, cfg)
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

// awaitLead waits for m to lead, failing t after 10 s.
func (m *master) awaitLead(t *testing.T) {
	t.Helper()
	select {
	case <-m.leading:
	case <-time.After(10 * time.Second):
		t.Fatal("the master never led")
	}
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

// worker registers a scripted worker (twintest.Worker) on the twin.
func (tw *twin) worker(id string, perSecond int64) *twintest.Worker {
	return twintest.NewWorker(tw.t, tw.srv, tw.p.Root, id, perSecond)
}

// sleepCtx is sleep that says whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	sleep(ctx, d)
	return ctx.Err() == nil
}

// playAll has every worker play test id for seconds.
func playAll(ctx context.Context, id string, seconds int, ws ...*twintest.Worker) {
	for _, w := range ws {
		w.Play(ctx, id, seconds)
	}
}

// waitAll checks that every worker finished its part without an error.
func waitAll(t *testing.T, ws ...*twintest.Worker) {
	t.Helper()
	for _, w := range ws {
		if err := w.Wait(t, 30*time.Second); err != nil {
			t.Errorf("worker %s: %v", w.ID, err)
		}
	}
}
