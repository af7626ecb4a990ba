package standalone

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/report"
)

// startTarget runs the real target binary on a loopback port.
func startTarget(t *testing.T) string { return testcluster.StartTarget(t) }

func targetCount(t *testing.T, url string) int64 {
	t.Helper()
	return testcluster.StatsOf(t, url).Requests
}

func writeSpec(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunJSON(t *testing.T) {
	url := startTarget(t)
	f := writeSpec(t, `
name: standalone-json
request:
  url: `+url+`/ping
load:
  model: constant-rate
  rate: 500
  duration: 2s
`)
	var out, errOut bytes.Buffer
	code := Main(context.Background(), []string{"-f", f, "--json", "--id", "me"}, &out, &errOut)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut.String())
	}
	var sum report.Summary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("stdout is not a JSON summary: %v\n%s", err, out.String())
	}
	if sum.Requests != 1000 {
		t.Errorf("requests = %d, want 1000 (500/s for 2 s)", sum.Requests)
	}
	if n := targetCount(t, url); n != sum.Requests {
		t.Errorf("target saw %d requests, summary says %d", n, sum.Requests)
	}
	if sum.TargetRate != 500 || sum.ServiceMs == nil || sum.LatencyMs.P50 <= 0 {
		t.Errorf("summary target_rate %v service %v p50 %v, want 500, present, > 0", sum.TargetRate, sum.ServiceMs, sum.LatencyMs.P50)
	}
	if len(sum.Workers) != 1 || sum.Workers[0].ID != "me" || sum.Workers[0].Requests != 1000 {
		t.Errorf("workers = %+v, want one worker \"me\" with 1000 requests", sum.Workers)
	}
	if lines := strings.Count(errOut.String(), "req/s"); lines < 1 || lines > 3 {
		t.Errorf("%d progress lines for a 2 s run, want 1 to 3:\n%s", lines, errOut.String())
	}
}

func TestRunTable(t *testing.T) {
	url := startTarget(t)
	f := writeSpec(t, `{"request": {"url": "`+url+`/ping"}, "load": {"model": "avalanche", "concurrency": 4, "requests": 3000}}`)
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"-f", f, "--quiet"}, &out, io.Discard); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{`(?m)^requests\s+3000$`, `(?m)^latency\s+min .* p99 `, `(?m)^\s*\S+\s+done\s+3000\s+0\s`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("table lacks %s:\n%s", want, out.String())
		}
	}
	if n := targetCount(t, url); n != 3000 {
		t.Errorf("target saw %d requests, want 3000", n)
	}
}

// TestRunStop: cancelling the context (Ctrl-C) ends a long run promptly and
// still prints the summary of what ran.
func TestRunStop(t *testing.T) {
	url := startTarget(t)
	f := writeSpec(t, "request: {url: "+url+"/ping}\nload: {model: avalanche, concurrency: 2, duration: 1m}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	begin := time.Now()
	if code := Main(ctx, []string{"-f", f, "--json", "--quiet"}, &out, io.Discard); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("a stopped run took %v", took)
	}
	var sum report.Summary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if n := targetCount(t, url); sum.Requests == 0 || n != sum.Requests {
		t.Errorf("summary requests %d, target saw %d; want equal and > 0", sum.Requests, n)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		spec string
		want []string
	}{
		{"no file", []string{}, "", []string{"Usage: worker run -f SPEC"}},
		{"missing file", []string{"-f", "/nonexistent/spec.yaml"}, "", []string{"no such file"}},
		{"bad spec", nil, "request: {url: 'ftp://x', method: FETCH}\nload: {model: warp}\n",
			[]string{"request.url: must be an http:// or https:// URL", "request.method: unknown method", "load.model: unknown model", "load.duration: the test has no bound"}},
		{"template error", nil, "request: {url: 'http://127.0.0.1:1/{{nope}}'}\nload: {model: avalanche, requests: 1}\n",
			[]string{"request.url: template error at position 20: unknown function \"nope\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.spec != "" {
				args = []string{"-f", writeSpec(t, tt.spec)}
			}
			var errOut bytes.Buffer
			if code := Main(context.Background(), args, io.Discard, &errOut); code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
				}
			}
		})
	}
}
