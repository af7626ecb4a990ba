package load

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// bodyServer answers /len?n=N with an N-byte Content-Length body,
// /chunked?n=N with N bytes in 1000-byte chunks, and /close?n=N with N
// bytes delimited by closing the connection (no length, no chunking). Every
// body is written from one small buffer, so the server holds no body.
func bodyServer(t testing.TB) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var served atomic.Int64
	filler := make([]byte, 64<<10)
	for i := range filler {
		filler[i] = 'a' + byte(i%26)
	}
	write := func(w http.ResponseWriter, n int64, chunk int64) {
		for n > 0 {
			k := min(n, chunk)
			if _, err := w.Write(filler[:k]); err != nil {
				return
			}
			if f, ok := w.(http.Flusher); ok && chunk < int64(len(filler)) {
				f.Flush()
			}
			n -= k
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		n, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		if err != nil {
			http.Error(w, "n?", http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/len":
			w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
			write(w, n, int64(len(filler)))
		case "/chunked":
			write(w, n, 1000)
		case "/close":
			conn, bw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
			hw := hijacked{bw}
			write(hw, n, int64(len(filler)))
			_ = bw.Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &served
}

// hijacked writes a hijacked connection's raw bytes.
type hijacked struct{ bw *bufio.ReadWriter }

func (h hijacked) Header() http.Header         { return http.Header{} }
func (h hijacked) Write(p []byte) (int, error) { return h.bw.Write(p) }
func (h hijacked) WriteHeader(int)             {}

// TestLargeBodiesStreamed: 64 MiB bodies (the default max_response_bytes,
// so accepted) are counted byte-exactly with every framing, on both
// transports, while the process allocates a small fraction of one body:
// bodies are discarded as they arrive, never held.
func TestLargeBodiesStreamed(t *testing.T) {
	srv, served := bodyServer(t)
	const size = 64 << 20
	for _, path := range []string{"/len", "/chunked", "/close"} {
		t.Run(path[1:], func(t *testing.T) {
			engines(t, func(t *testing.T) {
				served.Store(0)
				s := testSpec(fmt.Sprintf("%s%s?n=%d", srv.URL, path, size), spec.Load{Model: spec.ModelAvalanche, Requests: 2, Concurrency: 1})
				s.Request.Timeout = spec.D(60e9)
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				got, _ := runAll(t, context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
				runtime.ReadMemStats(&after)
				c := got.Counters
				if c.Requests != 2 || c.Errors != 0 || served.Load() != 2 {
					t.Errorf("requests %d errors %d (%v), server saw %d; want 2, 0, 2", c.Requests, c.Errors, c.ErrorKinds, served.Load())
				}
				if c.BytesIn != 2*size {
					t.Errorf("bytes in = %d, want exactly %d", c.BytesIn, 2*size)
				}
				// The server's and the test's own allocations are in this
				// figure too; one buffered body alone would be 64 MiB.
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
					t.Errorf("the run allocated %d bytes for two %d-byte bodies, want < 8 MiB (bodies must not be buffered)", alloc, size)
				}
			})
		})
	}
}

// TestMaxResponseBytes: a body one byte over request.max_response_bytes is
// an error of kind response_too_large with every framing, on both
// transports; a body of exactly the limit is not. Every request is counted
// once.
func TestMaxResponseBytes(t *testing.T) {
	srv, served := bodyServer(t)
	const limit = 10_000
	for _, path := range []string{"/len", "/chunked", "/close"} {
		for _, n := range []int{limit, limit + 1} {
			t.Run(fmt.Sprintf("%s-%d", path[1:], n), func(t *testing.T) {
				engines(t, func(t *testing.T) {
					served.Store(0)
					s := testSpec(fmt.Sprintf("%s%s?n=%d", srv.URL, path, n), spec.Load{Model: spec.ModelAvalanche, Requests: 20, Concurrency: 2})
					s.Request.MaxResponseBytes = limit
					got, _ := runAll(t, context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
					c := got.Counters
					if c.Requests != 20 || served.Load() != 20 {
						t.Errorf("requests %d, server saw %d; want 20 and 20", c.Requests, served.Load())
					}
					wantErr, wantIn := int64(0), int64(20*limit)
					if n > limit {
						wantErr, wantIn = 20, 0
					}
					if c.Errors != wantErr || c.ErrorKinds[report.ErrTooLarge] != wantErr {
						t.Errorf("errors %d (%v), want %d of kind %s", c.Errors, c.ErrorKinds, wantErr, report.ErrTooLarge)
					}
					if c.BytesIn != wantIn {
						t.Errorf("bytes in = %d, want %d", c.BytesIn, wantIn)
					}
				})
			})
		}
	}
}

// BenchmarkBody1MB: requests with 1 MiB Content-Length bodies on each
// transport. B/op stays a few KB, not a MiB: a body is counted and
// discarded as it arrives (B/op and allocs/op include the in-process
// net/http server's own, about 20 allocations per request).
func BenchmarkBody1MB(b *testing.B) {
	srv, _ := bodyServer(b)
	for _, loop := range []bool{true, false} {
		name := "goroutines"
		if loop {
			name = "loop"
		}
		b.Run(name, func(b *testing.B) {
			old := useEventLoop
			useEventLoop = loop
			defer func() { useEventLoop = old }()
			s := testSpec(fmt.Sprintf("%s/len?n=%d", srv.URL, 1<<20), spec.Load{Model: spec.ModelAvalanche, Requests: int64(b.N), Concurrency: 2})
			r, err := Prepare(context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			b.ReportAllocs()
			b.SetBytes(1 << 20)
			b.ResetTimer()
			if err := r.Run(context.Background(), time.Now()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			iv := r.Collect()
			if iv.Counters.Requests != int64(b.N) || iv.Counters.Errors != 0 || iv.Counters.BytesIn != int64(b.N)<<20 {
				b.Fatalf("requests %d errors %d bytes %d, want %d, 0, %d", iv.Counters.Requests, iv.Counters.Errors, iv.Counters.BytesIn, b.N, int64(b.N)<<20)
			}
		})
	}
}
