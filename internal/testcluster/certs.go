package testcluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a throwaway certificate authority for TLS tests.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// PEM is the CA certificate.
	PEM string
}

// Leaf is a certificate issued by a CA: PEM text and the files holding it.
type Leaf struct {
	CertPEM, KeyPEM   string
	CertFile, KeyFile string
}

// NewCA makes a CA valid from an hour ago for an hour.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stampede test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{cert: cert, key: key, PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// LeafOptions shape an issued certificate.
type LeafOptions struct {
	// Server makes a server certificate for IPs (default 127.0.0.1);
	// otherwise it is a client certificate.
	Server bool
	IPs    []net.IP
	// Expired makes one whose validity ended a minute ago.
	Expired bool
}

// Issue signs a new leaf certificate named name and writes it (cert and
// key, PEM) into dir.
func (ca *CA) Issue(t testing.TB, dir, name string, o LeafOptions) Leaf {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if o.Expired {
		tmpl.NotAfter = time.Now().Add(-time.Minute)
	}
	if o.Server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = o.IPs
		if len(o.IPs) == 0 {
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	l := Leaf{
		CertPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})),
		CertFile: filepath.Join(dir, name+".pem"), KeyFile: filepath.Join(dir, name+"-key.pem"),
	}
	if err := os.WriteFile(l.CertFile, []byte(l.CertPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.KeyFile, []byte(l.KeyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	return l
}

// WriteCA writes the CA certificate into dir and returns its path.
func (ca *CA) WriteCA(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(p, []byte(ca.PEM), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TLSTarget is a sample target serving HTTPS with a certificate of CA.
type TLSTarget struct {
	URL string // https://127.0.0.1:port
	CA  *CA
	// Client is a client certificate the target accepts when it requires
	// one.
	Client Leaf
}

// StartTLSTarget runs the real target binary over HTTPS with a server
// certificate for 127.0.0.1 signed by a new CA; mTLS makes it require a
// client certificate of that CA. leaf, if set, is served instead of the
// good server certificate (an expired one, one for another name).
func StartTLSTarget(t testing.TB, mTLS bool, leaf *Leaf) *TLSTarget {
	t.Helper()
	dir := t.TempDir()
	ca := NewCA(t)
	srv := ca.Issue(t, dir, "server", LeafOptions{Server: true})
	if leaf != nil {
		srv = *leaf
	}
	tt := &TLSTarget{CA: ca, Client: ca.Issue(t, dir, "client", LeafOptions{})}
	args := []string{"--tls-cert", srv.CertFile, "--tls-key", srv.KeyFile}
	if mTLS {
		args = append(args, "--tls-client-ca", ca.WriteCA(t, dir))
	}
	addr := FreeAddr(t)
	p := Start(t, dir, "target", filepath.Join(Binaries(t), "target"), addr, append([]string{"--listen", addr}, args...)...)
	tt.URL = "https://" + p.Addr
	// ready: the TLS handshake and /readyz with the client certificate
	c := tt.httpClient(t, leaf != nil)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := c.Get(tt.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return tt
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready within 30s", tt.URL)
	return nil
}

// httpClient trusts the target's CA and presents its client certificate;
// insecure skips the server's verification (a deliberately bad one).
func (tt *TLSTarget) httpClient(t testing.TB, insecure bool) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(tt.CA.cert)
	pair, err := tls.X509KeyPair([]byte(tt.Client.CertPEM), []byte(tt.Client.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair},
		InsecureSkipVerify: insecure}} //nolint:gosec // a test target with a deliberately bad certificate
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

// Stats reads the target's GET /stats over HTTPS into v.
func (tt *TLSTarget) Stats(t testing.TB, v any) {
	t.Helper()
	resp, err := tt.httpClient(t, true).Get(tt.URL + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
