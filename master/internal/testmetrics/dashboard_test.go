package testmetrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// The Grafana dashboard in docs/ queries only series this package serves.
func TestGrafanaDashboardQueriesServedSeries(t *testing.T) {
	b, err := os.ReadFile("../../../docs/grafana/stampede-tests.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	ch := make(chan *prometheus.Desc, 10)
	(&Collector{}).Describe(ch)
	close(ch)
	for desc := range ch {
		name := regexp.MustCompile(`fqName: "([^"]+)"`).FindStringSubmatch(desc.String())[1]
		served[name] = true
	}
	exprs := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			exprs++
			for _, m := range regexp.MustCompile(`stampede_\w+`).FindAllString(tg.Expr, -1) {
				if !served[m] {
					t.Errorf("panel %q queries %s, which /metrics does not serve (%v)", p.Title, m, served)
				}
			}
			if !strings.Contains(tg.Expr, "stampede_test_") {
				t.Errorf("panel %q: %s reads no Stampede series", p.Title, tg.Expr)
			}
		}
	}
	if exprs < 6 {
		t.Errorf("%d queries, want the dashboard's panels", exprs)
	}
}
