package app

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/twintest"
	"github.com/stampede-load/stampede/master/internal/api"
	"github.com/stampede-load/stampede/master/internal/orchestrator"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/report"
)

// a whole master (API, election, orchestrator, feed) on the in-memory
// coordination twin, served on a loopback port.
func startMaster(t *testing.T, srv *coord.MemServer) (url string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := api.ParseTokens([]byte("operator " + testcluster.OperatorToken + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	oc := orchestrator.DefaultConfig("m1")
	oc.ReadyTimeout, oc.StartDelay, oc.FinalGrace, oc.PointGrace, oc.Poll = 2*time.Second, 300*time.Millisecond, 3*time.Second, time.Second, 50*time.Millisecond
	oc.PrunePeriod, oc.Logger = 0, twintest.Quiet()
	url = "http://" + ln.Addr().String()
	cfg := Config{
		ID: "m1", ZK: "memory", Root: "/stampede", APIURL: url, SessionTimeout: 2 * time.Second,
		Orchestrator: oc, Logger: twintest.Quiet(), Tokens: tokens,
		Dial: func(ctx context.Context, zc coord.Config) (*coord.Client, error) {
			return coord.DialMemory(ctx, srv, zc)
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, ln, cfg) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("the master did not shut down")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return url, stop
}

// One master, wired as the binary wires it, on the twin: a test submitted
// through its API is planned, started and merged by its leader and read
// back through the API with exact counts; on shutdown it gives up its
// election node at once.
func TestMasterRunsATestOnTheTwin(t *testing.T) {
	srv := coord.NewMemServer()
	url, stop := startMaster(t, srv)
	obs := twintest.Dial(t, srv)
	deadline := time.Now().Add(10 * time.Second)
	for testcluster.GetJSON(t, url+"/readyz", nil) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the master never became ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ws := []*twintest.Worker{twintest.NewWorker(t, srv, "/stampede", "w1", 70), twintest.NewWorker(t, srv, "/stampede", "w2", 30)}
	var created struct{ ID string }
	if code := testcluster.PostJSON(t, url+"/api/v1/tests", `{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":100,"duration":"2s"}}`, &created); code != http.StatusCreated {
		t.Fatalf("submit: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, w := range ws {
		w.Play(ctx, created.ID, 2)
	}
	for _, w := range ws {
		if err := w.Wait(t, 30*time.Second); err != nil {
			t.Fatalf("worker %s: %v", w.ID, err)
		}
	}
	var test struct {
		Phase   string          `json:"phase"`
		Summary *report.Summary `json:"summary"`
		Workers []report.WorkerSummary
	}
	deadline = time.Now().Add(10 * time.Second)
	for testcluster.GetJSON(t, url+"/api/v1/tests/"+created.ID, &test); test.Phase != "completed"; testcluster.GetJSON(t, url+"/api/v1/tests/"+created.ID, &test) {
		if time.Now().After(deadline) {
			t.Fatalf("test is %s, want completed", test.Phase)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if test.Summary == nil || test.Summary.Requests != 200 || test.Summary.StatusCodes["200"] != 200 {
		t.Errorf("summary %+v, want exactly 200 requests, all 200", test.Summary)
	}
	got := map[string]int64{}
	for _, l := range test.Workers {
		got[l.ID] = l.Requests
	}
	if got["w1"] != 140 || got["w2"] != 60 {
		t.Errorf("worker lines %v, want w1 140 and w2 60", got)
	}
	var tl struct{ Points []report.Point }
	if code := testcluster.GetJSON(t, url+"/api/v1/tests/"+created.ID+"/timeline", &tl); code != http.StatusOK {
		t.Fatalf("timeline: %d", code)
	}
	var sum int64
	for _, p := range tl.Points {
		sum += p.Requests
	}
	if sum != 200 {
		t.Errorf("timeline: %d points summing to %d requests, want 200", len(tl.Points), sum)
	}
	if err := stop(); err != nil {
		t.Fatalf("master: %v", err)
	}
	kids, err := obs.Children(ctx, "/stampede/masters")
	if err != nil || len(kids) != 0 {
		t.Errorf("election nodes after shutdown: %v (%v), want none", kids, err)
	}
}
