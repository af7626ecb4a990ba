package aggregate

import (
	"errors"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// FuzzTrustedReport: whatever a metrics node holds, a report that passes
// Bounds.Check merges without a panic and Emit produces no point past the
// run (a forged sequence number cannot make the leader loop or allocate).
func FuzzTrustedReport(f *testing.F) {
	f.Add(rep("w1", 0, 5, 1000, false).Encode())
	f.Add(rep("w1", 2, 5, 1000, true, report.Interval{Seq: 1}).Encode())
	f.Add([]byte(`{"test":"t","worker":"w1","seq":100000000}`))
	sp := spec.Spec{Request: spec.Request{Timeout: spec.D(time.Second)}, Load: spec.Load{Duration: spec.D(3 * time.Second)}}
	st, workers := &proto.TestState{StartAt: t0.UnixNano(), Chosen: 2}, []string{"w1", "w2"}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.DecodeReport(data)
		if err != nil {
			return
		}
		r.Test, r.StartAt = "t", t0.UnixNano() // so that the rest of the report is what is fuzzed
		b := NewBounds("t", st, workers, &sp)
		if b.Check("w1", r) != nil {
			return
		}
		tr := NewTracker(t0, workers, 0, time.Second)
		tr.Limit(b.MaxSeq)
		tr.Observe(r)
		tr.MarkLost("w2")
		pts := tr.Emit(t0.Add(time.Hour))
		if int64(len(pts)) > b.MaxSeq+1 {
			t.Fatalf("%d points from one report; the run has at most %d seconds", len(pts), b.MaxSeq+1)
		}
		if _, err := Summarize(&sp, st, workers, map[string]*report.Report{"w1": r}, nil); err != nil && !isBad(err) {
			t.Fatalf("Summarize: %v", err)
		}
	})
}

func isBad(err error) bool { return err != nil && errors.Is(err, ErrBadReport) }
