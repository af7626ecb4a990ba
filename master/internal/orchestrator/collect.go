package orchestrator

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/report"
)

// collector follows the latest report of each chosen worker with one data
// watch per metrics node: a report is read only when it changed (one read
// per write, no polling), and what changed since the last take is handed
// to the merge loop. The final report is written to the metrics node too,
// so this is the leader's only read of worker reports.
type collector struct {
	o  *Orchestrator
	id string

	mu      sync.Mutex
	changed map[string]*report.Report
	// arrived is, by worker, when its latest report was written (ZooKeeper's
	// mtime) and read: what a late second's log line says of the worker it
	// waited for
	arrived map[string]arrival
	primed  int // workers whose node has been read (or found absent) once
	total   int
	ready   chan struct{} // closed once every worker is primed
	// notify gets a token whenever a report changed, so the merge loop
	// runs when there is something to merge instead of waiting for its tick
	notify chan struct{}
}

// collect starts watching the metrics nodes of workers until ctx ends.
func (o *Orchestrator) collect(ctx context.Context, id string, workers []string) *collector {
	c := &collector{o: o, id: id, changed: map[string]*report.Report{}, arrived: map[string]arrival{}, total: len(workers), ready: make(chan struct{}), notify: make(chan struct{}, 1)}
	if len(workers) == 0 {
		close(c.ready)
	}
	for _, w := range workers {
		go c.follow(ctx, w)
	}
	return c
}

// follow re-reads one worker's report each time its node changes.
func (c *collector) follow(ctx context.Context, worker string) {
	p := c.o.p.Metrics(c.id, worker)
	primed := false
	prime := func() {
		if !primed {
			primed = true
			c.markPrimed()
		}
	}
	lastVer := int32(-1)
	for ctx.Err() == nil {
		data, st, w, err := c.o.c.GetW(ctx, p)
		if errors.Is(err, coord.ErrNoNode) {
			ok, ew, err := c.o.c.ExistsW(ctx, p)
			prime()
			if err == nil && !ok {
				wait(ctx, ew)
			}
			continue
		}
		if err != nil {
			prime()
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		if st.Version != lastVer {
			lastVer = st.Version
			if r, err := report.DecodeReport(data); err == nil && r.Worker == worker {
				c.put(r, arrival{written: st.Modified, read: time.Now()})
			} else {
				c.o.log.Warn("ignoring an unreadable report", "test", c.id, "worker", worker, "err", err)
			}
		}
		prime()
		wait(ctx, w)
	}
}

// arrival is when a worker's report was written and when the leader read it.
type arrival struct{ written, read time.Time }

func (c *collector) put(r *report.Report, a arrival) {
	c.mu.Lock()
	c.changed[r.Worker] = r
	c.arrived[r.Worker] = a
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *collector) markPrimed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.primed++
	if c.primed == c.total {
		close(c.ready)
	}
}

// awaitPrimed waits (at most d) until every worker's report has been read
// once, so that a resumed leader merges nothing as a gap that a report it
// has not read yet would fill.
func (c *collector) awaitPrimed(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.ready:
	case <-t.C:
	case <-ctx.Done():
	}
}

// arrivedOf is when worker's latest report was written and read.
func (c *collector) arrivedOf(worker string) arrival {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.arrived[worker]
}

// take returns the reports that changed since the last take, by worker.
func (c *collector) take() []*report.Report {
	c.mu.Lock()
	out := make([]*report.Report, 0, len(c.changed))
	for _, r := range c.changed {
		out = append(out, r)
	}
	c.changed = map[string]*report.Report{}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Worker < out[j].Worker })
	return out
}

func wait(ctx context.Context, w <-chan coord.WatchEvent) {
	select {
	case <-w:
	case <-ctx.Done():
	}
}
