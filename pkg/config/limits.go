package config

import (
	"github.com/stampede-load/stampede/pkg/spec"
)

// Limits defines the flags of the spec limits (docs/limits.md) and returns
// a function that reads them after Parse. A worker binds only the bounds
// of one worker's part (perWorker); a master binds them all.
func (s *Set) Limits(perWorker bool) func() spec.Limits {
	d := spec.DefaultLimits()
	rate := s.Int("max-rate-per-worker", int(d.RatePerWorker), "most requests per second one worker is asked for")
	conns := s.Int("max-connections-per-worker", d.ConnectionsPerWorker, "most connections (load.concurrency) per worker")
	dur := s.Duration("max-test-duration", d.Duration, "longest load.duration, load.max_duration or sum of stages")
	timeout := s.Duration("max-request-timeout", d.RequestTimeout, "longest request.timeout")
	if perWorker {
		return func() spec.Limits {
			l := spec.Limits{RatePerWorker: float64(*rate), ConnectionsPerWorker: *conns, Duration: *dur, RequestTimeout: *timeout}
			return l
		}
	}
	workers := s.Int("max-workers", d.Workers, "most workers one test may ask for")
	mix := s.Int("max-mix-entries", d.MixEntries, "most requests_mix entries")
	stages := s.Int("max-stages", d.Stages, "most load.stages")
	headers := s.Int("max-headers", d.Headers, "most headers per request or mix entry")
	headerBytes := s.Int("max-header-bytes", d.HeaderBytes, "longest header, name and value, in bytes")
	body := s.Int("max-body-bytes", d.BodyBytes, "largest request body in bytes")
	specBytes := s.Int("max-spec-bytes", d.SpecBytes, "largest stored spec (its JSON, after YAML is converted) in bytes")
	requests := s.Int("max-requests", int(d.Requests), "most requests per test")
	return func() spec.Limits {
		return spec.Limits{
			RatePerWorker: float64(*rate), ConnectionsPerWorker: *conns, Duration: *dur, RequestTimeout: *timeout,
			Workers: *workers, MixEntries: *mix, Stages: *stages, Headers: *headers, HeaderBytes: *headerBytes,
			BodyBytes: *body, SpecBytes: *specBytes, Requests: int64(*requests),
		}
	}
}
