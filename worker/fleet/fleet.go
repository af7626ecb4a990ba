// Package fleet runs many real worker agents in one process, each with its
// own ZooKeeper session, so that the ZooKeeper and master side can be
// measured at fleet sizes one machine could never run as processes. The
// load itself goes over whatever transport the caller gives (the fleet
// simulator, test/fleet, answers in-process after a drawn latency).
package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/load"
	"github.com/stampede-load/stampede/pkg/version"
	"github.com/stampede-load/stampede/worker/internal/agent"
)

// Config says how many workers to run and where.
type Config struct {
	ZK, Root string
	// Workers is the fleet size; worker i is IDPrefix followed by i
	// (zero-padded to five digits, from 1).
	Workers  int
	IDPrefix string
	// Auth is the ZooKeeper digest identity ("" for none).
	Auth           string
	SessionTimeout time.Duration
	// Transports returns worker i's load transports.
	Transports func(i int) load.OpenTransports
	// DialParallel bounds how many sessions are being opened at once.
	DialParallel int
	Logger       *slog.Logger
}

// Run opens every worker's session, runs every agent until ctx ends, and
// returns once each has published its final report (if running a test)
// and deregistered. ready is called once every worker is registered.
func Run(ctx context.Context, cfg Config, ready func()) error {
	if cfg.Workers <= 0 {
		return fmt.Errorf("fleet: workers must be at least 1, got %d", cfg.Workers)
	}
	if cfg.DialParallel <= 0 {
		cfg.DialParallel = 32
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	clients, err := dialAll(ctx, cfg)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	if err != nil {
		return err
	}
	agents := make([]*agent.Agent, cfg.Workers)
	var wg sync.WaitGroup
	for i, c := range clients {
		acfg := agent.Config{ID: WorkerID(cfg.IDPrefix, i+1), Root: cfg.Root, Version: version.Version, Logger: cfg.Logger}
		if cfg.Transports != nil {
			acfg.Transports = cfg.Transports(i + 1)
		}
		agents[i] = agent.New(c, acfg)
		wg.Go(func() {
			if err := agents[i].Run(ctx); err != nil {
				cfg.Logger.Error("agent ended", "worker", acfg.ID, "err", err)
			}
		})
	}
	go awaitRegistered(ctx, agents, ready)
	wg.Wait()
	return nil
}

// WorkerID is the id of the fleet's worker i.
func WorkerID(prefix string, i int) string { return fmt.Sprintf("%s%05d", prefix, i) }

// dialAll opens one session per worker, DialParallel at a time.
func dialAll(ctx context.Context, cfg Config) ([]*coord.Client, error) {
	clients := make([]*coord.Client, cfg.Workers)
	errs := make([]error, cfg.Workers)
	sem := make(chan struct{}, cfg.DialParallel)
	var wg sync.WaitGroup
	for i := range clients {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			zc := coord.DefaultConfig(cfg.ZK)
			if cfg.SessionTimeout > 0 {
				zc.SessionTimeout = cfg.SessionTimeout
			}
			zc.Auth, zc.Logger = cfg.Auth, cfg.Logger
			clients[i], errs[i] = coord.Dial(ctx, zc)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return clients, fmt.Errorf("fleet: session of worker %d: %w", i+1, err)
		}
	}
	return clients, nil
}

// awaitRegistered calls ready once every agent is registered.
func awaitRegistered(ctx context.Context, agents []*agent.Agent, ready func()) {
	for ctx.Err() == nil {
		all := true
		for _, a := range agents {
			if a.Ready() != nil {
				all = false
				break
			}
		}
		if all {
			if ready != nil {
				ready()
			}
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}
