package template_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/stampede-load/stampede/pkg/template"
)

func Example() {
	t, err := template.Compile("/orders/{{seq}}?by={{worker}}&qty={{randInt 3 3}}")
	if err != nil {
		panic(err)
	}
	ctx := &template.Context{Worker: "w1", Rand: rand.New(rand.NewPCG(1, 1))}
	buf := make([]byte, 0, 64) // reused for every request: no allocation
	for seq := range int64(2) {
		ctx.Seq = seq
		buf = t.Append(buf[:0], ctx)
		fmt.Println(string(buf))
	}
	_, err = template.Compile("/x/{{sequence}}")
	fmt.Println(err)
	// Output:
	// /orders/0?by=w1&qty=3
	// /orders/1?by=w1&qty=3
	// template error at position 4: unknown function "sequence" (known: seq, worker, randInt, choice, uuid)
}
