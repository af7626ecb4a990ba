// Package load is Stampede's load engine: it runs one worker's share of a
// test against the target and measures it. It needs no ZooKeeper; the worker
// agent and `worker run` both drive it through Prepare, Run and Collect
// (API.md).
//
// Models (docs/spec.md). Open models (constant-rate, ramping-rate) follow a
// Schedule, a pure function from a request's index to its due time; a free
// load goroutine claims the next index with one atomic add, sleeps until it
// is due and sends it. Latency is measured from the due time, so a request
// that waited for a connection carries the wait (no coordinated omission);
// the service time, from the actual send, goes to a second histogram. A
// request claimed more than LateThreshold after it was due is counted in
// Counters.Late; RateMissed flags runs with more than 5 % late. Closed
// models (avalanche, tsunami, ramping-concurrency) follow a Profile, the
// connection count over time.
//
// Engines. Every model but ramping-concurrency, against one plain-HTTP
// endpoint, runs on event loops (client.Loop, Linux): a few goroutines each
// multiplex many connections over their own epoll instance, one read and
// one write system call per exchange, and wake parked connections with
// epoll_pwait2's nanosecond timeout. Every other case runs one goroutine
// per connection (client.Conn) with Go timers, whose wake-ups can be up to
// a millisecond late on an idle process (that delay is in the latency of
// open models, which counts from the due time). Both count exactly: a request is counted when its outcome
// is known, and only requests that were sent are counted.
//
// Measurement. Each load goroutine (or loop) owns a slot with its
// histograms and counters; Collect swaps the slot for an empty one without
// a lock (see lane) and merges. Nothing allocates per request in steady
// state (BenchmarkEngine, BenchmarkConnDo).
//
// Templates. Importing this package links pkg/template, whose init
// registers template checks with spec.RegisterValidator: any binary that
// imports pkg/load (master, worker) reports template errors from
// spec.Validate. A package that validates specs without linking pkg/load
// must import pkg/template itself (a blank import is enough).
package load

import (
	"github.com/stampede-load/stampede/pkg/spec"
)

// Share is one worker's exact part of a test (written by the leader into
// plan/<worker-id>). A test split over Of workers gives worker Index a 1/Of
// fraction of the rate, phase-shifted by Index/Of of the per-worker
// inter-arrival period so that the merged stream is as even as a single
// generator's, and an exact share of the request budget.
type Share struct {
	Index int `json:"index"`
	Of    int `json:"of"`
	// Requests is this worker's request budget; 0 means no count bound.
	Requests int64 `json:"requests,omitempty"`
}

// Plan is everything a worker needs to run its share of a test.
type Plan struct {
	TestID   string    `json:"test"`
	WorkerID string    `json:"worker"`
	Spec     spec.Spec `json:"spec"`
	Share    Share     `json:"share"`
}

// Split divides a normalized spec's load over n workers: request totals
// divide exactly (10,000 over 3 gives 3,334 + 3,333 + 3,333).
func Split(s *spec.Spec, n int) []Share {
	shares := make([]Share, n)
	for i := range shares {
		shares[i] = Share{Index: i, Of: n}
		switch {
		case s.Load.Requests > 0:
			q, r := s.Load.Requests/int64(n), s.Load.Requests%int64(n)
			shares[i].Requests = q
			if int64(i) < r {
				shares[i].Requests++
			}
		case s.Load.RequestsPerWorker > 0:
			shares[i].Requests = s.Load.RequestsPerWorker
		}
	}
	return shares
}
