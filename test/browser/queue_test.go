package browser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stampede-load/stampede/internal/testcluster"
)

// A test submitted while the workers are busy shows as queued with its
// position in the history and on its page, runs once they are free, and its
// page's Rerun button opens a new test that names it as the one it reruns.
func TestDashboardQueueAndRerun(t *testing.T) {
	c := startCluster(t)
	leader, _ := c.leader()
	base := leader.URL() + "/"
	mk := func(name, duration string) map[string]any {
		return map[string]any{"name": name, "request": map[string]any{"url": c.TargetURL("/ping")},
			"load": map[string]any{"model": "constant-rate", "rate": 30, "duration": duration}}
	}
	busy := c.Submit(mk("browser-busy", "60s"))
	c.waitPhase(leader, busy, "running")
	queued := c.Submit(mk("browser-queued", "2s"))
	c.waitPhase(leader, queued, "queued")

	b := newBrowser(t, 1280, 800)
	b.login(base, testcluster.OperatorToken)
	b.do("open history", chromedp.Click(chromedp.CSS(`a[href="#/tests"][data-nav]`)))
	row := fmt.Sprintf(`[...document.querySelectorAll('[data-test=history-table] tbody tr')].find(r => r.querySelector('a[href="#/tests/' + encodeURIComponent(%s) + '"]'))`, js(queued))
	b.waitUntil("the queued test in the history with its position",
		fmt.Sprintf(`(() => { const r = %s; return !!r && r.querySelector('[data-test=phase]')?.innerText === 'queued' &&
			r.querySelector('[data-test=queue-position]')?.innerText.trim() === '#1 in the queue'; })()`, row),
		`document.querySelector('[data-test=history-table]')?.innerText.slice(0, 600) ?? 'no history'`)
	b.shot("queue-1-history")

	b.do("open the queued test", chromedp.Navigate(base+"#/tests/"+queued))
	b.waitUntil("the queued test's page with its position",
		`document.querySelector('[data-test=phase]')?.innerText === 'queued' &&
		 document.querySelector('[data-test=queue-position]')?.innerText.trim() === '#1 in the queue'`, pageText)
	b.shot("queue-2-test-page")

	if code := testcluster.PostJSON(t, c.API()+"/tests/"+busy+"/stop", nil, nil); code != 202 {
		t.Fatalf("stop the busy test: %d", code)
	}
	b.waitUntil("the queued test running and completing on its page",
		`document.querySelector('[data-test=phase]')?.innerText === 'completed' && !document.querySelector('[data-test=queue-position]')`, pageText)

	b.do("rerun it", chromedp.Click(chromedp.CSS(`[data-test=rerun]`)))
	b.waitUntil("the new test's page", fmt.Sprintf(`location.hash.startsWith('#/tests/') && decodeURIComponent(location.hash) !== %s &&
		document.querySelector('[data-test=rerun-of]')?.innerText === %s`, js("#/tests/"+queued), js(queued)), pageText)
	again := strings.TrimPrefix(eval[string](b, `decodeURIComponent(location.hash)`), "#/tests/")
	var view struct {
		RerunOf string `json:"rerun_of"`
		Name    string `json:"name"`
	}
	if code := testcluster.GetJSON(t, c.API()+"/tests/"+again, &view); code != 200 || view.RerunOf != queued || view.Name != "browser-queued" {
		t.Errorf("GET the rerun %s = %d %+v, want rerun_of %s and name browser-queued", again, code, view, queued)
	}
	b.waitUntil("the rerun completing on its page", `document.querySelector('[data-test=phase]')?.innerText === 'completed'`, pageText)
	b.shot("queue-3-rerun")
	b.do("compare the rerun with the original", chromedp.Click(chromedp.CSS(`[data-test=compare-rerun]`)))
	b.waitUntil("the comparison of the original (base) and the rerun (head)",
		fmt.Sprintf(`location.hash === %s && document.querySelectorAll('[data-test=compare-metrics] tbody tr').length > 0`,
			js("#/compare/"+queued+"/"+again)), pageText)
	if res := c.waitPhase(leader, again, "completed"); res.Summary == nil || res.Summary.Requests != 60 {
		t.Errorf("the rerun: %+v, want 60 requests", res.Summary)
	}
	b.check()
}
