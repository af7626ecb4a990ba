package report

import (
	"fmt"
	"io"
	"strings"
)

// Verdicts of a test with thresholds (contract: summary.verdict).
const (
	VerdictPassed = "passed"
	VerdictFailed = "failed"
)

// ThresholdResult is one threshold's outcome (contract:
// summary.thresholds[]). Observed is in the metric's unit: milliseconds
// for latency metrics, a fraction (0-1) for error_rate, requests per second
// for rps, a count otherwise. For a windowed threshold that failed it is
// the value of the first failing window.
type ThresholdResult struct {
	Expr     string  `json:"expr"`
	Name     string  `json:"name"`
	Passed   bool    `json:"passed"`
	Observed float64 `json:"observed"`
	Abort    bool    `json:"abort,omitempty"`
	// FailedAt is when the threshold was first seen failing while the test
	// ran (unix milliseconds); 0 if it never was.
	FailedAt int64 `json:"failed_at,omitempty"`
	// Aborted marks the threshold that ended the test.
	Aborted bool `json:"aborted,omitempty"`
}

// Verdict is the verdict of a list of results: failed if any failed.
func Verdict(rs []ThresholdResult) string {
	if len(rs) == 0 {
		return ""
	}
	for _, r := range rs {
		if !r.Passed {
			return VerdictFailed
		}
	}
	return VerdictPassed
}

// WriteVerdict prints the verdict and one line per threshold (nothing
// without thresholds); format renders an observed value in the unit of its
// expression.
func WriteVerdict(w io.Writer, s Summary, format func(expr string, v float64) string) error {
	if s.Verdict == "" {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "verdict         %s\n", strings.ToUpper(s.Verdict))
	for _, t := range s.Thresholds {
		mark := "ok  "
		if !t.Passed {
			mark = "FAIL"
		}
		scope := ""
		if t.Name != "" {
			scope = " [" + t.Name + "]"
		}
		extra := ""
		if t.Aborted {
			extra = "  (aborted the test)"
		}
		fmt.Fprintf(&b, "  %s  %s%s  observed %s%s\n", mark, t.Expr, scope, format(t.Expr, t.Observed), extra)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
