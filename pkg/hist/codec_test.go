package hist

import (
	"bytes"
	"math/rand/v2"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The fast codec writes what hdrhistogram-go reads back to the same counts,
// and reads what the library writes, for empty, sparse, wide and
// huge-count histograms.
func TestCodecMatchesTheLibrary(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := map[string]func(h *Histogram){
		"empty":  func(*Histogram) {},
		"one":    func(h *Histogram) { h.RecordMicros(1) },
		"max":    func(h *Histogram) { h.RecordMicros(Highest) },
		"sparse": func(h *Histogram) { h.RecordN(900, 10); h.RecordN(25_000, 3) },
		"wide": func(h *Histogram) {
			for range 5000 {
				h.RecordMicros(1 + r.Int64N(Highest))
			}
		},
		"huge counts": func(h *Histogram) { h.RecordN(1234, 1<<50); h.RecordN(5, 1<<40) },
	}
	for name, fill := range cases {
		t.Run(name, func(t *testing.T) {
			h := New()
			fill(h)
			lib := library(t, h)
			got, err := h.Encode()
			if err != nil {
				t.Fatal(err)
			}
			read, err := hdr.Decode([]byte(got))
			if err != nil {
				t.Fatalf("the library cannot read the encoding: %v", err)
			}
			if !read.Equals(lib) {
				t.Fatal("the library reads other counts from the encoding")
			}
			want, err := lib.Encode(hdr.V2CompressedEncodingCookieBase)
			if err != nil {
				t.Fatal(err)
			}
			for _, enc := range []string{got, string(want)} {
				back, err := Decode(enc)
				if err != nil {
					t.Fatal(err)
				}
				if !back.Equal(h) || back.Count() != h.Count() {
					t.Errorf("decoded %d values, want %d (equal %v)", back.Count(), h.Count(), back.Equal(h))
				}
			}
		})
	}
}

// Corrupt payloads are refused, never decoded into wrong counts.
func TestCodecRefusesCorruptCounts(t *testing.T) {
	counts := make([]int64, 10)
	var b [9]byte
	run := b[:putZigZag(b[:], -11)]
	if err := fillCounts(counts, run); err == nil {
		t.Error("a zero run past the end was accepted")
	}
	if err := fillCounts(counts, []byte{0x80}); err == nil {
		t.Error("a truncated count was accepted")
	}
	for _, v := range []int64{0, 1, -1, 63, -64, 1 << 40, -(1 << 55), 1<<62 + 7} {
		n := putZigZag(b[:], v)
		if got, m := readZigZag(b[:n]); got != v || m != n {
			t.Errorf("zigzag %d -> %d (%d of %d bytes)", v, got, m, n)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	h := New()
	for i := range int64(1000) {
		h.RecordMicros(1000 + i*37)
	}
	for b.Loop() {
		_, _ = h.Encode()
	}
}

// A worker's cumulative histogram after 300 requests of the fleet
// simulator's latencies (1, 2, 5, 20 and 100 ms, each with its own
// jitter), encoded with its payload stored and Huffman-coded: the cost and
// size storeBelow trades.
func BenchmarkEncodeCumulative(b *testing.B) {
	h := New()
	base := []int64{1000, 1000, 1000, 1000, 1000, 2000, 2000, 2000, 5000, 5000, 20000, 100000}
	for i := range int64(300) {
		h.RecordMicros(base[i%int64(len(base))] + (i*7919)%211)
	}
	var buf bytes.Buffer
	writePayloadV2(&buf, &h.c)
	payload := buf.Bytes()
	for _, huffman := range []bool{false, true} {
		name := "stored"
		if huffman {
			name = "huffman"
		}
		b.Run(name, func(b *testing.B) {
			var s string
			for b.Loop() {
				s, _ = compressV2(payload, huffman)
			}
			b.ReportMetric(float64(len(s)), "base64-bytes")
			b.ReportMetric(float64(len(payload)), "payload-bytes")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	h := New()
	for i := range int64(1000) {
		h.RecordMicros(1000 + i*37)
	}
	s, _ := h.Encode()
	for b.Loop() {
		_, _ = Decode(s)
	}
}

// A sparse decode merged into histograms gives exactly the dense decode.
func TestSparseMergeIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 10, 3000} {
		h := New()
		for range n {
			h.RecordMicros(1 + r.Int64N(Highest))
		}
		h.RecordN(777, 5)
		s, err := h.Encode()
		if err != nil {
			t.Fatal(err)
		}
		sp, err := DecodeSparse(s)
		if err != nil {
			t.Fatal(err)
		}
		into := New()
		into.RecordMicros(42)
		into.MergeSparse(sp)
		want := New()
		want.RecordMicros(42)
		want.Merge(h)
		if !into.Equal(want) || sp.Count() != h.Count() {
			t.Errorf("%d values: sparse merge differs (count %d, want %d)", n, sp.Count(), h.Count())
		}
		for _, p := range []float64{0, 1, 50, 90, 99, 99.9, 100} {
			if got, want := sp.Percentile(p), h.Percentile(p); got != want {
				t.Errorf("%d values: sparse p%v = %d, dense %d", n, p, got, want)
			}
		}
	}
	if _, err := DecodeSparse("bm90IGEgaGlzdG9ncmFt"); err == nil {
		t.Error("garbage decoded")
	}
}
