package view

import (
	"context"
	"encoding/json"
	"errors"
	"path"
	"slices"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/report"
)

// maxLineBytes bounds the decoded lines the reader keeps, counted as the
// bytes of their nodes: a dozen tests of 2,000 workers.
const maxLineBytes = 8 << 20

// lineChunk is one decoded lines chunk, as of its node's last change.
type lineChunk struct {
	mzxid int64
	lines []report.WorkerSummary
	size  int
}

// Lines reads the per-worker lines the leader stored beside the result
// (none before it first wrote them). A chunk is decoded only when its node
// changed since the reader last decoded it (its Mzxid, which no rewrite,
// delete or re-create repeats): the leader rewrites a running test's lines
// every few seconds while the API and the live feed read them every
// second, and decoding every chunk of a 2,000-worker test on each GET was
// most of the GET's cost. A chunk that vanished between the listing and
// the read (a pruned test), or that is empty or does not decode, is
// skipped.
func (r *Reader) Lines(ctx context.Context, id string) ([]report.WorkerSummary, error) {
	dir := r.P.LinesDir(id)
	names, err := r.C.Children(ctx, dir)
	if errors.Is(err, coord.ErrNoNode) {
		r.keepChunks(id, nil)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	slices.Sort(names) // ZooKeeper lists children in no particular order
	nodes := make([]string, len(names))
	for i, n := range names {
		nodes[i] = path.Join(dir, n)
	}
	chunks := make([][]report.WorkerSummary, len(nodes))
	var stale []int                                // chunks changed since they were cached
	for i, e := range r.C.ExistsMany(ctx, nodes) { // together: one wait on ZooKeeper, not one per chunk
		switch {
		case errors.Is(e.Err, coord.ErrNoNode):
		case e.Err != nil:
			return nil, e.Err
		default:
			r.mu.Lock()
			c, hit := r.lines[id][nodes[i]]
			r.mu.Unlock()
			if hit && c.mzxid == e.Stat.Mzxid {
				chunks[i] = c.lines
			} else {
				stale = append(stale, i)
			}
		}
	}
	if err := r.readChunks(ctx, id, nodes, stale, chunks); err != nil {
		return nil, err
	}
	var out []report.WorkerSummary
	for _, ls := range chunks {
		out = append(out, ls...) // copies: the cached lines are never handed out
	}
	r.keepChunks(id, names)
	return out, nil
}

// readChunks reads, decodes and caches the chunks nodes[i] for i in
// stale, into chunks[i].
func (r *Reader) readChunks(ctx context.Context, id string, nodes []string, stale []int, chunks [][]report.WorkerSummary) error {
	paths := make([]string, len(stale))
	for k, i := range stale {
		paths[k] = nodes[i]
	}
	for k, g := range r.C.GetMany(ctx, paths) {
		if errors.Is(g.Err, coord.ErrNoNode) {
			continue
		}
		if g.Err != nil {
			return g.Err
		}
		var ls []report.WorkerSummary
		if json.Unmarshal(g.Data, &ls) != nil {
			ls = nil
		}
		i := stale[k]
		r.cacheChunk(id, nodes[i], lineChunk{mzxid: g.Stat.Mzxid, lines: ls, size: len(g.Data)})
		chunks[i] = ls
	}
	return nil
}

// cacheChunk keeps a decoded chunk, starting over when the bound is passed
// (a simple bound: the next read of each test decodes its chunks again).
func (r *Reader) cacheChunk(id, node string, c lineChunk) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.lines[id][node]; ok {
		r.lineBytes -= old.size
	}
	if r.lines == nil || r.lineBytes+c.size > maxLineBytes {
		r.lines, r.lineBytes = map[string]map[string]lineChunk{}, 0
	}
	if r.lines[id] == nil {
		r.lines[id] = map[string]lineChunk{}
	}
	r.lines[id][node] = c
	r.lineBytes += c.size
}

// keepChunks forgets the cached chunks of test id that are no longer
// listed (names are the chunks' base names).
func (r *Reader) keepChunks(id string, names []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for node, c := range r.lines[id] {
		if !slices.Contains(names, path.Base(node)) {
			r.lineBytes -= c.size
			delete(r.lines[id], node)
		}
	}
	if len(r.lines[id]) == 0 {
		delete(r.lines, id)
	}
}

// forgetLines drops a deleted test's cached lines (with r.mu held).
func (r *Reader) forgetLines(id string) {
	for _, c := range r.lines[id] {
		r.lineBytes -= c.size
	}
	delete(r.lines, id)
}
