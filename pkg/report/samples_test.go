package report

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestSamplesBounded: merging keeps at most MaxSamples distinct messages
// per kind and never modifies its first argument; Clip cuts long messages
// on a UTF-8 boundary; a Sampler hands each distinct message over once.
func TestSamplesBounded(t *testing.T) {
	a := Samples{"io": {"x"}}
	b := Samples{"io": {"x", "y"}, "tls_expired": {"e"}}
	m := MergeSamples(a, b)
	if len(a["io"]) != 1 || fmt.Sprint(m) != "map[io:[x y] tls_expired:[e]]" {
		t.Errorf("merge = %v (first argument now %v), want io:[x y] tls_expired:[e] and the first unchanged", m, a)
	}
	for i := range 20 {
		m = MergeSamples(m, Samples{"io": {fmt.Sprint(i)}})
	}
	if len(m["io"]) != MaxSamples {
		t.Errorf("%d io samples after 22 distinct, want %d", len(m["io"]), MaxSamples)
	}
	if same := MergeSamples(m, Samples{"io": {"x"}}); fmt.Sprint(same) != fmt.Sprint(m) {
		t.Errorf("merging a known message changed the samples: %v", same)
	}
	long := strings.Repeat("é", MaxSampleBytes) // 2 bytes each
	if c := Clip(long); len(c) > MaxSampleBytes || !strings.HasPrefix(long, c) || len(c) < MaxSampleBytes-1 {
		t.Errorf("Clip kept %d bytes, want at most %d on a rune boundary", len(c), MaxSampleBytes)
	}

	var s Sampler
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				s.Note("reset", fmt.Sprint(j%3))
				s.Note(fmt.Sprint("k", i%2), strings.Repeat("z", 1000))
			}
		})
	}
	wg.Wait()
	got := s.Take()
	if len(got["reset"]) != 3 || len(got["k0"]) != 1 || len(got["k0"][0]) != MaxSampleBytes {
		t.Errorf("sampler took %v, want 3 reset messages and one clipped k0", got)
	}
	s.Note("reset", "0")
	if again := s.Take(); again != nil {
		t.Errorf("a message already taken came again: %v", again)
	}
}
