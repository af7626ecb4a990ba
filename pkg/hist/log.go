package hist

import (
	"fmt"
	"io"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// LogInterval is one interval of an HdrHistogram interval log: its tag
// (empty for none), its start relative to the log's start time and its
// length, in seconds.
type LogInterval struct {
	Tag     string
	StartS  float64
	LengthS float64
	Hist    *Histogram
}

// LogTag makes a name usable as an interval log tag, which cannot hold
// commas, spaces or line breaks: each of them becomes "_" ("GET /ping" is
// tagged GET_/ping).
func LogTag(name string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ',', ' ', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, name)
}

// WriteLog writes the standard HdrHistogram interval log (the format of
// HistogramLogWriter, version 1.3) that the reference implementations and
// their plotting tools read: a start and base time of start, the legend,
// then one line per interval, timestamps relative to start, the interval
// max in milliseconds and the histogram (values in microseconds) in the V2
// compressed encoding.
func WriteLog(w io.Writer, start time.Time, ivs []LogInterval) error {
	secs := float64(start.UnixMilli()) / 1000
	var b strings.Builder
	fmt.Fprintf(&b, "#[Histogram log format version 1.3]\n")
	fmt.Fprintf(&b, "#[StartTime: %.3f (seconds since epoch), %s]\n", secs, start.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "#[BaseTime: %.3f (seconds since epoch)]\n", secs)
	fmt.Fprintf(&b, "#[values in microseconds]\n")
	b.WriteString("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n")
	for _, iv := range ivs {
		enc, err := iv.Hist.Encode()
		if err != nil {
			return err
		}
		if iv.Tag != "" {
			b.WriteString("Tag=" + LogTag(iv.Tag) + ",")
		}
		fmt.Fprintf(&b, "%.3f,%.3f,%.3f,%s\n", iv.StartS, iv.LengthS, float64(iv.Hist.Max())/1000, enc)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ReadLog decodes every interval of an interval log with the reference
// reader; each histogram must have Stampede's geometry. StartS is relative
// to the log's base time.
func ReadLog(r io.Reader) ([]LogInterval, error) {
	lr := hdr.NewHistogramLogReader(r)
	var out []LogInterval
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			return out, fmt.Errorf("hist: reading log: %w", err)
		}
		if h == nil {
			return out, nil
		}
		own, err := fromLibrary(h)
		if err != nil {
			return out, err
		}
		out = append(out, LogInterval{Tag: h.Tag(), StartS: float64(h.StartTimeMs()) / 1000, LengthS: float64(h.EndTimeMs()-h.StartTimeMs()) / 1000, Hist: own})
	}
}
