package testcluster

import (
	"testing"
	"time"
)

// TargetStats is the sample target's GET /stats (target/internal/server
// Snapshot): exact counts, and when the first and last load request began
// on the target's own clock, in total and per X-Stampede-Worker value.
type TargetStats struct {
	Requests     int64            `json:"requests"`
	Completed    int64            `json:"completed"`
	Status       map[string]int64 `json:"status_codes"`
	ByWorker     map[string]int64 `json:"by_worker"`
	FirstUnixNs  int64            `json:"first_unix_ns"`
	LastUnixNs   int64            `json:"last_unix_ns"`
	ByWorkerSpan map[string]Span  `json:"by_worker_span"`
	HandlerMs    struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"handler_ms"`
}

// Span is when one worker's first and last request reached the target.
type Span struct {
	FirstUnixNs int64 `json:"first_unix_ns"`
	LastUnixNs  int64 `json:"last_unix_ns"`
}

// First is the first request's arrival time.
func (s Span) First() time.Time { return time.Unix(0, s.FirstUnixNs) }

// Last is the last request's arrival time.
func (s Span) Last() time.Time { return time.Unix(0, s.LastUnixNs) }

// WorkerHeader is the request header the sample target counts per value;
// specs set it to {{worker}}.
const WorkerHeader = "X-Stampede-Worker"

// StatsOf reads GET /stats of a sample target at base (http://host:port).
func StatsOf(t testing.TB, base string) TargetStats {
	t.Helper()
	var s TargetStats
	if code := GetJSON(t, base+"/stats", &s); code != 200 {
		t.Fatalf("GET %s/stats = %d", base, code)
	}
	return s
}

// TargetStats reads the cluster's target's GET /stats.
func (c *Cluster) TargetStats() TargetStats {
	c.t.Helper()
	return StatsOf(c.t, c.Target.URL())
}

// Settled waits until the target has answered every request it received
// (a killed worker's requests may still be in its handlers) and returns
// its stats.
func (c *Cluster) Settled(d time.Duration) TargetStats {
	c.t.Helper()
	var s TargetStats
	Eventually(c.t, d, "the target answers every request it received", func() bool {
		s = c.TargetStats()
		return s.Completed == s.Requests
	})
	return s
}
