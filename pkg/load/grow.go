package load

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Growing a closed model. A live change may ask a closed model for more
// connections per worker than it was prepared with: Adopt opens the extra
// transports (as Prepare did) and, if the run has begun, starts a lane on
// each at once; their connections follow the profile like the others
// (connection j works while the profile is above j), so they begin at the
// change's second.

// laneGroup tracks the running lanes of a run: done is closed when the
// last one returns, and no lane starts after that.
type laneGroup struct {
	mu     sync.Mutex
	n      int
	done   chan struct{}
	closed bool
}

// start runs f as a lane, unless every lane has already returned.
func (g *laneGroup) start(f func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.n++
	go func() {
		defer g.finish()
		f()
	}()
	return true
}

func (g *laneGroup) finish() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n--; g.n == 0 && !g.closed {
		g.closed = true
		close(g.done)
	}
}

// startLanes starts a lane on every transport and keeps what a lane added
// later needs.
func (r *Run) startLanes(startAt, end, cutoff time.Time) *laneGroup {
	g := &laneGroup{n: 1, done: make(chan struct{})} // held until all have started
	r.growMu.Lock()
	r.group, r.runStart, r.runEnd, r.cutoff = g, startAt, end, cutoff
	base := 0
	for j, tr := range r.transports {
		r.startLane(g, j, base, tr)
		base += tr.Len()
	}
	r.growMu.Unlock()
	g.finish()
	return g
}

// startLane runs transport j, whose connections are numbered from base.
// The caller holds growMu.
func (r *Run) startLane(g *laneGroup, j, base int, tr Transport) {
	r.mu.Lock()
	d := r.newDriver(j, base, tr.Len(), r.runStart, r.runEnd)
	r.mu.Unlock()
	if r.open {
		d.window = batchOpen(tr)
	}
	if !g.start(func() {
		defer tr.Close()
		tr.Run(r.stopc, r.cutoff, d)
	}) {
		tr.Close()
	}
}

// growTo opens transports until the run has conns connections, and starts
// their lanes if the run has begun. It does nothing for an open model, a
// journey, or a run whose budget is spent or that has stopped.
func (r *Run) growTo(ctx context.Context, conns int) error {
	if r.bounded {
		conns = min(conns, int(r.budget))
	}
	r.growMu.Lock()
	defer r.growMu.Unlock()
	extra := conns - r.conns
	if r.open || r.openT == nil || extra <= 0 || r.stopped.Load() {
		return nil
	}
	if err := checkFDs(conns, len(r.reqs.endpoints)); err != nil && r.ownTransports {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, growDial)
	defer cancel()
	ts, err := r.openT(ctx, extra)
	if err != nil {
		return fmt.Errorf("load: %d more connections: %w", extra, err)
	}
	base := r.conns
	for _, tr := range ts {
		j := len(r.transports)
		r.addLane()
		r.transports = append(r.transports, tr)
		if r.group != nil {
			r.startLane(r.group, j, base, tr)
		}
		base += tr.Len()
	}
	r.conns = base
	return nil
}

// growDial bounds the connecting of the transports a change adds.
const growDial = 10 * time.Second
