package main

import (
	"os"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
)

// Workers stay cheap at rest: a real registered worker process uses at
// most 0.5 % of a core while idle and 1 % while running 10 req/s against
// the sample target (CPU seconds from /proc over wall seconds, so a busy
// machine slows the test but does not inflate the figure).
func TestWorkerCheapAtRest(t *testing.T) {
	if os.Getenv("STAMPEDE_MEASURE_REST") == "" {
		// A CPU budget is a measurement, not a correctness check: it runs
		// alone (make rest-cpu), not beside the rest of make test.
		t.Skip("a CPU measurement: run it with make rest-cpu (STAMPEDE_MEASURE_REST=1)")
	}
	window := 20 * time.Second
	if v := os.Getenv("STAMPEDE_REST_WINDOW"); v != "" {
		var err error
		if window, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	w := c.Workers[0]
	time.Sleep(2 * time.Second) // past the start-up work
	idle := cores(t, w.Pid(), window)

	id := c.Submit(map[string]any{
		"name":    "rest",
		"request": map[string]any{"url": c.TargetURL("/ping")},
		"load":    map[string]any{"model": "constant-rate", "rate": 10, "duration": (window + 4*time.Second).String()},
	})
	c.WaitPhase(id, "running", 30*time.Second)
	time.Sleep(2 * time.Second)
	busy := cores(t, w.Pid(), window)
	c.WaitPhase(id, "completed", window+60*time.Second)
	t.Logf("worker CPU: idle %.2f %% of a core, 10 req/s %.2f %% (over %v each)", idle*100, busy*100, window)
	if idle > 0.005 {
		t.Errorf("an idle worker uses %.2f %% of a core, want at most 0.5 %%", idle*100)
	}
	if busy > 0.01 {
		t.Errorf("a worker running 10 req/s uses %.2f %% of a core, want at most 1 %%", busy*100)
	}
}

// cores is a process's CPU use over the next d, in cores.
func cores(t *testing.T, pid int, d time.Duration) float64 {
	c0, t0 := cpuSeconds(t, pid), time.Now()
	time.Sleep(d)
	return (cpuSeconds(t, pid) - c0) / time.Since(t0).Seconds()
}
