package hist

import (
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// FuzzDecode: any string decodes to a histogram of Stampede's geometry or
// is an error, without a panic and without allocating for a foreign
// geometry; a decoded histogram encodes and decodes to the same counts.
func FuzzDecode(f *testing.F) {
	h := New()
	h.RecordN(1500, 10)
	h.RecordMicros(Highest)
	enc, _ := h.Encode()
	f.Add(enc)
	empty, _ := New().Encode()
	f.Add(empty)
	wide, _ := hdr.New(1, 1<<62, 5).Encode(hdr.V2CompressedEncodingCookieBase)
	f.Add(string(wide))
	f.Add("HISTFAAAAB14nJNpmSzMwMDAxQABzFCaEUoz2X+AsQA")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Decode(s)
		if err != nil {
			return
		}
		again, err := d.Encode()
		if err != nil {
			t.Fatal(err)
		}
		d2, err := Decode(again)
		if err != nil || !d2.Equal(d) {
			t.Fatalf("re-decoding changed the histogram: %v", err)
		}
	})
}

func TestForeignGeometryIsRefusedFromTheHeader(t *testing.T) {
	wide, err := hdr.New(1, 1<<62, 5).Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(string(wide)); err == nil || CheckEncoded(string(wide)) == nil {
		t.Fatalf("Decode(1..2^62 at 5 digits) = %v, want ErrGeometry", err)
	}
	h := New()
	h.RecordN(100, 3)
	enc, _ := h.Encode()
	if err := CheckEncoded(enc); err != nil {
		t.Fatalf("CheckEncoded(own histogram) = %v", err)
	}
}
