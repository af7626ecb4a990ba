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
// Plans. A worker's part of a test (its plan.Share) is decided by pkg/plan,
// which the master uses without linking this package; Prepare validates the
// spec again (spec.Validate, templates included) before it runs anything.
package load

import (
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Plan is everything a worker needs to run its share of a test.
type Plan struct {
	TestID   string     `json:"test"`
	WorkerID string     `json:"worker"`
	Spec     spec.Spec  `json:"spec"`
	Share    plan.Share `json:"share"`
}
