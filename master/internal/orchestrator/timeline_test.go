package orchestrator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// A two-hour timeline of points that each carry the most per-worker detail
// a point may hold is cut into chunks within proto.ChunkBytes, each second
// once in order, and each update rewrites only the chunks its points fall in.
func TestTimelineChunksAreBoundedByBytes(t *testing.T) {
	o := &Orchestrator{p: proto.Paths{Root: "/s"}}
	tl := &timeline{o: o, id: "t", last: -1, hasDir: true}
	const seconds = 2 * 3600
	for s := int64(0); s < seconds; s++ {
		p := report.Point{Second: s, Requests: 20000, RPS: 20000, Workers: map[string]report.WorkerPoint{},
			Others: &report.WorkerPoint{Requests: 19900}, OtherWorkers: 1990,
			ErrorKinds: map[string]int64{"timeout": 3, "connection_refused": 1}, Status: map[string]int64{"200": 19996, "503": 4}}
		for w := range report.MaxPointWorkers {
			p.Workers[fmt.Sprintf("worker-with-a-rather-long-pod-name-%06d", w)] = report.WorkerPoint{Requests: 10, RPS: 10, P99Ms: 3.2}
		}
		ops := tl.add([]report.Point{p})
		if len(ops) != 1 {
			t.Fatalf("second %d rewrote %d chunks, want 1", s, len(ops))
		}
		var data []byte
		switch op := ops[0].(type) {
		case coord.CreateOp:
			data = op.Data
		case coord.SetOp:
			data = op.Data
		}
		if len(data) > proto.ChunkBytes {
			t.Fatalf("second %d: chunk of %d bytes, bound %d", s, len(data), proto.ChunkBytes)
		}
		tl.stored()
	}
	want := int64(0)
	for _, c := range tl.chunks {
		for _, p := range c.points {
			if p.Second != want {
				t.Fatalf("chunk %s holds second %d, want %d", c.path, p.Second, want)
			}
			want++
		}
	}
	if want != seconds {
		t.Errorf("chunks hold %d seconds, want %d", want, seconds)
	}
}

// The leader writes the live node alone while no second is complete; that
// transaction says nothing of the timeline's directory, and the first
// points still create it. A transaction that failed leaves its chunk to the
// next one, even when the next points open another chunk.
func TestTimelineStoresWhatEarlierTransactionsDidNot(t *testing.T) {
	ctx := context.Background()
	c, err := coord.DialMemory(ctx, coord.NewMemServer(), coord.DefaultConfig("memory"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := &Orchestrator{c: c, p: proto.Paths{Root: "/s"}}
	if err := c.EnsurePath(ctx, o.p.Test("t")); err != nil {
		t.Fatal(err)
	}
	tl, err := o.restoreTimeline(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	run := func(ops []coord.Op) error { return c.Multi(ctx, ops...) }
	if ops := tl.add(nil); len(ops) != 0 {
		t.Fatalf("no points, %d ops", len(ops))
	}
	tl.stored() // the live node alone was written
	big := strings.Repeat("x", proto.ChunkBytes/2)
	point := func(s int64) report.Point {
		return report.Point{Second: s, Requests: 1, ErrorKinds: map[string]int64{big: 1}}
	}
	if err := run(tl.add([]report.Point{point(0)})); err != nil {
		t.Fatalf("first points after a live-only write: %v", err)
	}
	tl.stored()
	_ = tl.add([]report.Point{point(1)}) // this transaction fails: not stored
	if err := run(tl.add([]report.Point{point(2)})); err != nil {
		t.Fatal(err)
	}
	tl.stored()
	back, err := o.restoreTimeline(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	var seconds []int64
	for _, ch := range back.chunks {
		for _, p := range ch.points {
			seconds = append(seconds, p.Second)
		}
	}
	if !slices.Equal(seconds, []int64{0, 1, 2}) {
		t.Errorf("stored seconds %v, want [0 1 2]", seconds)
	}
}
