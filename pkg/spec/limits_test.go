package spec

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// over builds a valid spec and lets mut push one field past a default limit.
func over(mut func(s *Spec)) *Spec {
	s := Spec{Request: Request{URL: "http://h/"}, Load: Load{Model: ModelAvalanche, Duration: D(time.Second)}}
	mut(&s)
	s.Normalize()
	return &s
}

func TestLimitsNameTheFieldAndTheLimit(t *testing.T) {
	l := DefaultLimits()
	many := func(n int) map[string]string {
		m := map[string]string{}
		for i := 0; i < n; i++ {
			m[fmt.Sprintf("X-%d", i)] = "v"
		}
		return m
	}
	tests := []struct {
		name    string
		spec    *Spec
		workers int
		field   string
		limit   string
	}{
		{"rate per worker", over(func(s *Spec) { s.Load.Model, s.Load.Rate = ModelConstantRate, 300_001 }), 3, "load.rate", "100000 req/s per worker"},
		{"rate_per_worker", over(func(s *Spec) { s.Load.Model, s.Load.RatePerWorker = ModelConstantRate, 100_001 }), 1, "load.rate_per_worker", "100000"},
		{"connections", over(func(s *Spec) { s.Load.Concurrency = 1_000_000 }), 1, "load.concurrency", "10000"},
		{"stage connections", over(func(s *Spec) {
			s.Load.Model, s.Load.Stages = ModelRampingConcurrency, []Stage{{Duration: D(time.Second), Target: 20_000}}
		}), 1, "load.stages[0].target", "10000"},
		{"duration", over(func(s *Spec) { s.Load.Duration = D(2562047 * time.Hour) }), 1, "load.duration", "24h0m0s"},
		{"stages total", over(func(s *Spec) {
			s.Load.Model = ModelRampingRate
			s.Load.Stages = []Stage{{Duration: D(20 * time.Hour), Target: 1}, {Duration: D(20 * time.Hour), Target: 1}}
		}), 1, "load.stages", "24h0m0s"},
		{"timeout", over(func(s *Spec) { s.Request.Timeout = D(time.Hour) }), 1, "request.timeout", "1m0s"},
		{"workers", over(func(s *Spec) { s.Workers = 2001 }), 2001, "workers", "2000"},
		{"mix entries", over(func(s *Spec) {
			for i := 0; i < 101; i++ {
				s.RequestsMix = append(s.RequestsMix, MixEntry{Weight: 1})
			}
		}), 1, "requests_mix", "100"},
		{"stages", over(func(s *Spec) {
			s.Load.Model = ModelRampingRate
			for i := 0; i < 101; i++ {
				s.Load.Stages = append(s.Load.Stages, Stage{Duration: D(time.Second), Target: 1})
			}
		}), 1, "load.stages", "100"},
		{"header count", over(func(s *Spec) { s.Request.Headers = many(65) }), 1, "request.headers", "64"},
		{"header size", over(func(s *Spec) { s.Request.Headers = map[string]string{"X": strings.Repeat("a", 8<<10)} }), 1, "request.headers.X", "8192 bytes"},
		{"body", over(func(s *Spec) { s.Request.Body = strings.Repeat("a", 64<<10+1) }), 1, "request.body", "65536 bytes"},
		{"mix body", over(func(s *Spec) {
			s.RequestsMix = []MixEntry{{Weight: 1, Body: strings.Repeat("a", 64<<10+1)}}
		}), 1, "requests_mix[0].body", "65536 bytes"},
		{"requests", over(func(s *Spec) { s.Load.Duration, s.Load.Requests = Duration{}, 1_000_000_001 }), 1, "load.requests", "1000000000"},
		{"requests per worker", over(func(s *Spec) { s.Load.Duration, s.Load.RequestsPerWorker = Duration{}, 600_000_000 }), 2, "load.requests_per_worker", "1000000000"},
		{"stored size", over(func(s *Spec) {
			for i := 0; i < 5; i++ {
				s.RequestsMix = append(s.RequestsMix, MixEntry{Weight: 1, Body: strings.Repeat("a", 60<<10)})
			}
		}), 1, "", "262144 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if errs := tt.spec.Validate(); len(errs) > 0 {
				t.Fatalf("the spec itself is invalid: %v", errs)
			}
			errs := l.Check(tt.spec, tt.workers)
			for _, e := range errs {
				if e.Field == tt.field && strings.Contains(e.Problem, "limit is "+tt.limit) {
					return
				}
			}
			t.Fatalf("Check(workers=%d) = %v, want field %q naming limit %q", tt.workers, errs, tt.field, tt.limit)
		})
	}
	if errs := l.Check(over(func(*Spec) {}), 1); len(errs) > 0 {
		t.Fatalf("a small spec exceeds the defaults: %v", errs)
	}
}

func TestYAMLAliasBombIsRefusedBeforeExpanding(t *testing.T) {
	// 100 KB anchor used 40,000 times: 4 GB of JSON if expanded.
	var b strings.Builder
	b.WriteString("name: &a \"" + strings.Repeat("x", 100<<10) + "\"\nrequest:\n  url: http://h/\n  headers:\n")
	for i := 0; i < 40000; i++ {
		fmt.Fprintf(&b, "    h%d: *a\n", i)
	}
	b.WriteString("load: {model: avalanche, duration: 1s}\n")
	start := time.Now()
	_, errs := ParseYAML([]byte(b.String()), 256<<10)
	if len(errs) != 1 || !strings.Contains(errs[0].Problem, "limit is 262144 bytes") {
		t.Fatalf("ParseYAML(alias bomb of %d bytes) = %v, want one error naming the 262144-byte limit", b.Len(), errs)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("refusing the bomb took %v", d)
	}
	// nested aliases (billion laughs) are sized without expanding either
	nested := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i := 'b'; i <= 'j'; i++ {
		prev := string(i - 1)
		nested += fmt.Sprintf("%c: &%c [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", i, i, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
	}
	if _, errs := ParseYAML([]byte(nested), 256<<10); len(errs) != 1 || !strings.Contains(errs[0].Problem, "expands") {
		t.Fatalf("ParseYAML(billion laughs) = %v, want the expansion refused", errs)
	}
	// a small alias is fine
	ok := "request: {url: http://h/, headers: {A: &v x, B: *v}}\nload: {model: avalanche, duration: 1s}\n"
	if s, errs := ParseYAML([]byte(ok), 256<<10); len(errs) > 0 || s.Request.Headers["B"] != "x" {
		t.Fatalf("ParseYAML(small alias) = %v, %v", s.Request.Headers, errs)
	}
}
