package journey

import (
	"strings"
	"testing"

	"github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/spec"
	"github.com/stampede-load/stampede/pkg/tlsopt"
)

// TestJourneyMutualTLS: the shop journey against a target that requires a
// client certificate. With the spec's CA bundle and client certificate
// every step succeeds and the target saw every user log in; without the
// certificate every login fails as tls_handshake, with the server's
// complaint sampled, and no cart is sent.
func TestJourneyMutualTLS(t *testing.T) {
	tt := testcluster.StartTLSTarget(t, true, nil)
	s := shopSpec(t, tt.URL, "200", "$.token")
	s.Request.TLS = &spec.TLS{CA: tt.CA.PEM, Cert: tt.Client.CertPEM, Key: tt.Client.KeyPEM}
	res := runFleet(t, s)
	var st shopStats
	tt.Stats(t, &st)
	for _, step := range []string{"login", "cart", "checkout"} {
		n := sum(res, step, func(s *StepStats) int64 { return s.Requests })
		errs := sum(res, step, func(s *StepStats) int64 { return int64(len(s.Errors)) })
		if n != 30 || errs != 0 {
			t.Errorf("mTLS, step %s: %d requests, %d error kinds; want 30, 0", step, n, errs)
		}
	}
	if len(st.Shop.Logins) != 30 || st.Requests != 90 {
		t.Errorf("target saw %d users log in and %d requests, want 30 and 90", len(st.Shop.Logins), st.Requests)
	}

	s.Request.TLS = &spec.TLS{CA: tt.CA.PEM}
	res = runFleet(t, s)
	if n := sum(res, "login", func(s *StepStats) int64 { return s.Errors[tlsopt.KindHandshake] }); n != 30 {
		t.Errorf("logins without a client certificate: %d errors of kind %s, want 30", n, tlsopt.KindHandshake)
	}
	var samples []string
	for _, r := range res {
		samples = append(samples, r.Steps["login"].Samples[tlsopt.KindHandshake]...)
	}
	if !strings.Contains(strings.Join(samples, "|"), "certificate required") {
		t.Errorf("samples = %q, want the server's 'certificate required'", samples)
	}
	if n := sum(res, "cart", func(s *StepStats) int64 { return s.Requests }); n != 0 {
		t.Errorf("%d carts sent after failed logins, want 0", n)
	}
}
