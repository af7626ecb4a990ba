// Package integration tests the Stampede cluster as a user runs it: a real
// ZooKeeper, and real master, worker and target processes on loopback.
package integration

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/coord"
)

// zkClient opens a direct ZooKeeper session, to check what the cluster
// wrote.
func zkClient(t *testing.T, addr string) *coord.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := tc.CoordConfig(addr) // the cluster's ZooKeeper secret
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := coord.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func spec(model string, load map[string]any, url string) map[string]any {
	load["model"] = model
	return map[string]any{
		"name":    "it-" + model,
		"request": map[string]any{"url": url, "timeout": "2s"},
		"load":    load,
	}
}
