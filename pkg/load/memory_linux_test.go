//go:build linux

package load

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// procStatus reads a kB figure (VmRSS, VmHWM) of this process in bytes.
func procStatus(tb testing.TB, key string) int64 {
	tb.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte(key+":")); ok {
			f := bytes.Fields(v)
			kb, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatalf("no %s in /proc/self/status", key)
	return 0
}

// idleMemory runs n keep-alive connections against tp, each sending one
// request and then resting (tsunami, 3 s delay), and measures the growth
// of this process's RSS while every connection is idle after its
// exchange, per connection.
func idleMemory(tb testing.TB, tp *targetProc, n int) (perConn float64, requests int64) {
	tb.Helper()
	s := testSpec(tp.URL+"/ping", spec.Load{Model: spec.ModelTsunami, Concurrency: n,
		Delay: spec.D(3 * time.Second), Duration: spec.D(2 * time.Second)})
	s.Request.Timeout = spec.D(10 * time.Second)
	runtime.GC()
	before := procStatus(tb, "VmRSS")
	r, err := Prepare(context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), time.Now()) }()
	time.Sleep(1500 * time.Millisecond) // every connection has had its response
	during := procStatus(tb, "VmRSS")
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	iv := r.Collect()
	if iv.Counters.Errors != 0 {
		tb.Errorf("%d errors (%v)", iv.Counters.Errors, iv.Counters.ErrorKinds)
	}
	tb.Logf("%d connections: RSS %d → %d bytes while idle (%.0f bytes per connection), peak %d, loops %v",
		n, before, during, float64(during-before)/float64(n), procStatus(tb, "VmHWM"), r.onLoops)
	return float64(during-before) / float64(n), iv.Counters.Requests
}

// TestIdleConnectionMemory: 10,000 idle keep-alive connections, each after
// one exchange, cost this process at most 8 KB each (buffers are shared
// by a loop's connections and grow only as responses need), and each sent
// exactly one request.
func TestIdleConnectionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 10,000 connections; skipped with -short")
	}
	const n = 10_000
	tp := startTarget(t)
	tp.post(t, "/stats/reset")
	perConn, requests := idleMemory(t, tp, n)
	if requests != n {
		t.Errorf("requests = %d, want %d (one per connection)", requests, n)
	}
	if ts := tp.stats(t); ts.Requests != requests {
		t.Errorf("target saw %d requests, engine counted %d", ts.Requests, requests)
	}
	if perConn > 8<<10 {
		t.Errorf("RSS grew %.0f bytes per idle connection, want ≤ 8 KB", perConn)
	}
}

// BenchmarkIdleConnections reports the RSS growth per idle keep-alive
// connection with 10,000 connections (rss-B/conn) and the process's peak
// RSS (peak-rss-MiB). It makes one 10,000-connection run whatever b.N
// (a memory figure, not a rate), so -benchtime does not multiply it.
func BenchmarkIdleConnections(b *testing.B) {
	tp := startTarget(b)
	perConn, _ := idleMemory(b, tp, 10_000)
	for b.Loop() {
	}
	b.ReportMetric(perConn, "rss-B/conn")
	b.ReportMetric(float64(procStatus(b, "VmHWM"))/(1<<20), "peak-rss-MiB")
}
