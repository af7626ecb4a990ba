package proto

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

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
