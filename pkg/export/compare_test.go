package export

import (
	"testing"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
)

func TestCompareFlagsRegressions(t *testing.T) {
	base := &Test{ID: "a", Summary: &report.Summary{Requests: 1000, Errors: 10, RPS: 100, LatencyMs: hist.Latency{P99: 20},
		Names: []report.NameSummary{{Name: "ping", Requests: 750, RPS: 75, LatencyMs: hist.Latency{P99: 2}}, {Name: "old", Requests: 250}}}}
	head := &Test{ID: "b", Summary: &report.Summary{Requests: 1000, Errors: 5, RPS: 90, LatencyMs: hist.Latency{P99: 30},
		Names: []report.NameSummary{{Name: "ping", Requests: 750, RPS: 75, LatencyMs: hist.Latency{P99: 1}}, {Name: "new", Requests: 250}}}}
	c := Compare(base, head)
	get := func(cs []Change, m string) Change {
		for _, ch := range cs {
			if ch.Metric == m {
				return ch
			}
		}
		t.Fatalf("no %s in %+v", m, cs)
		return Change{}
	}
	tests := []struct {
		metric string
		delta  float64
		pct    float64
		worse  bool
	}{{"p99", 10, 50, true}, {"rps", -10, -10, true}, {"errors", -5, -50, false}, {"error_rate", -0.005, -50, false}, {"requests", 0, 0, false}}
	for _, tt := range tests {
		ch := get(c.Metrics, tt.metric)
		if ch.Delta != tt.delta || ch.DeltaPct == nil || *ch.DeltaPct != tt.pct || ch.Worse != tt.worse {
			t.Errorf("%s: delta %v pct %v worse %v, want %v %v %v", tt.metric, ch.Delta, ch.DeltaPct, ch.Worse, tt.delta, tt.pct, tt.worse)
		}
	}
	if len(c.Names) != 3 || c.Names[0].Name != "ping" || c.Names[1].In != "base" || c.Names[2].In != "head" {
		t.Fatalf("names %+v, want ping (both), old (base), new (head)", c.Names)
	}
	if p := get(c.Names[0].Metrics, "p99"); p.Delta != -1 || p.Worse {
		t.Errorf("ping p99 %+v, want an improvement of 1 ms", p)
	}
	if p := get(c.Names[1].Metrics, "p50"); p.DeltaPct != nil {
		t.Errorf("a change from 0 has a percentage: %+v", p)
	}
}
