package browser

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/export"
)

// TestHTMLReportIsSelfContained opens the report of a real run (a 3:1 mix
// with a failing threshold, written by `worker run --out`) in headless
// Chromium, served under the API's Content-Security-Policy that forbids
// every load: the page requests nothing, logs no error, and shows its
// charts, the per-name table and the verdict.
func TestHTMLReportIsSelfContained(t *testing.T) {
	bin := testcluster.Binaries(t)
	addr := testcluster.FreeAddr(t)
	target := testcluster.Start(t, t.TempDir(), "target", filepath.Join(bin, "target"), addr, "--listen", addr)
	testcluster.WaitReady(t, target.URL()+"/readyz", 30*time.Second)
	dir := t.TempDir()
	specFile := filepath.Join(dir, "spec.yaml")
	spec := "name: report-check\nrequest: {url: '" + target.URL() + "/ping'}\nrequests_mix:\n  - {weight: 3}\n  - {weight: 1, name: checkout, url: '" + target.URL() + "/checkout?status=503:50'}\n" +
		"load: {model: constant-rate, rate: 200, duration: 3s}\nthresholds: ['p99 < 2s', {expr: 'error_rate < 1%', name: checkout}]\n"
	if err := os.WriteFile(specFile, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "report.html")
	cmd := exec.Command(filepath.Join(bin, "worker"), "run", "-f", specFile, "--quiet", "--out", page)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 99 {
		t.Fatalf("worker run: %v (want exit 99)\n%s", err, out)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/report.html" {
			t.Errorf("the report requested %s", r.URL)
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", export.ContentType(export.KindHTML))
		w.Header().Set("Content-Security-Policy", export.ReportCSP)
		_, _ = w.Write(html)
	}))
	defer srv.Close()

	b := newBrowser(t, 1200, 900)
	b.do("open the report", chromedp.Navigate(srv.URL+"/report.html"))
	b.waitUntil("the report", `document.readyState === 'complete' && !!document.querySelector('#names')`, pageText)
	checks := map[string]string{
		"no network request":      `performance.getEntriesByType('resource').length === 0`,
		"three charts with lines": `document.querySelectorAll('svg.chart').length === 3 && document.querySelectorAll('svg.chart polyline').length >= 6`,
		"two name rows":           `document.querySelectorAll('#names tr').length === 3 && document.querySelector('#names').textContent.includes('checkout')`,
		"the failed verdict":      `document.querySelector('#verdict').textContent === 'failed'`,
		"two thresholds":          `document.querySelectorAll('#thresholds tr').length === 3`,
	}
	for what, cond := range checks {
		if !eval[bool](b, cond) {
			t.Errorf("report: %s: %s is false", what, cond)
		}
	}
	if text := eval[string](b, `document.body.innerText`); !strings.Contains(text, "GET /ping") {
		t.Errorf("report text lacks the GET /ping row:\n%.2000s", text)
	}
	b.shot("report")
	b.check()
}
