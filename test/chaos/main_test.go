// Package chaos is the failure-handling suite (docs/failures.md): each scenario runs
// a constant-rate test on a real cluster (real ZooKeeper, real master,
// worker and target processes), breaks something mid-test, and checks what
// a user would: the final phase, request conservation against the target's
// own count, and that the merged histogram holds every counted request.
//
// `go test ./test/chaos` (part of `make test`, and so of CI) runs every
// scenario once; none is skipped. STAMPEDE_CHAOS_FULL=1 (set by
// `make chaos`) runs each STAMPEDE_CHAOS_RUNS times (default 3) in a row.
// STAMPEDE_CHAOS_TABLE names a file to which the measured table is written
// (it is also printed at the end).
package chaos

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"
)

// full reports whether the repetitions run.
func full() bool { return os.Getenv("STAMPEDE_CHAOS_FULL") == "1" }

// repetitions is how many times each scenario runs in a row.
func repetitions() int {
	if !full() {
		return 1
	}
	if n, err := strconv.Atoi(os.Getenv("STAMPEDE_CHAOS_RUNS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// row is one scenario's line of the table.
type row struct {
	scenario string
	runs     int
	passed   int
	failover []time.Duration // kill -> the new leader's first merged point
	skewMs   float64         // max start skew over the runs
	lost     []int64         // requests lost per run
	order    int
}

var (
	tableMu sync.Mutex
	table   = map[string]*row{}
)

// record adds one run of a scenario to the table.
func record(scenario string, passed bool, m *measure) {
	tableMu.Lock()
	defer tableMu.Unlock()
	r := table[scenario]
	if r == nil {
		r = &row{scenario: scenario, order: len(table)}
		table[scenario] = r
	}
	r.runs++
	if passed {
		r.passed++
	}
	if m.failover > 0 {
		r.failover = append(r.failover, m.failover)
	}
	r.skewMs = max(r.skewMs, m.skewMs)
	r.lost = append(r.lost, m.lost)
}

// writeTable prints the table: one line per scenario that ran.
func writeTable(w io.Writer) {
	tableMu.Lock()
	defer tableMu.Unlock()
	rows := make([]*row, 0, len(table))
	for _, r := range table {
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].order < rows[j].order })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\truns\tpassed\tfailover (kill -> first merged point)\tmax start skew\trequests lost")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%.1f ms\t%s\n", r.scenario, r.runs, r.passed, durations(r.failover), r.skewMs, counts(r.lost))
	}
	_ = tw.Flush()
}

// durations renders measured times as "min–max (n)" or "-".
func durations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	lo, hi := ds[0], ds[0]
	for _, d := range ds {
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo == hi {
		return fmt.Sprintf("%.2f s", lo.Seconds())
	}
	return fmt.Sprintf("%.2f–%.2f s", lo.Seconds(), hi.Seconds())
}

// counts renders per-run lost requests ("0" when none was ever lost).
func counts(ns []int64) string {
	var parts []string
	any := false
	for _, n := range ns {
		parts = append(parts, strconv.FormatInt(n, 10))
		any = any || n != 0
	}
	if !any {
		return "0"
	}
	return strings.Join(parts, ", ")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if len(table) > 0 {
		fmt.Println()
		writeTable(os.Stdout)
		if path := os.Getenv("STAMPEDE_CHAOS_TABLE"); path != "" {
			if f, err := os.Create(path); err == nil {
				writeTable(f)
				f.Close()
			}
		}
	}
	os.Exit(code)
}
