// Package orchestrator is what only the leading master does: it plans
// tests, releases start barriers, merges the workers' reports into the
// timeline and writes results (docs/architecture.md, "Protocol of a test", steps 2, 4 and 6).
//
// Every write is fenced by the leader's election node, and every test is
// driven from its state in ZooKeeper, so a new leader resumes whatever the
// previous one left unfinished.
package orchestrator

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/stampede-load/stampede/master/internal/retention"
	"github.com/stampede-load/stampede/master/internal/view"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Config tunes the leader's timing.
type Config struct {
	MasterID string
	// ReadyTimeout bounds the wait for every chosen worker's ready vote.
	ReadyTimeout time.Duration
	// StartDelay puts start_at this far after the last ready vote, so that
	// every worker sees the barrier before it opens.
	StartDelay time.Duration
	// QueueWait is how long a waiting test may ask for more workers than
	// are live before it fails (queue.go).
	QueueWait time.Duration
	// FinalGrace is how long after a test's planned end the leader waits
	// for a missing worker's final report (a worker cut off from ZooKeeper
	// publishes when it reconnects) before marking it lost.
	FinalGrace time.Duration
	// PointGrace is how long after a second ends its point waits for
	// missing intervals before it is emitted as a gap. A worker that dies
	// is marked lost when its session expires, and no point waits for it
	// after that; so the default is a worker's session timeout: a point is
	// a gap only when a worker whose session lives sent nothing of it for
	// that long, not because the fleet's reports were slow to arrive.
	PointGrace time.Duration
	// Poll is the merge loop's period.
	Poll time.Duration
	// Limits, if set, are applied again to every pending test (the API
	// applies them on submission; a test written straight into ZooKeeper
	// fails here).
	Limits *spec.Limits
	// Retention is what the leader prunes by; PrunePeriod how often.
	Retention   retention.Config
	PrunePeriod time.Duration
	Logger      *slog.Logger
}

// DefaultConfig returns the production timing.
func DefaultConfig(id string) Config {
	return Config{
		MasterID: id, ReadyTimeout: 30 * time.Second, StartDelay: time.Second,
		QueueWait: 2 * time.Minute, FinalGrace: 30 * time.Second, PointGrace: coord.DefaultConfig("").SessionTimeout,
		Poll: 250 * time.Millisecond, Retention: retention.DefaultConfig(), PrunePeriod: 5 * time.Second,
		Logger: slog.Default(),
	}
}

// Orchestrator drives every unfinished test while this master leads.
type Orchestrator struct {
	cfg  Config
	c    *coord.Client
	p    proto.Paths
	view *view.Reader
	log  *slog.Logger
}

// New returns an orchestrator.
func New(c *coord.Client, root string, cfg Config) *Orchestrator {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p, log := proto.Paths{Root: root}, cfg.Logger.With("role", "leader")
	return &Orchestrator{cfg: cfg, c: c, p: p, view: &view.Reader{C: c, P: p, Log: log}, log: log}
}

// Lead runs until ctx (the leadership context) ends: it watches the tests
// directory and drives each unfinished test in its own goroutine. It waits
// for those goroutines before returning.
func (o *Orchestrator) Lead(ctx context.Context, l *coord.Leader) {
	o.log.Info("leading", "node", l.Node())
	defer o.log.Info("leadership ended")
	var wg sync.WaitGroup
	defer wg.Wait()
	if o.cfg.PrunePeriod > 0 {
		pr := retention.NewPruner(o.c, o.p, o.cfg.Retention, o.log)
		wg.Go(func() { pr.Run(ctx, o.cfg.PrunePeriod) })
	}
	wg.Go(func() { o.admit(ctx, l) })
	var mu sync.Mutex
	driving := map[string]bool{}
	finished := map[string]bool{} // terminal phases never change
	rescan := time.NewTicker(2 * time.Second)
	defer rescan.Stop()
	for ctx.Err() == nil {
		ids, w, err := o.c.ChildrenW(ctx, o.p.Tests())
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
			continue
		}
		for _, id := range ids {
			mu.Lock()
			busy := driving[id] || finished[id]
			mu.Unlock()
			if busy {
				continue
			}
			st, _, err := o.view.State(ctx, id)
			if err != nil && !errors.Is(err, view.ErrInvalid) { // an invalid one is driven to failed
				continue
			}
			if err == nil && proto.Terminal(st.Phase) {
				mu.Lock()
				finished[id] = true
				mu.Unlock()
				continue
			}
			mu.Lock()
			driving[id] = true
			mu.Unlock()
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				o.drive(ctx, l, id)
				mu.Lock()
				delete(driving, id)
				mu.Unlock()
			}(id)
		}
		select {
		case <-w:
		case <-rescan.C:
		case <-ctx.Done():
		}
	}
}
