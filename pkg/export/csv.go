package export

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
)

// TotalRow is the name column of the statistics' last row (the whole test).
const TotalRow = "Total"

var latencyHeader = []string{"min_ms", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"}

func latencyCells(l hist.Latency) []string {
	out := make([]string, 0, 8)
	for _, v := range []float64{l.Min, l.Mean, l.P50, l.P90, l.P95, l.P99, l.P999, l.Max} {
		out = append(out, num(v))
	}
	return out
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func errorRate(requests, errors int64) string {
	if requests == 0 {
		return "0"
	}
	return num(float64(errors) / float64(requests))
}

// StatsCSV writes one row per request name and a last row "Total" for the
// whole test: requests, errors, error rate (0-1), req/s and latency in ms.
func StatsCSV(w io.Writer, t *Test) error {
	cw := csv.NewWriter(w)
	header := append([]string{"name", "requests", "errors", "error_rate", "rps"}, latencyHeader...)
	if err := cw.Write(header); err != nil {
		return err
	}
	s := t.Summary
	if s == nil {
		s = &report.Summary{}
	}
	row := func(name string, req, errs int64, rps float64, l hist.Latency) error {
		cells := []string{name, strconv.FormatInt(req, 10), strconv.FormatInt(errs, 10), errorRate(req, errs), num(rps)}
		return cw.Write(append(cells, latencyCells(l)...))
	}
	for _, n := range s.Names {
		if err := row(n.Name, n.Requests, n.Errors, n.RPS, n.LatencyMs); err != nil {
			return err
		}
	}
	if err := row(TotalRow, s.Requests, s.Errors, s.RPS, s.LatencyMs); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// TimelineCSV writes one row per merged second.
func TimelineCSV(w io.Writer, t *Test) error {
	cw := csv.NewWriter(w)
	header := append([]string{"second", "time_ms", "requests", "errors", "rps", "late", "gap"}, latencyHeader...)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, p := range t.Points {
		cells := []string{strconv.FormatInt(p.Second, 10), strconv.FormatInt(p.T, 10), strconv.FormatInt(p.Requests, 10),
			strconv.FormatInt(p.Errors, 10), num(p.RPS), strconv.FormatInt(p.Late, 10), strconv.FormatBool(p.Gap)}
		if err := cw.Write(append(cells, latencyCells(p.LatencyMs)...)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
