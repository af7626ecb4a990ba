package load

import (
	"context"
	"encoding/json"
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

type targetStats struct {
	Requests  int64            `json:"requests"`
	Completed int64            `json:"completed"`
	Status    map[string]int64 `json:"status_codes"`
	HandlerMs struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"handler_ms"`
}

func (tp *targetProc) stats(t *testing.T) targetStats {
	t.Helper()
	resp, err := http.Get(tp.URL + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s targetStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (tp *targetProc) post(t *testing.T, path string) {
	t.Helper()
	resp, err := http.Post(tp.URL+path, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s = %d", path, resp.StatusCode)
	}
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
