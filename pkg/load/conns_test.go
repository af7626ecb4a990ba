package load

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// TestConnectionBehaviour: responses of every framing and connections the
// client or the server close are handled by both engines, and every request
// is counted once.
func TestConnectionBehaviour(t *testing.T) {
	var served, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		switch r.URL.Path {
		case "/chunked":
			for range 3 {
				_, _ = w.Write([]byte(strings.Repeat("c", 1000)))
				w.(http.Flusher).Flush()
			}
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("b", 300_000)))
		case "/close":
			w.Header().Set("Connection", "close")
			_, _ = w.Write([]byte("bye"))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			_, _ = w.Write([]byte("hello"))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	tests := []struct {
		name      string
		path      string
		method    string
		keepAlive bool
		wantIn    int64 // body bytes per request
		fewConns  bool  // connections stay open between requests
	}{
		{"chunked", "/chunked", "GET", true, 3000, true},
		{"large body", "/big", "GET", true, 300_000, true},
		{"server closes", "/close", "GET", true, 3, false},
		{"no content", "/empty", "GET", true, 0, true},
		{"head", "/plain", "HEAD", true, 0, true},
		{"client closes", "/plain", "GET", false, 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engines(t, func(t *testing.T) {
				served.Store(0)
				conns.Store(0)
				s := testSpec(srv.URL+tt.path, spec.Load{Model: spec.ModelAvalanche, Requests: 60, Concurrency: 3})
				s.Request.Method = tt.method
				ka := tt.keepAlive
				s.Request.KeepAlive = &ka
				got, _ := runAll(t, context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
				c := got.Counters
				if c.Requests != 60 || c.Errors != 0 || served.Load() != 60 {
					t.Errorf("requests %d errors %d (%v), server saw %d; want 60, 0, 60", c.Requests, c.Errors, c.ErrorKinds, served.Load())
				}
				if c.BytesIn != 60*tt.wantIn {
					t.Errorf("bytes in = %d, want %d", c.BytesIn, 60*tt.wantIn)
				}
				n := conns.Load()
				if tt.fewConns && n > 3 {
					t.Errorf("%d connections for keep-alive requests on 3 connections", n)
				}
				if !tt.fewConns && n < 60 {
					t.Errorf("%d connections, want one per request (60)", n)
				}
			})
		})
	}
}
