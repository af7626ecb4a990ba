package integration

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
)

// metricValue finds a sample of the /metrics text whose series line starts
// with name{ and contains every label given as `k="v"`.
func metricValue(text, name string, labels ...string) (float64, bool) {
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		return v, err == nil
	}
	return 0, false
}

// TestPrometheusTestSeries: while a test runs, every master's /metrics has
// its requests, errors and latency quantiles per request name; once it has
// finished, none of its series remain.
func TestPrometheusTestSeries(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 2, Workers: 2})
	sp := spec("constant-rate", map[string]any{"rate": 100, "duration": "6s"}, c.TargetURL("/ping"))
	sp["requests_mix"] = []any{map[string]any{"weight": 3}, map[string]any{"weight": 1, "name": "checkout", "url": c.TargetURL("/checkout?status=503")}}
	id := c.Submit(sp)
	c.WaitPhase(id, "running", 30*time.Second)
	test := `test="` + id + `"`
	for _, m := range c.Masters {
		tc.Eventually(t, 10*time.Second, m.Name+" serving the test's series", func() bool {
			_, _, b := rawGet(t, m.URL()+"/metrics")
			text := string(b)
			co, ok1 := metricValue(text, "stampede_test_requests_total", test, `name="checkout"`)
			coErr, ok2 := metricValue(text, "stampede_test_errors_total", test, `name="checkout"`)
			ping, ok3 := metricValue(text, "stampede_test_requests_total", test, `name="GET /ping"`)
			pingErr, ok4 := metricValue(text, "stampede_test_errors_total", test, `name="GET /ping"`)
			p99, ok5 := metricValue(text, "stampede_test_latency_seconds", test, `name="checkout"`, `quantile="0.99"`)
			all, ok6 := metricValue(text, "stampede_test_requests_total", test, `name=""`)
			return ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && co > 0 && coErr == co && ping > co && pingErr == 0 && p99 > 0 && all == co+ping
		})
	}
	c.WaitPhase(id, "completed", 40*time.Second)
	for _, m := range c.Masters {
		_, _, b := rawGet(t, m.URL()+"/metrics")
		if n := len(regexp.MustCompile(`stampede_test_\w+\{[^}]*`+regexp.QuoteMeta(test)).FindAllString(string(b), -1)); n != 0 {
			t.Errorf("%s still serves %d series of the finished test", m.Name, n)
		}
	}
}
