package report

import (
	"maps"
	"slices"
	"sync"
	"unicode/utf8"
)

// Bounds of the sampled error messages (Counters.ErrorSamples): at most
// MaxSamples distinct messages per kind, each cut to MaxSampleBytes.
const (
	MaxSamples     = 5
	MaxSampleBytes = 256
)

// Samples are distinct error messages by error kind, at most MaxSamples
// per kind, each at most MaxSampleBytes: what a failure said, so that a
// user can tell "certificate signed by unknown authority" from "remote
// error: tls: certificate required" without the worker's logs.
type Samples map[string][]string

// MergeSamples adds src's messages to dst's, keeping the bounds. dst is
// never modified: when something is added, a new map is returned (a
// report may still hold dst).
func MergeSamples(dst, src Samples) Samples {
	var out Samples
	for _, k := range slices.Sorted(maps.Keys(src)) {
		for _, m := range src[k] {
			cur := dst[k]
			if out != nil {
				cur = out[k]
			}
			if len(cur) >= MaxSamples || slices.Contains(cur, m) {
				continue
			}
			if out == nil {
				out = maps.Clone(dst)
				if out == nil {
					out = Samples{}
				}
			}
			out[k] = append(slices.Clip(cur), m)
		}
	}
	if out == nil {
		return dst
	}
	return out
}

// Clip cuts a message to MaxSampleBytes on a UTF-8 boundary.
func Clip(msg string) string { return ClipTo(msg, MaxSampleBytes) }

// ClipTo cuts a message to at most n bytes on a UTF-8 boundary.
func ClipTo(msg string, n int) string {
	if len(msg) <= n {
		return msg
	}
	for n > 0 && !utf8.RuneStart(msg[n]) {
		n--
	}
	return msg[:n]
}

// Sampler collects distinct error messages from many goroutines (only on
// failure paths: it takes a lock). Take hands over what is new since the
// previous Take; a kind that has had MaxSamples distinct messages takes no
// more, so a run reports at most MaxSamples per kind in all.
type Sampler struct {
	mu    sync.Mutex
	seen  Samples
	fresh Samples
}

// Note records msg under kind.
func (s *Sampler) Note(kind, msg string) {
	msg = Clip(msg)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen[kind]) >= MaxSamples || slices.Contains(s.seen[kind], msg) {
		return
	}
	if s.seen == nil {
		s.seen = Samples{}
	}
	if s.fresh == nil {
		s.fresh = Samples{}
	}
	s.seen[kind] = append(s.seen[kind], msg)
	s.fresh[kind] = append(s.fresh[kind], msg)
}

// Take returns the messages noted since the previous Take (nil if none).
func (s *Sampler) Take() Samples {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.fresh
	s.fresh = nil
	return out
}
