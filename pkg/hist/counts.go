package hist

import (
	"math"
	"math/bits"
	"slices"
	"sort"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The counts array of a histogram of Stampede's geometry, kept here rather
// than in the library's Histogram so that every operation costs what the
// recorded range needs, not the whole array: the library copies all of its
// ~21,500 counts (172 KB) to encode one histogram, clears them all to reset
// it and walks them all to merge it or to read its minimum. A worker
// encodes two histograms and resets several every second, and the fleet
// simulator runs thousands of workers in one process, where that dominated
// (docs/scale.md, "Profiling the simulator").
//
// Index arithmetic is HdrHistogram's for a lowest value of 1 (unit
// magnitude 0) and 3 significant digits: 2,048 sub-buckets of which the
// upper 1,024 are used from the second bucket on. TestCountsMatchTheLibrary
// holds every index and value to the library's.
const (
	subHalfMag = 10              // log2 of the half sub-bucket count
	subHalf    = 1 << subHalfMag // 1,024
	subMask    = 2*subHalf - 1   // the lowest 11 bits
)

// countsLen is the length of the library's counts array for the geometry:
// indexes at or past it cannot be recorded (the wire format's bound).
var countsLen = len(hdr.New(Lowest, Highest, SigFigs).Export().Counts)

// countsIndex is the counts index of value v (v ≥ 0).
func countsIndex(v int64) int {
	bucket := 64 - bits.LeadingZeros64(uint64(v)|subMask) - (subHalfMag + 1)
	sub := int(v >> uint(bucket))
	return (bucket+1)<<subHalfMag + sub - subHalf
}

// lowestAt is the lowest value of the bucket at counts index i, sizeAt the
// number of values equivalent to it.
func lowestAt(i int) int64 {
	bucket := i>>subHalfMag - 1
	sub := int64(i&(subHalf-1) + subHalf)
	if bucket < 0 {
		sub -= subHalf
		bucket = 0
	}
	return sub << uint(bucket)
}

func sizeAt(i int) int64 { return 1 << uint(max(i>>subHalfMag-1, 0)) }

// highestAt is the highest value equivalent to the bucket at index i.
func highestAt(i int) int64 { return lowestAt(i) + sizeAt(i) - 1 }

// counts holds a histogram's non-zero buckets in one of two forms, with
// the range of non-zero indexes [lo, hi] (lo > hi when empty) and their
// total. Small: while there are at most smallBuckets of them, their
// indexes and counts in increasing index order (c is nil) — an interval of
// a worker at a few requests a second stays a few dozen bytes, where a
// dense array covering 1 ms to 100 ms is some 60 KB to allocate, clear and
// copy (the fleet simulator spent most of its time doing that for its
// thousands of workers' fresh interval histograms, docs/scale.md). Dense:
// the whole counts array (172 KB), allocated once when the histogram turns
// dense — growing it with the values instead copied a cumulative histogram
// several times as a run's latencies rose, and the pages past the recorded
// range are never touched. A histogram that became dense stays dense
// through Reset, so one reused at a high rate allocates once.
type counts struct {
	c      []int64 // dense, or nil while small
	si     []int32 // small: the indexes of the non-zero buckets, increasing
	sn     []int64 // small: their counts
	lo, hi int
	total  int64
}

// smallBuckets is how many non-zero buckets a histogram holds before it
// turns dense: enough that a worker's cumulative histogram at a few
// requests a second stays small for minutes (at 64, all 2,000 simulated
// workers turned theirs dense within about one second, 6 s into a run,
// 4,000 allocations of 172 KB at once, where a gap second appeared). Past a few hundred buckets an insert moves
// a few kilobytes, still less than one dense array's clearing.
const smallBuckets = 1024

func emptyCounts() counts { return counts{lo: math.MaxInt, hi: -1} }

// add adds n ≥ 0 to index i < countsLen, unless the total would pass
// int64 (then it drops them, as the library does, and says so).
func (c *counts) add(i int, n int64) bool {
	if n > math.MaxInt64-c.total {
		return false
	}
	if n == 0 {
		return true
	}
	if c.c == nil && !c.addSmall(i, n) {
		c.densify()
	}
	if c.c != nil {
		c.c[i] += n
	}
	c.total += n
	c.lo, c.hi = min(c.lo, i), max(c.hi, i)
	return true
}

// addSmall adds n to index i of a small histogram; false if that would
// take it past smallBuckets (nothing is added then).
func (c *counts) addSmall(i int, n int64) bool {
	k := len(c.si)
	if k > 0 && int(c.si[k-1]) >= i { // not past the last: find its place
		k = sort.Search(len(c.si), func(j int) bool { return int(c.si[j]) >= i })
		if int(c.si[k]) == i {
			c.sn[k] += n
			return true
		}
	}
	if len(c.si) >= smallBuckets {
		return false
	}
	c.si = slices.Insert(c.si, k, int32(i))
	c.sn = slices.Insert(c.sn, k, n)
	return true
}

// densify turns a small histogram dense.
func (c *counts) densify() {
	d := make([]int64, countsLen)
	for k, j := range c.si {
		d[j] = c.sn[k]
	}
	c.c, c.si, c.sn = d, nil, nil
}

// each calls f with every non-zero bucket, in increasing index order.
func (c *counts) each(f func(i int, n int64)) {
	if c.c == nil {
		for k, i := range c.si {
			f(int(i), c.sn[k])
		}
		return
	}
	for i := c.lo; i <= c.hi; i++ {
		if n := c.c[i]; n != 0 {
			f(i, n)
		}
	}
}

// get is the count at index i.
func (c *counts) get(i int) int64 {
	if c.c != nil {
		return c.c[i]
	}
	if k, ok := slices.BinarySearch(c.si, int32(i)); ok {
		return c.sn[k]
	}
	return 0
}

// buckets is the number of non-zero buckets.
func (c *counts) buckets() int {
	if c.c == nil {
		return len(c.si)
	}
	n := 0
	c.each(func(int, int64) { n++ })
	return n
}

// recordValue adds n occurrences of v; false if v is past the geometry or
// the total would overflow.
func (c *counts) recordValue(v, n int64) bool {
	if v < 0 || n < 0 {
		return false
	}
	i := countsIndex(v)
	if i >= countsLen {
		return false
	}
	return c.add(i, n)
}

// reset empties the counts, clearing only the range that was used.
func (c *counts) reset() {
	if c.c != nil && c.hi >= 0 {
		clear(c.c[c.lo : c.hi+1])
	}
	c.si, c.sn = c.si[:0], c.sn[:0]
	c.lo, c.hi, c.total = math.MaxInt, -1, 0
}

// merge adds every count of o; it returns how many values were dropped
// because the total would overflow.
func (c *counts) merge(o *counts) (dropped int64) {
	if c.c == nil && c.hi < 0 && o.c == nil { // into an empty small one: a copy
		c.si, c.sn = append(c.si[:0], o.si...), append(c.sn[:0], o.sn...)
		c.lo, c.hi, c.total = o.lo, o.hi, o.total
		return 0
	}
	if o.c != nil && o.hi >= 0 && c.c == nil {
		c.densify() // a dense one has more than smallBuckets buckets, or had
	}
	o.each(func(i int, n int64) {
		if !c.add(i, n) {
			dropped += n
		}
	})
	return dropped
}

// equal says whether both hold the same counts.
func (c *counts) equal(o *counts) bool {
	if c.total != o.total || c.lo != o.lo || c.hi != o.hi || c.buckets() != o.buckets() {
		return false
	}
	same := true
	c.each(func(i int, n int64) { same = same && o.get(i) == n })
	return same
}

// indexAtRank is the first index where the running count reaches rank.
func (c *counts) indexAtRank(rank int64) int {
	var sum int64
	if c.c == nil {
		for k, n := range c.sn {
			if sum += n; sum >= rank {
				return int(c.si[k])
			}
		}
		return c.hi
	}
	for i := c.lo; i <= c.hi; i++ {
		sum += c.c[i]
		if sum >= rank {
			return i
		}
	}
	return c.hi
}

// percentileRank is the library's rank of percentile p among total values.
func percentileRank(p float64, total int64) int64 {
	rank := p/100*float64(total) + 0.5
	switch {
	case !(rank >= 1): // NaN, negative, below the first value
		return 1
	case rank >= float64(total):
		return total
	}
	return int64(rank)
}
