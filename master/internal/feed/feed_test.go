package feed

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stampede-load/stampede/master/internal/view"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
)

type countingPub struct {
	subs      int
	published map[string]int
}

func (p *countingPub) Publish(topic string, _ []byte) { p.published[topic]++ }
func (p *countingPub) Finish(topic string, _ []byte)  { p.published[topic]++ }
func (p *countingPub) Subscribers(string) int         { return p.subs }

// The cluster message reads every worker's registration (thousands of
// reads with a large fleet): a tick builds it only while someone follows
// the cluster feed.
func TestClusterFeedOnlyWhileFollowed(t *testing.T) {
	ctx := context.Background()
	c, err := coord.DialMemory(ctx, coord.NewMemServer(), coord.DefaultConfig("memory"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	p := proto.Paths{Root: "/stampede"}
	for _, d := range []string{p.Workers(), p.Tests(), p.Masters()} {
		if err := c.EnsurePath(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	pub := &countingPub{published: map[string]int{}}
	f := New(&view.Reader{C: c, P: p}, pub, func(context.Context) (any, error) { return map[string]any{}, nil }, slog.Default())
	f.tick(ctx)
	if n := pub.published[ClusterTopic]; n != 0 {
		t.Fatalf("published the cluster %d times with nobody following it", n)
	}
	pub.subs = 1
	f.tick(ctx)
	if n := pub.published[ClusterTopic]; n != 1 {
		t.Fatalf("published the cluster %d times to a follower, want 1", n)
	}
}
