// Package testmetrics exports the running tests of the cluster to
// Prometheus on every master's /metrics: requests, errors and latency
// quantiles per test and request name, read from ZooKeeper at scrape time
// (the leader's live summary), so every master serves the same series and
// a finished test's series disappear with it.
package testmetrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stampede-load/stampede/master/internal/view"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// Bounds of the series: at most MaxTests running tests (the newest) with at
// most spec.MaxNames names each, plus the whole test.
const (
	MaxTests    = 20
	scrapeLimit = 5 * time.Second
	listLimit   = 200
)

var (
	labels     = []string{"test", "name"}
	requestsD  = prometheus.NewDesc("stampede_test_requests_total", "Requests sent by a running test's workers, by request name (name=\"\" is the whole test).", labels, nil)
	errorsD    = prometheus.NewDesc("stampede_test_errors_total", "Failed requests of a running test, by request name (name=\"\" is the whole test).", labels, nil)
	latencyD   = prometheus.NewDesc("stampede_test_latency_seconds", "Latency of a running test's requests since its start, exact merge over the workers, by request name (name=\"\" is the whole test).", labels, nil)
	rpsD       = prometheus.NewDesc("stampede_test_rps", "Average requests per second of a running test since its start, by request name.", labels, nil)
	thresholdD = prometheus.NewDesc("stampede_test_thresholds_failed", "Thresholds of a running test currently failing.", []string{"test"}, nil)
)

// Collector is a prometheus.Collector of the running tests.
type Collector struct{ view *view.Reader }

// New returns a collector reading through v.
func New(v *view.Reader) *Collector { return &Collector{view: v} }

var _ prometheus.Collector = (*Collector)(nil)

// Describe sends every descriptor.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{requestsD, errorsD, latencyD, rpsD, thresholdD} {
		ch <- d
	}
}

// Collect reads the running tests and sends their series; a test that
// cannot be read is left out of this scrape.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeLimit)
	defer cancel()
	items, err := c.view.List(ctx, listLimit)
	if err != nil {
		return
	}
	n := 0
	for _, it := range items {
		if proto.Terminal(it.Phase) || it.Phase != proto.PhaseRunning {
			continue
		}
		if n++; n > MaxTests {
			return
		}
		t, err := c.view.Test(ctx, it.ID)
		if err != nil || t.Summary == nil || proto.Terminal(t.Phase) {
			continue
		}
		emit(ch, it.ID, t.Summary)
	}
}

func emit(ch chan<- prometheus.Metric, id string, s *report.Summary) {
	series(ch, id, "", s.Requests, s.Errors, s.RPS, s.LatencyMs)
	for _, n := range s.Names {
		series(ch, id, n.Name, n.Requests, n.Errors, n.RPS, n.LatencyMs)
	}
	if s.Verdict != "" {
		failing := 0
		for _, r := range s.Thresholds {
			if !r.Passed {
				failing++
			}
		}
		ch <- prometheus.MustNewConstMetric(thresholdD, prometheus.GaugeValue, float64(failing), id)
	}
}

func series(ch chan<- prometheus.Metric, id, name string, requests, errs int64, rps float64, l hist.Latency) {
	ch <- prometheus.MustNewConstMetric(requestsD, prometheus.CounterValue, float64(requests), id, name)
	ch <- prometheus.MustNewConstMetric(errorsD, prometheus.CounterValue, float64(errs), id, name)
	ch <- prometheus.MustNewConstMetric(rpsD, prometheus.GaugeValue, rps, id, name)
	q := map[float64]float64{0.5: l.P50 / 1000, 0.9: l.P90 / 1000, 0.95: l.P95 / 1000, 0.99: l.P99 / 1000, 0.999: l.P999 / 1000, 1: l.Max / 1000}
	ch <- prometheus.MustNewConstSummary(latencyD, uint64(max(requests, 0)), l.Mean/1000*float64(requests), q, id, name)
}
