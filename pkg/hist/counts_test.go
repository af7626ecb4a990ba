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
	h.c.each(func(i int, n int64) {
		if err := l.RecordValues(lowestAt(i), n); err != nil {
			t.Fatal(err)
		}
	})
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

// dense is a histogram holding vals, dense from the start.
func dense(vals []int64) *Histogram {
	h := New()
	h.c.densify()
	for _, v := range vals {
		h.RecordMicros(v)
	}
	return h
}

// A histogram small enough to keep its buckets as a list reads, encodes,
// compares and merges exactly as a dense one of the same values, on
// either side of the smallBuckets threshold and after a reset.
func TestSmallAndDenseAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	ps := []float64{0, 1, 50, 90, 99, 99.9, 100}
	for _, distinct := range []int{0, 1, 10, smallBuckets - 1, smallBuckets, smallBuckets + 1, 2*smallBuckets + 50} {
		var vals []int64
		for i := range distinct {
			v := lowestAt(1000 + 3*i + r.IntN(3)) // one bucket each
			for range 1 + r.IntN(3) {
				vals = append(vals, v)
			}
		}
		r.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
		small := New()
		small.RecordMicros(Highest) // a reset small one forgets it
		small.Reset()
		for _, v := range vals {
			small.RecordMicros(v)
		}
		if isSmall := small.c.c == nil; isSmall != (distinct <= smallBuckets) {
			t.Fatalf("%d distinct buckets: small %v", distinct, isSmall)
		}
		d := dense(vals)
		se, _ := small.Encode()
		de, _ := d.Encode()
		if !small.Equal(d) || !d.Equal(small) || se != de {
			t.Fatalf("%d distinct buckets: small and dense differ (equal %v, same encoding %v)", distinct, small.Equal(d), se == de)
		}
		if small.Mean() != d.Mean() || small.Min() != d.Min() || !slices.Equal(small.Bars(), d.Bars()) {
			t.Errorf("%d distinct buckets: readings differ", distinct)
		}
		for _, p := range ps {
			if small.Percentile(p) != d.Percentile(p) {
				t.Errorf("%d distinct buckets: p%v %d, dense %d", distinct, p, small.Percentile(p), d.Percentile(p))
			}
		}
		back, err := Decode(se)
		if err != nil || !back.Equal(d) {
			t.Errorf("%d distinct buckets: decoded differs (%v)", distinct, err)
		}
		// every pairing of forms merges to the dense merge
		twice := dense(append(slices.Clone(vals), vals...))
		for name, pair := range map[string][2]*Histogram{
			"small into small": {small.Clone(), small}, "small into dense": {d.Clone(), small},
			"dense into small": {small.Clone(), d}, "dense into dense": {d.Clone(), d},
		} {
			pair[0].Merge(pair[1])
			if !pair[0].Equal(twice) {
				t.Errorf("%d distinct buckets: %s differs from the dense merge", distinct, name)
			}
		}
	}
}

// A histogram at a few requests a second never allocates a counts array:
// recording, merging into a fresh one and encoding an interval of ten
// values costs bytes, not the ~60 KB a dense array over 1–100 ms takes.
func TestAnIntervalStaysSmall(t *testing.T) {
	iv := New()
	for _, v := range []int64{900, 1100, 1500, 2000, 5000, 20_000, 100_000, 950, 1020, 1800} {
		iv.RecordMicros(v)
	}
	fresh := New()
	fresh.Merge(iv)
	if iv.c.c != nil || fresh.c.c != nil {
		t.Fatal("an interval of ten values went dense")
	}
	allocs := testing.AllocsPerRun(100, func() {
		h := New()
		h.Merge(iv)
		h.Reset()
	})
	if allocs > 4 {
		t.Errorf("merging a ten-value interval into a fresh histogram allocates %.0f times", allocs)
	}
}
