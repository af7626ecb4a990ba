// Package browser holds the end-to-end tests of the dashboard: a real local
// cluster (ZooKeeper, target, two masters, three workers, each its own
// process) and Debian's Chromium, headless, driven with chromedp. They save
// a screenshot of every view in $STAMPEDE_ARTIFACTS (default
// artifacts/screenshots/) and fail on any error in the browser console.
package browser

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stampede-load/stampede/internal/testcluster"
)

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// pointsOf is the number of points a chart shows (the page keeps it in the
// chart card's data-points).
func pointsOf(chart string) string {
	return fmt.Sprintf(`Number(document.querySelector('[data-test=%s]')?.dataset.points ?? 0)`, chart)
}

// groupDigits formats n as the page does: 12,345.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

const pageText = `document.querySelector('main').innerText.slice(0, 600)`

// A user opens the dashboard, sees the cluster, gets field errors from the
// server in the form and in the spec editor, starts a test from the form,
// watches it live, stops it, reads its report and finds it in the history.
func TestDashboardFormLiveStopReport(t *testing.T) {
	c := startCluster(t)
	leader, _ := c.leader()
	base := leader.URL() + "/"
	b := newBrowser(t, 1280, 800)

	b.login(base, testcluster.OperatorToken)
	checkClusterView(t, b, c)
	checkFieldErrors(t, b, c)
	id := startFromForm(t, b)
	checkLive(t, b)

	b.do("stop the test", chromedp.Click(chromedp.CSS(`[data-test=stop]`)))
	b.waitUntil("the test stopped", `document.querySelector('[data-test=phase]')?.innerText === 'stopped'`, pageText)
	b.waitUntil("the report", `!!document.querySelector('[data-test=report] [data-test=summary-table]')`, pageText)
	b.shot("4-report")
	checkReport(t, b, leader.URL(), id)
	checkHistory(b, id)

	// Narrow window: the report fits without sideways scrolling.
	b.do("narrow window",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"#/tests/"+id),
	)
	b.waitUntil("the report on a narrow window", `!!document.querySelector('[data-test=report] [data-test=summary-table]')`, pageText)
	b.waitUntil("the report fitting the narrow window without sideways scrolling",
		`document.documentElement.scrollWidth <= window.innerWidth`,
		"`page ${document.documentElement.scrollWidth} px wide in a ${window.innerWidth} px window`")
	b.shot("6-report-narrow")
	b.check()
}

// workerRows counts the rows of the cluster view's worker table.
const workerRows = `document.querySelectorAll('[data-test=workers-table] tbody tr').length`

// checkClusterView: both masters, one leading; the workers, updating as one
// joins and leaves.
func checkClusterView(t *testing.T, b *browser, c *cluster) {
	t.Helper()
	b.waitUntil("two masters, one leader",
		`document.querySelectorAll('[data-test=masters-table] tbody tr').length === 2 &&
		 document.querySelectorAll('[data-test=masters-table] .role-leader').length === 1`, pageText)
	b.waitUntil("three idle workers", workerRows+` === 3 &&
		 document.querySelector('[data-test=workers-table]').innerText.split('idle').length - 1 === 3`, pageText)
	b.shot("1-cluster")

	extra := c.AddWorker("w4", c.ZK)
	b.waitUntil("a fourth worker joining", workerRows+` === 4 &&
		 document.querySelector('[data-test=workers-table]').innerText.includes('w4')`, pageText)
	extra.Stop(waitLong)
	b.waitUntil("the fourth worker leaving", workerRows+` === 3 &&
		 !document.querySelector('[data-test=workers-table]').innerText.includes('w4')`, pageText)
}

// checkFieldErrors: the server's errors show next to the form field they
// name, and in the full spec editor with the field and its line.
func checkFieldErrors(t *testing.T, b *browser, c *cluster) {
	t.Helper()
	b.do("open the form", chromedp.Click(chromedp.CSS(`a[href="#/new"][data-nav]`)))
	b.waitUntil("the form", `!!document.querySelector('[data-test=new-test-form]')`, pageText)
	b.do("fill the form with a negative rate",
		chromedp.SetValue(chromedp.ID("f-name"), "browser-e2e"),
		chromedp.SetValue(chromedp.ID("f-url"), c.Target.URL()+"/ping"),
		chromedp.SetValue(chromedp.ID("f-rate"), "-5"),
		chromedp.SetValue(chromedp.ID("f-duration"), "120s"),
		chromedp.SetValue(chromedp.ID("f-workers"), "3"),
		chromedp.Click(chromedp.CSS(`[data-test=start]`)),
	)
	b.waitUntil("the rate error next to the rate field",
		`(document.querySelector('[data-error-for=rate]')?.innerText ?? '').includes('load.rate')`,
		`document.querySelector('[data-test=new-test-form]').innerText`)
	if got := eval[string](b, `location.hash`); got != "#/new" {
		t.Errorf("after a rejected spec the page moved to %q, want to stay on #/new", got)
	}
	b.shot("2-new-test-field-error")
	b.allow("status of 400", "/api/v1/tests:")
	b.check()

	b.do("open the spec editor", chromedp.Click(chromedp.CSS(`[data-test=new-test-form] button.link`)))
	b.waitUntil("the editor holding the form's spec",
		fmt.Sprintf(`(document.querySelector('[data-test=spec-editor]')?.value ?? '').includes(%s)`, js(c.Target.URL()+"/ping")),
		`document.querySelector('[data-test=spec-editor]')?.value ?? 'no editor'`)
	yaml := "name: yaml-typo\nrequest:\n  url: " + c.Target.URL() + "/ping\nload:\n  model: constant-rate\n  rate: 10\n  duration: 5s\n  burst: 3\n"
	b.do("submit YAML with an unknown field",
		chromedp.SetValue(chromedp.CSS(`.spec-editor select`), "yaml"),
		chromedp.SetValue(chromedp.CSS(`[data-test=spec-editor]`), yaml),
		chromedp.Click(chromedp.CSS(`[data-test=start-spec]`)),
	)
	b.waitUntil("the unknown field named in the editor's errors, with its line",
		`(document.querySelector('[data-test=editor-errors] li[data-field="load.burst"]')?.innerText ?? '').includes('line 8')`,
		`document.querySelector('[data-test=editor-errors]').innerText`)
	b.shot("2b-spec-editor-field-error")
	b.check()
	b.do("back to the form", chromedp.Click(chromedp.CSS(`.spec-editor button.link`)))
}

// startFromForm corrects the rate, starts the test and returns its id from
// the live view the page opens.
func startFromForm(t *testing.T, b *browser) string {
	t.Helper()
	b.do("start a valid test",
		chromedp.SetValue(chromedp.ID("f-rate"), "150"),
		chromedp.Click(chromedp.CSS(`[data-test=start]`)),
	)
	b.waitUntil("the live view", `location.hash.startsWith('#/tests/')`, pageText)
	id := strings.TrimPrefix(eval[string](b, `decodeURIComponent(location.hash)`), "#/tests/")
	t.Logf("test id %s", id)
	return id
}

// checkLive: the charts gain points each second and the worker table lists
// three running workers.
func checkLive(t *testing.T, b *browser) {
	t.Helper()
	b.waitUntil("the test running", `document.querySelector('[data-test=phase]')?.innerText === 'running'`, pageText)
	first := eval[int](b, pointsOf("chart-throughput"))
	b.waitUntil("the throughput chart gaining three points",
		fmt.Sprintf(`%s >= %d`, pointsOf("chart-throughput"), first+3), pageText)
	b.waitUntil("three running workers in the worker table",
		`[...document.querySelectorAll('[data-test=live-workers] tbody tr')].filter(r => r.innerText.includes('running')).length === 3`,
		`document.querySelector('[data-test=live-workers]')?.innerText ?? 'no worker table'`)
	for _, chart := range []string{"chart-latency", "chart-errors", "chart-status"} {
		if n := eval[int](b, pointsOf(chart)); n < first+3 {
			t.Errorf("%s shows %d points, want at least %d like the throughput chart", chart, n, first+3)
		}
	}
	for _, tile := range []string{"requests", "rps", "p99"} {
		text := eval[string](b, fmt.Sprintf(`document.querySelector('[data-tile=%s]').innerText`, tile))
		if !strings.ContainsAny(text, "0123456789") || !strings.Contains(text, " ") {
			t.Errorf("live tile %s shows %q: want a number with its unit", tile, text)
		}
	}
	if text := eval[string](b, `document.querySelector('[data-test=remaining]')?.innerText ?? ''`); !strings.HasPrefix(text, "remaining ") {
		t.Errorf("live view shows %q, want the remaining time", text)
	}
	b.shot("3-live")
}

// checkReport: the report says what GET /api/v1/tests/{id} says.
func checkReport(t *testing.T, b *browser, master, id string) {
	t.Helper()
	var api testBody
	if code := testcluster.GetJSON(t, master+"/api/v1/tests/"+id, &api); code != 200 {
		t.Fatalf("GET /api/v1/tests/%s: %d", id, code)
	}
	if api.Phase != "stopped" || api.Summary == nil {
		t.Fatalf("API: phase %q, summary %v; want stopped with a summary", api.Phase, api.Summary)
	}
	s := api.Summary
	if s.Requests == 0 {
		t.Fatalf("API summary: 0 requests after a test that ran")
	}
	for _, sel := range []string{"[data-summary=requests]", "[data-tile=requests]"} {
		got := eval[string](b, fmt.Sprintf(`document.querySelector('%s').innerText`, sel))
		if want := groupDigits(s.Requests) + " req"; got != want {
			t.Errorf("report %s = %q, want %q (API)", sel, got, want)
		}
	}
	if got, want := eval[string](b, `document.querySelector('[data-summary=errors]').dataset.value`), strconv.FormatInt(s.Errors, 10); got != want {
		t.Errorf("report errors = %s, want %s (API)", got, want)
	}
	for _, k := range []string{"min", "p50", "p90", "p99", "p999", "max"} {
		cell := fmt.Sprintf(`document.querySelector('[data-latency=%s]')`, k)
		got, err := strconv.ParseFloat(eval[string](b, cell+`.dataset.value`), 64)
		if err != nil || got != s.LatencyMs[k] {
			t.Errorf("report latency %s = %v (%v), want %v ms (API)", k, got, err, s.LatencyMs[k])
		}
		if text := eval[string](b, cell+`.innerText`); !strings.HasSuffix(text, " ms") && !strings.HasSuffix(text, " µs") && !strings.HasSuffix(text, " s") {
			t.Errorf("report latency %s shows %q: no unit", k, text)
		}
	}
	if got, want := eval[int](b, `document.querySelectorAll('[data-test=report-workers] tbody tr').length`), len(s.Workers); got != want || want != 3 {
		t.Errorf("report worker rows = %d, API workers = %d, want 3 of each", got, want)
	}
	// The percentile chart: one point per distribution point of the API, on
	// the log axis up to the max.
	if got, want := eval[int](b, pointsOf("chart-distribution")), len(s.Distribution); got != want || want == 0 {
		t.Errorf("percentile chart points = %d, API distribution points = %d", got, want)
	}
	labels := eval[string](b, `document.querySelector('[data-test=chart-distribution]').dataset.percentiles`)
	for _, want := range []string{"p50", "p90", "p99", "max"} {
		if !strings.Contains(" "+labels+" ", " "+want+" ") {
			t.Errorf("percentile chart labels %q lack %s", labels, want)
		}
	}
	if n := eval[int](b, `document.querySelectorAll('[data-test=chart-distribution] canvas').length`); n == 0 {
		t.Error("percentile chart has no canvas")
	}
	if got := eval[string](b, `document.querySelector('[data-test=download]').getAttribute('download')`); got != "stampede-"+id+".json" {
		t.Errorf("download link file name = %q", got)
	}
	// The download holds the same test and its timeline.
	var file struct {
		Test     testBody          `json:"test"`
		Timeline []json.RawMessage `json:"timeline"`
	}
	raw := eval[string](b, `fetch(document.querySelector('[data-test=download]').href).then(r => r.text())`)
	if err := json.Unmarshal([]byte(raw), &file); err != nil {
		t.Fatalf("downloaded JSON: %v", err)
	}
	if file.Test.ID != id || file.Test.Summary == nil || file.Test.Summary.Requests != s.Requests || len(file.Timeline) == 0 {
		t.Errorf("downloaded JSON: test %q, summary %v, %d timeline points; want %s with %d requests and a timeline",
			file.Test.ID, file.Test.Summary != nil, len(file.Timeline), id, s.Requests)
	}
}

// checkHistory: the test is listed with its phase.
func checkHistory(b *browser, id string) {
	b.t.Helper()
	b.do("open history", chromedp.Click(chromedp.CSS(`a[href="#/tests"][data-nav]`)))
	row := fmt.Sprintf(`[...document.querySelectorAll('[data-test=history-table] tbody tr')].find(r => r.querySelector('a[href="#/tests/' + encodeURIComponent(%s) + '"]'))`, js(id))
	b.waitUntil("the test in the history", fmt.Sprintf(`(%s)?.innerText.includes('stopped') ?? false`, row), pageText)
	b.shot("5-history")
}

// A page opened on the follower keeps updating while the leader is killed.
func TestFollowerPageSurvivesLeaderKill(t *testing.T) {
	c := startCluster(t)
	leader, follower := c.leader()
	var created struct {
		ID string `json:"id"`
	}
	spec := map[string]any{
		"name":    "failover",
		"request": map[string]any{"url": c.Target.URL() + "/ping"},
		"load":    map[string]any{"model": "constant-rate", "rate": 90, "duration": "120s"},
	}
	if code := testcluster.PostJSON(t, follower.URL()+"/api/v1/tests", spec, &created); code != 201 || created.ID == "" {
		t.Fatalf("POST /api/v1/tests: %d %+v", code, created)
	}
	c.waitPhase(follower, created.ID, "running")

	b := newBrowser(t, 1280, 800)
	b.login(follower.URL()+"/", testcluster.OperatorToken)
	b.do("open the test on the follower", chromedp.Navigate(follower.URL()+"/#/tests/"+created.ID))
	b.waitUntil("two points", pointsOf("chart-throughput")+` >= 2`, pageText)
	b.waitUntil("the page knows it is on the follower",
		`document.getElementById('conn').innerText.includes('follower')`, `document.getElementById('conn').innerText`)
	b.shot("7-follower-before-leader-kill")

	leader.Kill()
	before := eval[int](b, pointsOf("chart-throughput"))
	t.Logf("killed leader %s (pid %d) at %d points", leader.Name, leader.Pid(), before)
	b.waitUntil("three more points after the leader died",
		fmt.Sprintf(`%s >= %d`, pointsOf("chart-throughput"), before+3), pageText)
	b.waitUntil("the follower shown as the new leader",
		`document.getElementById('conn').innerText.includes('(leader)')`, `document.getElementById('conn').innerText`)
	if got := eval[string](b, `document.querySelector('[data-test=phase]').innerText`); got != "running" {
		t.Errorf("phase after the leader died = %q, want running", got)
	}
	b.shot("8-follower-after-leader-kill")

	// The live view on a narrow window: still updating, no sideways scrolling.
	b.do("narrow window", chromedp.EmulateViewport(390, 844))
	n := eval[int](b, pointsOf("chart-throughput"))
	b.waitUntil("a new point on the narrow window", fmt.Sprintf(`%s > %d`, pointsOf("chart-throughput"), n), pageText)
	b.waitUntil("the live view fitting the narrow window without sideways scrolling",
		`document.documentElement.scrollWidth <= window.innerWidth`,
		"`page ${document.documentElement.scrollWidth} px wide in a ${window.innerWidth} px window`")
	b.shot("9-live-narrow")

	b.do("stop the test", chromedp.Click(chromedp.CSS(`[data-test=stop]`)))
	b.waitUntil("the report", `!!document.querySelector('[data-test=report] [data-test=summary-table]')`, pageText)
	b.check()
}
