package spec

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
)

// TLS is request.tls: how HTTPS requests (plain ones and scenario steps)
// verify the server and present themselves. The material is PEM text
// inline, so a spec stays one document; the CLIs read the *_file fields
// (relative to the spec file) and send their content instead
// (InlineDataFile). The private key is never shown back (Redacted).
type TLS struct {
	// CA is a PEM bundle of the certificate authorities trusted for the
	// server's certificate, instead of the system's.
	CA     string `json:"ca,omitempty"`
	CAFile string `json:"ca_file,omitempty"`
	// Cert and Key are the client certificate (chain) and its private key,
	// presented when the server asks (mTLS).
	Cert     string `json:"cert,omitempty"`
	CertFile string `json:"cert_file,omitempty"`
	Key      string `json:"key,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
	// ServerName is the name sent in SNI and checked against the server's
	// certificate (default: the URL's host).
	ServerName string `json:"server_name,omitempty"`
	// MinVersion is the lowest TLS version accepted: "1.0" to "1.3"
	// (default "1.2").
	MinVersion string `json:"min_version,omitempty"`
}

// Bounds of request.tls.
const (
	MaxTLSCABytes   = 256 << 10
	MaxTLSCertBytes = 64 << 10
	MaxTLSKeyBytes  = 16 << 10
	MaxServerName   = 253
)

// Redacted is the value of Key in a spec shown back to a user.
const Redacted = "[redacted]"

// TLSVersions maps request.tls.min_version to crypto/tls's constants.
var TLSVersions = map[string]uint16{
	"1.0": tls.VersionTLS10, "1.1": tls.VersionTLS11, "1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13,
}

// Redacted returns a copy of s that is safe to show: request.tls.key is
// replaced by Redacted. The stored spec keeps the key (the workers need
// it); every view of a spec (the API, the dashboard, exports) shows this.
func (s *Spec) Redacted() *Spec {
	if s == nil || s.Request.TLS == nil || s.Request.TLS.Key == "" {
		return s
	}
	c := *s
	t := *s.Request.TLS
	t.Key = Redacted
	c.Request.TLS = &t
	return &c
}

// Protocols of request.protocol: HTTP/1.1 (the default, the engine's
// fast client), HTTP/2 over TLS (ALPN), or HTTP/2 in cleartext (prior
// knowledge).
const (
	ProtocolHTTP1 = "http/1.1"
	ProtocolH2    = "h2"
	ProtocolH2C   = "h2c"
)

// Protocols lists request.protocol's values.
var Protocols = []string{ProtocolHTTP1, ProtocolH2, ProtocolH2C}

// validateProtocol checks request.protocol against the URLs' schemes: h2
// needs https, h2c http.
func (s *Spec) validateProtocol(c *checker) {
	p := s.Request.Protocol
	if p == "" || p == ProtocolHTTP1 {
		return
	}
	if !slices.Contains(Protocols, p) {
		c.add("request.protocol", "unknown protocol %q (one of %s)", p, strings.Join(Protocols, ", "))
		return
	}
	want := map[string]string{ProtocolH2: "https", ProtocolH2C: "http"}[p]
	for _, u := range s.allURLs() {
		if scheme, _, _ := strings.Cut(u, "://"); scheme != want && scheme != "" {
			c.add("request.protocol", "%s needs %s:// URLs, got %q", p, want, u)
			return
		}
	}
}

// allURLs lists the URLs a spec sends to: the request's, the mix
// entries' and the scenario steps'.
func (s *Spec) allURLs() []string {
	var out []string
	if s.Request.URL != "" {
		out = append(out, s.Request.URL)
	}
	for _, m := range s.RequestsMix {
		if m.URL != "" {
			out = append(out, m.URL)
		}
	}
	if s.Scenario != nil {
		for _, st := range s.Scenario.Steps {
			if st.Request != nil {
				out = append(out, st.Request.URL)
			}
		}
	}
	return out
}

// validate checks request.tls (nil: nothing to check).
func (t *TLS) validate(c *checker) {
	if t == nil {
		return
	}
	const f = "request.tls."
	for _, x := range []struct{ file, inline, name string }{
		{t.CAFile, t.CA, "ca"}, {t.CertFile, t.Cert, "cert"}, {t.KeyFile, t.Key, "key"},
	} {
		if x.file != "" && x.inline == "" {
			c.add(f+x.name, "is required: the API takes the PEM text inline (the CLIs read %s_file and send its content)", x.name)
		}
	}
	if t.CA != "" {
		if len(t.CA) > MaxTLSCABytes {
			c.add(f+"ca", "is %d bytes; at most %d", len(t.CA), MaxTLSCABytes)
		} else if !x509.NewCertPool().AppendCertsFromPEM([]byte(t.CA)) {
			c.add(f+"ca", "holds no PEM certificate")
		}
	}
	t.validatePair(c)
	if len(t.ServerName) > MaxServerName || strings.ContainsFunc(t.ServerName, badNameRune) {
		c.add(f+"server_name", "must be a host name of at most %d characters", MaxServerName)
	}
	if t.MinVersion != "" && TLSVersions[t.MinVersion] == 0 {
		c.add(f+"min_version", "unknown version %q (one of 1.0, 1.1, 1.2, 1.3)", t.MinVersion)
	}
}

func badNameRune(r rune) bool {
	return r <= ' ' || r > '~' || r == '/' || r == '@' || r == '?' || r == '#'
}

// validatePair checks the client certificate and key: both or neither,
// bounded, and matching. A problem never quotes the key.
func (t *TLS) validatePair(c *checker) {
	const f = "request.tls."
	ok := true
	if len(t.Cert) > MaxTLSCertBytes {
		c.add(f+"cert", "is %d bytes; at most %d", len(t.Cert), MaxTLSCertBytes)
		ok = false
	}
	if len(t.Key) > MaxTLSKeyBytes {
		c.add(f+"key", "is %d bytes; at most %d", len(t.Key), MaxTLSKeyBytes)
		ok = false
	}
	switch {
	case !ok || (t.Cert == "" && t.Key == ""):
	case t.Cert == "":
		c.add(f+"cert", "is required with key")
	case t.Key == "":
		c.add(f+"key", "is required with cert")
	case t.Key == Redacted:
		c.add(f+"key", "is %q, as a shown spec has it: send the PEM private key itself", Redacted)
	default:
		if _, err := tls.X509KeyPair([]byte(t.Cert), []byte(t.Key)); err != nil {
			c.add(f+"cert", "and key do not make a certificate: %s", pairProblem(t))
		}
	}
}

// pairProblem says what is wrong with a certificate and key without
// echoing either.
func pairProblem(t *TLS) string {
	if b, _ := pem.Decode([]byte(t.Cert)); b == nil || b.Type != "CERTIFICATE" {
		return "cert holds no PEM CERTIFICATE block"
	}
	if b, _ := pem.Decode([]byte(t.Key)); b == nil || !strings.HasSuffix(b.Type, "PRIVATE KEY") {
		return "key holds no PEM PRIVATE KEY block"
	}
	return "the key does not match the certificate, or one of them does not parse"
}
