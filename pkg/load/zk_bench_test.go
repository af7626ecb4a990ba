package load

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/zktest"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/load/internal/canned"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// BenchmarkZooKeeperRoundTrip is the ZooKeeper round trip (an Exists on
// /, 200 of them 5 ms apart) of a process whose engine is idle, then runs
// at full speed: an avalanche of 50 connections on the event loop against
// STAMPEDE_BENCH_URL (bench.sh's target, on another core) or else an
// in-process canned server. With STAMPEDE_BENCH_CPU=n the process pins
// itself to CPU n once ZooKeeper (a separate process) is up, and runs with
// GOMAXPROCS 1: the engine and the coordination client share one core
// and one P, the worst case for a loop that keeps its P while the kernel
// waits. It reports the round trip's p50 and p99 (µs) and, loaded, the
// engine's requests per second. A benchmark, not a test: nothing is
// asserted about speed.
func BenchmarkZooKeeperRoundTrip(b *testing.B) {
	if err := zktest.Available(); err != nil {
		b.Skip(err)
	}
	zk := zktest.Standalone(b)
	ctx := context.Background()
	c, err := coord.Dial(ctx, coord.DefaultConfig(zk.Addr()))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.WaitConnected(ctx); err != nil {
		b.Fatal(err)
	}
	url := os.Getenv("STAMPEDE_BENCH_URL")
	if url == "" {
		srv, err := canned.Start()
		if err != nil {
			b.Fatal(err)
		}
		defer srv.Close()
		url = srv.URL() + "/ping"
	}
	if cpu := os.Getenv("STAMPEDE_BENCH_CPU"); cpu != "" {
		// every thread, and so every later one (they inherit it)
		if out, err := exec.Command("taskset", "-a", "-p", "-c", cpu, strconv.Itoa(os.Getpid())).CombinedOutput(); err != nil {
			b.Fatalf("taskset: %v: %s", err, out)
		}
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	for _, loaded := range []bool{false, true} {
		name := "idle"
		if loaded {
			name = "engine-full-speed"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				var done chan Interval
				if loaded {
					done = runEngine(b, url, 3*time.Second)
					time.Sleep(200 * time.Millisecond) // past the start
				}
				h := hist.New()
				for range 200 {
					t0 := time.Now()
					if _, _, err := c.Exists(ctx, "/"); err != nil {
						b.Fatal(err)
					}
					h.Record(time.Since(t0))
					time.Sleep(5 * time.Millisecond)
				}
				b.ReportMetric(float64(h.Percentile(50)), "p50-µs")
				b.ReportMetric(float64(h.Percentile(99)), "p99-µs")
				if done != nil {
					iv := <-done
					b.ReportMetric(float64(iv.Counters.Requests)/3, "engine-req/s")
				}
			}
		})
	}
}

// runEngine runs an avalanche of 50 connections against url for d in the
// background; the channel yields its totals when it ends.
func runEngine(b *testing.B, url string, d time.Duration) chan Interval {
	s := spec.Spec{Request: spec.Request{URL: url}, Load: spec.Load{Model: spec.ModelAvalanche, Concurrency: 50, Duration: spec.D(d)}}
	s.Normalize()
	r, err := Prepare(context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan Interval, 1)
	go func() {
		defer r.Close()
		if err := r.Run(context.Background(), time.Now()); err != nil {
			b.Error(err)
		}
		done <- r.Collect()
	}()
	return done
}
