package integration

import (
	"fmt"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
)

// TestScenarioUniqueUsersOverWorkers: a 3-step journey with 30 unique users
// over 3 workers. The target saw each user log in exactly once and no
// unauthorized request (the token was extracted and used), and each step's
// name has 30 requests in the result.
func TestScenarioUniqueUsersOverWorkers(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 3})
	c.ResetTarget()
	sp := shopScenario(c, 200, "$.token")
	id := c.Submit(sp)
	res := c.WaitPhase(id, "completed", 60*time.Second)
	var st struct {
		Requests int64 `json:"requests"`
		Shop     struct {
			Logins       map[string]int64 `json:"logins"`
			Carts        int64            `json:"carts"`
			Checkouts    int64            `json:"checkouts"`
			Unauthorized int64            `json:"unauthorized"`
		} `json:"shop"`
	}
	if code := tc.GetJSON(t, c.TargetURL("/stats"), &st); code != 200 {
		t.Fatalf("GET /stats = %d", code)
	}
	if len(st.Shop.Logins) != 30 {
		t.Errorf("%d distinct users logged in, want 30", len(st.Shop.Logins))
	}
	for u, n := range st.Shop.Logins {
		if n != 1 {
			t.Errorf("user %s logged in %d times, want once", u, n)
		}
	}
	if st.Shop.Unauthorized != 0 || st.Shop.Carts != 30 || st.Shop.Checkouts != 30 || st.Requests != 90 {
		t.Errorf("target: unauthorized %d, carts %d, checkouts %d, requests %d; want 0, 30, 30, 90",
			st.Shop.Unauthorized, st.Shop.Carts, st.Shop.Checkouts, st.Requests)
	}
	sum := res.Summary
	if sum == nil || len(sum.Names) != 3 {
		t.Fatalf("summary names = %+v, want login, cart, checkout", sum)
	}
	for i, want := range []string{"login", "cart", "checkout"} {
		n := sum.Names[i]
		if n.Name != want || n.Requests != 30 || n.Errors != 0 {
			t.Errorf("name %d = %s with %d requests, %d errors; want %s with 30, 0", i, n.Name, n.Requests, n.Errors, want)
		}
	}
	if sum.Requests != 90 {
		t.Errorf("summary requests = %d, want 90", sum.Requests)
	}
	wantIterations(t, "unique users", sum, 30, 0)
}

// wantIterations checks summary.iterations: the counts, merged over the
// workers, and a duration histogram holding exactly the completed ones.
func wantIterations(t *testing.T, what string, sum *report.Summary, completed, failed int64) {
	t.Helper()
	it := sum.Iterations
	if it == nil {
		t.Fatalf("%s: no summary.iterations", what)
	}
	h, err := hist.Decode(it.Histogram)
	if err != nil {
		t.Fatal(err)
	}
	if it.Completed != completed || it.Failed != failed || h.Count() != completed ||
		(completed > 0 && (it.DurationMs.Max <= 0 || it.DurationMs.P50 > it.DurationMs.Max)) {
		t.Errorf("%s: iterations %+v (histogram of %d); want %d completed, %d failed, one duration each",
			what, it, h.Count(), completed, failed)
	}
}

// shopScenario is login -> cart -> checkout for 30 unique shoppers over 3
// workers; loginStatus is the login step's expected status and tokenPath
// where its token is taken from.
func shopScenario(c *tc.Cluster, loginStatus int, tokenPath string) map[string]any {
	rows := "user\n"
	for i := range 30 {
		rows += fmt.Sprintf("shopper%02d\n", i)
	}
	step := func(name, path string, extra map[string]any) map[string]any {
		req := map[string]any{"method": "POST", "url": c.TargetURL(path)}
		if name != "login" {
			req["headers"] = map[string]any{"Authorization": "Bearer {{token}}"}
		}
		st := map[string]any{"name": name, "request": req, "check": map[string]any{"status": []int{200}}}
		for k, v := range extra {
			if k == "body" {
				req[k] = v
			} else {
				st[k] = v
			}
		}
		return st
	}
	return map[string]any{
		"load":    map[string]any{"model": "avalanche", "concurrency": 2, "iterations": 30, "max_duration": "30s"},
		"workers": 3,
		"scenario": map[string]any{
			"data": map[string]any{"mode": "unique", "content": rows},
			"steps": []any{
				step("login", "/shop/login", map[string]any{"body": `{"user":"{{data.user}}"}`,
					"extract": map[string]any{"token": map[string]any{"json": tokenPath}},
					"check":   map[string]any{"status": []int{loginStatus}}}),
				step("cart", "/shop/cart", nil),
				step("checkout", "/shop/checkout", nil),
			},
		},
	}
}

// TestScenarioFailuresCounted: a login whose check fails counts 30 errors
// of kind check under "login" and the journeys go on; a login whose
// extraction fails counts 30 errors of kind extract and ends every journey,
// so the target sees no cart or checkout.
func TestScenarioFailuresCounted(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 3})
	for _, tt := range []struct {
		status    int
		path      string
		kind      string
		wantCarts int64
	}{
		{201, "$.token", "check", 30},
		{200, "$.tokn", "extract", 0},
	} {
		c.ResetTarget()
		res := c.WaitPhase(c.Submit(shopScenario(c, tt.status, tt.path)), "completed", 60*time.Second)
		sum := res.Summary
		if sum == nil || len(sum.Names) != 3 {
			t.Fatalf("summary names = %+v, want 3", sum)
		}
		login, cart := sum.Names[0], sum.Names[1]
		if login.Requests != 30 || login.Errors != 30 || login.ErrorKinds[tt.kind] != 30 {
			t.Errorf("%s: login %d requests, %d errors %v; want 30, 30 of kind %s", tt.kind, login.Requests, login.Errors, login.ErrorKinds, tt.kind)
		}
		wantIterations(t, tt.kind, sum, tt.wantCarts, 30-tt.wantCarts)
		if cart.Requests != tt.wantCarts || c.TargetRequests() != 30+2*tt.wantCarts {
			t.Errorf("%s: %d carts, target saw %d; want %d, %d", tt.kind, cart.Requests, c.TargetRequests(), tt.wantCarts, 30+2*tt.wantCarts)
		}
	}
}

// TestScenarioRampingRate: the shop journey in the ramping-rate model over
// 3 workers, from 0 to 10 journeys/s in 3 s: exactly the ramp's integral
// of 15 journeys ran, split over the workers, each a distinct user; the
// live summary counted them as they ended.
func TestScenarioRampingRate(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 3})
	c.ResetTarget()
	sp := shopScenario(c, 200, "$.token")
	sp["load"] = map[string]any{"model": "ramping-rate", "start_rate": 0, "stages": []any{map[string]any{"duration": "3s", "target": 10}}}
	id := c.Submit(sp)
	// while it runs, the live summary already counts the journeys (no
	// histogram: that is the result's)
	var live *report.IterationSummary
	tc.Eventually(t, 30*time.Second, "a live summary with iterations", func() bool {
		v := c.Get(id)
		if v.Phase == "running" && v.Summary != nil && v.Summary.Iterations != nil && v.Summary.Iterations.Completed > 0 {
			live = v.Summary.Iterations
		}
		return live != nil || v.Phase == "completed"
	})
	if live == nil || live.Histogram != "" || live.Completed >= 15 {
		t.Errorf("live iterations = %+v; want some of the 15 completed, without a histogram", live)
	}
	res := c.WaitPhase(id, "completed", 60*time.Second)
	var st struct {
		Shop struct {
			Logins    map[string]int64 `json:"logins"`
			Checkouts int64            `json:"checkouts"`
		} `json:"shop"`
	}
	if code := tc.GetJSON(t, c.TargetURL("/stats"), &st); code != 200 {
		t.Fatalf("GET /stats = %d", code)
	}
	if len(st.Shop.Logins) != 15 || st.Shop.Checkouts != 15 {
		t.Errorf("target: %d users logged in, %d checkouts; want 15, 15", len(st.Shop.Logins), st.Shop.Checkouts)
	}
	wantIterations(t, "ramping-rate", res.Summary, 15, 0)
	var perWorker []int64
	for _, w := range res.Summary.Workers {
		perWorker = append(perWorker, w.Requests)
	}
	if fmt.Sprint(perWorker) != "[15 15 15]" {
		t.Errorf("requests per worker = %v, want [15 15 15] (5 journeys of 3 steps each)", perWorker)
	}
}
