// Package server is Stampede's sample target (docs/operations.md): an HTTP server
// whose load endpoints answer as the query string asks (delay=, status=,
// size=) and which counts every load request exactly, so that tests can
// check that the generator lost or invented none.
//
// Control endpoints (not counted as load):
//
//	GET  /stats                 {"requests": N, "status_codes": ..., "handler_ms": {...},
//	                            "by_worker": {...}, "by_worker_span": {...}} (see Snapshot)
//	POST /stats/reset           zero the stats
//	POST /control/stall?for=1s  every response that would complete in the next
//	                            second waits until that second has passed
//	GET  /metrics               Prometheus
//	GET  /healthz, /readyz      liveness, readiness (503 while shutting down)
//
// Load endpoints also include the shop API (POST /shop/login, /shop/cart,
// /shop/checkout; see shop.go). With UseTLS the target serves HTTPS and
// HTTP/2.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ShutdownGrace bounds how long Serve waits for requests in flight once its
// context is cancelled.
const ShutdownGrace = 5 * time.Second

// Server is the target. Create it with New; it is safe for concurrent use.
type Server struct {
	stats    *Stats
	stall    stall
	tls      *tls.Config
	metrics  http.Handler
	draining atomic.Bool
}

// New returns a target with empty stats and its own Prometheus registry.
func New() *Server {
	s := &Server{stats: newStats()}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(s.stats),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return s
}

// UseTLS makes Serve answer HTTPS with cfg (HTTP/2 and HTTP/1.1 offered by
// ALPN). Call it before Serve.
func (s *Server) UseTLS(cfg *tls.Config) { s.tls = cfg }

// Stats is the server's request accounting.
func (s *Server) Stats() *Stats { return s.stats }

// ServeHTTP routes control endpoints and sends everything else to the load
// handler. Routing is a switch on the path, not a mux, to keep the load
// path cheap.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/stats":
		writeJSON(w, s.stats.Snapshot())
	case "/stats/reset":
		if r.Method != http.MethodPost {
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		s.stats.Reset()
		writeJSON(w, s.stats.Snapshot())
	case "/control/stall":
		s.controlStall(w, r)
	case "/metrics":
		s.metrics.ServeHTTP(w, r)
	case "/healthz":
		_, _ = w.Write([]byte("ok\n"))
	case "/readyz":
		if s.draining.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	default:
		if strings.HasPrefix(r.URL.Path, "/control/") {
			http.NotFound(w, r)
			return
		}
		s.stats.proto(r.ProtoMajor)
		if strings.HasPrefix(r.URL.Path, "/shop/") {
			s.shop(w, r)
			return
		}
		s.echo(w, r)
	}
}

func (s *Server) controlStall(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	d, err := time.ParseDuration(r.URL.Query().Get("for"))
	if err != nil || d <= 0 || d > MaxDelay {
		http.Error(w, fmt.Sprintf("for=%q: want a positive duration up to %s, like 1s", r.URL.Query().Get("for"), MaxDelay), http.StatusBadRequest)
		return
	}
	until := s.stall.start(time.Now(), d)
	writeJSON(w, map[string]any{"stalled_until_unix_ms": until.UnixMilli()})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Serve answers on ln until ctx is cancelled, then stops accepting, lets
// requests in flight finish (at most ShutdownGrace) and returns nil. It
// returns an error only if serving fails. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	fresh := newConnSet()
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ConnState:         fresh.track,
		TLSConfig:         s.tls,
		Protocols:         new(http.Protocols),
	}
	// HTTP/1.1 always; HTTP/2 by ALPN over TLS, or in cleartext by prior
	// knowledge (h2c) without it
	hs.Protocols.SetHTTP1(true)
	if s.tls != nil {
		hs.Protocols.SetHTTP2(true)
	} else {
		hs.Protocols.SetUnencryptedHTTP2(true)
	}
	errc := make(chan error, 1)
	go func() {
		if s.tls != nil {
			errc <- hs.ServeTLS(ln, "", "")
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("target: serve: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownGrace)
	defer cancel()
	// Shutdown treats a connection that never sent a request as busy for
	// 5 s; clients that dial ahead (net/http's Transport does) leave such
	// connections open, so close them once nothing can be on its way.
	go func() {
		select {
		case <-time.After(100 * time.Millisecond):
			fresh.closeAll()
		case <-sctx.Done():
		}
	}()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("target: serve: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("target: shutdown: %w", err)
	}
	return nil
}

// Run listens on addr and serves until ctx is cancelled (see Serve).
func (s *Server) Run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("target: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// connSet tracks connections that have not sent a request yet.
type connSet struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func newConnSet() *connSet { return &connSet{conns: map[net.Conn]struct{}{}} }

func (c *connSet) track(conn net.Conn, state http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if state == http.StateNew {
		c.conns[conn] = struct{}{}
	} else {
		delete(c.conns, conn)
	}
}

func (c *connSet) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for conn := range c.conns {
		_ = conn.Close()
	}
}
