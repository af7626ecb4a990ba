package export

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/verdict"
)

//go:embed report.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":       func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"rate":     func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"pct":      func(req, errs int64) string { return fmt.Sprintf("%.2f%%", 100*ratio(req, errs)) },
	"observed": verdict.FormatObserved,
	"codes":    codes,
}).Parse(reportTemplate))

func ratio(req, errs int64) float64 {
	if req == 0 {
		return 0
	}
	return float64(errs) / float64(req)
}

func codes(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s=%d", k, m[k])
	}
	return s
}

type reportPage struct {
	*Test
	S          *report.Summary
	Generated  string
	Latency    template.HTML
	Throughput template.HTML
	Curves     template.HTML
}

// HTML writes the report: one self-contained page (inline CSS and SVG
// charts, no script and no external reference) with the headline numbers,
// the verdict and thresholds, the per-name table, latency and throughput
// over time, the percentile curves and the workers.
func HTML(w io.Writer, t *Test) error {
	s := t.Summary
	if s == nil {
		s = &report.Summary{}
	}
	pg := reportPage{Test: t, S: s, Generated: time.Now().UTC().Format(time.RFC3339)}
	xs := make([]float64, len(t.Points))
	lat := []series{{Label: "p50"}, {Label: "p90"}, {Label: "p99"}, {Label: "max"}}
	thr := []series{{Label: "req/s"}, {Label: "errors/s"}}
	for i, p := range t.Points {
		xs[i] = float64(p.Second + 1)
		l := p.LatencyMs
		lat[0].Ys, lat[1].Ys = append(lat[0].Ys, l.P50), append(lat[1].Ys, l.P90)
		lat[2].Ys, lat[3].Ys = append(lat[2].Ys, l.P99), append(lat[3].Ys, l.Max)
		errs := float64(p.Errors)
		if p.Requests > 0 {
			errs = p.RPS * float64(p.Errors) / float64(p.Requests)
		}
		thr[0].Ys, thr[1].Ys = append(thr[0].Ys, p.RPS), append(thr[1].Ys, errs)
	}
	secs := func(x float64) string { return trim(x) + "s" }
	pg.Latency = lineChart(xs, lat, " ms", secs)
	pg.Throughput = lineChart(xs, thr, "", secs)
	pg.Curves = curves(s)
	return reportTmpl.Execute(w, pg)
}

// curves draws the percentile curve of the whole test and of each name on
// the usual log axis (90 %, 99 %, 99.9 % ...).
func curves(s *report.Summary) template.HTML {
	type curve struct {
		label string
		pts   []hist.DistPoint
	}
	cs := []curve{{"all", s.Distribution}}
	for _, n := range s.Names {
		cs = append(cs, curve{n.Name, n.Distribution})
	}
	var grid []float64
	for _, c := range cs {
		for _, p := range c.pts {
			grid = append(grid, nines(p.Percentile))
		}
	}
	sort.Float64s(grid)
	grid = dedupe(grid)
	var ss []series
	for _, c := range cs {
		if len(c.pts) == 0 {
			continue
		}
		sr := series{Label: c.label}
		for _, x := range grid { // step curve: the value at or before x
			v := c.pts[0].Ms
			for _, p := range c.pts {
				if nines(p.Percentile) <= x {
					v = p.Ms
				}
			}
			sr.Ys = append(sr.Ys, v)
		}
		ss = append(ss, sr)
	}
	return lineChart(grid, ss, " ms", ninesLabel)
}

func dedupe(xs []float64) []float64 {
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}
