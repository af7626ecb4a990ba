package hist

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

func TestMergeOfPartsEqualsOneHistogram(t *testing.T) {
	all := New()
	parts := []*Histogram{New(), New(), New()}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 30000; i++ {
		v := int64(r.ExpFloat64()*2000) + 1
		all.RecordMicros(v)
		parts[i%3].RecordMicros(v)
	}
	merged := New()
	for _, p := range parts {
		enc, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		d, err := Decode(enc)
		if err != nil {
			t.Fatal(err)
		}
		merged.Merge(d)
	}
	if !merged.Equal(all) || merged.Summary() != all.Summary() {
		t.Errorf("merged %+v != single %+v", merged.Summary(), all.Summary())
	}
}

func TestClampKeepsEveryValue(t *testing.T) {
	h := New()
	h.RecordMicros(0)
	h.RecordMicros(Highest * 10)
	if h.Count() != 2 || h.Max() < Highest {
		t.Errorf("count %d max %d, want 2 values with max >= %d", h.Count(), h.Max(), Highest)
	}
}

func TestDistributionEndsAtMax(t *testing.T) {
	h := New()
	for i := int64(1); i <= 100000; i++ {
		h.RecordMicros(i)
	}
	d := h.Distribution()
	if d[len(d)-1].Percentile != 100 || d[len(d)-1].Ms != float64(h.Max())/1000 {
		t.Errorf("last point %+v, want 100th = max", d[len(d)-1])
	}
	var has9999 bool
	for _, p := range d {
		has9999 = has9999 || p.Percentile > 99.98 && p.Percentile < 99.995
	}
	if !has9999 {
		t.Errorf("distribution %+v lacks the 99.99th percentile for 100k values", d)
	}
}

func TestLogRoundTripsThroughTheReferenceReader(t *testing.T) {
	start := time.Unix(1_800_000_000, 250_000_000)
	a, b := New(), New()
	for i := int64(1); i <= 1000; i++ {
		a.RecordMicros(i * 7)
		b.RecordMicros(i * 131)
	}
	in := []LogInterval{{StartS: 0, LengthS: 1, Hist: a}, {StartS: 1, LengthS: 1, Hist: b}, {Tag: "GET /ping", StartS: 0, LengthS: 2, Hist: b}}
	var buf bytes.Buffer
	if err := WriteLog(&buf, start, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadLog(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("read %d intervals, want 3:\n%s", len(out), buf.String())
	}
	for i, iv := range out {
		if !iv.Hist.Equal(in[i].Hist) {
			t.Errorf("interval %d differs after the round trip", i)
		}
	}
	if out[2].Tag != "GET_/ping" || out[0].Tag != "" {
		t.Errorf("tags %q %q, want \"\" and GET_/ping", out[0].Tag, out[2].Tag)
	}
}
