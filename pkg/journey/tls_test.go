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

// TestJourneyHTTP2: with request.protocol h2 (over TLS) or h2c
// (cleartext) every step goes over HTTP/2: the target counts all 90
// requests of the 30 journeys as HTTP/2.
func TestJourneyHTTP2(t *testing.T) {
	tt := testcluster.StartTLSTarget(t, false, nil)
	plain := startTarget(t)
	for _, c := range []struct {
		protocol, base string
		stats          func(v any)
	}{
		{spec.ProtocolH2, tt.URL, func(v any) { tt.Stats(t, v) }},
		{spec.ProtocolH2C, plain, func(v any) { testcluster.GetJSON(t, plain+"/stats", v) }},
	} {
		s := shopSpec(t, c.base, "200", "$.token")
		s.Request.Protocol = c.protocol
		s.Request.TLS = &spec.TLS{CA: tt.CA.PEM}
		res := runFleet(t, s)
		var st struct {
			Requests  int64            `json:"requests"`
			Protocols map[string]int64 `json:"protocols"`
		}
		c.stats(&st)
		if st.Requests != 90 || st.Protocols["HTTP/2"] != 90 {
			t.Errorf("%s: the target saw %d requests, protocols %v; want 90, all HTTP/2", c.protocol, st.Requests, st.Protocols)
		}
		if n := sum(res, "checkout", func(s *StepStats) int64 { return s.Requests }); n != 30 {
			t.Errorf("%s: %d checkouts, want 30", c.protocol, n)
		}
	}
}

// TestJourneyTLSKinds: scenario steps get the same TLS error kinds as
// plain requests (unknown authority, name mismatch), and
// insecure_skip_verify with a client certificate but no CA succeeds.
func TestJourneyTLSKinds(t *testing.T) {
	tt := testcluster.StartTLSTarget(t, true, nil)
	for _, c := range []struct {
		name     string
		tls      spec.TLS
		insecure bool
		kind     string
	}{
		{"no CA", spec.TLS{Cert: tt.Client.CertPEM, Key: tt.Client.KeyPEM}, false, tlsopt.KindUnknownAuthority},
		{"another name", spec.TLS{CA: tt.CA.PEM, Cert: tt.Client.CertPEM, Key: tt.Client.KeyPEM, ServerName: "shop.example"}, false, tlsopt.KindNameMismatch},
		{"insecure", spec.TLS{Cert: tt.Client.CertPEM, Key: tt.Client.KeyPEM}, true, ""},
	} {
		s := shopSpec(t, tt.URL, "200", "$.token")
		s.Request.TLS, s.Request.InsecureSkipVerify = &c.tls, c.insecure
		res := runFleet(t, s)
		logins := sum(res, "login", func(s *StepStats) int64 { return s.Requests })
		failed := sum(res, "login", func(s *StepStats) int64 { return s.Errors[c.kind] })
		checkouts := sum(res, "checkout", func(s *StepStats) int64 { return s.Requests })
		errs := sum(res, "checkout", func(s *StepStats) int64 { return int64(len(s.Errors)) })
		switch {
		case c.kind != "" && (logins != 30 || failed != 30):
			t.Errorf("%s: %d logins, %d of kind %s; want 30, 30", c.name, logins, failed, c.kind)
		case c.kind == "" && (checkouts != 30 || errs != 0):
			t.Errorf("%s: %d checkouts, %d error kinds; want 30, 0", c.name, checkouts, errs)
		}
	}
}
