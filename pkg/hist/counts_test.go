package hist

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// library is the library's histogram holding the same values as h.
func library(t testing.TB, h *Histogram) *hdr.Histogram {
	t.Helper()
	l := hdr.New(Lowest, Highest, SigFigs)
	for i := h.c.lo; i <= h.c.hi; i++ {
		if n := h.c.c[i]; n > 0 {
			if err := l.RecordValues(lowestAt(i), n); err != nil {
				t.Fatal(err)
			}
		}
	}
	return l
}

// Every counts index maps to the library's bucket bounds, and every value
// to the library's index.
func TestCountsMatchTheLibrary(t *testing.T) {
	ones := make([]int64, countsLen)
	for i := range ones {
		ones[i] = 1
	}
	bars := hdr.Import(&hdr.Snapshot{LowestTrackableValue: Lowest, HighestTrackableValue: Highest,
		SignificantFigures: SigFigs, Counts: ones}).Distribution()
	if len(bars) != countsLen {
		t.Fatalf("library walks %d buckets, counts has %d", len(bars), countsLen)
	}
	for i, b := range bars {
		if lowestAt(i) != b.From || highestAt(i) != b.To {
			t.Fatalf("index %d: [%d, %d], library [%d, %d]", i, lowestAt(i), highestAt(i), b.From, b.To)
		}
		for _, v := range []int64{b.From, b.To, (b.From + b.To) / 2} {
			if countsIndex(v) != i {
				t.Fatalf("value %d: index %d, library's bucket %d", v, countsIndex(v), i)
			}
		}
	}
}

// Every reading of a histogram is the library's, to the last bit, for
// narrow, wide, sparse and huge-count histograms and after resets.
func TestReadingsMatchTheLibrary(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	fills := map[string]func(h *Histogram){
		"one value": func(h *Histogram) { h.RecordMicros(777) },
		"narrow": func(h *Histogram) {
			for range 2000 {
				h.RecordMicros(900 + r.Int64N(200))
			}
		},
		"exponential": func(h *Histogram) {
			for range 20000 {
				h.RecordMicros(int64(r.ExpFloat64()*3000) + 1)
			}
		},
		"wide": func(h *Histogram) {
			for range 3000 {
				h.RecordMicros(1 + r.Int64N(Highest))
			}
		},
		"huge counts": func(h *Histogram) { h.RecordN(1234, 1<<50); h.RecordN(5, 1<<40); h.RecordN(Highest, 3) },
	}
	ps := []float64{-5, 0, 0.1, 1, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100, 150, math.NaN()}
	for name, fill := range fills {
		t.Run(name, func(t *testing.T) {
			h := New()
			h.RecordMicros(Highest) // then reset: readings must not remember it
			h.Reset()
			fill(h)
			l := library(t, h)
			if h.Count() != l.TotalCount() || h.Min() != l.Min() || h.Max() != l.Max() || h.Mean() != l.Mean() {
				t.Errorf("count/min/max/mean %d %d %d %v, library %d %d %d %v",
					h.Count(), h.Min(), h.Max(), h.Mean(), l.TotalCount(), l.Min(), l.Max(), l.Mean())
			}
			for _, p := range ps {
				if got, want := h.Percentile(p), l.ValueAtPercentile(p); got != want {
					t.Errorf("p%v = %d, library %d", p, got, want)
				}
			}
			var want []Bar
			for _, b := range l.Distribution() {
				if b.Count > 0 {
					want = append(want, Bar{Value: b.To, Count: b.Count})
				}
			}
			if got := h.Bars(); !slices.Equal(got, want) {
				t.Errorf("%d bars, library %d (or they differ)", len(got), len(want))
			}
			c := h.Clone()
			c.Merge(h)
			l.Merge(l)
			if c.Count() != l.TotalCount() || c.Percentile(99) != l.ValueAtPercentile(99) || c.Equal(h) {
				t.Errorf("a histogram merged with itself: count %d p99 %d, library %d %d", c.Count(), c.Percentile(99), l.TotalCount(), l.ValueAtPercentile(99))
			}
		})
	}
}

// A merge that would take the total past int64 drops what does not fit,
// as the library does, and keeps the rest exact.
func TestMergePastInt64DropsTheExcess(t *testing.T) {
	a, b := New(), New()
	a.RecordN(10, math.MaxInt64-5)
	b.RecordN(20, 10)
	a.Merge(b)
	if a.Count() != math.MaxInt64-5 || a.Max() != highestAt(countsIndex(10)) {
		t.Errorf("count %d max %d after an overflowing merge", a.Count(), a.Max())
	}
}

// Reset costs what was recorded, not the whole array; encoding reads no
// more than the recorded prefix.
func BenchmarkRecordEncodeReset(b *testing.B) {
	h := New()
	r := rand.New(rand.NewPCG(7, 8))
	for b.Loop() {
		for range 10 {
			h.RecordMicros(1000 + r.Int64N(20000))
		}
		if _, err := h.Encode(); err != nil {
			b.Fatal(err)
		}
		h.Reset()
	}
}
