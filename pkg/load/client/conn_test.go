package client

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/load/internal/canned"
)

// cannedEndpoint starts a canned server for the test and returns it with
// the endpoint of its /ping.
func cannedEndpoint(t *testing.T) (*canned.Server, Endpoint) {
	t.Helper()
	srv, err := canned.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ep, err := ParseEndpoint(srv.URL()+"/ping", false)
	if err != nil {
		t.Fatal(err)
	}
	return srv, ep
}

func TestConnDo(t *testing.T) {
	srv, ep := cannedEndpoint(t)
	c := NewConn(ep, 5*time.Second)
	defer c.Close()
	req := NewRequest(Spec{Method: "GET", URL: srv.URL() + "/ping", KeepAlive: true})
	for i := range 3 {
		res := c.Do(req)
		if res.Kind != OK || res.Status != 200 || res.BytesIn != 4 || res.BytesOut == 0 {
			t.Errorf("Do #%d = %+v, want OK 200 with 4 bytes in", i, res)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		url      string
		wantAddr string
		wantTLS  bool
		wantErr  bool
	}{
		{"http://example.com/x", "example.com:80", false, false},
		{"https://example.com/x", "example.com:443", true, false},
		{"http://127.0.0.1:8081/ping", "127.0.0.1:8081", false, false},
		{"http://[::1]:9/", "[::1]:9", false, false},
		{"ftp://x/", "", false, true},
		{"http:///x", "", false, true},
	}
	for _, tt := range tests {
		ep, err := ParseEndpoint(tt.url, false)
		if (err != nil) != tt.wantErr || ep.Addr != tt.wantAddr || (ep.TLS != nil) != tt.wantTLS {
			t.Errorf("ParseEndpoint(%q) = %+v, %v; want addr %q tls %v err %v", tt.url, ep, err, tt.wantAddr, tt.wantTLS, tt.wantErr)
		}
	}
}

// BenchmarkConnDo is one keep-alive exchange against a canned loopback
// server: it must not allocate.
func BenchmarkConnDo(b *testing.B) {
	srv, err := canned.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ep, _ := ParseEndpoint(srv.URL(), false)
	c := NewConn(ep, 5*time.Second)
	defer c.Close()
	req := NewRequest(Spec{Method: "GET", URL: srv.URL() + "/ping", KeepAlive: true})
	c.Do(req)
	b.ReportAllocs()
	for b.Loop() {
		if res := c.Do(req); res.Kind != OK {
			b.Fatalf("Do = %+v", res)
		}
	}
}
