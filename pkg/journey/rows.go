package journey

import (
	"math/rand/v2"
	"sync/atomic"

	"github.com/stampede-load/stampede/pkg/spec"
)

// Rows hands out one worker's data rows to its iterations. Safe for
// concurrent use.
type Rows struct {
	table spec.Table
	mode  string
	first int // unique: this worker's slice
	n     int
	next  atomic.Int64
}

// NewRows serves table in mode; for unique mode only rows
// [first, first+n) are this worker's (the plan's DataFirst, DataRows).
func NewRows(table spec.Table, mode string, first, n int) *Rows {
	r := &Rows{table: table, mode: mode, first: first, n: len(table.Rows)}
	if mode == spec.DataUnique {
		r.first = min(max(first, 0), len(table.Rows))
		r.n = min(max(n, 0), len(table.Rows)-r.first)
	}
	return r
}

// Next returns the row of the next iteration; ok is false once a unique
// slice is used up (the worker then starts no more iterations).
func (r *Rows) Next(rng *rand.Rand) (row []string, ok bool) {
	if r.n == 0 {
		return nil, false
	}
	switch r.mode {
	case spec.DataUnique:
		i := r.next.Add(1) - 1
		if i >= int64(r.n) {
			return nil, false
		}
		return r.table.Rows[r.first+int(i)], true
	case spec.DataRandom:
		return r.table.Rows[rng.IntN(r.n)], true
	default:
		i := (r.next.Add(1) - 1) % int64(r.n)
		return r.table.Rows[i], true
	}
}

// Columns are the table's column names.
func (r *Rows) Columns() []string { return r.table.Columns }
