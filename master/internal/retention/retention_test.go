package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/zktest"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
)

func dial(t *testing.T) (*coord.Client, proto.Paths) {
	t.Helper()
	zk := zktest.Standalone(t)
	cfg := coord.DefaultConfig(zk.Addr())
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := coord.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	p := proto.Paths{Root: "/r"}
	if err := c.EnsurePath(ctx, p.Tests()); err != nil {
		t.Fatal(err)
	}
	return c, p
}

func testOps(p proto.Paths, id string, spec []byte, st proto.TestState) []coord.Op {
	return []coord.Op{coord.CreateOp{Path: p.Test(id), Data: spec}, coord.CreateOp{Path: p.State(id), Data: proto.Marshal(st)}}
}

// TestConcurrentCreatesNeverExceedTheBudget: eight submitters race for a
// budget of exactly five charges; five get in, every other attempt is a
// *FullError, and the usage node holds exactly five charges.
func TestConcurrentCreatesNeverExceedTheBudget(t *testing.T) {
	c, p := dial(t)
	cfg := Config{RetainTests: 100, RetainFor: time.Hour, Budget: 5 * 1000, Reserve: 900}
	spec := make([]byte, 100)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, full := 0, 0
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 3; i++ {
				id := fmt.Sprintf("t%d-%d", g, i)
				err := Create(context.Background(), c, p, cfg, cfg.Charge(len(spec)), testOps(p, id, spec, proto.TestState{Phase: proto.PhasePending}))
				var fe *FullError
				mu.Lock()
				switch {
				case err == nil:
					created++
				case errors.As(err, &fe):
					full++
				default:
					t.Errorf("Create %s: %v", id, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	u, err := Read(context.Background(), c, p)
	if err != nil {
		t.Fatal(err)
	}
	if created != 5 || full != 19 || u.Bytes != 5000 {
		t.Fatalf("created %d, full %d, usage %d; want 5, 19, 5000", created, full, u.Bytes)
	}
	var big *TooLargeError
	if err := Create(context.Background(), c, p, cfg, 6000, nil); !errors.As(err, &big) {
		t.Fatalf("Create(larger than the budget) = %v, want *TooLargeError", err)
	}
}

// TestPrunerKeepsTheNewestAndRewritesUsage: --retain-tests 2 keeps the two
// newest finished tests, --retain-for drops an old one, a pending test is
// never pruned, junk without state goes, and the usage node then holds
// what is left.
func TestPrunerKeepsTheNewestAndRewritesUsage(t *testing.T) {
	c, p := dial(t)
	ctx := context.Background()
	now := time.Now()
	cfg := Config{RetainTests: 2, RetainFor: 24 * time.Hour, Budget: 1 << 20, Reserve: 1000}
	mk := func(id string, st proto.TestState) {
		if err := Create(ctx, c, p, cfg, cfg.Charge(10), testOps(p, id, []byte("0123456789"), st)); err != nil {
			t.Fatal(err)
		}
	}
	done := func(ago time.Duration) proto.TestState {
		return proto.TestState{Phase: proto.PhaseCompleted, EndedAt: now.Add(-ago).UnixNano()}
	}
	mk("a-old", done(48*time.Hour))
	mk("b", done(3*time.Minute))
	mk("c", done(2*time.Minute))
	mk("d", done(time.Minute))
	mk("e-pending", proto.TestState{Phase: proto.PhasePending})
	if _, err := c.Create(ctx, p.Test("junk"), []byte("x"), coord.Persistent); err != nil {
		t.Fatal(err)
	}
	pr := NewPruner(c, p, cfg, slog.Default())
	if err := pr.Round(ctx); err != nil {
		t.Fatal(err)
	}
	kids, err := c.Children(ctx, p.Tests())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"c": true, "d": true, "e-pending": true}
	if len(kids) != len(want) {
		t.Fatalf("after pruning: %v, want %v", kids, want)
	}
	for _, k := range kids {
		if !want[k] {
			t.Fatalf("after pruning: %v, want %v", kids, want)
		}
	}
	var measured int64
	for _, id := range []string{"c", "d"} {
		n, err := treeBytes(ctx, c, p.Test(id))
		if err != nil {
			t.Fatal(err)
		}
		measured += n
	}
	u, err := Read(ctx, c, p)
	if err != nil {
		t.Fatal(err)
	}
	if want := measured + cfg.Charge(10); u.Bytes != want {
		t.Fatalf("usage %d, want %d (two measured finished tests and one charged pending test)", u.Bytes, want)
	}
}
