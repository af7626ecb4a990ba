// Package hist is Stampede's latency histogram: an HdrHistogram of
// microseconds from 1 µs to Highest at 3 significant digits, shipped in the
// standard V2 compressed encoding. It is the only importer of hdrhistogram-go.
//
// Every histogram in the system has the same geometry, so merging is exact:
// the merge of per-goroutine or per-worker histograms is identical to one
// histogram that recorded every value. Percentiles are only ever read from
// such a merge, never averaged.
//
// A Histogram is not safe for concurrent use; each goroutine owns its own.
package hist

import (
	"errors"
	"fmt"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Geometry of every histogram (contract between workers and masters).
const (
	Lowest  = 1                              // µs
	Highest = int64(10 * time.Minute / 1000) // µs; larger values are clamped to it
	SigFigs = 3
)

// Histogram records latencies in microseconds.
type Histogram struct{ c counts }

// New returns an empty histogram. It holds no counts array until values
// are recorded, and then only up to the largest index recorded.
func New() *Histogram { return &Histogram{c: emptyCounts()} }

// clamp keeps a value inside the geometry, so a recorded request is never
// dropped.
func clamp(us int64) int64 { return min(max(us, Lowest), Highest) }

// RecordMicros records one value in µs. Values below 1 are recorded as 1 and
// above Highest as Highest, so a recorded request is never dropped.
func (h *Histogram) RecordMicros(us int64) { h.c.add(countsIndex(clamp(us)), 1) }

// Record records a duration.
func (h *Histogram) Record(d time.Duration) { h.RecordMicros(d.Microseconds()) }

// RecordN records n occurrences of one value in µs (nothing for n ≤ 0).
func (h *Histogram) RecordN(us, n int64) {
	if n > 0 {
		h.c.add(countsIndex(clamp(us)), n)
	}
}

// Merge adds every value of o into h. Both have the same geometry, so no
// value is dropped.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil {
		return
	}
	h.c.merge(&o.c)
}

// Reset empties the histogram, keeping its counters' memory.
func (h *Histogram) Reset() { h.c.reset() }

// Clone returns an independent copy.
func (h *Histogram) Clone() *Histogram {
	c := New()
	c.c.merge(&h.c)
	return c
}

// Count is the number of recorded values.
func (h *Histogram) Count() int64 { return h.c.total }

// Min, Max and Mean are in µs; all are 0 for an empty histogram.
func (h *Histogram) Min() int64 {
	if h.Count() == 0 {
		return 0
	}
	return lowestAt(h.c.lo)
}

// Max is the highest recorded value (at histogram precision).
func (h *Histogram) Max() int64 {
	if h.Count() == 0 {
		return 0
	}
	return highestAt(h.c.hi)
}

// Mean is the arithmetic mean in µs, of each bucket's middle value (summed
// in the library's order, so the figure is the library's to the last bit).
func (h *Histogram) Mean() float64 {
	if h.Count() == 0 {
		return 0
	}
	total := float64(h.c.total)
	var mean float64
	h.c.each(func(i int, n int64) { mean += float64(n) * float64(lowestAt(i)+sizeAt(i)>>1) / total })
	return mean
}

// Percentile returns the value in µs at percentile p (0-100): the highest
// value equivalent to the bucket where p's rank is reached (the lowest,
// for p = 0).
func (h *Histogram) Percentile(p float64) int64 {
	if h.Count() == 0 {
		return 0
	}
	p = min(p, 100)
	if p < 0 {
		p = 0
	}
	i := h.c.indexAtRank(percentileRank(p, h.c.total))
	if p == 0 {
		return lowestAt(i)
	}
	return highestAt(i)
}

// Equal reports whether two histograms hold the same counts.
func (h *Histogram) Equal(o *Histogram) bool { return h.c.equal(&o.c) }

// Encode is the standard HdrHistogram V2 compressed encoding, base64.
func (h *Histogram) Encode() (string, error) { return encodeV2(&h.c) }

// ErrGeometry means a decoded histogram does not have Stampede's geometry.
var ErrGeometry = errors.New("hist: histogram geometry differs")

// MaxEncoded bounds the length of an encoded histogram Decode accepts.
// Stampede's own are a few kilobytes; the bound is the largest ZooKeeper
// node.
const MaxEncoded = 1 << 20

// Decode parses the V2 compressed base64 encoding. An empty string decodes to
// an empty histogram. Input that may be hostile is safe: the geometry in
// the header is checked before anything is allocated for the counts, so a
// header claiming a huge geometry costs nothing.
func Decode(s string) (*Histogram, error) {
	if s == "" {
		return New(), nil
	}
	if len(s) > MaxEncoded {
		return nil, fmt.Errorf("hist: decode: %d bytes encoded; the limit is %d", len(s), MaxEncoded)
	}
	if h, err := decodeV2(s); !errors.Is(err, errOtherGeometry) {
		return h, err
	}
	if err := checkHeader(s); err != nil {
		return nil, err
	}
	d, err := hdr.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("hist: decode: %w", err)
	}
	return fromLibrary(d)
}

// fromLibrary copies a histogram the library decoded (of another highest
// value, say) into Stampede's geometry; values past it are refused.
func fromLibrary(d *hdr.Histogram) (*Histogram, error) {
	if d.LowestTrackableValue() != Lowest || d.SignificantFigures() != SigFigs {
		return nil, ErrGeometry
	}
	h := New()
	var dropped int64
	for _, b := range d.Distribution() {
		if b.Count > 0 && !h.c.recordValue(b.From, b.Count) {
			dropped += b.Count
		}
	}
	if dropped != 0 {
		return nil, fmt.Errorf("%w: %d values out of range", ErrGeometry, dropped)
	}
	return h, nil
}

// Bar is one non-empty bucket: Count values equivalent to Value µs.
type Bar struct {
	Value int64 `json:"value_us"`
	Count int64 `json:"count"`
}

// Bars lists every non-empty bucket in increasing value order. Feeding them
// back with RecordN reproduces the histogram exactly.
func (h *Histogram) Bars() []Bar {
	var out []Bar
	h.c.each(func(i int, n int64) { out = append(out, Bar{Value: highestAt(i), Count: n}) })
	return out
}

// Latency is the summary of a histogram in milliseconds (contract,
// docs/api.md: summary.latency_ms).
type Latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// Summary reads the usual percentiles, in ms.
func (h *Histogram) Summary() Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{
		Min:  ms(h.Min()),
		Mean: h.Mean() / 1000,
		P50:  ms(h.Percentile(50)),
		P90:  ms(h.Percentile(90)),
		P95:  ms(h.Percentile(95)),
		P99:  ms(h.Percentile(99)),
		P999: ms(h.Percentile(99.9)),
		Max:  ms(h.Max()),
	}
}

// DistPoint is one point of a percentile distribution: the latency (ms) at
// a percentile.
type DistPoint struct {
	Percentile float64 `json:"percentile"`
	Ms         float64 `json:"ms"`
}

// Distribution samples the percentile curve at the points of the usual
// HdrHistogram log axis (0, 50, 75, 90, 95, 99, 99.9, ... up to the
// resolution the count allows), ending at 100 (the max).
func (h *Histogram) Distribution() []DistPoint {
	n := h.Count()
	if n == 0 {
		return nil
	}
	ps := []float64{0, 25, 50, 75, 90, 95}
	for p, step := 99.0, 1.0; ; {
		ps = append(ps, p)
		// stop once one more nine would resolve less than one value
		if (100-p)/100*float64(n) < 1 {
			break
		}
		step /= 10
		p += 9 * step
		if step < 1e-6 {
			break
		}
	}
	out := make([]DistPoint, 0, len(ps)+1)
	for _, p := range ps {
		out = append(out, DistPoint{Percentile: p, Ms: float64(h.Percentile(p)) / 1000})
	}
	return append(out, DistPoint{Percentile: 100, Ms: float64(h.Max()) / 1000})
}
