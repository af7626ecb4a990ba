package load

import (
	"context"
	"encoding/base64"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// recorder is a real loopback server that remembers what it was sent.
type recorder struct {
	mu      sync.Mutex
	paths   map[string]int
	seqs    map[string]int
	hosts   map[string]int
	headers map[string]int
	bodies  map[string]int
	methods map[string]int
	// absolute counts requests whose request line held an absolute URL
	// instead of the origin form a client should send.
	absolute int
}

func newRecorder() *recorder {
	return &recorder{paths: map[string]int{}, seqs: map[string]int{}, hosts: map[string]int{}, headers: map[string]int{}, bodies: map[string]int{}, methods: map[string]int{}}
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.paths[r.URL.Path]++
	rc.seqs[r.URL.Query().Get("seq")]++
	rc.hosts[r.Host]++
	rc.headers[r.Header.Get("X-Test")]++
	rc.bodies[string(b)]++
	rc.methods[r.Method]++
	if !strings.HasPrefix(r.RequestURI, "/") {
		rc.absolute++
	}
	rc.mu.Unlock()
	_, _ = w.Write([]byte("ok"))
}

// TestTemplatesPerRequest: {{seq}} is unique per request across workers,
// and a header template is rendered for each request.
func TestTemplatesPerRequest(t *testing.T) { engines(t, templatesPerRequest) }

func templatesPerRequest(t *testing.T) {
	rc := newRecorder()
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := testSpec(srv.URL+"/t?seq={{seq}}", spec.Load{Model: spec.ModelAvalanche, Requests: 900, Concurrency: 4})
	s.Request.Headers = map[string]string{"X-Test": "{{worker}}"}
	for i, sh := range plan.Split(&s, 3) {
		got, _ := runAll(t, context.Background(), Plan{WorkerID: "w" + strconv.Itoa(i), Spec: s, Share: sh})
		if got.Counters.Requests != 300 {
			t.Errorf("worker %d requests = %d, want 300", i, got.Counters.Requests)
		}
	}
	if rc.absolute != 0 {
		t.Errorf("%d request lines held an absolute URL, want origin form", rc.absolute)
	}
	if len(rc.seqs) != 900 {
		t.Errorf("server saw %d distinct seq values, want 900", len(rc.seqs))
	}
	for k := range 900 {
		if rc.seqs[strconv.Itoa(k)] != 1 {
			t.Fatalf("seq %d seen %d times, want once", k, rc.seqs[strconv.Itoa(k)])
		}
	}
	for i := range 3 {
		if n := rc.headers["w"+strconv.Itoa(i)]; n != 300 {
			t.Errorf("X-Test: w%d seen %d times, want 300", i, n)
		}
	}
}

// TestRequestOptions: method, headers, host override, base64 body, mix
// weights.
func TestRequestOptions(t *testing.T) { engines(t, requestOptions) }

func requestOptions(t *testing.T) {
	rc := newRecorder()
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := testSpec(srv.URL+"/a", spec.Load{Model: spec.ModelAvalanche, Requests: 4000, Concurrency: 4})
	s.Request.Method = "POST"
	s.Request.Host = "example.test"
	s.Request.Headers = map[string]string{"X-Test": "static"}
	s.Request.BodyBase64 = base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 'z'})
	s.RequestsMix = []spec.MixEntry{
		{Weight: 3},
		{Weight: 1, URL: srv.URL + "/b", Method: "put", Body: "text {{seq}}", Headers: map[string]string{"X-Test": "mixed"}},
	}
	s.Normalize()
	if errs := s.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	got, _ := runAll(t, context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
	if got.Counters.Requests != 4000 || got.Counters.Errors != 0 {
		t.Fatalf("requests = %d errors = %d (%v), want 4000 and 0", got.Counters.Requests, got.Counters.Errors, got.Counters.ErrorKinds)
	}
	a, b := rc.paths["/a"], rc.paths["/b"]
	if a+b != 4000 || a < 2800 || a > 3200 {
		t.Errorf("mix 3:1 sent /a %d and /b %d times, want about 3000 and 1000", a, b)
	}
	if rc.methods["POST"] != a || rc.methods["PUT"] != b {
		t.Errorf("methods %v, want POST=%d PUT=%d", rc.methods, a, b)
	}
	if rc.absolute != 0 {
		t.Errorf("%d request lines held an absolute URL, want origin form", rc.absolute)
	}
	if rc.hosts["example.test"] != 4000 {
		t.Errorf("Host headers %v, want example.test=4000", rc.hosts)
	}
	if rc.headers["static"] != a || rc.headers["mixed"] != b {
		t.Errorf("X-Test headers %v, want static=%d mixed=%d", rc.headers, a, b)
	}
	if rc.bodies["\x00\x01\x02z"] != a {
		t.Errorf("base64 body seen %d times, want %d", rc.bodies["\x00\x01\x02z"], a)
	}
	if got.Counters.BytesOut == 0 || got.Counters.BytesIn != 2*4000 {
		t.Errorf("bytes out %d in %d, want > 0 and %d", got.Counters.BytesOut, got.Counters.BytesIn, 2*4000)
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(newRecorder())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected handshake failures
	srv.StartTLS()
	defer srv.Close()
	for _, insecure := range []bool{true, false} {
		t.Run("insecure="+strconv.FormatBool(insecure), func(t *testing.T) {
			s := testSpec(srv.URL+"/x", spec.Load{Model: spec.ModelAvalanche, Requests: 50, Concurrency: 2})
			s.Request.InsecureSkipVerify = insecure
			got, _ := runAll(t, context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
			wantErrs := int64(0)
			if !insecure {
				wantErrs = 50 // self-signed certificate
			}
			if got.Counters.Requests != 50 || got.Counters.Errors != wantErrs {
				t.Errorf("requests %d errors %d (%v), want 50 and %d", got.Counters.Requests, got.Counters.Errors, got.Counters.ErrorKinds, wantErrs)
			}
		})
	}
}

// TestErrorClassification: each kind of failure is counted under its name.
func TestErrorClassification(t *testing.T) {
	tp := startTarget(t)
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return "http://" + ln.Addr().String()
	}()
	resetSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	}))
	defer resetSrv.Close()

	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		expect  []string
		kind    string
		errors  int64
	}{
		{"refused", closed + "/x", 0, nil, report.ErrRefused, 20},
		{"timeout", tp.URL + "/x?delay=2s", 100 * time.Millisecond, nil, report.ErrTimeout, 20},
		{"unexpected status", tp.URL + "/x?status=503", 0, nil, report.ErrStatus, 20},
		{"expected 503", tp.URL + "/x?status=503", 0, []string{"503"}, "", 0},
		{"404 against 200-299", tp.URL + "/control/none", 0, []string{"200-299"}, report.ErrStatus, 20},
		{"reset", resetSrv.URL + "/x", 0, nil, report.ErrReset, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engines(t, func(t *testing.T) {
				s := testSpec(tt.url, spec.Load{Model: spec.ModelAvalanche, Requests: 20, Concurrency: 2})
				if tt.timeout > 0 {
					s.Request.Timeout = spec.D(tt.timeout)
				}
				s.Request.ExpectStatus = tt.expect
				got, _ := runAll(t, context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
				c := got.Counters
				if c.Requests != 20 || c.Errors != tt.errors {
					t.Errorf("requests %d errors %d (%v), want 20 and %d", c.Requests, c.Errors, c.ErrorKinds, tt.errors)
				}
				if tt.kind != "" && c.ErrorKinds[tt.kind] != tt.errors {
					t.Errorf("error kinds = %v, want %s=%d", c.ErrorKinds, tt.kind, tt.errors)
				}
			})
		})
	}
}
