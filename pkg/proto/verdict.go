package proto

import (
	"fmt"

	"github.com/stampede-load/stampede/pkg/report"
)

// LiveVerdict is the verdict node's data: the thresholds as last judged by
// the leader while the test runs (the final ones are in the result).
type LiveVerdict struct {
	Verdict    string                   `json:"verdict"`
	Thresholds []report.ThresholdResult `json:"thresholds"`
}

// HistDir holds the merged latency histogram of every second of a test, in
// chunks of HistChunkSeconds seconds (for the interval-log export).
func (p Paths) HistDir(id string) string { return p.j("tests", id, "hists") }

// HistChunk is chunk n of the per-second histograms.
func (p Paths) HistChunk(id string, n int64) string {
	return p.j("tests", id, "hists", fmt.Sprintf("%06d", n))
}

// SecondHist is one second's merged latency histogram (V2 compressed,
// base64), an element of a HistChunk node's JSON list.
type SecondHist struct {
	Second int64  `json:"second"`
	Hist   string `json:"hist"`
}

// HistChunkSeconds is the number of seconds per HistChunk (a compressed
// histogram is a few KB at most, so a chunk stays far below ChunkBytes).
const HistChunkSeconds = 16
