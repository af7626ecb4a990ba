package spec

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Limits bound what one spec may ask of the cluster. The master checks every
// submitted spec against its operator-set Limits (each excess is a field
// error naming the field and the limit, answered with 400); a worker
// re-checks the per-worker part of its plan against its own, so a plan
// written straight into ZooKeeper cannot ask for more. docs/limits.md lists
// every bound, its flag and its default.
type Limits struct {
	// RatePerWorker is the most requests per second one worker is asked
	// for (load.rate divided over the workers, load.rate_per_worker,
	// load.start_rate and ramping-rate stage targets).
	RatePerWorker float64
	// ConnectionsPerWorker bounds load.concurrency and ramping-concurrency
	// stage targets.
	ConnectionsPerWorker int
	// Duration bounds load.duration, load.max_duration and the sum of the
	// stages' durations.
	Duration time.Duration
	// RequestTimeout bounds request.timeout.
	RequestTimeout time.Duration
	// Workers bounds the workers field.
	Workers int
	// MixEntries bounds the length of requests_mix.
	MixEntries int
	// Stages bounds the length of load.stages.
	Stages int
	// Headers bounds the number of headers of one request (or mix entry)
	// and HeaderBytes the length of one header's name plus value.
	Headers     int
	HeaderBytes int
	// BodyBytes bounds one request body (decoded, for body_base64).
	BodyBytes int
	// SpecBytes bounds the spec as stored: its canonical JSON, after any
	// YAML has been converted (and its aliases expanded).
	SpecBytes int
	// Requests bounds load.requests, and load.requests_per_worker times the
	// workers.
	Requests int64
}

// DefaultLimits are the bounds a master and a worker apply unless the
// operator sets others.
func DefaultLimits() Limits {
	return Limits{
		RatePerWorker:        100_000,
		ConnectionsPerWorker: 10_000,
		Duration:             24 * time.Hour,
		RequestTimeout:       time.Minute,
		Workers:              2_000,
		MixEntries:           100,
		Stages:               100,
		Headers:              64,
		HeaderBytes:          8 << 10,
		BodyBytes:            64 << 10,
		SpecBytes:            256 << 10,
		Requests:             1_000_000_000,
	}
}

// Check reports every bound the normalized spec s exceeds when it runs on
// n workers (n < 1 counts as 1; pass the spec's workers field, or the
// number of workers that would run it).
func (l Limits) Check(s *Spec, n int) FieldErrors {
	n = max(n, 1)
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	errs = append(errs, l.CheckWorker(s, n)...)
	if l.Workers > 0 && s.Workers > l.Workers {
		add("workers", "asks for %d workers; the limit is %d", s.Workers, l.Workers)
	}
	if l.MixEntries > 0 && len(s.RequestsMix) > l.MixEntries {
		add("requests_mix", "has %d entries; the limit is %d", len(s.RequestsMix), l.MixEntries)
	}
	if l.Stages > 0 && len(s.Load.Stages) > l.Stages {
		add("load.stages", "has %d stages; the limit is %d", len(s.Load.Stages), l.Stages)
	}
	if l.Requests > 0 && s.Load.Requests > l.Requests {
		add("load.requests", "is %d; the limit is %d requests per test", s.Load.Requests, l.Requests)
	}
	if l.Requests > 0 && s.Load.RequestsPerWorker > 0 && s.Load.RequestsPerWorker > l.Requests/int64(n) {
		add("load.requests_per_worker", "is %d on %d workers; the limit is %d requests per test", s.Load.RequestsPerWorker, n, l.Requests)
	}
	errs = append(errs, l.checkRequests(s)...)
	if l.SpecBytes > 0 {
		if size := len(s.Encode()); size > l.SpecBytes {
			add("", "the stored spec is %d bytes; the limit is %d bytes", size, l.SpecBytes)
		}
	}
	sortErrs(errs)
	return errs
}

// CheckWorker reports the bounds one worker's part of s exceeds when s runs
// on n workers: rate, connections, duration and request timeout. A worker
// calls it on its plan before it prepares anything.
func (l Limits) CheckWorker(s *Spec, n int) FieldErrors {
	n = max(n, 1)
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	ld := &s.Load
	if l.RatePerWorker > 0 {
		perWorker := func(field string, total float64) {
			if total/float64(n) > l.RatePerWorker {
				add(field, "asks %g req/s of each of %d workers; the limit is %g req/s per worker", total/float64(n), n, l.RatePerWorker)
			}
		}
		perWorker("load.rate", ld.Rate)
		perWorker("load.start_rate", ld.StartRate)
		if ld.RatePerWorker > l.RatePerWorker {
			add("load.rate_per_worker", "is %g req/s; the limit is %g req/s per worker", ld.RatePerWorker, l.RatePerWorker)
		}
		for i, st := range ld.Stages {
			if ld.Model == ModelRampingRate {
				perWorker(fmt.Sprintf("load.stages[%d].target", i), st.Target)
			}
		}
	}
	if c := l.ConnectionsPerWorker; c > 0 {
		if ld.Concurrency > c {
			add("load.concurrency", "is %d connections per worker; the limit is %d", ld.Concurrency, c)
		}
		for i, st := range ld.Stages {
			if ld.Model == ModelRampingConcurrency && st.Target > float64(c) {
				add(fmt.Sprintf("load.stages[%d].target", i), "is %g connections per worker; the limit is %d", st.Target, c)
			}
		}
	}
	if d := l.Duration; d > 0 {
		for field, v := range map[string]Duration{"load.duration": ld.Duration, "load.max_duration": ld.MaxDuration, "load.delay": ld.Delay} {
			if v.D > d {
				add(field, "is %v; the limit is %v", v.D, d)
			}
		}
		if sum, ok := stagesSum(ld.Stages); !ok || sum > d {
			add("load.stages", "last %s in total; the limit is %v", durationText(sum, ok), d)
		}
	}
	if t := l.RequestTimeout; t > 0 && s.Request.Timeout.D > t {
		add("request.timeout", "is %v; the limit is %v", s.Request.Timeout.D, t)
	}
	sortErrs(errs)
	return errs
}

// checkRequests bounds the headers and bodies of the request and of every
// mix entry.
func (l Limits) checkRequests(s *Spec) FieldErrors {
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	check := func(prefix string, headers map[string]string, body, b64 string) {
		if l.Headers > 0 && len(headers) > l.Headers {
			add(prefix+".headers", "has %d headers; the limit is %d", len(headers), l.Headers)
		}
		for k, v := range headers {
			if l.HeaderBytes > 0 && len(k)+len(v) > l.HeaderBytes {
				add(prefix+".headers."+k, "is %d bytes (name and value); the limit is %d bytes", len(k)+len(v), l.HeaderBytes)
			}
		}
		if l.BodyBytes <= 0 {
			return
		}
		if len(body) > l.BodyBytes {
			add(prefix+".body", "is %d bytes; the limit is %d bytes", len(body), l.BodyBytes)
		}
		if n := len(b64) / 4 * 3; n > l.BodyBytes {
			add(prefix+".body_base64", "decodes to about %d bytes; the limit is %d bytes", n, l.BodyBytes)
		}
	}
	check("request", s.Request.Headers, s.Request.Body, s.Request.BodyBase64)
	for i, m := range s.RequestsMix {
		check(fmt.Sprintf("requests_mix[%d]", i), m.Headers, m.Body, m.BodyBase64)
	}
	return errs
}

// stagesSum adds the stage durations; false if the sum overflows.
func stagesSum(stages []Stage) (time.Duration, bool) {
	var sum time.Duration
	for _, st := range stages {
		if st.Duration.D < 0 || sum > maxDuration-st.Duration.D {
			return 0, false
		}
		sum += st.Duration.D
	}
	return sum, true
}

const maxDuration = time.Duration(1<<63 - 1)

func durationText(d time.Duration, ok bool) string {
	if !ok {
		return "longer than a Go duration can hold"
	}
	return d.String()
}

// Validate reports every limit that is not positive.
func (l Limits) Validate() error {
	var bad []string
	for name, v := range map[string]float64{
		"rate per worker": l.RatePerWorker, "connections per worker": float64(l.ConnectionsPerWorker),
		"test duration": float64(l.Duration), "request timeout": float64(l.RequestTimeout),
		"workers": float64(l.Workers), "mix entries": float64(l.MixEntries), "stages": float64(l.Stages),
		"headers": float64(l.Headers), "header bytes": float64(l.HeaderBytes), "body bytes": float64(l.BodyBytes),
		"spec bytes": float64(l.SpecBytes), "requests": float64(l.Requests),
	} {
		if v <= 0 {
			bad = append(bad, name)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("limits must be positive: %s", strings.Join(bad, ", "))
	}
	return nil
}
