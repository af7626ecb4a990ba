package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// ProgressLine is the one-line-per-second display of a running test.
func ProgressLine(elapsedS float64, p Point, totalRequests int64) string {
	return fmt.Sprintf("[%5.0fs] %8.0f req/s  total %9d  errors %6d  p50 %7.2fms  p99 %8.2fms  max %8.2fms",
		elapsedS, p.RPS, totalRequests, p.Errors, p.LatencyMs.P50, p.LatencyMs.P99, p.LatencyMs.Max)
}

// WriteTable prints a summary as the human-readable table used by `worker
// run` and `master submit`.
func WriteTable(w io.Writer, title string, s Summary) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	if title != "" {
		fmt.Fprintf(&b, "%s\n", title)
	}
	fmt.Fprintf(tw, "requests\t%d\n", s.Requests)
	fmt.Fprintf(tw, "duration\t%.2f s\n", s.DurationS)
	fmt.Fprintf(tw, "throughput\t%.1f req/s\n", s.RPS)
	errPct := 0.0
	if s.Requests > 0 {
		errPct = 100 * float64(s.Errors) / float64(s.Requests)
	}
	fmt.Fprintf(tw, "errors\t%d (%.2f %%)\n", s.Errors, errPct)
	if len(s.ErrorKinds) > 0 {
		fmt.Fprintf(tw, "  by kind\t%s\n", mapString(s.ErrorKinds))
	}
	writeSamples(tw, s.ErrorSamples)
	if len(s.StatusCodes) > 0 {
		fmt.Fprintf(tw, "status codes\t%s\n", mapString(s.StatusCodes))
	}
	if s.TargetRate > 0 {
		flag := ""
		if s.RateMissed {
			flag = "  ** generator could not keep the rate **"
		}
		fmt.Fprintf(tw, "target rate\t%.1f req/s, late starts %d%s\n", s.TargetRate, s.Late, flag)
	}
	l := s.LatencyMs
	fmt.Fprintf(tw, "latency\tmin %.3f  mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms\n",
		l.Min, l.Mean, l.P50, l.P90, l.P99, l.P999, l.Max)
	if sv := s.ServiceMs; sv != nil {
		fmt.Fprintf(tw, "service time\tp50 %.3f  p99 %.3f  max %.3f ms (from the actual send)\n", sv.P50, sv.P99, sv.Max)
	}
	fmt.Fprintf(tw, "max start skew\t%.3f ms\n", s.MaxSkewMs)
	if it := s.Iterations; it != nil {
		d := it.DurationMs
		fmt.Fprintf(tw, "iterations\t%d completed, %d failed; duration p50 %.3f  p99 %.3f  max %.3f ms\n",
			it.Completed, it.Failed, d.P50, d.P99, d.Max)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := writeNames(&b, s); err != nil {
		return err
	}
	if len(s.Workers) > 0 {
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "worker\tstate\trequests\terrors\treq/s\tp99 ms\tstart skew ms\t\n")
		for _, wk := range s.Workers {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\t%.3f\t%.3f\t\n", wk.ID, wk.State, wk.Requests, wk.Errors, wk.RPS, wk.P99Ms, wk.StartSkewMs)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSamples prints the sampled error messages, kind by kind.
func writeSamples(tw io.Writer, samples Samples) {
	kinds := make([]string, 0, len(samples))
	for k := range samples {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		for _, m := range samples[k] {
			fmt.Fprintf(tw, "  %s\t%q\n", k, m)
		}
	}
}

// writeNames prints one line per request name (scenario step) when there
// is more than one name, or a scenario.
func writeNames(b *strings.Builder, s Summary) error {
	if len(s.Names) < 2 && s.Iterations == nil {
		return nil
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "name\trequests\terrors\treq/s\tp50 ms\tp99 ms\tmax ms\t\n")
	for _, n := range s.Names {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.3f\t%.3f\t%.3f\t\n", n.Name, n.Requests, n.Errors, n.RPS, n.LatencyMs.P50, n.LatencyMs.P99, n.LatencyMs.Max)
	}
	return tw.Flush()
}

func mapString(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
