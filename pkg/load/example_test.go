package load_test

import (
	"fmt"
	"time"

	"github.com/stampede-load/stampede/pkg/load"
	"github.com/stampede-load/stampede/pkg/plan"
)

// At 3,000 req/s over three workers, worker 1 sends every third request of
// one even stream, starting one global period after worker 0.
func ExampleConstantSchedule() {
	sched := load.ConstantSchedule(3000, time.Minute, plan.Share{Index: 1, Of: 3})
	for n := range int64(3) {
		at, _ := sched.At(n)
		fmt.Println(at.Round(time.Microsecond))
	}
	fmt.Println(sched.Rate(time.Second), "req/s for this worker")
	// Output:
	// 333µs
	// 1.333ms
	// 2.333ms
	// 1000 req/s for this worker
}
