package client

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// TestCertRefusalNotAReset: a server that asks for a client certificate,
// gets none and then resets the connection (what a TLS 1.3 refusal looks
// like when the reset beats the alert) fails the exchange as
// tls_handshake with an explaining sample, not as connection_reset; a
// server that never asked still gives a reset.
func TestCertRefusalNotAReset(t *testing.T) {
	ca := testcluster.NewCA(t)
	leaf := ca.Issue(t, t.TempDir(), "server", testcluster.LeafOptions{Server: true})
	pair, err := tls.X509KeyPair([]byte(leaf.CertPEM), []byte(leaf.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		auth tls.ClientAuthType
		want Kind
	}{{tls.RequestClientCert, TLSHandshake}, {tls.NoClientCert, Reset}} {
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: c.auth, MinVersion: tls.VersionTLS13})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			tc := conn.(*tls.Conn)
			if tc.Handshake() == nil {
				_, _ = tc.Read(make([]byte, 1)) // the request arrived
			}
			raw := tc.NetConn().(*net.TCPConn)
			_ = raw.SetLinger(0) // a reset, not a close
			_ = raw.Close()
		}()
		ep, err := ParseEndpointTLS("https://"+ln.Addr().String()+"/", &spec.TLS{CA: ca.PEM}, false)
		if err != nil {
			t.Fatal(err)
		}
		ep.Errs = &report.Sampler{}
		cn := NewConn(ep, 5*time.Second)
		res := cn.Do(NewRequest(Spec{Method: "GET", URL: "https://" + ln.Addr().String() + "/", KeepAlive: true}))
		cn.Close()
		_ = ln.Close()
		samples := ep.Errs.Take()
		if res.Kind != c.want {
			t.Errorf("client auth %v: kind %v (samples %v), want %v", c.auth, res.Kind, samples, c.want)
		}
		if c.want == TLSHandshake && !strings.Contains(strings.Join(samples[c.want.String()], "|"), "asked for a client certificate") {
			t.Errorf("samples = %v, want the explanation", samples)
		}
	}
}
