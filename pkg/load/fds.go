package load

import "fmt"

// fdReserve is how many file descriptors a run leaves to the rest of the
// process (ZooKeeper, the API, logs, the event loops' epoll instances).
const fdReserve = 128

// checkFDs refuses, at prepare, a run that needs more sockets than this
// process may open, instead of failing its connections one by one once
// load has started: conns connections to each of endpoints endpoints at
// most.
func checkFDs(conns, endpoints int) error {
	limit, ok := fdLimit()
	if !ok {
		return nil
	}
	if need := conns*max(endpoints, 1) + fdReserve; need > limit {
		return fmt.Errorf("%w: load.concurrency: %d connections (to %d endpoints) need %d file descriptors with the process's own; this worker may open %d (RLIMIT_NOFILE, ulimit -n)",
			ErrInvalidPlan, conns, max(endpoints, 1), need, limit)
	}
	return nil
}
