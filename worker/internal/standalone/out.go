package standalone

import (
	"encoding/json"
	"os"
	"time"

	"github.com/stampede-load/stampede/pkg/export"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// keep records a second's histogram for the interval-log export.
func (a *accumulator) keep(second int64, h *hist.Histogram) {
	if enc, err := h.Encode(); err == nil {
		a.seconds = append(a.seconds, proto.SecondHist{Second: second, Hist: enc})
	}
}

// export is the run as the exports see it.
func (a *accumulator) export(s spec.Spec, workerID string, startAt, end time.Time, sum *report.Summary) *export.Test {
	phase := "completed"
	for _, t := range sum.Thresholds {
		if t.Aborted {
			phase = "aborted"
		}
	}
	return &export.Test{ID: "local-" + workerID, Name: s.Name, Phase: phase, StartAt: startAt, EndedAt: end,
		Summary: sum, Points: a.points, Seconds: a.seconds}
}

// writeOut writes the export that file's extension names (nothing when
// file is empty).
func writeOut(file string, t *export.Test) error {
	if file == "" {
		return nil
	}
	kind, err := export.KindOf(file)
	if err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if kind == "json" {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		err = enc.Encode(t.Summary)
	} else {
		err = export.Write(f, kind, t)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
