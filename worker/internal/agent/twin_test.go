package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/twintest"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/policy"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// The worker's protocol on the in-memory coordination twin: a real agent
// with the real load engine, against a loopback target, driven by a
// scripted leader that does what the orchestrator does (plan, wait for the
// vote, open the barrier, read the final report). The real leader is tested
// against scripted workers in master/internal/orchestrator, and both
// together as processes in test/integration.

// leader is the scripted leader on its own twin session.
type leader struct {
	t   *testing.T
	srv *coord.MemServer
	c   *coord.Client
	p   proto.Paths
}

// startAgent runs a real agent with cfg on its own twin session until the
// test ends, and waits until it is registered.
func startAgent(t *testing.T, srv *coord.MemServer, cfg Config) *Agent {
	t.Helper()
	cfg.Root, cfg.Version, cfg.Logger = "/stampede", "test", twintest.Quiet()
	a := New(twintest.Dial(t, srv), cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for a.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("agent never registered: %v", a.Ready())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return a
}

// counter is what the target saw: how many requests, and when the first
// arrived (unix ns, on the target's clock).
type counter struct {
	n     atomic.Int64
	first atomic.Int64
}

func (c *counter) Load() int64 { return c.n.Load() }

// target counts the requests it answers.
func target(t *testing.T) (*httptest.Server, *counter) {
	c := &counter{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c.first.CompareAndSwap(0, time.Now().UnixNano())
		c.n.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(ts.Close)
	return ts, c
}

// plan creates test id with specJSON and plans it on the given workers, as
// the leader does: the test's nodes, then every plan and phase preparing.
func (l *leader) plan(specJSON string, workers ...string) string {
	l.t.Helper()
	sp, errs := spec.Parse([]byte(specJSON))
	if len(errs) > 0 {
		l.t.Fatal(errs)
	}
	ctx := context.Background()
	id := proto.NewTestID(time.Now())
	st := proto.TestState{Phase: proto.PhasePending, CreatedAt: time.Now().UnixNano()}
	l.must(l.c.Multi(ctx,
		coord.CreateOp{Path: l.p.Test(id), Data: sp.Encode()},
		coord.CreateOp{Path: l.p.State(id), Data: proto.Marshal(st)},
		coord.CreateOp{Path: l.p.Plans(id)}, coord.CreateOp{Path: l.p.ReadyDir(id)}, coord.CreateOp{Path: l.p.RefusedDir(id)},
		coord.CreateOp{Path: l.p.MetricsDir(id)}, coord.CreateOp{Path: l.p.DoneDir(id)}))
	ops := []coord.Op{}
	for i, share := range plan.Split(&sp, len(workers)) {
		ops = append(ops, coord.CreateOp{Path: l.p.Plan(id, workers[i]), Data: proto.Marshal(proto.PlanNode{Test: id, Worker: workers[i], Share: share})})
	}
	st.Phase, st.PlannedAt, st.Chosen = proto.PhasePreparing, time.Now().UnixNano(), len(workers)
	ops = append(ops, coord.SetOp{Path: l.p.State(id), Data: proto.Marshal(st), Version: 0})
	l.must(l.c.Multi(ctx, ops...))
	return id
}

func (l *leader) must(err error) {
	l.t.Helper()
	if err != nil {
		l.t.Fatal(err)
	}
}

// vote waits for worker's ready vote, or its refusal (which is not in
// ready/).
func (l *leader) vote(id, worker string) proto.Ready {
	l.t.Helper()
	var r proto.Ready
	l.await("the ready vote of "+worker, func() bool {
		d, _, err := l.c.Get(context.Background(), l.p.Ready(id, worker))
		if err != nil {
			d, _, err = l.c.Get(context.Background(), l.p.Refused(id, worker))
			if err == nil {
				if ok, _, _ := l.c.Exists(context.Background(), l.p.Ready(id, worker)); ok {
					l.t.Errorf("worker %s both voted and refused", worker)
				}
			}
		}
		return err == nil && json.Unmarshal(d, &r) == nil
	})
	return r
}

// open opens the start barrier delay from now and marks the test running.
func (l *leader) open(id string, workers []string, delay time.Duration) time.Time {
	l.t.Helper()
	at := time.Now().Add(delay)
	st := proto.TestState{Phase: proto.PhaseRunning, StartAt: at.UnixNano(), Chosen: len(workers)}
	l.must(l.c.Multi(context.Background(),
		coord.SetOp{Path: l.p.State(id), Data: proto.Marshal(st), Version: -1},
		coord.CreateOp{Path: l.p.Start(id), Data: proto.Marshal(proto.Start{StartAt: at.UnixNano()})}))
	return at
}

// final waits for worker's final report.
func (l *leader) final(id, worker string, within time.Duration) *report.Report {
	l.t.Helper()
	var r *report.Report
	deadline := time.Now().Add(within)
	for {
		d, _, err := l.c.Get(context.Background(), l.p.Done(id, worker))
		if err == nil {
			if r, err = report.DecodeReport(d); err != nil {
				l.t.Fatal(err)
			}
			return r
		}
		if !errors.Is(err, coord.ErrNoNode) {
			l.t.Fatal(err)
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("no final report of %s within %v", worker, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *leader) await(what string, f func() bool) {
	l.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			l.t.Fatalf("not within 10s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// registered is worker's registration data.
func (l *leader) registered(worker string) proto.WorkerInfo {
	l.t.Helper()
	ctx := context.Background()
	kids, err := l.c.Children(ctx, l.p.Workers())
	l.must(err)
	for _, k := range kids {
		d, _, err := l.c.Get(ctx, l.p.Workers()+"/"+k)
		var wi proto.WorkerInfo
		if err == nil && json.Unmarshal(d, &wi) == nil && wi.ID == worker {
			return wi
		}
	}
	l.t.Fatalf("%s is not registered (%v)", worker, kids)
	return proto.WorkerInfo{}
}

func newLeader(t *testing.T) (*leader, *coord.MemServer) {
	srv := coord.NewMemServer()
	return &leader{t: t, srv: srv, c: twintest.Dial(t, srv), p: proto.Paths{Root: "/stampede"}}, srv
}

// A planned worker votes ready, starts at the barrier, runs exactly its
// share against the target and publishes a final report that counts every
// request the target saw, once; then it is idle again.
func TestAgentRunsItsPlanOnTheTwin(t *testing.T) {
	l, srv := newLeader(t)
	ts, seen := target(t)
	startAgent(t, srv, Config{ID: "w1"})
	id := l.plan(`{"request":{"url":"`+ts.URL+`/"},"load":{"model":"constant-rate","rate":100,"duration":"2s"}}`, "w1")
	if r := l.vote(id, "w1"); !r.OK || r.Error != "" {
		t.Fatalf("vote %+v, want ready", r)
	}
	// the registration follows the vote (not waited for: see setStateSoon)
	l.await("the registration ready for the test", func() bool {
		wi := l.registered("w1")
		return wi.State == proto.WorkerReady && wi.Test == id
	})
	if seen.Load() != 0 {
		t.Fatalf("the target saw %d requests before the barrier opened", seen.Load())
	}
	at := l.open(id, []string{"w1"}, 300*time.Millisecond)
	r := l.final(id, "w1", 15*time.Second)
	if r.State != report.StateDone || r.Test != id || r.Worker != "w1" || r.StartAt != at.UnixNano() {
		t.Errorf("final report %s/%s state %s start_at %d, want done for %s/w1 at %d", r.Test, r.Worker, r.State, r.StartAt, id, at.UnixNano())
	}
	if r.Totals.Requests != 200 || r.Totals.Errors != 0 || r.Totals.Status["200"] != 200 {
		t.Errorf("final totals %+v, want exactly 200 requests, all 200", r.Totals)
	}
	if n := seen.Load(); n != r.Totals.Requests {
		t.Errorf("the target saw %d requests, the report says %d", n, r.Totals.Requests)
	}
	if first := time.Unix(0, seen.first.Load()); first.Before(at) || first.Sub(at) > 100*time.Millisecond {
		t.Errorf("first request at %v, %v after start_at; want at the barrier (within 100 ms)", first, first.Sub(at))
	}
	if r.Seq < 1 || r.Seq > 2 {
		t.Errorf("final report is interval %d, want the 2 s run's last (1 or 2)", r.Seq)
	}
	// one request name: the report names it instead of repeating itself
	if parts := r.NameParts(); r.Name != "GET /" || len(r.Names) != 0 || len(parts) != 1 || parts[0].Totals.Requests != 200 {
		t.Errorf("final report name %q with %d names, want GET / as its one part of 200 requests", r.Name, len(r.Names))
	}
	l.await("the worker idle again", func() bool { return l.registered("w1").State == proto.WorkerIdle })
}

// A worker whose policy refuses the target votes not ready with the reason
// and never sends a request.
func TestAgentRefusesAPlanOutsideItsPolicyOnTheTwin(t *testing.T) {
	l, srv := newLeader(t)
	ts, seen := target(t)
	pol, err := policy.New(context.Background(), "10.0.0.0/8", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	startAgent(t, srv, Config{ID: "w1", Policy: pol})
	id := l.plan(`{"request":{"url":"`+ts.URL+`/"},"load":{"model":"constant-rate","rate":100,"duration":"1s"}}`, "w1")
	r := l.vote(id, "w1")
	if r.OK || !strings.Contains(r.Error, "worker w1 refuses its plan: request.url") {
		t.Errorf("vote %+v, want not ready naming request.url", r)
	}
	l.open(id, []string{"w1"}, 100*time.Millisecond) // a leader would fail it; even opened, nothing runs
	l.await("the refusal withdrawn", func() bool {
		ok, _, err := l.c.Exists(context.Background(), l.p.Refused(id, "w1"))
		return err == nil && !ok
	})
	if n := seen.Load(); n != 0 {
		t.Errorf("the target saw %d requests of a refused plan", n)
	}
	if ok, _, err := l.c.Exists(context.Background(), l.p.Done(id, "w1")); err != nil || ok {
		t.Errorf("a refused plan has a final report (%v, %v)", ok, err)
	}
}

// A stop request ends the run early; the final report says why and counts
// exactly what the target saw.
func TestAgentStopsOnRequestOnTheTwin(t *testing.T) {
	l, srv := newLeader(t)
	ts, seen := target(t)
	startAgent(t, srv, Config{ID: "w1"})
	id := l.plan(`{"request":{"url":"`+ts.URL+`/"},"load":{"model":"constant-rate","rate":100,"duration":"30s"}}`, "w1")
	if r := l.vote(id, "w1"); !r.OK {
		t.Fatalf("vote %+v, want ready", r)
	}
	at := l.open(id, []string{"w1"}, 200*time.Millisecond)
	l.await("load at the target", func() bool { return seen.Load() >= 50 })
	_, err := l.c.Create(context.Background(), l.p.Stop(id), proto.Marshal(proto.StopRequest{Reason: "enough"}), coord.Persistent)
	l.must(err)
	r := l.final(id, "w1", 10*time.Second)
	if r.Reason != "stopped: enough" {
		t.Errorf("final reason %q, want %q", r.Reason, "stopped: enough")
	}
	if n := seen.Load(); n != r.Totals.Requests || n >= 3000 {
		t.Errorf("the target saw %d requests, the report says %d (of 3,000 planned)", n, r.Totals.Requests)
	}
	if ran := time.Duration(r.IntervalEnd - at.UnixNano()); ran > 5*time.Second {
		t.Errorf("ran %v after a stop requested within the first seconds", ran)
	}
}

// A worker whose leader acknowledges each report repeats at most a few
// earlier intervals (it reads the watermark only once its report carries
// ackAfter unacknowledged ones); one whose leader acknowledges nothing
// keeps every interval in its reports.
func TestAgentRepeatsFewIntervalsWhileAcknowledged(t *testing.T) {
	for _, acking := range []bool{true, false} {
		l, srv := newLeader(t)
		ts, _ := target(t)
		startAgent(t, srv, Config{ID: "w1"})
		id := l.plan(`{"request":{"url":"`+ts.URL+`/"},"load":{"model":"constant-rate","rate":20,"duration":"6s"}}`, "w1")
		l.vote(id, "w1")
		ctx := context.Background()
		l.must(l.c.Multi(ctx, coord.CreateOp{Path: l.p.Merged(id), Data: proto.Marshal(proto.Merged{Through: -1})}))
		l.open(id, []string{"w1"}, 300*time.Millisecond)
		most := 0
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
			d, _, w, err := l.c.GetW(ctx, l.p.Metrics(id, "w1"))
			if err != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			r, err := report.DecodeReport(d)
			if err != nil {
				t.Fatal(err)
			}
			most = max(most, len(r.Recent))
			if r.State == report.StateDone {
				break
			}
			if acking {
				_, err := l.c.Set(ctx, l.p.Merged(id), proto.Marshal(proto.Merged{Through: r.Seq}), -1)
				l.must(err)
			}
			<-w
		}
		switch {
		case acking && most > ackAfter:
			t.Errorf("acknowledged every second, a report repeated %d earlier intervals; want at most %d", most, ackAfter)
		case !acking && most < 4:
			t.Errorf("never acknowledged, the reports repeated at most %d earlier intervals of a 6 s run", most)
		}
	}
}

// The states a worker passes on its way to the start are written without
// waiting (setStateSoon), yet the registration ends up holding the last
// state noted: a late write of an earlier one never overwrites it.
func TestRegistrationEndsWithTheLastState(t *testing.T) {
	l, srv := newLeader(t)
	a := startAgent(t, srv, Config{ID: "w1"})
	ctx := context.Background()
	for i := range 50 {
		test := fmt.Sprintf("t%d", i)
		a.setStateSoon(ctx, proto.WorkerPreparing, test)
		a.setStateSoon(ctx, proto.WorkerRunning, test)
		a.setState(ctx, proto.WorkerIdle, "")
	}
	time.Sleep(200 * time.Millisecond) // any write still in flight lands
	if wi := l.registered("w1"); wi.State != proto.WorkerIdle || wi.Test != "" {
		t.Errorf("registration %s for %q, want idle: an earlier state's write landed last", wi.State, wi.Test)
	}
}
