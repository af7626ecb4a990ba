package plan_test

import (
	"fmt"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Three workers share 10,000 requests exactly.
func ExampleSplit() {
	s := spec.Spec{Load: spec.Load{Model: spec.ModelConstantRate, Rate: 3000, Requests: 10000}}
	for _, sh := range plan.Split(&s, 3) {
		fmt.Printf("worker %d of %d: %d requests\n", sh.Index, sh.Of, sh.Requests)
	}
	// Output:
	// worker 0 of 3: 3334 requests
	// worker 1 of 3: 3333 requests
	// worker 2 of 3: 3333 requests
}
