package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/proto"
)

// The fast version of `make scale`: 200 simulated workers for 10 s against
// real ZooKeeper and two real masters. Every request is counted exactly
// once, the timeline has every second with no gap and adds up to the
// result, and no node of the test outgrows the bound.
func TestFleetFast(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ZooKeeper, two masters and 200 simulated workers")
	}
	// 200, not more: the simulator shares make test's two cores with
	// ZooKeeper and both masters, and a starved simulator starts requests
	// too late to send them (make scale measures the larger fleets).
	r := scaleRun(t, 200, 10*time.Second)
	t.Log(header())
	t.Log(r.line())
	check(t, r)
}

// check asserts what every scale run must hold.
func check(t *testing.T, r row) {
	t.Helper()
	if r.requests != r.planned {
		t.Errorf("result counts %d requests, planned %d", r.requests, r.planned)
	}
	if len(r.gaps) > 0 {
		t.Errorf("timeline gaps at seconds %v", r.gaps)
	}
	if r.timelineRequests != r.requests {
		t.Errorf("timeline adds up to %d requests, result %d", r.timelineRequests, r.requests)
	}
	if r.largest > proto.MaxNodeBytes {
		t.Errorf("largest node %s is %d bytes, bound %d", r.largestPath, r.largest, proto.MaxNodeBytes)
	}
}

// TestScaleTable is `make scale`: each fleet size of STAMPEDE_SCALE_SIZES
// (comma-separated) for STAMPEDE_SCALE_DURATION, one table line each, also
// written to STAMPEDE_SCALE_TABLE. Skipped (visibly) unless the sizes are
// set.
func TestScaleTable(t *testing.T) {
	sizes := os.Getenv("STAMPEDE_SCALE_SIZES")
	if sizes == "" {
		t.Skip("the full scale table runs with make scale (STAMPEDE_SCALE_SIZES)")
	}
	d := 30 * time.Second
	if v := os.Getenv("STAMPEDE_SCALE_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("STAMPEDE_SCALE_DURATION: %v", err)
		}
	}
	lines := []string{header()}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			t.Fatalf("STAMPEDE_SCALE_SIZES: bad size %q", s)
		}
		t.Run(fmt.Sprintf("workers=%d", n), func(t *testing.T) {
			r := scaleRun(t, n, d)
			lines = append(lines, r.line())
			t.Log(r.line())
			check(t, r)
			writeTable(t, lines)
		})
	}
	t.Log("\n" + strings.Join(lines, "\n"))
}

func writeTable(t *testing.T, lines []string) {
	if f := os.Getenv("STAMPEDE_SCALE_TABLE"); f != "" {
		if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Error(err)
		}
	}
}

func header() string {
	return "| workers | POST→running | merge lag p50 / p99 | leader CPU | follower CPU | ZK written / read per worker-s | largest znode | requests / planned | GET /tests/{id} p50 / p99 | host steal |\n" +
		"|---|---|---|---|---|---|---|---|---|---|"
}

func (r row) line() string {
	return fmt.Sprintf("| %d | %.2f s | %s / %s | %.3f | %.3f | %.0f B / %.0f B | %.1f KB (%s) | %d / %d | %s / %s | %s |",
		r.workers, r.postToRunning.Seconds(), ms(r.lagP50), ms(r.lagP99), r.leaderCPU, r.followerCPU,
		r.zkWrittenPerWS, r.zkReadPerWS, float64(r.largest)/1024, shortPath(r.largestPath), r.requests, r.planned,
		ms(r.apiP50), ms(r.apiP99), r.steal)
}

func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

// shortPath names a node by its kind (metrics/sim-00017 → metrics/…).
func shortPath(p string) string {
	if i := strings.IndexByte(p, '/'); i > 0 {
		return p[:i] + "/…"
	}
	return p
}
