package testcluster

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
)

// ZKClient opens a direct ZooKeeper session to addr (10 s session, warnings
// and errors logged to stderr), closed at cleanup; tests use it to look at
// or tamper with what the cluster wrote.
func ZKClient(t testing.TB, addr string) *coord.Client {
	t.Helper()
	return DialZK(t, addr, 10*time.Second)
}

// DialZK is ZKClient with a chosen session timeout (5 s per operation). It
// authenticates with the clusters' ZooKeeper secret (ZKAuth).
func DialZK(t testing.TB, addr string, session time.Duration) *coord.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := CoordConfig(addr)
	cfg.SessionTimeout = session
	cfg.OpTimeout = 5 * time.Second
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := coord.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("dialling ZooKeeper at %s: %v", addr, err)
	}
	t.Cleanup(c.Close)
	return c
}

// ZKClient is a direct session to the cluster's ZooKeeper (one per call).
func (c *Cluster) ZKClient() *coord.Client {
	c.t.Helper()
	return ZKClient(c.t, c.ZK)
}

// Paths is the cluster's ZooKeeper namespace.
func (c *Cluster) Paths() proto.Paths { return proto.Paths{Root: c.Root} }

// StartAt is a test's start barrier time as the leader wrote it in
// ZooKeeper (the start node's start_at).
func (c *Cluster) StartAt(z *coord.Client, id string) time.Time {
	c.t.Helper()
	d, _, err := z.Get(context.Background(), c.Paths().Start(id))
	if err != nil {
		c.t.Fatalf("start barrier of %s: %v", id, err)
	}
	var s proto.Start
	if err := json.Unmarshal(d, &s); err != nil || s.StartAt <= 0 {
		c.t.Fatalf("start barrier of %s: %q (%v), want {\"start_at\": unix ns}", id, d, err)
	}
	return time.Unix(0, s.StartAt)
}

// StopCreated is when a test's stop node was created, on ZooKeeper's clock
// (millisecond resolution).
func (c *Cluster) StopCreated(z *coord.Client, id string) time.Time {
	c.t.Helper()
	ok, st, err := z.Exists(context.Background(), c.Paths().Stop(id))
	if err != nil {
		c.t.Fatalf("stop node of %s: %v", id, err)
	}
	if !ok {
		c.t.Fatalf("test %s has no stop node", id)
	}
	return st.Created
}

// Absent fails the test unless p does not exist; an error of the check
// fails it too (an unanswered question is not a "no").
func Absent(t testing.TB, z *coord.Client, p, why string) {
	t.Helper()
	ok, _, err := z.Exists(context.Background(), p)
	if err != nil {
		t.Fatalf("checking %s: %v", p, err)
	}
	if ok {
		t.Fatalf("%s exists: %s", p, why)
	}
}

// Registered is a worker's registration node as ZooKeeper holds it.
type Registered struct {
	Info     proto.WorkerInfo
	Modified time.Time // last change of its data (state), ZooKeeper's clock
}

// Registry reads every worker registration from ZooKeeper, by worker id.
func (c *Cluster) Registry(z *coord.Client) map[string]Registered {
	c.t.Helper()
	ctx := context.Background()
	names, err := z.Children(ctx, c.Paths().Workers())
	if err != nil {
		c.t.Fatalf("listing workers: %v", err)
	}
	out := map[string]Registered{}
	for _, n := range names {
		d, st, err := z.Get(ctx, c.Paths().Workers()+"/"+n)
		if errors.Is(err, coord.ErrNoNode) {
			continue // deregistered while listing
		}
		if err != nil {
			c.t.Fatalf("reading worker %s: %v", n, err)
		}
		var info proto.WorkerInfo
		if err := json.Unmarshal(d, &info); err != nil {
			c.t.Fatalf("worker %s: %v in %q", n, err, d)
		}
		out[info.ID] = Registered{Info: info, Modified: st.Modified}
	}
	return out
}
