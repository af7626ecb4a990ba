// Package plan divides a test's load over its workers. It is the one place
// that decides each worker's exact part of a test: the leader writes the
// shares into ZooKeeper and every engine reads its own. It depends only on
// the spec, so the master can plan a test without linking the load engine.
package plan

import "github.com/stampede-load/stampede/pkg/spec"

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

// Split divides a normalized spec's load over n workers: request totals
// divide exactly (10,000 over 3 gives 3,334 + 3,333 + 3,333), so the
// shares always sum to load.requests.
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
