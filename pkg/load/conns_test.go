package load

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// TestInactiveConnectionsClose: ramping-concurrency closes a connection
// while the profile has it inactive and opens it again when it is active,
// on both transports: 2 connections ramped 2 → 0 (held 300 ms) → 2 are
// both opened again after the dip, and only then.
func TestInactiveConnectionsClose(t *testing.T) {
	var served atomic.Int64
	var mu sync.Mutex
	var opened []time.Time
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			opened = append(opened, time.Now())
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	engines(t, func(t *testing.T) {
		served.Store(0)
		mu.Lock()
		opened = nil
		mu.Unlock()
		// level: 0→2 by 100 ms, 2 until 300, →0 by 400, 0 until 700,
		// →2 by 800, 2 until 1000 ms
		s := testSpec(srv.URL+"/", spec.Load{Model: spec.ModelRampingConcurrency,
			Stages: stages(100*time.Millisecond, 2.0, 200*time.Millisecond, 2.0, 100*time.Millisecond, 0.0,
				300*time.Millisecond, 0.0, 100*time.Millisecond, 2.0, 200*time.Millisecond, 2.0)})
		began := time.Now()
		got, _ := runAll(t, context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
		c := got.Counters
		if c.Requests == 0 || c.Errors != 0 || served.Load() != c.Requests {
			t.Errorf("requests %d errors %d (%v), server saw %d", c.Requests, c.Errors, c.ErrorKinds, served.Load())
		}
		mu.Lock()
		defer mu.Unlock()
		late := 0 // opened after the middle of the dip (550 ms)
		for _, at := range opened {
			if at.Sub(began) > 550*time.Millisecond {
				late++
			}
		}
		if late != 2 {
			t.Errorf("%d connections opened after the dip (of %d in all), want 2: both closed while inactive and reopened", late, len(opened))
		}
	})
}
