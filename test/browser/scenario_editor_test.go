package browser

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stampede-load/stampede/internal/testcluster"
)

// TestDashboardScenarioInEditor: a scenario typed into the spec editor as
// YAML is validated with its field errors shown at their lines (here a
// misspelt extraction in the first step), and once corrected it runs as a
// journey: every user logs in once, the extracted token authorizes every
// cart, and each step's name has one request per user.
func TestDashboardScenarioInEditor(t *testing.T) {
	c := startCluster(t)
	c.ResetTarget()
	leader, _ := c.leader()
	base := leader.URL() + "/"
	scenario := func(extract string) string {
		return "name: shop-from-the-editor\n" +
			"load: {model: avalanche, concurrency: 1, iterations: 3, max_duration: 30s}\n" +
			"scenario:\n" +
			"  data: {mode: unique, content: \"user\\nu1\\nu2\\nu3\\n\"}\n" +
			"  steps:\n" +
			"    - name: login\n" +
			"      request: {method: POST, url: \"" + c.TargetURL("/shop/login") + "\", body: '{\"user\":\"{{data.user}}\"}'}\n" +
			"      extract:\n" +
			"        token: {" + extract + ": \"$.token\"}\n" +
			"    - name: cart\n" +
			"      request: {method: POST, url: \"" + c.TargetURL("/shop/cart") + "\", headers: {Authorization: \"Bearer {{token}}\"}}\n" +
			"      check: {status: [200]}\n"
	}

	b := newBrowser(t, 1280, 900)
	b.login(base, testcluster.OperatorToken)
	b.do("open the form", chromedp.Navigate(base+"#/new"))
	b.waitUntil("the form", `!!document.querySelector('[data-test=new-test-form]')`, pageText)
	b.do("open the spec editor", chromedp.Click(chromedp.CSS(`[data-test=new-test-form] button.link`)))
	b.waitUntil("the editor", `!!document.querySelector('[data-test=spec-editor]')?.offsetParent`, pageText)
	b.do("submit a scenario with a misspelt extraction",
		chromedp.SetValue(chromedp.CSS(`.spec-editor select`), "yaml"),
		chromedp.SetValue(chromedp.CSS(`[data-test=spec-editor]`), scenario("jsonpath")),
		chromedp.Click(chromedp.CSS(`[data-test=start-spec]`)),
	)
	b.waitUntil("the step's field error at its line",
		`(document.querySelector('[data-test=editor-errors] li[data-field="scenario.steps[0].extract.token.jsonpath"]')?.innerText ?? '').includes('line 9')`,
		`document.querySelector('[data-test=editor-errors]').innerText`)
	b.shot("scenario-editor-field-error")
	b.allow("status of 400", "/api/v1/tests:")
	b.check()

	b.do("submit the corrected scenario",
		chromedp.SetValue(chromedp.CSS(`[data-test=spec-editor]`), scenario("json")),
		chromedp.Click(chromedp.CSS(`[data-test=start-spec]`)),
	)
	b.waitUntil("the live view", `location.hash.startsWith('#/tests/')`, pageText)
	id := strings.TrimPrefix(eval[string](b, `decodeURIComponent(location.hash)`), "#/tests/")
	res := c.WaitPhase(id, "completed", waitLong)
	names := map[string]int64{}
	for _, n := range res.Summary.Names {
		names[n.Name] = n.Requests
	}
	if names["login"] != 3 || names["cart"] != 3 || res.Summary.Errors != 0 {
		t.Errorf("steps %v with %d errors, want login and cart 3 requests each and no error", names, res.Summary.Errors)
	}
	var st struct {
		Shop struct {
			Logins       map[string]int64 `json:"logins"`
			Carts        int64            `json:"carts"`
			Unauthorized int64            `json:"unauthorized"`
		} `json:"shop"`
	}
	if code := testcluster.GetJSON(t, c.TargetURL("/stats"), &st); code != 200 {
		t.Fatalf("GET /stats = %d", code)
	}
	if len(st.Shop.Logins) != 3 || st.Shop.Carts != 3 || st.Shop.Unauthorized != 0 {
		t.Errorf("target saw logins %v, %d carts, %d unauthorized; want 3 users once each, 3 carts, none unauthorized",
			st.Shop.Logins, st.Shop.Carts, st.Shop.Unauthorized)
	}
	b.check()
}
