package proto

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/report"
)

// Per-worker lines of 5,000 workers with long ids are cut into chunks that
// each stay within ChunkBytes and together hold every line once, in order.
func TestChunkBoundsEveryChunk(t *testing.T) {
	for _, n := range []int{0, 1, 2000, 5000} {
		lines := make([]report.WorkerSummary, n)
		for i := range lines {
			lines[i] = report.WorkerSummary{ID: fmt.Sprintf("worker-with-a-rather-long-pod-name-%06d", i), State: "done", Requests: 300, RPS: 10, P99Ms: 12.5}
		}
		var back []report.WorkerSummary
		for _, c := range Chunk(lines, ChunkBytes) {
			b, _ := json.Marshal(c)
			if len(b) > ChunkBytes {
				t.Errorf("%d lines: a chunk of %d is %d bytes, bound %d", n, len(c), len(b), ChunkBytes)
			}
			back = append(back, c...)
		}
		if !slices.Equal(back, lines) {
			t.Errorf("%d lines: chunks hold %d lines, not the same ones", n, len(back))
		}
	}
}

// What Chunk cut and was written as nodes reads back whole with
// ReadChunks, skipping nodes that are empty or not JSON; a missing
// directory is reported as not found (on the in-memory coordination twin).
func TestReadChunksReadsBackWhatChunkCut(t *testing.T) {
	ctx := context.Background()
	c, err := coord.DialMemory(ctx, coord.NewMemServer(), coord.DefaultConfig("memory"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if found, err := ReadChunks(ctx, c, "/none", func(string, []int, int) { t.Error("called for a missing dir") }); found || err != nil {
		t.Fatalf("missing dir: found %v err %v", found, err)
	}
	items := make([]int, 3000)
	for i := range items {
		items[i] = i * 7
	}
	if err := c.EnsurePath(ctx, "/dir"); err != nil {
		t.Fatal(err)
	}
	for i, ch := range Chunk(items, 1000) {
		if _, err := c.Create(ctx, fmt.Sprintf("/dir/%04d", i), Marshal(ch), coord.Persistent); err != nil {
			t.Fatal(err)
		}
	}
	for n, d := range map[string]string{"/dir/x-empty": "[]", "/dir/y-bad": "{not json"} {
		if _, err := c.Create(ctx, n, []byte(d), coord.Persistent); err != nil {
			t.Fatal(err)
		}
	}
	var back []int
	found, err := ReadChunks(ctx, c, "/dir", func(_ string, got []int, size int) {
		if size > 1000 {
			t.Errorf("a chunk of %d bytes, cut at 1000", size)
		}
		back = append(back, got...)
	})
	if !found || err != nil || !slices.Equal(back, items) {
		t.Errorf("found %v err %v, %d items back of %d (or not the same)", found, err, len(back), len(items))
	}
}
