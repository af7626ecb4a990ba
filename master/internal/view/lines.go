package view

import (
	"context"
	"encoding/json"
	"errors"
	"path"
	"slices"
	"sync"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/report"
)

// maxLineBytes bounds the decoded lines the reader keeps, counted as the
// bytes of their nodes: a dozen tests of 2,000 workers.
const maxLineBytes = 8 << 20

// chunkReaders is how many chunks Lines checks at once.
const chunkReaders = 16

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
	chunks := make([][]report.WorkerSummary, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	slots := make(chan struct{}, chunkReaders)
	for i, n := range names { // together: one wait on ZooKeeper, not one per chunk
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			chunks[i], errs[i] = r.lineChunk(ctx, id, path.Join(dir, n))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []report.WorkerSummary
	for _, ls := range chunks {
		out = append(out, ls...) // copies: the cached lines are never handed out
	}
	r.keepChunks(id, names)
	return out, nil
}

// lineChunk is one chunk's lines: from the cache if the node has not
// changed, else read, decoded and cached.
func (r *Reader) lineChunk(ctx context.Context, id, node string) ([]report.WorkerSummary, error) {
	ok, st, err := r.C.Exists(ctx, node)
	if err != nil || !ok {
		return nil, err
	}
	r.mu.Lock()
	c, hit := r.lines[id][node]
	r.mu.Unlock()
	if hit && c.mzxid == st.Mzxid {
		return c.lines, nil
	}
	d, st, err := r.C.Get(ctx, node)
	if errors.Is(err, coord.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ls []report.WorkerSummary
	if json.Unmarshal(d, &ls) != nil {
		ls = nil
	}
	r.cacheChunk(id, node, lineChunk{mzxid: st.Mzxid, lines: ls, size: len(d)})
	return ls, nil
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
