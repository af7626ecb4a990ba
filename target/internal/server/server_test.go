package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// startTarget serves a fresh target on a loopback port for the test's life.
func startTarget(t *testing.T) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := New()
	serveOn(t, srv, ln)
	return srv, "http://" + ln.Addr().String()
}

// serveOn serves srv on ln until the test ends.
func serveOn(t *testing.T, srv *Server, ln net.Listener) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v after cancel, want nil", err)
		}
	})
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func post(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func stats(t *testing.T, base string) Snapshot {
	t.Helper()
	code, body := get(t, base+"/stats")
	if code != http.StatusOK {
		t.Fatalf("GET /stats = %d %q", code, body)
	}
	var s Snapshot
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("GET /stats: %v in %q", err, body)
	}
	return s
}

func TestPing(t *testing.T) {
	_, base := startTarget(t)
	code, body := get(t, base+"/ping")
	if code != 200 || body != "pong" {
		t.Errorf("GET /ping = %d %q, want 200 \"pong\"", code, body)
	}
}

func TestEchoParams(t *testing.T) {
	_, base := startTarget(t)
	tests := []struct {
		path     string
		wantCode int
		wantBody string // exact, unless wantLen >= 0
		wantLen  int
	}{
		{"/ping", 200, "pong", -1},
		{"/anything", 200, "", -1},
		{"/anything?size=10000", 200, "", 10000},
		{"/ping?size=3", 200, "sta", -1},
		{"/x?status=503", 503, "", -1},
		{"/x?status=503:0", 200, "", -1},
		{"/x?status=418:100&size=5", 418, "stamp", -1},
		{"/x?delay=1ms", 200, "", -1},
		{"/x?delay=soon", 400, `delay="soon": want a duration between 0 and 1m0s, like 10ms` + "\n", -1},
		{"/x?size=-1", 400, `size="-1": want a byte count between 0 and 67108864` + "\n", -1},
		{"/x?status=700", 400, `status="700": "700" is not a status code between 100 and 599` + "\n", -1},
		{"/x?status=503:70,500:40", 400, `status="503:70,500:40": percentages add up to 110, more than 100` + "\n", -1},
		{"/control/nope", 404, "404 page not found\n", -1},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := get(t, base+tt.path)
			if code != tt.wantCode {
				t.Errorf("GET %s status = %d, want %d (body %q)", tt.path, code, tt.wantCode, body)
			}
			if tt.wantLen >= 0 {
				if len(body) != tt.wantLen {
					t.Errorf("GET %s body length = %d, want %d", tt.path, len(body), tt.wantLen)
				}
			} else if body != tt.wantBody {
				t.Errorf("GET %s body = %q, want %q", tt.path, body, tt.wantBody)
			}
		})
	}
}

func TestEchoBody(t *testing.T) {
	_, base := startTarget(t)
	resp, err := http.Post(base+"/echo", "text/plain", strings.NewReader("hello target"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "hello target" {
		t.Errorf("POST /echo body = %q, want the request body back", b)
	}
}

func TestStatusPercentage(t *testing.T) {
	_, base := startTarget(t)
	const n = 1000
	got := 0
	for range n {
		if code, _ := get(t, base+"/x?status=503:20"); code == 503 {
			got++
		}
	}
	// 20 % of 1000 is 200 with a standard deviation of about 13.
	if got < 120 || got > 280 {
		t.Errorf("503s among %d requests with status=503:20 = %d, want about 200", n, got)
	}
	s := stats(t, base)
	if s.Status["503"] != int64(got) || s.Status["200"] != int64(n-got) {
		t.Errorf("/stats status_codes = %v, want 503=%d 200=%d", s.Status, got, n-got)
	}
}

// TestStatsExactCount sends load from many goroutines, interleaved with
// control calls, and checks that /stats counts exactly the load requests.
func TestStatsExactCount(t *testing.T) {
	_, base := startTarget(t)
	const workers, each = 8, 250
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				resp, err := client.Get(base + "/ping")
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	for range 20 {
		get(t, base+"/stats")
		get(t, base+"/healthz")
		get(t, base+"/readyz")
		get(t, base+"/metrics")
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("load request failed: %v", err)
	}
	s := stats(t, base)
	if s.Requests != workers*each || s.Completed != workers*each {
		t.Errorf("/stats requests = %d completed = %d, want both %d", s.Requests, s.Completed, workers*each)
	}
	if s.Status["200"] != workers*each {
		t.Errorf("/stats status_codes = %v, want 200=%d", s.Status, workers*each)
	}
	if s.BytesOut != 4*workers*each {
		t.Errorf("/stats bytes_out = %d, want %d", s.BytesOut, 4*workers*each)
	}

	if code, _ := post(t, base+"/stats/reset"); code != 200 {
		t.Fatalf("POST /stats/reset = %d", code)
	}
	get(t, base+"/ping")
	if s := stats(t, base); s.Requests != 1 {
		t.Errorf("after reset and one /ping, requests = %d, want 1", s.Requests)
	}
}

func TestHandlerPercentiles(t *testing.T) {
	_, base := startTarget(t)
	for range 20 {
		get(t, base+"/x?delay=10ms")
	}
	s := stats(t, base)
	if s.HandlerMs.P50 < 10 || s.HandlerMs.Max < 10 {
		t.Errorf("handler_ms with delay=10ms = %+v, want p50 and max >= 10", s.HandlerMs)
	}
	if s.HandlerMs.P50 > s.HandlerMs.P90 || s.HandlerMs.P90 > s.HandlerMs.P99 || s.HandlerMs.P99 > s.HandlerMs.Max {
		t.Errorf("handler_ms percentiles not ordered: %+v", s.HandlerMs)
	}
}

// TestStall checks that a response that would complete inside a stall window
// waits for its end, and that responses after the window are fast again.
func TestStall(t *testing.T) {
	_, base := startTarget(t)
	const window = 400 * time.Millisecond
	begin := time.Now()
	code, body := post(t, base+"/control/stall?for="+window.String())
	if code != 200 {
		t.Fatalf("POST /control/stall = %d %q", code, body)
	}
	get(t, base+"/ping")
	if took := time.Since(begin); took < window {
		t.Errorf("GET /ping during a %s stall answered after %s, want at least the window", window, took)
	}
	// A later request is not held (the window is over); its handler time
	// must be far below the window. Measured by the target, not the wall
	// clock of the test, so a slow machine does not fail it.
	post(t, base+"/stats/reset")
	get(t, base+"/ping")
	if s := stats(t, base); s.HandlerMs.Max >= float64(window.Milliseconds()) {
		t.Errorf("handler time after the stall = %v ms, want below %v", s.HandlerMs.Max, window)
	}
	if s := stats(t, base); s.Requests != 1 {
		t.Errorf("control calls were counted: requests = %d, want 1", s.Requests)
	}
	if code, _ := post(t, base+"/control/stall?for=forever"); code != 400 {
		t.Errorf("POST /control/stall?for=forever = %d, want 400", code)
	}
}

func TestMetrics(t *testing.T) {
	_, base := startTarget(t)
	for range 3 {
		get(t, base+"/ping")
	}
	code, body := get(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("GET /metrics = %d", code)
	}
	for _, want := range []string{
		"stampede_target_requests_total 3",
		`stampede_target_responses_total{code="200"} 3`,
		"stampede_target_handler_seconds_count 3",
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestGracefulShutdown cancels Serve while a slow request is in flight: the
// request completes and Serve returns nil; readyz fails while draining.
func TestGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	srv := New()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	type result struct {
		code int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/slow?delay=300ms")
		if err != nil {
			res <- result{err: err}
			return
		}
		resp.Body.Close()
		res <- result{code: resp.StatusCode}
	}()
	for srv.Stats().Snapshot().Requests == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if r := <-res; r.err != nil || r.code != 200 {
		t.Errorf("in-flight request during shutdown = %d, %v; want 200", r.code, r.err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel = %v, want nil", err)
	}
}
