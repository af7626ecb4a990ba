package browser

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stampede-load/stampede/internal/testcluster"
)

// TestDashboardScenarioReport: a finished scenario's report shows its
// iterations (counts and journey durations) and the sampled message of
// its failed checks; a client key in the spec is never on the page.
func TestDashboardScenarioReport(t *testing.T) {
	c := startCluster(t)
	leader, _ := c.leader()
	base := leader.URL() + "/"
	ca := testcluster.NewCA(t)
	leaf := ca.Issue(t, t.TempDir(), "client", testcluster.LeafOptions{})
	rows := "user\n"
	for i := range 6 {
		rows += fmt.Sprintf("u%d\n", i)
	}
	id := c.Submit(map[string]any{
		"request": map[string]any{"tls": map[string]any{"cert": leaf.CertPEM, "key": leaf.KeyPEM}},
		"load":    map[string]any{"model": "avalanche", "concurrency": 1, "iterations": 6, "max_duration": "30s"},
		"workers": 2,
		"scenario": map[string]any{
			"data": map[string]any{"mode": "unique", "content": rows},
			"steps": []any{map[string]any{"name": "login",
				"request": map[string]any{"method": "POST", "url": c.TargetURL("/shop/login"), "body": `{"user":"{{data.user}}"}`},
				"check":   map[string]any{"status": []int{201}}}},
		},
	})
	c.WaitPhase(id, "completed", waitLong)

	b := newBrowser(t, 1280, 900)
	b.login(base, testcluster.OperatorToken)
	b.do("open the finished scenario", chromedp.Navigate(base+"#/tests/"+id))
	b.waitUntil("the iterations and the sampled check message",
		`document.querySelector('[data-summary=iterations]')?.innerText === '6 completed, 0 failed' &&
		 !!document.querySelector('[data-test=iteration-latency]') &&
		 document.querySelector('[data-test=error-samples]')?.innerText.includes('check: status 200, want one of [201]')`, pageText)
	b.shot("scenario-report")
	if eval[bool](b, `document.documentElement.innerHTML.includes('PRIVATE KEY')`) {
		t.Error("the page shows the client's private key")
	}
	b.check()
}
