package browser

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stampede-load/stampede/internal/testcluster"
)

// A user changes a running test's rate from its page, pauses and resumes
// it: each change is answered with the second it applies at, listed as an
// event and drawn as a marker on the charts, and the API holds the same
// changes.
func TestDashboardLiveChange(t *testing.T) {
	c := startCluster(t)
	leader, _ := c.leader()
	base := leader.URL() + "/"
	id := c.Submit(map[string]any{
		"name":    "live-change",
		"request": map[string]any{"url": c.TargetURL("/ping")},
		"load":    map[string]any{"model": "constant-rate", "rate": 60, "duration": "30s"},
	})
	b := newBrowser(t, 1280, 900)
	b.login(base, testcluster.OperatorToken)
	b.do("open the running test", chromedp.Navigate(base+"#/tests/"+id))
	b.waitUntil("the change control of a running test",
		`document.querySelector('[data-test=phase]')?.innerText === 'running' && !document.querySelector('[data-test=live-control]').hidden`, pageText)

	b.allow("status of 400", "/api/v1/tests/"+id) // the refusal below, shown as intended
	b.do("refused: a rate over the limit",
		chromedp.SetValue(chromedp.CSS(`[data-test=change-amount]`), "1e12"),
		chromedp.Click(chromedp.CSS(`[data-test=change-apply]`)))
	b.waitUntil("the field named in the refusal",
		`document.querySelector('[data-test=change-msg]').innerText.includes('load.rate')`, `document.querySelector('[data-test=change-msg]').innerText`)

	b.do("change the rate",
		chromedp.SetValue(chromedp.CSS(`[data-test=change-amount]`), "120"),
		chromedp.Click(chromedp.CSS(`[data-test=change-apply]`)))
	b.waitUntil("the change answered with its second",
		`document.querySelector('[data-test=change-msg]').innerText.includes('from second')`, `document.querySelector('[data-test=change-msg]').innerText`)
	b.waitUntil("one event and a marker on every chart",
		`document.querySelectorAll('[data-test=events] li').length === 1 &&
		 [...document.querySelectorAll('[data-markers]')].every(e => e.dataset.markers === '1')`, pageText)

	b.do("pause", chromedp.Click(chromedp.CSS(`[data-test=pause]`)))
	b.waitUntil("paused", `!!document.querySelector('[data-test=paused]') && !!document.querySelector('[data-test=resume]')`, pageText)
	b.shot("live-change-paused")
	if text := eval[string](b, `document.querySelector('[data-test=remaining]')?.innerText ?? ''`); !strings.HasPrefix(text, "remaining ") || strings.Contains(text, "min") {
		t.Errorf("paused, the page shows %q; want the running time left of the 30 s test", text)
	}
	b.do("resume", chromedp.Click(chromedp.CSS(`[data-test=resume]`)))
	b.waitUntil("three events", `document.querySelectorAll('[data-test=events] li').length === 3`, pageText)

	var v struct {
		Events []struct {
			Seq  int
			Kind string
			Rate float64
		}
	}
	testcluster.GetJSON(t, c.API()+"/tests/"+id, &v)
	if len(v.Events) != 3 || v.Events[0].Rate != 120 || v.Events[1].Kind != "pause" || v.Events[2].Kind != "resume" {
		t.Errorf("API events = %+v, want the rate change, a pause and a resume", v.Events)
	}
	b.do("stop the test", chromedp.Click(chromedp.CSS(`[data-test=stop]`)))
	b.waitUntil("the test stopped", `document.querySelector('[data-test=phase]')?.innerText === 'stopped'`, pageText)
	b.check()
}
