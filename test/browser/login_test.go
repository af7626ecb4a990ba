package browser

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stampede-load/stampede/internal/testcluster"
)

// login opens the dashboard of base (".../") through the link `make demo`
// prints, http://HOST:PORT/#token=<token>, and checks that the page moved
// the token into sessionStorage and out of the address bar.
func (b *browser) login(base, token string) {
	b.t.Helper()
	b.do("open the #token= link", chromedp.Navigate(base+"#token="+token))
	b.waitUntil("the cluster view after the #token= link", `!!document.querySelector('[data-test=masters-table]')`, pageText)
	if got := eval[string](b, `location.href`); got != base+"#/" {
		b.t.Errorf("address bar after the #token= link = %q, want %q (the token removed)", got, base+"#/")
	}
	if got := eval[string](b, `sessionStorage.getItem('stampede.token') ?? ''`); got != token {
		b.t.Errorf("sessionStorage holds %q, want the link's token", got)
	}
	if got := eval[int](b, `localStorage.length`); got != 0 {
		b.t.Errorf("localStorage holds %d items, want none (the token belongs to the tab only)", got)
	}
}

// A user without a token sees only the login form; a refused token says
// so; a viewer can look but not start a test; logging out forgets the
// token; the #token= link logs in as an operator.
func TestDashboardLogin(t *testing.T) {
	c := &cluster{Cluster: testcluster.New(t, testcluster.Options{Masters: 1, Workers: 1}), t: t}
	base := c.Masters[0].URL() + "/"
	b := newBrowser(t, 1280, 800)

	b.do("open the dashboard without a token", chromedp.Navigate(base))
	b.waitUntil("the login form", `!!document.querySelector('[data-test=login] [data-test=token-input]')`, pageText)
	if n := eval[int](b, `document.querySelectorAll('[data-test=masters-table]').length`); n != 0 {
		t.Errorf("the cluster view is shown without a token")
	}
	b.shot("0-login")

	b.allow("status of 401") // Chromium logs the refused check
	b.do("log in with a wrong token",
		chromedp.SetValue(chromedp.CSS(`[data-test=token-input]`), "not-a-token-of-this-cluster"),
		chromedp.Click(chromedp.CSS(`[data-test=login-submit]`)))
	b.waitUntil("the token refused", `(document.querySelector('[data-test=login-error]')?.innerText ?? '').includes('refused')`, pageText)
	if got := eval[string](b, `sessionStorage.getItem('stampede.token') ?? ''`); got != "" {
		t.Errorf("a refused token stayed in sessionStorage: %q", got)
	}

	b.do("log in as a viewer",
		chromedp.SetValue(chromedp.CSS(`[data-test=token-input]`), testcluster.ViewerToken),
		chromedp.Click(chromedp.CSS(`[data-test=login-submit]`)))
	b.waitUntil("the cluster view for the viewer", `!!document.querySelector('[data-test=masters-table]')`, pageText)
	b.waitUntil("the live feed connected", `document.getElementById('conn').classList.contains('ok')`, `document.getElementById('conn').innerText`)

	b.allow("status of 403")
	b.do("a viewer starts a test", chromedp.Navigate(base+"#/new"))
	b.waitUntil("the form", `!!document.querySelector('[data-test=new-test-form]')`, pageText)
	b.do("fill the form",
		chromedp.SetValue(chromedp.ID("f-url"), c.Target.URL()+"/ping"),
		chromedp.SetValue(chromedp.ID("f-rate"), "5"),
		chromedp.SetValue(chromedp.ID("f-duration"), "2s"),
		chromedp.Click(chromedp.CSS(`[data-test=start]`)))
	b.waitUntil("the viewer refused", `document.querySelector('main').innerText.includes('operator token')`, pageText)
	b.shot("0b-viewer-refused")

	b.do("log out", chromedp.Click(chromedp.CSS(`[data-test=logout]`)))
	b.waitUntil("the login form after logging out", `!!document.querySelector('[data-test=login]')`, pageText)
	if got := eval[string](b, `sessionStorage.getItem('stampede.token') ?? ''`); got != "" {
		t.Errorf("the token stayed in sessionStorage after logging out: %q", got)
	}

	b.login(base, testcluster.OperatorToken)
	b.waitUntil("the worker listed", fmt.Sprintf(`document.querySelector('[data-test=workers-table]')?.innerText.includes(%s) ?? false`, js("w1")), pageText)
	b.check()
}
