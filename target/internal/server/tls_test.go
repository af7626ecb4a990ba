package server

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/testcluster"
)

// issue makes a leaf certificate of ca in dir and returns its files;
// server certificates are for 127.0.0.1.
func issue(t *testing.T, ca *testcluster.CA, dir, name string, server bool) (string, string) {
	l := ca.Issue(t, dir, name, testcluster.LeafOptions{Server: server})
	return l.CertFile, l.KeyFile
}

// startTLSTarget serves a target over TLS with files; it returns the base URL.
func startTLSTarget(t *testing.T, files TLSFiles) string {
	t.Helper()
	cfg, err := files.Config()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := New()
	srv.UseTLS(cfg)
	serveOn(t, srv, ln)
	return "https://" + ln.Addr().String()
}

func tlsClient(t *testing.T, ca *testcluster.CA, client *tls.Certificate, h2 bool) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(ca.PEM))
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if client != nil {
		tc.Certificates = []tls.Certificate{*client}
	}
	tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: h2}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// TestTLSServesHTTP2: over TLS the target answers HTTP/2 to a client that
// offers it and HTTP/1.1 to one that does not, and /stats says which.
func TestTLSServesHTTP2(t *testing.T) {
	dir := t.TempDir()
	ca := testcluster.NewCA(t)
	cert, key := issue(t, ca, dir, "server", true)
	base := startTLSTarget(t, TLSFiles{Cert: cert, Key: key})
	for _, h2 := range []bool{true, false, true} {
		resp, err := tlsClient(t, ca, nil, h2).Get(base + "/ping")
		if err != nil {
			t.Fatalf("GET /ping (h2 %v): %v", h2, err)
		}
		resp.Body.Close()
		if want := map[bool]int{true: 2, false: 1}[h2]; resp.ProtoMajor != want {
			t.Errorf("GET /ping (h2 %v) answered over HTTP/%d, want %d", h2, resp.ProtoMajor, want)
		}
	}
	resp, err := tlsClient(t, ca, nil, false).Get(base + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var snap Snapshot
	if err := decodeJSON(resp, &snap); err != nil {
		t.Fatal(err)
	}
	if snap.Protocols["HTTP/2"] != 2 || snap.Protocols["HTTP/1"] != 1 || snap.Requests != 3 {
		t.Errorf("stats: requests %d protocols %v, want 3 with HTTP/2: 2, HTTP/1: 1", snap.Requests, snap.Protocols)
	}
}

// TestTLSClientCertificate: with a client CA the target answers a client
// that presents a certificate signed by it and refuses one that does not.
func TestTLSClientCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := testcluster.NewCA(t)
	cert, key := issue(t, ca, dir, "server", true)
	caPath := ca.WriteCA(t, dir)
	base := startTLSTarget(t, TLSFiles{Cert: cert, Key: key, ClientCA: caPath})
	ccert, ckey := issue(t, ca, dir, "client", false)
	pair, err := tls.LoadX509KeyPair(ccert, ckey)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tlsClient(t, ca, &pair, true).Get(base + "/ping")
	if err != nil {
		t.Fatalf("GET /ping with a client certificate: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /ping with a client certificate = %d, want 200", resp.StatusCode)
	}
	// Without a certificate: in TLS 1.3 the client's side of the handshake
	// ends before the server judges the client, so the refusal is an alert
	// that follows it. Read it without writing first (a write that races
	// the server's close could see a reset instead of the alert).
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(ca.PEM))
	conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		if !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("handshake without a client certificate: %v, want an error about the certificate", err)
		}
		return
	}
	defer func() { _ = conn.Close() }()
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Read(make([]byte, 1))
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("reading after a handshake without a client certificate: %v, want an alert about the certificate", err)
	}
}

func TestTLSFilesErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := testcluster.NewCA(t)
	cert, key := issue(t, ca, dir, "server", true)
	for _, tt := range []struct {
		files TLSFiles
		want  string
	}{
		{TLSFiles{Cert: cert}, "need both"},
		{TLSFiles{Cert: notPEM, Key: notPEM}, "target: tls:"},
		{TLSFiles{Cert: cert, Key: key, ClientCA: notPEM}, "no PEM certificate"},
		{TLSFiles{Cert: cert, Key: key, ClientCA: filepath.Join(dir, "missing")}, "client CA"},
	} {
		if _, err := tt.files.Config(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Config(%+v) = %v, want an error with %q", tt.files, err, tt.want)
		}
	}
}

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
