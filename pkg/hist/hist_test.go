package hist

import (
	"math/rand/v2"
	"testing"
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
