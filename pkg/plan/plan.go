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
	// Iterations is this worker's journey budget of a scenario; 0 means
	// no count bound.
	Iterations int64 `json:"iterations,omitempty"`
	// DataFirst and DataRows are this worker's slice of a unique-mode
	// scenario data table: rows [DataFirst, DataFirst+DataRows). Slices of
	// different workers never overlap and together cover every row.
	DataFirst int `json:"data_first,omitempty"`
	DataRows  int `json:"data_rows,omitempty"`
}

// Split divides a normalized spec's load over n workers: request totals
// divide exactly (10,000 over 3 gives 3,334 + 3,333 + 3,333), so the
// shares always sum to load.requests; load.iterations and the rows of
// unique scenario data divide the same way.
func Split(s *spec.Spec, n int) []Share {
	shares := make([]Share, n)
	rows := int64(s.UniqueRows())
	for i := range shares {
		shares[i] = Share{Index: i, Of: n}
		switch {
		case s.Load.Requests > 0:
			shares[i].Requests = part(s.Load.Requests, n, i)
		case s.Load.RequestsPerWorker > 0:
			shares[i].Requests = s.Load.RequestsPerWorker
		}
		switch {
		case s.Load.Iterations > 0:
			shares[i].Iterations = part(s.Load.Iterations, n, i)
		case s.Load.IterationsPerWorker > 0:
			shares[i].Iterations = s.Load.IterationsPerWorker
		}
		if rows > 0 {
			shares[i].DataFirst = int(first(rows, n, i))
			shares[i].DataRows = int(part(rows, n, i))
		}
	}
	return shares
}

// part is worker i's exact part of total over n: the first total%n
// workers get one more.
func part(total int64, n, i int) int64 {
	q, r := total/int64(n), total%int64(n)
	if int64(i) < r {
		return q + 1
	}
	return q
}

// first is where worker i's part of total over n begins.
func first(total int64, n, i int) int64 {
	q, r := total/int64(n), total%int64(n)
	return int64(i)*q + min(int64(i), r)
}
