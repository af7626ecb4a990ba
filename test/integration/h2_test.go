package integration

import (
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/report"
)

// h2Stats is the part of the target's /stats an HTTP/2 test reads.
type h2Stats struct {
	Requests  int64            `json:"requests"`
	Protocols map[string]int64 `json:"protocols"`
	Shop      struct {
		Logins map[string]int64 `json:"logins"`
		Carts  int64            `json:"carts"`
	} `json:"shop"`
}

func h2Spec(url, protocol string, tls map[string]any) map[string]any {
	return map[string]any{
		"request": map[string]any{"url": url + "/ping", "protocol": protocol, "tls": tls, "timeout": "2s"},
		"load":    map[string]any{"model": "avalanche", "concurrency": 4, "requests": 40, "max_duration": "20s"},
		"workers": 2,
	}
}

// wantH2 checks a 40-request run that the target saw as 40 HTTP/2
// requests, with its numbers under the request's name.
func wantH2(t *testing.T, what string, sum *report.Summary, st h2Stats) {
	t.Helper()
	if sum == nil || sum.Requests != 40 || sum.Errors != 0 || sum.LatencyMs.Max <= 0 {
		t.Fatalf("%s: summary %+v; want 40 requests, 0 errors, latencies", what, sum)
	}
	if len(sum.Names) != 1 || sum.Names[0].Name != "GET /ping" || sum.Names[0].Requests != 40 || sum.StatusCodes["200"] != 40 {
		t.Errorf("%s: names %+v, status %v; want GET /ping with 40, 40 of 200", what, sum.Names, sum.StatusCodes)
	}
	if st.Requests != 40 || st.Protocols["HTTP/2"] != 40 || st.Protocols["HTTP/1"] != 0 {
		t.Errorf("%s: the target saw %d requests, protocols %v; want 40, all HTTP/2", what, st.Requests, st.Protocols)
	}
}

// TestHTTP2Load: request.protocol h2 (over TLS, with the spec's CA) and
// h2c (cleartext) send requests the target saw as HTTP/2, counted exactly
// with the engine's statistics; an h2 run without the CA fails every
// request as tls_unknown_authority.
func TestHTTP2Load(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 2})
	tt := tc.StartTLSTarget(t, false, nil)
	res := c.WaitPhase(c.Submit(h2Spec(tt.URL, "h2", map[string]any{"ca": tt.CA.PEM})), "completed", 60*time.Second)
	var st h2Stats
	tt.Stats(t, &st)
	wantH2(t, "h2", res.Summary, st)

	c.ResetTarget()
	res = c.WaitPhase(c.Submit(h2Spec(c.Target.URL(), "h2c", nil)), "completed", 60*time.Second)
	st = h2Stats{}
	if code := tc.GetJSON(t, c.TargetURL("/stats"), &st); code != 200 {
		t.Fatalf("GET /stats = %d", code)
	}
	wantH2(t, "h2c", res.Summary, st)

	res = c.WaitPhase(c.Submit(h2Spec(tt.URL, "h2", nil)), "completed", 60*time.Second)
	if s := res.Summary; s == nil || s.Errors != 40 || s.ErrorKinds["tls_unknown_authority"] != 40 || len(s.ErrorSamples["tls_unknown_authority"]) == 0 {
		t.Errorf("h2 without the CA: summary %+v; want 40 errors of kind tls_unknown_authority, sampled", s)
	}
}
