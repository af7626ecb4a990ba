package hist

import (
	"math"
	"math/bits"

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

// counts is a prefix of the counts array, grown on demand, with the range
// of non-zero indexes [lo, hi] (lo > hi when empty) and their total.
type counts struct {
	c      []int64
	lo, hi int
	total  int64
}

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
	if i >= len(c.c) {
		c.grow(i)
	}
	c.c[i] += n
	c.total += n
	c.lo, c.hi = min(c.lo, i), max(c.hi, i)
	return true
}

// grow makes index i addressable, at least doubling the array (bounded by
// countsLen) so that growth is amortised.
func (c *counts) grow(i int) {
	n := min(max(i+1, 2*len(c.c), subHalf), countsLen)
	grown := make([]int64, n)
	copy(grown, c.c)
	c.c = grown
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
	if c.hi >= 0 {
		clear(c.c[c.lo : c.hi+1])
	}
	c.lo, c.hi, c.total = math.MaxInt, -1, 0
}

// merge adds every count of o; it returns how many values were dropped
// because the total would overflow.
func (c *counts) merge(o *counts) (dropped int64) {
	if o.hi >= len(c.c) {
		c.grow(o.hi) // once, not at every index past the end
	}
	for i := o.lo; i <= o.hi; i++ {
		if n := o.c[i]; n != 0 && !c.add(i, n) {
			dropped += n
		}
	}
	return dropped
}

// equal says whether both hold the same counts.
func (c *counts) equal(o *counts) bool {
	if c.total != o.total || c.lo != o.lo || c.hi != o.hi {
		return false
	}
	for i := c.lo; i <= c.hi; i++ {
		if c.c[i] != o.c[i] {
			return false
		}
	}
	return true
}

// indexAtRank is the first index where the running count reaches rank.
func (c *counts) indexAtRank(rank int64) int {
	var sum int64
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
