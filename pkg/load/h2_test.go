package load

import (
	"context"
	"testing"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// TestH2CErrorKinds: over h2c the engine counts outcomes as over HTTP/1.1:
// a slow answer past request.timeout is a timeout (sampled), an
// unexpected status is unexpected_status with its code, and every request
// is counted once under its name; the target saw HTTP/2 only.
func TestH2CErrorKinds(t *testing.T) {
	tp := startTarget(t)
	for _, c := range []struct {
		query, kind, status string
	}{
		{"delay=400ms", report.ErrTimeout, ""},
		{"status=503:100", report.ErrStatus, "503"},
	} {
		tp.post(t, "/stats/reset")
		s, errs := spec.Parse([]byte(`{"request": {"name": "slow", "url": "` + tp.URL + `/ping?` + c.query + `", "protocol": "h2c", "timeout": "100ms"},
		  "load": {"model": "avalanche", "concurrency": 3, "requests": 9}}`))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		total, r := runAll(t, context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1, Requests: 9}})
		got := total.Counters
		if got.Requests != 9 || got.Errors != 9 || got.ErrorKinds[c.kind] != 9 || total.Latency.Count() != 9 {
			t.Errorf("%s: counters %+v (latencies %d); want 9 requests, 9 errors of kind %s", c.query, got, total.Latency.Count(), c.kind)
		}
		if c.status != "" && got.Status[c.status] != 9 {
			t.Errorf("%s: status codes %v, want %s: 9", c.query, got.Status, c.status)
		}
		if c.kind == report.ErrTimeout && len(got.ErrorSamples[c.kind]) == 0 {
			t.Errorf("%s: no sampled timeout message: %v", c.query, got.ErrorSamples)
		}
		if r.onLoops {
			t.Errorf("%s: an h2c run went to the HTTP/1.1 event loop", c.query)
		}
		if st := tp.stats(t); st.Requests != 9 {
			t.Errorf("%s: the target saw %d requests, want 9", c.query, st.Requests)
		}
	}
}
