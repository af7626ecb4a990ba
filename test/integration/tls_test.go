package integration

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/report"
)

// tlsRun submits a 20-request test of GET /ping at url with request.tls
// opts and returns its result.
func tlsRun(t *testing.T, c *tc.Cluster, url string, opts map[string]any) tc.Test {
	t.Helper()
	sp := map[string]any{
		"request": map[string]any{"url": url + "/ping", "tls": opts, "timeout": "2s"},
		"load":    map[string]any{"model": "avalanche", "concurrency": 2, "requests": 20, "max_duration": "20s"},
		"workers": 2,
	}
	return c.WaitPhase(c.Submit(sp), "completed", 60*time.Second)
}

// wantKind checks that every request of sum failed with kind, and that a
// sampled message of that kind says what.
func wantKind(t *testing.T, what string, sum *report.Summary, kind, says string) {
	t.Helper()
	if sum == nil || sum.Requests != 20 || sum.Errors != 20 || sum.ErrorKinds[kind] != 20 {
		t.Fatalf("%s: summary %+v; want 20 requests, 20 errors of kind %s", what, sum, kind)
	}
	ms := sum.ErrorSamples[kind]
	if len(ms) == 0 || len(ms) > report.MaxSamples || !strings.Contains(strings.Join(ms, "|"), says) {
		t.Errorf("%s: samples of %s = %q; want 1-%d messages, one saying %q", what, kind, ms, report.MaxSamples, says)
	}
	for _, m := range ms {
		if len(m) > report.MaxSampleBytes {
			t.Errorf("%s: a sample of %d bytes, want at most %d", what, len(m), report.MaxSampleBytes)
		}
	}
}

// TestTLSOptions: with the CA bundle and a client certificate in the spec,
// requests to an mTLS target succeed (and the target saw them all); without
// the certificate, without the CA, with another server name or against an
// expired certificate, every request fails with its own TLS error kind and
// a sampled message. The private key is not shown back by the API.
func TestTLSOptions(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 2})
	mtls := tc.StartTLSTarget(t, true, nil)
	ca := mtls.CA.PEM
	good := map[string]any{"ca": ca, "cert": mtls.Client.CertPEM, "key": mtls.Client.KeyPEM, "min_version": "1.2"}

	res := tlsRun(t, c, mtls.URL, good)
	var st struct {
		Requests  int64            `json:"requests"`
		Protocols map[string]int64 `json:"protocols"`
	}
	mtls.Stats(t, &st)
	if s := res.Summary; s == nil || s.Requests != 20 || s.Errors != 0 || st.Requests != 20 {
		t.Fatalf("mTLS with a client certificate: summary %+v, target saw %d; want 20 requests, 0 errors, 20 seen", s, st.Requests)
	}
	var view struct {
		Spec struct {
			Request struct {
				TLS map[string]string `json:"tls"`
			} `json:"request"`
		} `json:"spec"`
	}
	body, err := tc.Fetch(c.API() + "/tests/" + res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &view); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), "PRIVATE KEY") || view.Spec.Request.TLS["key"] != "[redacted]" ||
		view.Spec.Request.TLS["cert"] != mtls.Client.CertPEM {
		t.Errorf("GET /tests/{id}: tls = %v; want the key redacted, the certificate shown", view.Spec.Request.TLS)
	}

	wantKind(t, "no client certificate", tlsRun(t, c, mtls.URL, map[string]any{"ca": ca}).Summary,
		"tls_handshake", "certificate required")
	wantKind(t, "no CA", tlsRun(t, c, mtls.URL, map[string]any{}).Summary,
		"tls_unknown_authority", "unknown authority")
	wantKind(t, "another name", tlsRun(t, c, mtls.URL, map[string]any{"ca": ca, "server_name": "shop.example"}).Summary,
		"tls_name_mismatch", "shop.example")

	dir := t.TempDir()
	expired := mtls.CA.Issue(t, dir, "expired", tc.LeafOptions{Server: true, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Expired: true})
	old := tc.StartTLSTarget(t, false, &expired)
	wantKind(t, "expired", tlsRun(t, c, old.URL, map[string]any{"ca": ca}).Summary,
		"tls_expired", "expired")
}
