package standalone

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/report"
)

// runJSON runs a spec with `worker run --json` (bounded by limit) and
// returns its summary and what the target saw.
func runJSON(t *testing.T, url, spec string, limit time.Duration) (report.Summary, testcluster.TargetStats) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var out, errOut bytes.Buffer
	if code := Main(ctx, []string{"-f", writeSpec(t, spec), "--json", "--quiet"}, &out, &errOut); code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut.String())
	}
	var sum report.Summary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("stdout is not a JSON summary: %v\n%s", err, out.String())
	}
	ts := testcluster.StatsOf(t, url)
	if ts.Requests != sum.Requests {
		t.Errorf("target saw %d requests, the summary counts %d", ts.Requests, sum.Requests)
	}
	return sum, ts
}

// The open-model rate rules, exact because their schedules are: rate_per_worker
// is this worker's rate, and start_rate is where a ramp begins (100 → 300
// over 1 s schedules (100+300)/2 = 200 requests; from 0 it would be 150).
func TestRateRulesAreExact(t *testing.T) {
	url := startTarget(t)
	tests := []struct {
		name, spec string
		want       int64
	}{
		{"rate_per_worker", `{"request":{"url":"` + url + `/ping"},"load":{"model":"constant-rate","rate_per_worker":250,"duration":"2s"}}`, 500},
		{"start_rate", `{"request":{"url":"` + url + `/ping"},"load":{"model":"ramping-rate","start_rate":100,"stages":[{"duration":"1s","target":300}]}}`, 200},
		{"start_rate then hold", `{"request":{"url":"` + url + `/ping"},"load":{"model":"ramping-rate","start_rate":200,"stages":[{"duration":"1s","target":200},{"duration":"500ms","target":0}]}}`, 250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testcluster.PostJSON(t, url+"/stats/reset", nil, nil)
			sum, _ := runJSON(t, url, tt.spec, 20*time.Second)
			if sum.Requests != tt.want || sum.Errors != 0 {
				t.Errorf("requests = %d (errors %d), want exactly %d", sum.Requests, sum.Errors, tt.want)
			}
		})
	}
}

// max_duration bounds a request-count run: a budget far too large for the
// time stops at max_duration, measured on the target's clock (first to
// last request), not at the budget.
func TestMaxDurationBoundsARequestRun(t *testing.T) {
	url := startTarget(t)
	const budget = 1_000_000
	sum, ts := runJSON(t, url, `{"request":{"url":"`+url+`/x?delay=20ms"},"load":{"model":"avalanche","concurrency":2,"requests":1000000,"max_duration":"1s"}}`, 15*time.Second)
	if sum.Requests == 0 || sum.Requests >= budget {
		t.Fatalf("requests = %d, want some but fewer than the budget %d", sum.Requests, budget)
	}
	if span := time.Duration(ts.LastUnixNs - ts.FirstUnixNs); span > time.Second {
		t.Errorf("requests reached the target over %v, want within max_duration (1 s)", span)
	}
	if span := time.Duration(ts.LastUnixNs - ts.FirstUnixNs); span < 800*time.Millisecond {
		t.Errorf("requests reached the target over only %v, want the run to last max_duration (1 s)", span)
	}
}
