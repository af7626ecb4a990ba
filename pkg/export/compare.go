package export

import (
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
)

// Comparison is the body of GET /api/v1/tests/compare?base=A&head=B: the
// change of every headline metric from base to head, for the whole test and
// for each request name either has (contract, extend freely).
type Comparison struct {
	Base    Side          `json:"base"`
	Head    Side          `json:"head"`
	Metrics []Change      `json:"metrics"`
	Names   []NameChanges `json:"names"`
}

// Side identifies one compared test.
type Side struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Phase   string `json:"phase"`
	Verdict string `json:"verdict,omitempty"`
}

// Change is one metric of both tests. Delta is head - base; DeltaPct is it
// relative to base (absent when base is 0). Worse says the change is a
// regression: more latency, errors or error rate, or less throughput.
type Change struct {
	Metric   string   `json:"metric"`
	Unit     string   `json:"unit"`
	Base     float64  `json:"base"`
	Head     float64  `json:"head"`
	Delta    float64  `json:"delta"`
	DeltaPct *float64 `json:"delta_pct,omitempty"`
	Worse    bool     `json:"worse"`
}

// NameChanges is the metrics of one request name; In says which tests have
// it ("both", "base" or "head").
type NameChanges struct {
	Name    string   `json:"name"`
	In      string   `json:"in"`
	Metrics []Change `json:"metrics"`
}

type numbers struct {
	requests, errors int64
	rps              float64
	lat              hist.Latency
}

func changes(b, h numbers) []Change {
	rate := func(n numbers) float64 {
		if n.requests == 0 {
			return 0
		}
		return float64(n.errors) / float64(n.requests)
	}
	type row struct {
		metric, unit string
		base, head   float64
		higherWorse  bool
	}
	rows := []row{
		{"requests", "count", float64(b.requests), float64(h.requests), false},
		{"rps", "req/s", b.rps, h.rps, false},
		{"errors", "count", float64(b.errors), float64(h.errors), true},
		{"error_rate", "ratio", rate(b), rate(h), true},
	}
	for _, l := range []struct {
		m    string
		b, h float64
	}{{"min", b.lat.Min, h.lat.Min}, {"mean", b.lat.Mean, h.lat.Mean}, {"p50", b.lat.P50, h.lat.P50}, {"p90", b.lat.P90, h.lat.P90},
		{"p95", b.lat.P95, h.lat.P95}, {"p99", b.lat.P99, h.lat.P99}, {"p999", b.lat.P999, h.lat.P999}, {"max", b.lat.Max, h.lat.Max}} {
		rows = append(rows, row{l.m, "ms", l.b, l.h, true})
	}
	out := make([]Change, 0, len(rows))
	for _, r := range rows {
		c := Change{Metric: r.metric, Unit: r.unit, Base: r.base, Head: r.head, Delta: r.head - r.base}
		if r.base != 0 {
			pct := 100 * c.Delta / r.base
			c.DeltaPct = &pct
		}
		if r.metric != "requests" {
			c.Worse = (r.higherWorse && c.Delta > 0) || (!r.higherWorse && c.Delta < 0)
		}
		out = append(out, c)
	}
	return out
}

// Compare compares two tests (either summary may be nil: no numbers yet).
func Compare(base, head *Test) Comparison {
	side := func(t *Test) Side {
		s := Side{ID: t.ID, Name: t.Name, Phase: t.Phase}
		if t.Summary != nil {
			s.Verdict = t.Summary.Verdict
		}
		return s
	}
	sum := func(t *Test) *report.Summary {
		if t.Summary == nil {
			return &report.Summary{}
		}
		return t.Summary
	}
	bs, hs := sum(base), sum(head)
	c := Comparison{Base: side(base), Head: side(head), Names: []NameChanges{},
		Metrics: changes(numbers{bs.Requests, bs.Errors, bs.RPS, bs.LatencyMs}, numbers{hs.Requests, hs.Errors, hs.RPS, hs.LatencyMs})}
	byName := func(s *report.Summary) map[string]numbers {
		m := map[string]numbers{}
		for _, n := range s.Names {
			m[n.Name] = numbers{n.Requests, n.Errors, n.RPS, n.LatencyMs}
		}
		return m
	}
	bn, hn := byName(bs), byName(hs)
	var order []string
	for _, n := range bs.Names {
		order = append(order, n.Name)
	}
	for _, n := range hs.Names {
		if _, ok := bn[n.Name]; !ok {
			order = append(order, n.Name)
		}
	}
	for _, name := range order {
		b, inB := bn[name]
		h, inH := hn[name]
		in := "both"
		if !inB {
			in = "head"
		} else if !inH {
			in = "base"
		}
		c.Names = append(c.Names, NameChanges{Name: name, In: in, Metrics: changes(b, h)})
	}
	return c
}
