//go:build unix

package integration

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/binary"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
)

// corruptHistogram is an encoded histogram whose header is Stampede's
// geometry but whose payload length is one byte more than its payload: it
// passes the header check, and decoding it fails.
func corruptHistogram(t *testing.T) string {
	t.Helper()
	h := hist.New()
	h.RecordN(1000, 5)
	enc, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint32(plain[4:8], binary.BigEndian.Uint32(plain[4:8])+1)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	if _, err := zw.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	out := append(append([]byte(nil), raw[:4]...), binary.BigEndian.AppendUint32(nil, uint32(z.Len()))...)
	s := base64.StdEncoding.EncodeToString(append(out, z.Bytes()...))
	if hist.CheckEncoded(s) != nil {
		t.Fatal("the corrupt histogram does not pass the header check")
	}
	if _, err := hist.Decode(s); err == nil {
		t.Fatal("the corrupt histogram decodes")
	}
	return s
}

// TestNonRetryableStepErrorFailsTheTest: a report that passes every check
// but whose cumulative histogram does not decode makes the leader's final
// merge fail in a way no retry can change. The test fails with the reason
// (it once was retried every 500 ms for ever), and the cluster runs the
// next test.
func TestNonRetryableStepErrorFailsTheTest(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 2})
	z := c.ZKClient()
	p := c.Paths()
	ctx := context.Background()
	id := c.Submit(spec("constant-rate", map[string]any{"rate": 100, "duration": "4s"}, c.TargetURL("/ping")))
	c.WaitPhase(id, "running", 30*time.Second)
	var r *report.Report
	tc.Eventually(t, 15*time.Second, "w2 published a report", func() bool {
		d, _, err := z.Get(ctx, p.Metrics(id, "w2"))
		if err != nil {
			return false
		}
		r, err = report.DecodeReport(d)
		return err == nil && r.Seq >= 1
	})
	// w2 is frozen (its session then expires: it is lost), and its last
	// report replaced by one the final merge cannot decode
	frozen := c.Workers[1]
	if err := frozen.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = frozen.Signal(syscall.SIGCONT) }()
	d, _, err := z.Get(ctx, p.Metrics(id, "w2"))
	if err != nil {
		t.Fatal(err)
	}
	if r, err = report.DecodeReport(d); err != nil {
		t.Fatal(err)
	}
	r.Seq++
	r.IntervalStart, r.IntervalEnd = r.IntervalEnd, r.IntervalEnd+int64(time.Second)
	r.Recent, r.Cumulative = nil, corruptHistogram(t)
	if _, err := z.Set(ctx, p.Metrics(id, "w2"), r.Encode(), -1); err != nil {
		t.Fatal(err)
	}
	res := c.WaitPhase(id, "failed", 90*time.Second)
	if !strings.Contains(res.Reason, "w2") || !strings.Contains(res.Reason, "not trusted") || strings.Contains(res.Reason, "in a row") {
		t.Fatalf("failed with %q, want the untrusted report of w2 named at its first failure", res.Reason)
	}
	allAlive(t, c)
	if err := frozen.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	c.WaitWorkers(2, 60*time.Second)
	next := c.Submit(spec("avalanche", map[string]any{"requests": 20}, c.TargetURL("/ping")))
	c.WaitPhase(next, "completed", 60*time.Second)
}

// TestStopWorksWhilePreparing: a test waiting for a worker that cannot
// vote (frozen) is stopped at once by a stop request, long before its
// ready timeout, and the other worker runs the next test.
func TestStopWorksWhilePreparing(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 2, SessionTimeout: 10 * time.Second,
		MasterArgs: []string{"--ready-timeout", "60s"}})
	frozen := c.Workers[1]
	if err := frozen.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = frozen.Signal(syscall.SIGCONT) }()
	id := c.Submit(spec("avalanche", map[string]any{"requests": 10}, c.TargetURL("/ping")))
	c.WaitPhase(id, "preparing", 30*time.Second)
	start := time.Now()
	if code := tc.PostJSON(t, c.API()+"/tests/"+id+"/stop", nil, nil); code != 202 {
		t.Fatalf("stop = %d, want 202", code)
	}
	res := c.WaitPhase(id, "stopped", 10*time.Second)
	t.Logf("stopped in %v: %s", time.Since(start), res.Reason)
	allAlive(t, c)
}
