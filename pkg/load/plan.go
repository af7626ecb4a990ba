// Package load is Stampede's load engine: it runs one worker's share of a
// test against the target and measures it. It needs no ZooKeeper; the worker
// agent and `worker run` both drive it through Prepare, Run and Collect
// (API.md).
//
// Models (docs/spec.md). Open models (constant-rate, ramping-rate) follow a
// Schedule, a pure function from a request's index to its due time; a free
// connection claims the next index with one atomic add, waits until it is
// due and sends it. Latency is measured from the due time, so a request
// that waited for a connection carries the wait (no coordinated omission);
// the service time, from the actual send, goes to a second histogram. A
// request claimed more than LateThreshold after it was due is counted in
// Counters.Late; RateMissed flags runs with more than 5 % late. Closed
// models (avalanche, tsunami, ramping-concurrency) follow a Profile, the
// connection count over time. Every model is one driver (driver.go),
// written once against the Transport interface (transport.go).
//
// Transports. Against one plain-HTTP endpoint on Linux, a run's
// connections are spread over a few event loops (client.Loop): each
// multiplexes many connections over its own epoll instance, one read and
// one write system call per exchange, and wakes parked connections with
// epoll_pwait2's nanosecond timeout. Everywhere else (TLS, several
// endpoints, other platforms) each connection is a goroutine transport
// (client.Serial) with Go timers, whose wake-ups can be up to a
// millisecond late on an idle process (that delay is in the latency of
// open models, which counts from the due time). Both count exactly: a
// request is counted when its outcome is known, and only requests that
// were sent are counted. PrepareWith accepts any other Transport.
//
// Responses. A response body is never held: both transports count its
// bytes and discard them as they arrive (Content-Length, chunked and
// until-close bodies alike), and one longer than request.max_response_bytes
// counts as an error of kind response_too_large. A loop's connections share
// its buffers, so an idle keep-alive connection costs a few hundred bytes
// of this process's memory (TestIdleConnectionMemory,
// BenchmarkIdleConnections).
//
// Measurement. Each transport (a lane) owns a slot with its
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
