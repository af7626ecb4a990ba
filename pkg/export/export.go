// Package export renders a test's result in the formats users take
// elsewhere: a self-contained HTML report, CSV statistics (per name and a
// total) and timeline, the standard HdrHistogram interval log, and JUnit
// XML with one test case per threshold. The master's API and both CLIs
// (`master submit --out`, `worker run --out`) render through it, from the
// same data.
package export

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// Test is what every export is made of.
type Test struct {
	ID      string
	Name    string
	Phase   string
	Reason  string
	StartAt time.Time
	EndedAt time.Time
	Summary *report.Summary
	Points  []report.Point
	// Seconds are the merged latency histograms of the timeline's seconds.
	Seconds []proto.SecondHist
}

// Kinds of export (the file name each route serves).
const (
	KindHTML     = "report.html"
	KindStats    = "stats.csv"
	KindTimeline = "timeline.csv"
	KindHLog     = "latency.hlog"
	KindJUnit    = "junit.xml"
)

// ReportCSP is the Content-Security-Policy the report is served with: it
// may load nothing at all, so a browser that opens it makes no request.
const ReportCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

// Kinds lists every export.
var Kinds = []string{KindHTML, KindStats, KindTimeline, KindHLog, KindJUnit}

// ContentType is the media type of an export kind.
func ContentType(kind string) string {
	switch kind {
	case KindHTML:
		return "text/html; charset=utf-8"
	case KindStats, KindTimeline:
		return "text/csv; charset=utf-8"
	case KindJUnit:
		return "application/xml"
	}
	return "text/plain; charset=utf-8"
}

// KindOf picks the export for an output file by its name: *.html the
// report, *timeline.csv the timeline, other *.csv the statistics, *.hlog
// the interval log, *.xml JUnit, *.json the JSON summary ("json").
func KindOf(file string) (string, error) {
	base := strings.ToLower(filepath.Base(file))
	switch {
	case strings.HasSuffix(base, ".html"), strings.HasSuffix(base, ".htm"):
		return KindHTML, nil
	case strings.HasSuffix(base, "timeline.csv"):
		return KindTimeline, nil
	case strings.HasSuffix(base, ".csv"):
		return KindStats, nil
	case strings.HasSuffix(base, ".hlog"):
		return KindHLog, nil
	case strings.HasSuffix(base, ".xml"):
		return KindJUnit, nil
	case strings.HasSuffix(base, ".json"):
		return "json", nil
	}
	return "", fmt.Errorf("--out %s: unknown extension (use .html, .csv, timeline.csv, .hlog, .xml or .json)", file)
}

// Write renders one export kind.
func Write(w io.Writer, kind string, t *Test) error {
	switch kind {
	case KindHTML:
		return HTML(w, t)
	case KindStats:
		return StatsCSV(w, t)
	case KindTimeline:
		return TimelineCSV(w, t)
	case KindHLog:
		return HLog(w, t)
	case KindJUnit:
		return JUnit(w, t)
	}
	return fmt.Errorf("export: unknown kind %q", kind)
}
