package proto

import "encoding/json"

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
