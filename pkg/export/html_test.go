package export

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
)

// TestHTMLSamplesAndIterations: the report page lists the sampled error
// messages (escaped: they come from the network) and a scenario's
// iterations.
func TestHTMLSamplesAndIterations(t *testing.T) {
	sum := report.Summarize(hist.New(), report.Counters{Requests: 3, Errors: 3,
		ErrorKinds:   map[string]int64{"tls_unknown_authority": 3},
		ErrorSamples: report.Samples{"tls_unknown_authority": {"x509: <script>alert(1)</script>"}}}, 1)
	sum.Iterations = &report.IterationSummary{Completed: 7, Failed: 2, DurationMs: hist.Latency{P50: 12.5, Max: 40}}
	var b bytes.Buffer
	if err := HTML(&b, &Test{ID: "t1", Phase: "completed", Summary: &sum}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		`<li>tls_unknown_authority: <code>x509: &lt;script&gt;alert(1)&lt;/script&gt;</code></li>`,
		`iterations: 7 completed, 2 failed; duration p50 12.5`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("a sampled message is not escaped")
	}
}
