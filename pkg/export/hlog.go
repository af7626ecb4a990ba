package export

import (
	"fmt"
	"io"

	"github.com/stampede-load/stampede/pkg/hist"
)

// HLog writes the interval log: one untagged interval per merged second of
// the whole test (every worker), then one interval per request name
// covering the whole test, tagged with the name (see hist.LogTag). Values
// are microseconds.
func HLog(w io.Writer, t *Test) error {
	var ivs []hist.LogInterval
	for _, sh := range t.Seconds {
		h, err := hist.Decode(sh.Hist)
		if err != nil {
			return fmt.Errorf("export: second %d: %w", sh.Second, err)
		}
		ivs = append(ivs, hist.LogInterval{StartS: float64(sh.Second), LengthS: 1, Hist: h})
	}
	if s := t.Summary; s != nil {
		for _, n := range s.Names {
			h, err := hist.Decode(n.Histogram)
			if err != nil {
				return fmt.Errorf("export: name %q: %w", n.Name, err)
			}
			ivs = append(ivs, hist.LogInterval{Tag: n.Name, StartS: 0, LengthS: s.DurationS, Hist: h})
		}
	}
	return hist.WriteLog(w, t.StartAt, ivs)
}
