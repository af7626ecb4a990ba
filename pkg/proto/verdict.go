package proto

import "github.com/stampede-load/stampede/pkg/report"

// LiveVerdict is the verdict node's data: the thresholds as last judged by
// the leader while the test runs (the final ones are in the result).
type LiveVerdict struct {
	Verdict    string                   `json:"verdict"`
	Thresholds []report.ThresholdResult `json:"thresholds"`
}
