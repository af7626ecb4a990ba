package orchestrator

import (
	"context"
	"errors"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// lines writes a test's per-worker lines in chunks beside the result and
// the live node (proto.Paths.LinesDir), so that neither grows with the
// fleet.
type lines struct {
	o      *Orchestrator
	id     string
	hasDir bool
	stored int // chunks that exist
}

func (o *Orchestrator) restoreLines(ctx context.Context, id string) (*lines, error) {
	ls := &lines{o: o, id: id}
	names, err := o.c.Children(ctx, o.p.LinesDir(id))
	if errors.Is(err, coord.ErrNoNode) {
		return ls, nil
	}
	if err != nil {
		return nil, err
	}
	ls.hasDir, ls.stored = true, len(names)
	return ls, nil
}

// write replaces the stored lines, in fenced transactions of at most
// MultiBytes each.
func (ls *lines) write(ctx context.Context, l *coord.Leader, all []report.WorkerSummary) error {
	p := ls.o.p
	var ops []coord.Op
	if !ls.hasDir {
		ops = append(ops, coord.CreateOp{Path: p.LinesDir(ls.id)})
	}
	chunks := proto.Chunk(all, proto.ChunkBytes)
	for i, c := range chunks {
		data := proto.Marshal(c)
		if i < ls.stored {
			ops = append(ops, coord.SetOp{Path: p.LinesChunk(ls.id, i), Data: data, Version: -1})
		} else {
			ops = append(ops, coord.CreateOp{Path: p.LinesChunk(ls.id, i), Data: data})
		}
	}
	for i := len(chunks); i < ls.stored; i++ {
		ops = append(ops, coord.DeleteOp{Path: p.LinesChunk(ls.id, i), Version: -1})
	}
	if err := ls.o.multiBatched(ctx, l, ops); err != nil {
		return err
	}
	ls.hasDir, ls.stored = true, len(chunks)
	return nil
}
