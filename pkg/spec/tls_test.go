package spec_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/spec"
)

func tlsSpec(t *testing.T, url string, tls, protocol string) spec.FieldErrors {
	t.Helper()
	src := `{"request": {"url": "` + url + `", "protocol": "` + protocol + `", "tls": ` + tls + `}, "load": {"model": "avalanche", "requests": 1}}`
	s, errs := spec.Parse([]byte(src))
	if len(errs) > 0 {
		return errs
	}
	s.Normalize()
	return s.Validate()
}

// TestTLSFieldErrors: every problem of request.tls and request.protocol is
// reported under its field, and none quotes the private key.
func TestTLSFieldErrors(t *testing.T) {
	ca := testcluster.NewCA(t)
	leaf := ca.Issue(t, t.TempDir(), "c", testcluster.LeafOptions{})
	other := ca.Issue(t, t.TempDir(), "d", testcluster.LeafOptions{})
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	for _, tt := range []struct {
		name, tls, url, protocol, field, says string
	}{
		{"valid", `{"ca": ` + q(ca.PEM) + `, "cert": ` + q(leaf.CertPEM) + `, "key": ` + q(leaf.KeyPEM) + `, "server_name": "shop.example", "min_version": "1.3"}`, "https://h/", "h2", "", ""},
		{"ca not PEM", `{"ca": "hello"}`, "https://h/", "", "request.tls.ca", "no PEM certificate"},
		{"ca too big", `{"ca": ` + q(strings.Repeat("x", spec.MaxTLSCABytes+1)) + `}`, "https://h/", "", "request.tls.ca", "at most"},
		{"cert without key", `{"cert": ` + q(leaf.CertPEM) + `}`, "https://h/", "", "request.tls.key", "is required with cert"},
		{"key without cert", `{"key": ` + q(leaf.KeyPEM) + `}`, "https://h/", "", "request.tls.cert", "is required with key"},
		{"key of another cert", `{"cert": ` + q(leaf.CertPEM) + `, "key": ` + q(other.KeyPEM) + `}`, "https://h/", "", "request.tls.cert", "does not match"},
		{"key too big", `{"cert": ` + q(leaf.CertPEM) + `, "key": ` + q(strings.Repeat("k", spec.MaxTLSKeyBytes+1)) + `}`, "https://h/", "", "request.tls.key", "at most"},
		{"redacted key", `{"cert": ` + q(leaf.CertPEM) + `, "key": "[redacted]"}`, "https://h/", "", "request.tls.key", "send the PEM private key"},
		{"file only", `{"ca_file": "ca.pem"}`, "https://h/", "", "request.tls.ca", "CLIs read ca_file"},
		{"bad server name", `{"server_name": "a b/c"}`, "https://h/", "", "request.tls.server_name", "host name"},
		{"bad version", `{"min_version": "1.4"}`, "https://h/", "", "request.tls.min_version", `unknown version "1.4"`},
		{"bad protocol", `{}`, "https://h/", "spdy", "request.protocol", `unknown protocol "spdy"`},
		{"h2 over http", `{}`, "http://h/", "h2", "request.protocol", "h2 needs https://"},
		{"h2c over https", `{}`, "https://h/", "h2c", "request.protocol", "h2c needs http://"},
	} {
		errs := tlsSpec(t, tt.url, tt.tls, tt.protocol)
		if strings.Contains(errs.Error(), "PRIVATE KEY") || strings.Contains(errs.Error(), "kkkk") {
			t.Errorf("%s: an error quotes the key: %v", tt.name, errs)
		}
		if tt.field == "" {
			if len(errs) > 0 {
				t.Errorf("%s: %v, want valid", tt.name, errs)
			}
			continue
		}
		if len(errs) != 1 || errs[0].Field != tt.field || !strings.Contains(errs[0].Problem, tt.says) {
			t.Errorf("%s: %v; want one error on %s saying %q", tt.name, errs, tt.field, tt.says)
		}
	}
}

// TestTLSRedacted: a shown spec has the private key replaced; the spec
// itself keeps it.
func TestTLSRedacted(t *testing.T) {
	s := &spec.Spec{Request: spec.Request{TLS: &spec.TLS{Cert: "C", Key: "K"}}}
	r := s.Redacted()
	if r.Request.TLS.Key != spec.Redacted || r.Request.TLS.Cert != "C" || s.Request.TLS.Key != "K" {
		t.Errorf("redacted key %q cert %q, original key %q; want %q, C, K", r.Request.TLS.Key, r.Request.TLS.Cert, s.Request.TLS.Key, spec.Redacted)
	}
	plain := &spec.Spec{}
	if plain.Redacted() != plain {
		t.Error("a spec without a key is copied, want it as is")
	}
}

// TestInlineTLSFiles: the CLIs read request.tls's *_file fields relative
// to the spec file and send their content inline; a missing or oversized
// file is an error naming the field.
func TestInlineTLSFiles(t *testing.T) {
	dir := t.TempDir()
	ca := testcluster.NewCA(t)
	leaf := ca.Issue(t, dir, "client", testcluster.LeafOptions{})
	ca.WriteCA(t, dir)
	specPath := filepath.Join(dir, "s.yaml")
	src := "request:\n  url: https://h/\n  tls: {ca_file: ca.pem, cert_file: client.pem, key_file: client-key.pem}\nload: {model: avalanche, requests: 1}\n"
	out, err := spec.InlineDataFile([]byte(src), specPath)
	if err != nil {
		t.Fatal(err)
	}
	s, errs := spec.ParseFile(out)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	s.Normalize()
	if errs := s.Validate(); len(errs) > 0 {
		t.Fatalf("inlined spec: %v", errs)
	}
	if got := s.Request.TLS; got.CA != ca.PEM || got.Cert != leaf.CertPEM || got.Key != leaf.KeyPEM {
		t.Errorf("inlined tls = %+v, want the files' content", got)
	}
	if _, err := spec.InlineDataFile([]byte(strings.Replace(src, "ca.pem", "nope.pem", 1)), specPath); err == nil || !strings.Contains(err.Error(), "request.tls.ca_file") {
		t.Errorf("missing file: err = %v, want one naming request.tls.ca_file", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), make([]byte, spec.MaxTLSKeyBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := spec.InlineDataFile([]byte(strings.Replace(src, "client-key.pem", "big", 1)), specPath); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big key file: err = %v, want larger than", err)
	}
}
