package orchestrator

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
)

// histLog persists the merged histogram of every second of a running test
// (tests/<id>/hists), as the timeline persists its points, so that the
// interval-log export exists after the test and on every master. Chunks
// are rewritten whole, fenced, by the leader.
type histLog struct {
	o      *Orchestrator
	id     string
	chunks map[int64][]proto.SecondHist
	exists map[int64]bool
	dirty  map[int64]bool
	dir    bool
}

func (o *Orchestrator) restoreHistLog(ctx context.Context, id string) (*histLog, error) {
	hl := &histLog{o: o, id: id, chunks: map[int64][]proto.SecondHist{}, exists: map[int64]bool{}, dirty: map[int64]bool{}}
	found, err := proto.ReadChunks(ctx, o.c, o.p.HistDir(id), func(_ string, hs []proto.SecondHist, _ int) {
		c := hs[0].Second / proto.HistChunkSeconds
		hl.chunks[c], hl.exists[c] = hs, true
	})
	if err != nil {
		return nil, err
	}
	hl.dir = found
	return hl, nil
}

// add takes one merged second (h nil: nobody reported it).
func (hl *histLog) add(second int64, h *hist.Histogram) {
	if h == nil {
		h = hist.New()
	}
	enc, err := h.Encode()
	if err != nil {
		return
	}
	c := second / proto.HistChunkSeconds
	hl.chunks[c] = append(hl.chunks[c], proto.SecondHist{Second: second, Hist: enc})
	hl.dirty[c] = true
}

// flush writes the chunks that changed.
func (hl *histLog) flush(ctx context.Context, l *coord.Leader) error {
	if len(hl.dirty) == 0 {
		return nil
	}
	var ops []coord.Op
	if !hl.dir {
		ops = append(ops, coord.CreateOp{Path: hl.o.p.HistDir(hl.id)})
	}
	cs := make([]int64, 0, len(hl.dirty))
	for c := range hl.dirty {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i] < cs[j] })
	for _, c := range cs {
		data, _ := json.Marshal(hl.chunks[c])
		if hl.exists[c] {
			ops = append(ops, coord.SetOp{Path: hl.o.p.HistChunk(hl.id, c), Data: data, Version: -1})
		} else {
			ops = append(ops, coord.CreateOp{Path: hl.o.p.HistChunk(hl.id, c), Data: data})
		}
	}
	if err := l.Multi(ctx, ops...); err != nil {
		return err
	}
	hl.dir = true
	for _, c := range cs {
		hl.exists[c] = true
	}
	hl.dirty = map[int64]bool{}
	return nil
}
