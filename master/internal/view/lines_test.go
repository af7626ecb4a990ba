package view

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/twintest"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// fleetLines is n workers' lines, each with requests.
func fleetLines(n int, requests int64) []report.WorkerSummary {
	out := make([]report.WorkerSummary, n)
	for i := range out {
		out[i] = report.WorkerSummary{ID: fmt.Sprintf("w%04d", i), State: "running", Requests: requests, RPS: 10}
	}
	return out
}

// storeTest writes a running test the way the leader stores it, with its
// workers' lines in chunks, and returns its id and the chunks' paths.
func storeTest(t *testing.T, c *coord.Client, p proto.Paths, lines []report.WorkerSummary) (string, []string) {
	t.Helper()
	sp, errs := spec.Parse([]byte(`{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate_per_worker":10,"duration":"30s"}}`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	id := proto.NewTestID(time.Now())
	workers := make([]string, len(lines))
	for i, l := range lines {
		workers[i] = l.ID
	}
	st := proto.TestState{Phase: proto.PhaseRunning, CreatedAt: time.Now().UnixNano(), StartAt: time.Now().UnixNano(), PlannedAt: time.Now().UnixNano(), Chosen: len(workers)}
	ops := []coord.Op{
		coord.CreateOp{Path: p.Test(id), Data: sp.Encode()},
		coord.CreateOp{Path: p.State(id), Data: proto.Marshal(st)},
		coord.CreateOp{Path: p.LinesDir(id)},
		coord.CreateOp{Path: p.Plans(id)},
	}
	for _, w := range workers { // the chosen workers are the plans' names
		ops = append(ops, coord.CreateOp{Path: p.Plan(id, w)})
	}
	var chunks []string
	for i, ch := range proto.Chunk(lines, proto.ChunkBytes) {
		chunks = append(chunks, p.LinesChunk(id, i))
		ops = append(ops, coord.CreateOp{Path: p.LinesChunk(id, i), Data: proto.Marshal(ch)})
	}
	if err := c.Multi(context.Background(), ops...); err != nil {
		t.Fatal(err)
	}
	return id, chunks
}

// chunkReads counts the reader's reads of lines chunks' data since from.
func chunkReads(srv *coord.MemServer, from int) (int, int) {
	reqs := srv.Requests()
	n := 0
	for _, r := range reqs[from:] {
		if r.Op == "get" && strings.Contains(r.Paths[0], "/lines/") {
			n++
		}
	}
	return n, len(reqs)
}

// A second GET of a test whose lines did not change decodes none of them
// and answers the same; a chunk the leader rewrote is read again (that
// chunk only) and seen, even one deleted and created again at version 0;
// a forgotten (deleted) test keeps nothing.
func TestTestViewDecodesOnlyChangedLines(t *testing.T) {
	srv := coord.NewMemServer()
	c := twintest.Dial(t, srv)
	p := proto.Paths{Root: "/stampede"}
	if err := c.EnsurePath(context.Background(), p.Tests()); err != nil {
		t.Fatal(err)
	}
	r := &Reader{C: twintest.Dial(t, srv), P: p}
	lines := fleetLines(2000, 100)
	id, chunks := storeTest(t, c, p, lines)
	if len(chunks) < 3 {
		t.Fatalf("2,000 lines fill %d chunks, want several", len(chunks))
	}
	ctx := context.Background()
	srv.Record()
	first, err := r.Test(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	reads, mark := chunkReads(srv, 0)
	if reads != len(chunks) || !reflect.DeepEqual(first.Workers, lines) {
		t.Fatalf("first GET: %d chunk reads (want %d), lines equal: %v", reads, len(chunks), reflect.DeepEqual(first.Workers, lines))
	}
	again, err := r.Test(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if reads, mark = chunkReads(srv, mark); reads != 0 {
		t.Errorf("second GET of an unchanged test read %d lines chunks, want none", reads)
	}
	if !reflect.DeepEqual(again.Workers, first.Workers) {
		t.Errorf("second GET answers other lines than the first")
	}
	again.Workers[0].Requests = -1 // a caller's change is its own
	// the leader rewrites chunk 1 with new counts
	changed := proto.Chunk(fleetLines(2000, 200), proto.ChunkBytes)
	if _, err := c.Set(ctx, chunks[1], proto.Marshal(changed[1]), -1); err != nil {
		t.Fatal(err)
	}
	third, err := r.Test(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if reads, _ = chunkReads(srv, mark); reads != 1 {
		t.Errorf("GET after one chunk changed read %d chunks, want that one", reads)
	}
	n0 := len(proto.Chunk(lines, proto.ChunkBytes)[0])
	if third.Workers[0].Requests != 100 || third.Workers[n0].Requests != 200 {
		t.Errorf("after chunk 1 changed: worker 0 has %d requests (want 100), worker %d has %d (want 200)",
			third.Workers[0].Requests, n0, third.Workers[n0].Requests)
	}
	// chunk 2 deleted and created again: version 0 as before, new content
	if err := c.Delete(ctx, chunks[2], -1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, chunks[2], proto.Marshal(proto.Chunk(fleetLines(2000, 300), proto.ChunkBytes)[2]), coord.Persistent); err != nil {
		t.Fatal(err)
	}
	fourth, err := r.Test(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	n2 := n0 + len(changed[1])
	if fourth.Workers[n2].Requests != 300 || fourth.Workers[n0].Requests != 200 {
		t.Errorf("after chunk 2 was re-created: worker %d has %d requests (want 300), worker %d %d (want 200)",
			n2, fourth.Workers[n2].Requests, n0, fourth.Workers[n0].Requests)
	}
	r.Forget(id)
	r.mu.Lock()
	kept, bytes := len(r.lines), r.lineBytes
	r.mu.Unlock()
	if kept != 0 || bytes != 0 {
		t.Errorf("after Forget the reader keeps lines of %d tests, %d bytes", kept, bytes)
	}
}
