package load

import (
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
)

// NameInterval is one request name's part of an Interval: the latencies and
// counters of the requests of that name (errors and status codes included).
type NameInterval struct {
	Name     string
	Latency  *hist.Histogram
	Counters report.Counters
}

// Per-name recording. With more than one name, a lane appends one packed
// word per request to its slot (no allocation once the slot's buffer has
// grown to a second's worth of requests, since slots are reused); Collect
// folds the words into one histogram and counters per name, off the load
// path. With a single name, the name's numbers are the interval's.
//
// A word holds, from the low bits: the latency in µs (37 bits, far above
// hist.Highest), the outcome (10 bits: a status code 0-599, or 600 + an
// error kind), whether it is an error (1 bit) and the entry index (16 bits).
const (
	usBits      = 37
	outcomeBits = 10
	entryShift  = usBits + outcomeBits + 1
	maxEntries  = 1 << 16
)

func pack(entry int, us int64, outcome int, isErr bool) uint64 {
	if us < 0 {
		us = 0
	} else if us >= 1<<usBits {
		us = 1<<usBits - 1
	}
	w := uint64(us) | uint64(outcome)<<usBits | uint64(entry)<<entryShift
	if isErr {
		w |= 1 << (usBits + outcomeBits)
	}
	return w
}

func unpack(w uint64) (entry int, us int64, outcome int, isErr bool) {
	return int(w >> entryShift), int64(w & (1<<usBits - 1)), int(w >> usBits & (1<<outcomeBits - 1)), w>>(usBits+outcomeBits)&1 == 1
}

// nameIndex maps each entry to its name's index in names.
func nameIndex(names []string) (idx []int, distinct []string) {
	pos := map[string]int{}
	for _, n := range names {
		i, ok := pos[n]
		if !ok {
			i = len(distinct)
			pos[n] = i
			distinct = append(distinct, n)
		}
		idx = append(idx, i)
	}
	return idx, distinct
}

// newRunSlot is a slot for this run's lanes.
func (r *Run) newRunSlot() *slot {
	s := newSlot(r.open)
	s.byName = len(r.names) > 1 && len(r.entryName) <= maxEntries
	return s
}

// splitNames fills iv.Names from the slots' words (already folded into
// acc) or, with a single name, from the interval itself.
func (r *Run) splitNames(iv *Interval, acc []NameInterval) {
	if len(r.names) == 1 {
		iv.Names = []NameInterval{{Name: r.names[0], Latency: iv.Latency.Clone(), Counters: cloneCounters(iv.Counters)}}
		return
	}
	iv.Names = acc
}

// newNameAcc is an empty per-name accumulator for one Collect.
func (r *Run) newNameAcc() []NameInterval {
	if len(r.names) <= 1 {
		return nil
	}
	acc := make([]NameInterval, len(r.names))
	for i, n := range r.names {
		acc[i] = NameInterval{Name: n, Latency: hist.New()}
	}
	return acc
}

// foldNames adds a slot's words to the per-name accumulator.
func (r *Run) foldNames(s *slot, acc []NameInterval) {
	for _, w := range s.named {
		entry, us, outcome, isErr := unpack(w)
		if entry >= len(r.entryName) {
			continue
		}
		n := &acc[r.entryName[entry]]
		n.Latency.RecordMicros(us)
		c := &n.Counters
		c.Requests++
		if outcome >= 600 {
			k := outcome - 600
			if k < numErrKinds {
				addKey(&c.ErrorKinds, errKindNames[k])
			}
		} else {
			addKey(&c.Status, report.StatusKey(outcome))
			if isErr {
				addKey(&c.ErrorKinds, report.ErrStatus)
			}
		}
		if isErr {
			c.Errors++
		}
	}
}

func addKey(m *map[string]int64, k string) {
	if *m == nil {
		*m = map[string]int64{}
	}
	(*m)[k]++
}

func cloneCounters(c report.Counters) report.Counters {
	out := c
	out.ErrorKinds, out.Status = nil, nil
	for k, v := range c.ErrorKinds {
		addKeyN(&out.ErrorKinds, k, v)
	}
	for k, v := range c.Status {
		addKeyN(&out.Status, k, v)
	}
	return out
}

func addKeyN(m *map[string]int64, k string, n int64) {
	if *m == nil {
		*m = map[string]int64{}
	}
	(*m)[k] += n
}
