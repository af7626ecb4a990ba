// Package agent is the worker's ZooKeeper side: it registers the worker,
// finds plans addressed to it, votes ready, waits for the start barrier,
// drives the load engine and publishes its reports (docs/architecture.md, protocol
// steps 3-5).
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/load"
	"github.com/stampede-load/stampede/pkg/policy"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Config configures an Agent.
type Config struct {
	ID      string
	Root    string
	Version string
	// ReadyTimeout bounds the wait for the start barrier after voting ready.
	ReadyTimeout time.Duration
	// PublishGrace bounds how long the final report is retried after the
	// run ends while ZooKeeper is unreachable (the report is kept in memory
	// until then).
	PublishGrace time.Duration
	// Transports, if set, carries the load instead of the network (the
	// fleet simulator's in-process transport); nil: the engine's own.
	Transports load.OpenTransports
	// Policy, if set, is the worker's --allow-targets: a plan aimed
	// elsewhere is refused (voted not ready with the reason).
	Policy *policy.Policy
	// Limits, if set, bound what one plan may ask of this worker.
	Limits *spec.Limits
	Logger *slog.Logger
}

// Agent runs one worker. Its Run is the worker's lifetime.
type Agent struct {
	cfg Config
	c   *coord.Client
	p   proto.Paths
	log *slog.Logger

	runMu sync.Mutex // one test at a time

	mu       sync.Mutex
	reg      *coord.Registration
	info     proto.WorkerInfo
	stateGen int // counts the states noted (see publishState)

	pubMu   sync.Mutex // one registration write at a time
	pubGen  int        // the last state generation written
	watched map[string]bool
	wg      sync.WaitGroup
}

// New returns an agent using an open coordination client.
func New(c *coord.Client, cfg Config) *Agent {
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 2 * time.Minute
	}
	if cfg.PublishGrace == 0 {
		cfg.PublishGrace = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	host, _ := os.Hostname()
	return &Agent{
		cfg: cfg, c: c, p: proto.Paths{Root: cfg.Root},
		log: cfg.Logger.With("worker", cfg.ID),
		info: proto.WorkerInfo{
			ID: cfg.ID, Host: host, IP: localIP(), Version: cfg.Version,
			Cores: runtime.NumCPU(), State: proto.WorkerIdle,
		},
		watched: map[string]bool{},
	}
}

// Ready reports whether the worker is registered and connected.
func (a *Agent) Ready() error {
	a.mu.Lock()
	reg := a.reg
	a.mu.Unlock()
	if reg == nil || reg.Path() == "" {
		return errors.New("not registered in ZooKeeper")
	}
	if a.c.Session().State != coord.Connected {
		return errors.New("disconnected from ZooKeeper")
	}
	return nil
}

// Run registers the worker and serves plans until ctx ends. On the way out
// a running test is stopped, its final report published, and the worker
// deregistered.
func (a *Agent) Run(ctx context.Context) error {
	if err := proto.CheckWorkerID(a.cfg.ID); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	for _, d := range []string{a.p.Workers(), a.p.Tests(), a.p.Masters()} {
		if err := a.c.EnsurePath(ctx, d); err != nil {
			return err
		}
	}
	reg, err := a.c.Register(ctx, a.p.Workers(), "w-", proto.Marshal(a.info))
	if err != nil {
		return fmt.Errorf("agent: register: %w", err)
	}
	a.mu.Lock()
	a.reg = reg
	a.mu.Unlock()
	a.log.Info("registered", "node", reg.Path())
	defer func() {
		a.wg.Wait() // running tests publish their final reports first
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = reg.Close(cctx)
		a.log.Info("deregistered")
	}()

	for ctx.Err() == nil {
		ids, w, err := a.c.ChildrenW(ctx, a.p.Tests())
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("listing tests", "err", err)
				sleep(ctx, 500*time.Millisecond)
			}
			continue
		}
		a.mu.Lock()
		for _, id := range ids {
			if !a.watched[id] {
				a.watched[id] = true
				a.wg.Add(1)
				go func(id string) {
					defer a.wg.Done()
					a.watchTest(ctx, id)
				}(id)
			}
		}
		a.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
		}
	}
	return nil
}

// setState publishes the worker's state in its registration, and returns
// once it is written.
func (a *Agent) setState(ctx context.Context, state, test string) {
	a.noteState(state, test)
	a.publishState(ctx)
}

// setStateSoon is setState without the wait, for the states a worker
// passes through on its way to the start (preparing, ready, running):
// nothing waits on them, and the fleet's writes of each land together, so
// that a worker waiting for its own (up to a second at 2,000 workers)
// voted and started that much late. The registration ends up holding the
// last state noted, whatever order the writes run in.
func (a *Agent) setStateSoon(ctx context.Context, state, test string) {
	a.noteState(state, test)
	a.wg.Go(func() { a.publishState(ctx) })
}

// noteState records the state a later publishState writes.
func (a *Agent) noteState(state, test string) {
	a.mu.Lock()
	a.info.State, a.info.Test = state, test
	a.stateGen++
	a.mu.Unlock()
}

// publishState writes the last state noted to the registration, unless a
// write of it (or of a later one) already happened. One write at a time.
func (a *Agent) publishState(ctx context.Context) {
	a.pubMu.Lock()
	defer a.pubMu.Unlock()
	a.mu.Lock()
	gen, state, data, reg := a.stateGen, a.info.State, proto.Marshal(a.info), a.reg
	a.mu.Unlock()
	if gen <= a.pubGen {
		return
	}
	if err := reg.Update(ctx, data); err != nil {
		a.log.Warn("updating registration", "state", state, "err", err)
		return
	}
	a.pubGen = gen
}

// watchTest waits for a plan addressed to this worker in one test, until the
// test reaches a terminal phase.
func (a *Agent) watchTest(ctx context.Context, id string) {
	for ctx.Err() == nil {
		data, stat, sw, err := a.c.GetW(ctx, a.p.State(id))
		if errors.Is(err, coord.ErrNoNode) {
			// created in one multi with the test; gone means deleted
			if ok, _, _ := a.c.Exists(ctx, a.p.Test(id)); !ok {
				return
			}
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		if err != nil {
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		phase, _ := proto.PhaseOf(data) // unreadable: acted on as not yet over
		if proto.Terminal(phase) {
			return
		}
		if phase == proto.PhasePending || phase == proto.PhaseQueued {
			// plans are written in batches before the phase moves on: act
			// on one only once the whole plan is in place
			select {
			case <-sw:
			case <-ctx.Done():
			}
			continue
		}
		ok, pw, err := a.c.ExistsW(ctx, a.p.Plan(id, a.cfg.ID))
		if err != nil {
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		if ok {
			a.runTest(ctx, id, stat.Version)
			return
		}
		select {
		case <-sw:
		case <-pw:
		case <-ctx.Done():
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func localIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
	}
	return "127.0.0.1"
}
