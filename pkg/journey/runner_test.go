package journey

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// shopStats is the part of the target's /stats the journey tests read.
type shopStats struct {
	Requests int64 `json:"requests"`
	Shop     struct {
		Logins       map[string]int64 `json:"logins"`
		Carts        int64            `json:"carts"`
		Checkouts    int64            `json:"checkouts"`
		Unauthorized int64            `json:"unauthorized"`
	} `json:"shop"`
}

func startTarget(t *testing.T) string { return testcluster.StartTarget(t) }

func shopSpec(t *testing.T, base, loginCheck, extract string) spec.Spec {
	return shopSpecLoad(t, base, loginCheck, extract, `{"model": "avalanche", "iterations": 30}`, "unique")
}

func shopSpecLoad(t *testing.T, base, loginCheck, extract, load, mode string) spec.Spec {
	t.Helper()
	rows := "user\n"
	for i := range 30 {
		rows += fmt.Sprintf("user%02d\n", i)
	}
	src := fmt.Sprintf(`{"load": %s,
 "scenario": {"data": {"mode": %q, "content": %q}, "steps": [
  {"name": "login", "request": {"method": "POST", "url": "%s/shop/login", "body": "{\"user\":\"{{data.user}}\"}"},
   "extract": {"token": {"json": %q}}, "check": {"status": [%s]}},
  {"think": {"uniform": ["1ms", "5ms"]}},
  {"name": "cart", "request": {"method": "POST", "url": "%s/shop/cart", "headers": {"Authorization": "Bearer {{token}}"}},
   "check": {"status": [200], "body_contains": "\"ok\""}},
  {"name": "checkout", "request": {"method": "POST", "url": "%s/shop/checkout", "headers": {"Authorization": "Bearer {{token}}"}},
   "check": {"status": [200]}}]}}`, load, mode, rows, base, extract, loginCheck, base, base)
	s, errs := spec.ParseFile([]byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return s
}

// runFleet runs s as three workers would: the plan's exact shares, each
// with its own Runner and 4 virtual users, concurrently.
func runFleet(t *testing.T, s spec.Spec) []Result {
	t.Helper()
	shares := plan.Split(&s, 3)
	out := make([]Result, len(shares))
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, sh := range shares {
		r, err := NewRunner(&s, sh, 4)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { out[i] = r.Run(ctx) })
	}
	wg.Wait()
	return out
}

func sum(results []Result, step string, f func(*StepStats) int64) int64 {
	var n int64
	for _, r := range results {
		n += f(r.Steps[step])
	}
	return n
}

// TestJourneyUniqueUsers: 30 unique rows over 3 workers; every user logs in
// exactly once, every cart and checkout carries the extracted token, and
// each step has 30 requests.
func TestJourneyUniqueUsers(t *testing.T) {
	base := startTarget(t)
	res := runFleet(t, shopSpec(t, base, "200", "$.token"))
	var st shopStats
	if code := testcluster.GetJSON(t, base+"/stats", &st); code != 200 {
		t.Fatalf("GET /stats = %d", code)
	}
	if len(st.Shop.Logins) != 30 {
		t.Errorf("target saw %d distinct users log in, want 30: %v", len(st.Shop.Logins), st.Shop.Logins)
	}
	for u, n := range st.Shop.Logins {
		if n != 1 || !strings.HasPrefix(u, "user") {
			t.Errorf("user %s logged in %d times, want once", u, n)
		}
	}
	if st.Shop.Unauthorized != 0 || st.Shop.Carts != 30 || st.Shop.Checkouts != 30 || st.Requests != 90 {
		t.Errorf("target: unauthorized %d carts %d checkouts %d requests %d, want 0, 30, 30, 90",
			st.Shop.Unauthorized, st.Shop.Carts, st.Shop.Checkouts, st.Requests)
	}
	var completed int64
	for _, r := range res {
		completed += r.Completed
		if r.Failed != 0 {
			t.Errorf("a worker failed %d iterations, want 0", r.Failed)
		}
	}
	for _, step := range []string{"login", "cart", "checkout"} {
		n := sum(res, step, func(s *StepStats) int64 { return s.Requests })
		hn := sum(res, step, func(s *StepStats) int64 { return s.Latency.Count() })
		errs := sum(res, step, func(s *StepStats) int64 { return int64(len(s.Errors)) })
		if n != 30 || hn != 30 || errs != 0 {
			t.Errorf("step %s: %d requests, %d latencies, %d error kinds; want 30, 30, 0", step, n, hn, errs)
		}
	}
	if completed != 30 {
		t.Errorf("%d iterations completed, want 30", completed)
	}
}

// TestJourneyFailures: a failing check is counted (kind check, message
// sampled) and the journey goes on; a failing extraction is counted (kind
// extract) and ends the journey, so no request with an empty token is sent.
func TestJourneyFailures(t *testing.T) {
	base := startTarget(t)
	res := runFleet(t, shopSpec(t, base, "201", "$.token"))
	if n := sum(res, "login", func(s *StepStats) int64 { return s.Errors[KindCheck] }); n != 30 {
		t.Errorf("login check errors = %d, want 30", n)
	}
	if s := res[0].Steps["login"].Samples[KindCheck]; len(s) != 1 || s[0] != "status 200, want one of [201]" {
		t.Errorf("check samples = %q, want the one distinct message", s)
	}
	if n := sum(res, "cart", func(s *StepStats) int64 { return s.Requests }); n != 30 {
		t.Errorf("cart requests after a failed check = %d, want 30 (the journey goes on)", n)
	}

	base = startTarget(t)
	res = runFleet(t, shopSpec(t, base, "200", "$.tokn"))
	var st shopStats
	if code := testcluster.GetJSON(t, base+"/stats", &st); code != 200 {
		t.Fatalf("GET /stats = %d", code)
	}
	if n := sum(res, "login", func(s *StepStats) int64 { return s.Errors[KindExtract] }); n != 30 {
		t.Errorf("login extract errors = %d, want 30", n)
	}
	if s := res[0].Steps["login"].Samples[KindExtract]; len(s) != 1 || s[0] != "token: JSON path: no .tokn" {
		t.Errorf("extract samples = %q", s)
	}
	var failed int64
	for _, r := range res {
		failed += r.Failed
	}
	if failed != 30 || st.Shop.Carts+st.Shop.Checkouts+st.Shop.Unauthorized != 0 || st.Requests != 30 {
		t.Errorf("failed iterations %d, target carts+checkouts+unauthorized %d, requests %d; want 30, 0, 30",
			failed, st.Shop.Carts+st.Shop.Checkouts+st.Shop.Unauthorized, st.Requests)
	}
}

// TestJourneyOpenModelStall: journeys started at a fixed rate against a
// target that stalls 1 s: every step's latency counts from when the step
// was due, so the stall shows in every step's percentiles, and exactly
// rate x duration journeys start.
func TestJourneyOpenModelStall(t *testing.T) {
	base := startTarget(t)
	s := shopSpecLoad(t, base, "200", "$.token", `{"model": "constant-rate", "rate": 20, "duration": "3s"}`, "sequential")
	r, err := NewRunner(&s, plan.Share{Of: 1}, 60)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stallErr := make(chan error, 1)
	go func() {
		time.Sleep(time.Second)
		resp, err := http.Post(base+"/control/stall?for=1s", "text/plain", nil)
		if err == nil {
			resp.Body.Close()
		}
		stallErr <- err
	}()
	res := r.Run(ctx)
	if err := <-stallErr; err != nil {
		t.Fatal(err)
	}
	if res.Completed != 60 || res.Failed != 0 {
		t.Errorf("completed %d, failed %d journeys; want 60, 0 (20/s for 3s)", res.Completed, res.Failed)
	}
	for _, step := range []string{"login", "cart", "checkout"} {
		h := res.Steps[step].Latency
		p99, maxUs := time.Duration(h.Percentile(99))*time.Microsecond, time.Duration(h.Max())*time.Microsecond
		if h.Count() != 60 || p99 < 500*time.Millisecond || maxUs < 900*time.Millisecond {
			t.Errorf("step %s: %d requests, p99 %s, max %s; want 60 with the 1s stall in p99 and max", step, h.Count(), p99, maxUs)
		}
	}
	if res.Steps["cart"].Late == 0 || res.Steps["checkout"].Late == 0 {
		t.Errorf("late cart %d, checkout %d; want the steps held up by the stall counted late", res.Steps["cart"].Late, res.Steps["checkout"].Late)
	}
	if it := time.Duration(res.Iteration.Max()) * time.Microsecond; it < 900*time.Millisecond {
		t.Errorf("iteration max %s, want the stall in it", it)
	}
}

// TestJourneyPinnedDial: a pinned runner dials the checked address for a
// step's host:port (here a name that does not resolve) and refuses hosts
// it was not given.
func TestJourneyPinnedDial(t *testing.T) {
	base := startTarget(t)
	addr := strings.TrimPrefix(base, "http://")
	s := shopSpec(t, "http://shop.invalid", "200", "$.token")
	if got := HostPorts(s.Scenario); len(got) != 1 || got[0] != "shop.invalid:80" {
		t.Fatalf("HostPorts = %v, want [shop.invalid:80]", got)
	}
	run := func(pins map[string]string) Result {
		r, err := NewRunner(&s, plan.Split(&s, 1)[0], 2)
		if err != nil {
			t.Fatal(err)
		}
		r.Pin(pins)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return r.Run(ctx)
	}
	if res := run(map[string]string{"shop.invalid:80": addr}); res.Completed != 30 || res.Steps["checkout"].Requests != 30 {
		t.Errorf("pinned run: %d completed, %d checkouts; want 30, 30", res.Completed, res.Steps["checkout"].Requests)
	}
	res := run(map[string]string{"other:80": addr})
	if res.Failed != 30 || res.Steps["login"].Errors[KindIO] != 30 || !strings.Contains(strings.Join(res.Steps["login"].Samples[KindIO], " "), "is not a target of this test") {
		t.Errorf("unpinned host: %d failed, login io errors %d, samples %q; want 30 refused dials", res.Failed, res.Steps["login"].Errors[KindIO], res.Steps["login"].Samples[KindIO])
	}
}

// TestJourneyRequestOptions: the test's request section applies to steps:
// an answer longer than max_response_bytes fails its step as
// response_too_large and ends the journey.
func TestJourneyRequestOptions(t *testing.T) {
	base := startTarget(t)
	src := `{"request": {"max_response_bytes": 1000, "keep_alive": false},
 "load": {"model": "avalanche", "iterations": 3},
 "scenario": {"steps": [
  {"name": "big", "request": {"url": "` + base + `/x?size=1001"}},
  {"name": "after", "request": {"url": "` + base + `/ping"}}]}}`
	s, errs := spec.ParseFile([]byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	r, err := NewRunner(&s, plan.Split(&s, 1)[0], 1)
	if err != nil {
		t.Fatal(err)
	}
	if !r.client.DisableKeepAlives {
		t.Error("keep_alive: false did not disable keep-alives")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res := r.Run(ctx)
	if big := res.Steps["big"]; big.Requests != 3 || big.Errors[KindTooLarge] != 3 || res.Steps["after"].Requests != 0 || res.Failed != 3 {
		t.Errorf("big: %d requests, errors %v; after: %d requests; failed %d; want 3, 3 too large, 0, 3",
			big.Requests, big.Errors, res.Steps["after"].Requests, res.Failed)
	}
}
