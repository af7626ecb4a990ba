package export

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// series is one line of a chart.
type series struct {
	Label string
	Ys    []float64
}

var palette = []string{"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#be185d"}

const (
	chartW, chartH = 720, 240
	padL, padR     = 56, 16
	padT, padB     = 16, 32
)

// lineChart draws series over xs as an inline SVG (no script, no external
// reference). xLabel formats x tick values.
func lineChart(xs []float64, ss []series, yUnit string, xLabel func(float64) string) template.HTML {
	if len(xs) == 0 {
		return template.HTML(`<p class="empty">no data</p>`)
	}
	xmin, xmax := xs[0], xs[len(xs)-1]
	if xmax <= xmin {
		xmax = xmin + 1
	}
	ymax := 0.0
	for _, s := range ss {
		for _, y := range s.Ys {
			ymax = math.Max(ymax, y)
		}
	}
	ymax = niceCeil(ymax)
	px := func(x float64) float64 { return padL + (x-xmin)/(xmax-xmin)*(chartW-padL-padR) }
	py := func(y float64) float64 { return chartH - padB - y/ymax*(chartH-padT-padB) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" class="chart" role="img">`, chartW, chartH)
	for i := 0; i <= 4; i++ {
		y := ymax * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>`,
			padL, chartW-padR, py(y), py(y), padL-6, py(y)+4, html.EscapeString(trim(y)+yUnit))
	}
	for i := 0; i <= 5; i++ {
		x := xmin + (xmax-xmin)*float64(i)/5
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>`, px(x), chartH-padB+18, html.EscapeString(xLabel(x)))
	}
	for i, s := range ss {
		color := palette[i%len(palette)]
		var pts []string
		for j, y := range s.Ys {
			if j < len(xs) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(xs[j]), py(y)))
			}
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.8" points="%s"/>`, color, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s" class="legend">%s</text>`, padL+8+i*150, padT+4, color, html.EscapeString(s.Label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from numbers and escaped labels
}

func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	m := math.Pow(10, math.Floor(math.Log10(v)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		if f*m >= v {
			return f * m
		}
	}
	return 10 * m
}

func trim(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// nines maps a percentile to the log axis of percentile curves: 90 -> 1,
// 99 -> 2, 99.9 -> 3.
func nines(p float64) float64 {
	if p >= 100 {
		p = 99.9999
	}
	return -math.Log10(1 - p/100)
}

func ninesLabel(x float64) string {
	return trim(100*(1-math.Pow(10, -x))) + "%"
}
