package tlsopt

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stampede-load/stampede/pkg/spec"
)

func TestKind(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("dial: %w", &tls.CertificateVerificationError{Err: err}) }
	for _, tt := range []struct {
		err  error
		want string
	}{
		{wrap(x509.UnknownAuthorityError{}), KindUnknownAuthority},
		{wrap(x509.HostnameError{Host: "shop.example", Certificate: &x509.Certificate{}}), KindNameMismatch},
		{wrap(x509.CertificateInvalidError{Reason: x509.Expired}), KindExpired},
		{wrap(x509.CertificateInvalidError{Reason: x509.NotAuthorizedToSign}), KindHandshake},
		{fmt.Errorf("read: %w", tls.AlertError(116)), KindHandshake}, // certificate required
		{errors.New("tls: server selected unsupported protocol version 301"), KindHandshake},
		{io.EOF, ""},
		{nil, ""},
	} {
		if got := Kind(tt.err); got != tt.want {
			t.Errorf("Kind(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestConfig(t *testing.T) {
	c, err := Config(&spec.TLS{ServerName: "shop.example", MinVersion: "1.3"}, false, "127.0.0.1", "h2")
	if err != nil || c.ServerName != "shop.example" || c.MinVersion != tls.VersionTLS13 || c.NextProtos[0] != "h2" || c.InsecureSkipVerify {
		t.Errorf("Config = %+v, %v; want server name shop.example, TLS 1.3, h2", c, err)
	}
	if d, err := Config(nil, true, "h", ""); err != nil || d.MinVersion != tls.VersionTLS12 || !d.InsecureSkipVerify || d.ServerName != "h" {
		t.Errorf("default Config = %+v, %v; want TLS 1.2 minimum, insecure as asked, the host", d, err)
	}
	if _, err := Config(&spec.TLS{CA: "nope"}, false, "h"); err == nil {
		t.Error("a CA without a certificate was accepted")
	}
}
