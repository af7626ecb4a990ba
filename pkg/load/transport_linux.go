//go:build linux

package load

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/stampede-load/stampede/pkg/load/client"
)

var _ Transport = (*client.Loop)(nil)

// haveLoop reports whether this platform has the event-loop transport.
const haveLoop = true

// loopTransports spreads conns connections over event loops (each loop is
// one lane) and connects them. A loop keeps its P while it waits for the
// kernel, so it leaves one P to the rest of the process (collection,
// coordination) when there is more than one.
func (r *Run) loopTransports(ctx context.Context, conns int) ([]Transport, error) {
	n := min(max(runtime.GOMAXPROCS(0)-1, 1), conns)
	out := make([]Transport, 0, n)
	var wg sync.WaitGroup
	for j := range n {
		share := conns / n
		if j < conns%n {
			share++
		}
		lp, err := client.NewLoop(r.reqs.endpoints[0], share, r.timeout)
		if err != nil {
			wg.Wait()
			closeAll(out)
			return nil, fmt.Errorf("load: prepare: %w", err)
		}
		out = append(out, lp)
		wg.Go(lp.Dial)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		closeAll(out)
		return nil, fmt.Errorf("load: prepare: %w", err)
	}
	return out, nil
}
