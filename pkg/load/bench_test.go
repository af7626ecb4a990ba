package load

import (
	"context"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/load/client"
	"github.com/stampede-load/stampede/pkg/load/internal/canned"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// BenchmarkRecord is the per-request bookkeeping of a load goroutine.
func BenchmarkRecord(b *testing.B) {
	for _, open := range []bool{false, true} {
		name := "closed"
		if open {
			name = "open"
		}
		b.Run(name, func(b *testing.B) {
			ln, o := recordFixture(open)
			b.ReportAllocs()
			for b.Loop() {
				ln.record(o)
			}
		})
	}
}

// recordFixture is a lane and a successful outcome to record on it.
func recordFixture(open bool) (*lane, *outcome) {
	ln := new(lane)
	ln.cur.Store(newSlot(open))
	expected := new([600]bool)
	expected[200] = true
	now := time.Now()
	return ln, &outcome{res: client.Result{Status: 200, BytesIn: 4, BytesOut: 40}, scheduled: now, sent: now, done: now.Add(123 * time.Microsecond), expected: expected}
}

// engineCase is a variant of the engine's request path; mod changes an
// avalanche spec (and may switch useEventLoop off, restored by the caller).
type engineCase struct {
	name string
	mod  func(*spec.Spec)
}

// engineCases are the request paths BenchmarkEngine and the allocation
// test cover, against the canned server at url.
func engineCases(url string) []engineCase {
	return []engineCase{
		{"avalanche", func(s *spec.Spec) {}},
		{"avalanche-goroutines", func(s *spec.Spec) { useEventLoop = false }},
		{"avalanche-templates", func(s *spec.Spec) {
			s.Request.URL = url + "/item/{{seq}}?r={{randInt 1 1000}}&id={{uuid}}"
			s.Request.Headers = map[string]string{"X-Worker": "{{worker}}", "X-Color": "{{choice red green blue}}"}
		}},
		{"avalanche-mix", func(s *spec.Spec) {
			s.RequestsMix = []spec.MixEntry{{Weight: 3}, {Weight: 1, URL: url + "/other?{{seq}}"}}
		}},
		{"constant-rate", func(s *spec.Spec) {
			s.Load.Model = spec.ModelConstantRate
			s.Load.Rate = 1e9 // always behind: measures the open loop's own cost
		}},
		{"constant-rate-goroutines", func(s *spec.Spec) {
			useEventLoop = false
			s.Load.Model = spec.ModelConstantRate
			s.Load.Rate = 1e9
		}},
	}
}

// BenchmarkEngine runs the whole engine (b.N requests through Prepare, Run
// and Collect) against a canned loopback server that allocates nothing, so
// allocs/op is the engine's own cost per request in steady state: it must
// be 0 (Prepare's fixed allocations divide away).
func BenchmarkEngine(b *testing.B) {
	srv, err := canned.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	cases := engineCases(srv.URL())
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			defer func() { useEventLoop = true }()
			s := spec.Spec{Request: spec.Request{URL: srv.URL() + "/ping"},
				Load: spec.Load{Model: spec.ModelAvalanche, Concurrency: 4, Requests: int64(b.N)}}
			c.mod(&s)
			s.Normalize()
			s.Load.Concurrency = 4
			r, err := Prepare(context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			b.ReportAllocs()
			b.ResetTimer()
			if err := r.Run(context.Background(), time.Now()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			iv := r.Collect()
			if iv.Counters.Requests != int64(b.N) || iv.Counters.Errors != 0 {
				b.Fatalf("requests %d errors %d (%v), want %d and 0", iv.Counters.Requests, iv.Counters.Errors, iv.Counters.ErrorKinds, b.N)
			}
		})
	}
}
