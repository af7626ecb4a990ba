package orchestrator

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// timeline is the leader's copy of the persisted timeline: merged points
// only, in chunks of at most proto.ChunkBytes of JSON, each named by its
// first second. Only the newest chunk is ever rewritten.
type timeline struct {
	o      *Orchestrator
	id     string
	chunks []*tlChunk
	last   int64 // last second persisted, -1 if none
	hasDir bool
}

type tlChunk struct {
	path   string
	first  int64
	points []report.Point
	size   int // bytes of the points' JSON array
	stored bool
}

func (o *Orchestrator) restoreTimeline(ctx context.Context, id string) (*timeline, error) {
	tl := &timeline{o: o, id: id, last: -1}
	found, err := proto.ReadChunks(ctx, o.c, o.p.TimelineDir(id), func(node string, pts []report.Point, size int) {
		tl.chunks = append(tl.chunks, &tlChunk{path: node, first: pts[0].Second, points: pts, size: size, stored: true})
		for _, p := range pts {
			tl.last = max(tl.last, p.Second)
		}
	})
	if err != nil {
		return nil, err
	}
	tl.hasDir = found
	sort.Slice(tl.chunks, func(i, j int) bool { return tl.chunks[i].first < tl.chunks[j].first })
	return tl, nil
}

func (tl *timeline) next() int64 { return tl.last + 1 }

// add appends new points and returns the ops that persist them: every
// chunk they touched and every chunk not yet stored (a transaction that
// failed leaves its chunks to the next one), and the directory if it is
// not there yet. The caller runs them, fenced, and calls stored on success.
func (tl *timeline) add(pts []report.Point) []coord.Op {
	touched := map[*tlChunk]bool{}
	for _, p := range pts {
		b, _ := json.Marshal(p)
		var c *tlChunk
		if n := len(tl.chunks); n > 0 {
			c = tl.chunks[n-1]
		}
		if c == nil || (len(c.points) > 0 && c.size+len(b)+1 > proto.ChunkBytes) {
			c = &tlChunk{path: tl.o.p.TimelineChunk(tl.id, p.Second), first: p.Second, size: 2}
			tl.chunks = append(tl.chunks, c)
		}
		c.points = append(c.points, p)
		c.size += len(b) + 1
		touched[c] = true
		tl.last = max(tl.last, p.Second)
	}
	var ops []coord.Op
	for _, c := range tl.chunks {
		if !touched[c] && c.stored {
			continue
		}
		data, _ := json.Marshal(c.points)
		if c.stored {
			ops = append(ops, coord.SetOp{Path: c.path, Data: data, Version: -1})
		} else {
			ops = append(ops, coord.CreateOp{Path: c.path, Data: data})
		}
	}
	if len(ops) > 0 && !tl.hasDir {
		ops = append([]coord.Op{coord.CreateOp{Path: tl.o.p.TimelineDir(tl.id)}}, ops...)
	}
	return ops
}

// stored records that the ops of the last add were persisted, in a
// transaction that may also have carried nothing of the timeline (the live
// node alone): the directory exists once a chunk does.
func (tl *timeline) stored() {
	for _, c := range tl.chunks {
		c.stored = true
	}
	tl.hasDir = tl.hasDir || len(tl.chunks) > 0
}

// recent is the newest n points.
func (tl *timeline) recent(n int) []report.Point {
	var out []report.Point
	for i := len(tl.chunks) - 1; i >= 0 && len(out) < n; i-- {
		pts := tl.chunks[i].points
		take := min(n-len(out), len(pts))
		out = append(append([]report.Point(nil), pts[len(pts)-take:]...), out...)
	}
	return out
}
