// Package tlsopt turns a spec's request.tls into a client TLS
// configuration and names TLS failures. The engine's HTTP/1.1 client, its
// HTTP/2 transport and the journey executor all build their configuration
// and classify their errors here, so a TLS problem has the same kind
// whichever path sent the request.
package tlsopt

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/stampede-load/stampede/pkg/spec"
)

// Error kinds of TLS failures (contract, docs/results.md).
const (
	// KindHandshake is any other failed handshake: a protocol or version
	// mismatch, an alert from the server (for example a client certificate
	// it requires and did not get), a malformed record.
	KindHandshake = "tls_handshake"
	// KindUnknownAuthority: the server's certificate is not signed by a
	// trusted authority (request.tls.ca, or the system's).
	KindUnknownAuthority = "tls_unknown_authority"
	// KindExpired: the server's certificate is expired or not yet valid.
	KindExpired = "tls_expired"
	// KindNameMismatch: the server's certificate is not for the name asked
	// (the URL's host, or request.tls.server_name).
	KindNameMismatch = "tls_name_mismatch"
)

// Kinds lists the TLS error kinds.
var Kinds = []string{KindHandshake, KindUnknownAuthority, KindExpired, KindNameMismatch}

// Config is the client configuration for requests to host under t (nil:
// defaults); insecure is request.insecure_skip_verify. nextProtos, if
// set, is offered by ALPN. t must be valid (spec.Validate).
func Config(t *spec.TLS, insecure bool, host string, nextProtos ...string) (*tls.Config, error) {
	c := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, NextProtos: nextProtos,
		InsecureSkipVerify: insecure} //nolint:gosec // the user asked for it
	if t == nil {
		return c, nil
	}
	if t.ServerName != "" {
		c.ServerName = t.ServerName
	}
	if v := spec.TLSVersions[t.MinVersion]; v != 0 {
		c.MinVersion = v
	}
	if t.CA != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(t.CA)) {
			return nil, errors.New("request.tls.ca: holds no PEM certificate")
		}
		c.RootCAs = pool
	}
	if t.Cert != "" || t.Key != "" {
		pair, err := tls.X509KeyPair([]byte(t.Cert), []byte(t.Key))
		if err != nil {
			return nil, fmt.Errorf("request.tls.cert: the certificate and key do not make a pair: %w", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// Kind names a TLS failure, or is "" if err is not one.
func Kind(err error) string {
	var (
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
		ae tls.AlertError
		re tls.RecordHeaderError
		ve *tls.CertificateVerificationError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ua):
		return KindUnknownAuthority
	case errors.As(err, &he):
		return KindNameMismatch
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return KindExpired
	case errors.As(err, &ae), errors.As(err, &re), errors.As(err, &ve), errors.As(err, &ci),
		strings.Contains(err.Error(), "tls: "):
		// crypto/tls reports most handshake failures as untyped errors,
		// each "tls: ..."
		return KindHandshake
	default:
		return ""
	}
}
