// Package load is Stampede's load engine: it runs one worker's share of a
// test against the target and measures it. It needs no ZooKeeper; the worker
// agent and `worker run` both drive it through Prepare, Run and Collect.
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
