package browser

import (
	"errors"
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
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 99 {
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

// TestDashboardAnswers: while a 3:1 mix with thresholds runs, the test page
// shows the live per-name table and the thresholds; once it has ended, the
// verdict, the export buttons (each download answers) and the comparison
// of two tests.
func TestDashboardAnswers(t *testing.T) {
	c := startCluster(t)
	leader, _ := c.leader()
	base := leader.URL() + "/"
	mix := func(dur string) map[string]any {
		return map[string]any{
			"name":    "answers-" + dur,
			"request": map[string]any{"url": c.TargetURL("/ping")},
			"requests_mix": []any{map[string]any{"weight": 3},
				map[string]any{"weight": 1, "name": "checkout", "url": c.TargetURL("/checkout?status=503:50")}},
			"load":       map[string]any{"model": "constant-rate", "rate": 100, "duration": dur},
			"thresholds": []any{"p99 < 2s", map[string]any{"expr": "error_rate < 1%", "name": "checkout"}},
		}
	}
	first := c.Submit(mix("2s"))
	c.WaitPhase(first, "completed", waitLong)
	id := c.Submit(mix("8s"))

	b := newBrowser(t, 1280, 900)
	b.login(base, testcluster.OperatorToken)
	b.do("open the running test", chromedp.Navigate(base+"#/tests/"+id))
	b.waitUntil("the live per-name table and thresholds",
		`document.querySelector('[data-test=phase]')?.innerText === 'running' &&
		 document.querySelectorAll('[data-test=names-table] tbody tr').length === 2 &&
		 document.querySelectorAll('[data-test=thresholds] tbody tr').length === 2 &&
		 !!document.querySelector('[data-threshold=failed]')`, pageText)
	b.shot("answers-live")
	b.waitUntil("the verdict of the finished test",
		`document.querySelector('[data-test=phase]')?.innerText === 'completed' &&
		 document.querySelector('[data-test=verdict]')?.innerText === 'failed' &&
		 document.querySelector('[data-test=names-table]').innerText.includes('checkout')`, pageText)
	b.waitUntil("each name's percentile curve in the report",
		`document.querySelectorAll('[data-test=name-curves] [data-test=chart-name-distribution]').length === 2`, pageText)
	b.shot("answers-report")
	for _, kind := range export.Kinds {
		ok := eval[bool](b, `(async () => {
			const r = await fetch('api/v1/tests/`+id+`/`+kind+`', {headers: {Authorization: 'Bearer ' + sessionStorage.getItem('stampede.token')}});
			return r.ok && (await r.text()).length > 0 && !!document.querySelector('[data-test="export-`+kind+`"]');
		})()`)
		if !ok {
			t.Errorf("export %s: no button or no answer", kind)
		}
	}
	b.do("compare with the first test", chromedp.SendKeys(chromedp.CSS(`[data-test=compare-id]`), first),
		chromedp.Click(chromedp.CSS(`[data-test=compare]`)))
	b.waitUntil("the comparison", `document.querySelectorAll('[data-test=compare-metrics] tbody tr').length >= 12 &&
		document.querySelectorAll('[data-test=compare-name]').length === 2`, pageText)
	b.shot("answers-compare")
	b.check()
}
