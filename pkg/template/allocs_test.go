package template

import (
	"math/rand/v2"
	"testing"
)

// TestAppendAllocatesNothing: rendering a template into a reused buffer,
// every function included, allocates nothing per request.
func TestAppendAllocatesNothing(t *testing.T) {
	tp := MustCompile(`/o/{{seq}}?w={{worker}}&n={{randInt 1 1000}}&c={{choice "a" "b"}}&id={{uuid}}`)
	c := &Context{Worker: "w1", Rand: rand.New(rand.NewPCG(1, 2))}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(1000, func() {
		c.Seq++
		buf = tp.Append(buf[:0], c)
	}); n != 0 {
		t.Errorf("Append allocates %v times per request, want 0", n)
	}
}
