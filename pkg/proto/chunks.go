package proto

import (
	"context"
	"encoding/json"
	"errors"
	"path"
	"slices"

	"github.com/stampede-load/stampede/pkg/coord"
)

// Chunk splits items into consecutive runs whose JSON arrays each stay
// within limit bytes (an item larger than limit gets a run of its own).
// It is how the timeline and the per-worker lines are cut into nodes.
func Chunk[T any](items []T, limit int) [][]T {
	var out [][]T
	start, size := 0, 2 // "[]"
	for i, it := range items {
		b, _ := json.Marshal(it)
		n := len(b) + 1 // the comma
		if i > start && size+n > limit {
			out = append(out, items[start:i])
			start, size = i, 2
		}
		size += n
	}
	if start < len(items) {
		out = append(out, items[start:])
	}
	return out
}

// ReadChunks reads back what Chunk cut: every node under dir, each a JSON
// array of T, calling each in the order of the (zero-padded) names with the
// node's path, its items and its size in bytes. A node that vanished
// between the listing and the read (a pruned test), or that is empty or
// does not decode, is skipped. found is false when dir does not exist.
func ReadChunks[T any](ctx context.Context, c *coord.Client, dir string, each func(node string, items []T, size int)) (found bool, err error) {
	names, err := c.Children(ctx, dir)
	if errors.Is(err, coord.ErrNoNode) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	slices.Sort(names) // ZooKeeper lists children in no particular order
	for _, n := range names {
		node := path.Join(dir, n)
		d, _, err := c.Get(ctx, node)
		if errors.Is(err, coord.ErrNoNode) {
			continue
		}
		if err != nil {
			return true, err
		}
		var items []T
		if json.Unmarshal(d, &items) != nil || len(items) == 0 {
			continue
		}
		each(node, items, len(d))
	}
	return true, nil
}
