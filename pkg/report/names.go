package report

import "github.com/stampede-load/stampede/pkg/hist"

// NameReport is one request name's part of a worker report: the same
// counters and histograms as the report's, for the requests of that name
// only. The names of a report together hold every request of the report.
type NameReport struct {
	Name         string   `json:"name"`
	Interval     Counters `json:"interval"`
	IntervalHist string   `json:"interval_hist,omitempty"`
	Totals       Counters `json:"totals"`
	Cumulative   string   `json:"cumulative_hist,omitempty"`
}

// NameSummary is one request name's line of a summary (contract:
// summary.names[]): its numbers merged exactly across workers; errors and
// status codes are those of its requests.
type NameSummary struct {
	Name         string           `json:"name"`
	Requests     int64            `json:"requests"`
	Errors       int64            `json:"errors"`
	RPS          float64          `json:"rps"`
	LatencyMs    hist.Latency     `json:"latency_ms"`
	StatusCodes  map[string]int64 `json:"status_codes,omitempty"`
	ErrorKinds   map[string]int64 `json:"error_kinds,omitempty"`
	ErrorSamples Samples          `json:"error_samples,omitempty"`
	Distribution []hist.DistPoint `json:"distribution,omitempty"`
	// Histogram is the name's merged latency histogram (V2 compressed,
	// base64).
	Histogram string `json:"histogram,omitempty"`
}

// SummarizeName builds a name's summary line from its merged histogram and
// counters over durationS seconds.
func SummarizeName(name string, h *hist.Histogram, c Counters, durationS float64) NameSummary {
	return Summarize(h, c, durationS).NameLine(name)
}

// NameLine is s as the line of a name: that of a run whose requests all
// have that one name.
func (s Summary) NameLine(name string) NameSummary {
	return NameSummary{Name: name, Requests: s.Requests, Errors: s.Errors, RPS: s.RPS, LatencyMs: s.LatencyMs,
		StatusCodes: s.StatusCodes, ErrorKinds: s.ErrorKinds, ErrorSamples: s.ErrorSamples,
		Distribution: s.Distribution, Histogram: s.Histogram}
}
