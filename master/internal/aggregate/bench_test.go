package aggregate

import (
	"fmt"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
)

// BenchmarkLeaderSecond2000 is the leader's merge work for one second of a
// 2,000-worker test at 10 req/s each: decode each worker's report, check
// its histograms' headers, merge it, emit the point. ns/op is the CPU cost of one fleet-second (divide by
// 1e9 for cores).
func BenchmarkLeaderSecond2000(b *testing.B) {
	const n = 2000
	ids := make([]string, n)
	cum := make([]*hist.Histogram, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("sim-%05d", i)
		cum[i] = hist.New()
	}
	encoded := func(seq int64) [][]byte {
		out := make([][]byte, n)
		for i, id := range ids {
			h := hist.New()
			for k := range int64(10) {
				h.RecordMicros(900 + 37*k + int64(i%50))
			}
			cum[i].Merge(h)
			r := rep(id, seq, 10, 1000, false)
			r.IntervalHist, _ = h.Encode()
			r.Cumulative, _ = cum[i].Encode()
			r.Totals = report.Counters{Requests: 10 * (seq + 1)}
			out[i] = r.Encode()
		}
		return out
	}
	const seconds = 4
	bySec := make([][][]byte, seconds)
	for s := range bySec {
		bySec[s] = encoded(int64(s))
	}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		tr := NewTracker(t0, ids, 0, time.Second)
		for s := range seconds {
			for _, d := range bySec[s] {
				r, err := report.DecodeReport(d)
				if err != nil {
					b.Fatal(err)
				}
				if err := hist.CheckEncoded(r.IntervalHist); err != nil {
					b.Fatal(err)
				}
				if err := hist.CheckEncoded(r.Cumulative); err != nil {
					b.Fatal(err)
				}
				tr.Observe(r)
			}
			if pts := tr.Emit(t0.Add(time.Duration(s+1) * time.Second)); len(pts) != 1 || pts[0].Requests != 10*n {
				b.Fatalf("second %d: %+v", s, pts)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*seconds), "ns/fleet-second")
}
