package load

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/testcluster"
)

// targetProc is a running target process (the real target/ binary).
type targetProc struct {
	URL string // http://127.0.0.1:port
}

// startTarget runs the target binary on a free loopback port until the
// test ends, and waits until it is ready.
func startTarget(t testing.TB) *targetProc {
	t.Helper()
	addr := testcluster.FreeAddr(t)
	p := testcluster.Start(t, t.TempDir(), "target", filepath.Join(testcluster.Binaries(t), "target"), addr, "--listen", addr)
	testcluster.WaitReady(t, p.URL()+"/readyz", 30*time.Second)
	return &targetProc{URL: p.URL()}
}

// targetStats is the target's GET /stats.
type targetStats = testcluster.TargetStats

func (tp *targetProc) stats(t *testing.T) targetStats {
	t.Helper()
	return testcluster.StatsOf(t, tp.URL)
}

func (tp *targetProc) post(t *testing.T, path string) {
	t.Helper()
	if err := tp.postErr(path); err != nil {
		t.Fatal(err)
	}
}

// postErr posts to a control endpoint; usable off the test goroutine.
func (tp *targetProc) postErr(path string) error {
	resp, err := http.Post(tp.URL+path, "text/plain", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s = %d", path, resp.StatusCode)
	}
	return nil
}

// runAll prepares and runs a plan to its end, collecting every second like
// the worker does, and returns the sum of all intervals.
func runAll(t *testing.T, ctx context.Context, p Plan) (Interval, *Run) {
	t.Helper()
	r, err := Prepare(ctx, p)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	t.Cleanup(r.Close)
	total := Interval{Latency: newHist(), Service: newHist()}
	add := func(iv Interval) {
		total.Latency.Merge(iv.Latency)
		total.Service.Merge(iv.Service)
		total.Counters.Add(iv.Counters)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				add(r.Collect())
			}
		}
	})
	if err := r.Run(ctx, time.Now().Add(10*time.Millisecond)); err != nil {
		t.Errorf("Run = %v", err)
	}
	close(stop)
	wg.Wait()
	add(r.Collect())
	return total, r
}
