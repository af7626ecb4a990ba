package orchestrator

import (
	"context"

	"github.com/stampede-load/stampede/pkg/coord"
)

// MultiBytes bounds the data of one transaction, half of ZooKeeper's 1 MB
// request limit (jute.maxbuffer) so that paths and framing always fit.
const MultiBytes = 512 << 10

// batches cuts ops into consecutive groups whose data stays within
// MultiBytes (an op larger than that is a group of its own).
func batches(ops []coord.Op) [][]coord.Op {
	var out [][]coord.Op
	start, size := 0, 0
	for i, op := range ops {
		n := opBytes(op)
		if i > start && size+n > MultiBytes {
			out = append(out, ops[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(ops) {
		out = append(out, ops[start:])
	}
	return out
}

func opBytes(op coord.Op) int {
	switch o := op.(type) {
	case coord.CreateOp:
		return len(o.Data) + len(o.Path) + 16
	case coord.SetOp:
		return len(o.Data) + len(o.Path) + 16
	case coord.DeleteOp:
		return len(o.Path) + 16
	case coord.CheckOp:
		return len(o.Path) + 16
	}
	return 64
}

// multiBatched runs ops as fenced transactions of at most MultiBytes each,
// in order. Each batch is atomic; the whole is not, so callers write what
// may be seen early first and the node that makes it count last.
func (o *Orchestrator) multiBatched(ctx context.Context, l *coord.Leader, ops []coord.Op) error {
	for _, b := range batches(ops) {
		if err := l.Multi(ctx, b...); err != nil {
			return err
		}
	}
	return nil
}
