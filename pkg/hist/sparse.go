package hist

import (
	"errors"
	"sync"
)

// Sparse is a decoded histogram kept as its non-empty buckets only: what
// merging an interval (a few dozen buckets) into other histograms needs,
// without allocating, clearing and walking a dense counts array of some
// 20,000 buckets. The leader merges one per worker-second.
type Sparse struct {
	vals   []int64 // a value of each non-empty bucket, increasing
	counts []int64
	idx    []int // each bucket's counts index (-1: not known, see DecodeSparse)
	total  int64
}

// Count is the number of values.
func (s *Sparse) Count() int64 { return s.total }

var (
	bucketOnce sync.Once
	bucketVal  []int64 // bucketVal[i] is the lowest value of counts index i
)

// bucketValues is the lowest value of every bucket, in index order.
func bucketValues() []int64 {
	bucketOnce.Do(func() {
		bucketVal = make([]int64, countsLen)
		for i := range bucketVal {
			bucketVal[i] = lowestAt(i)
		}
	})
	return bucketVal
}

// DecodeSparse parses the V2 compressed base64 encoding, with the same
// checks as Decode.
func DecodeSparse(s string) (*Sparse, error) {
	sp := &Sparse{}
	if s == "" {
		return sp, nil
	}
	payload, release, err := inflate(s)
	if errors.Is(err, errOtherGeometry) {
		h, err := Decode(s) // the general path, then its non-empty buckets
		if err != nil {
			return nil, err
		}
		for i := h.c.lo; i <= h.c.hi; i++ {
			if n := h.c.c[i]; n > 0 {
				sp.vals, sp.counts, sp.total = append(sp.vals, lowestAt(i)), append(sp.counts, n), sp.total+n
				sp.idx = append(sp.idx, i)
			}
		}
		return sp, nil
	}
	if err != nil {
		return nil, err
	}
	defer release()
	vals := bucketValues()
	if len(vals) != countsLen {
		return nil, errors.New("hist: bucket table differs from the geometry")
	}
	err = eachCount(payload, countsLen, func(i int, c int64) {
		sp.vals, sp.counts, sp.total = append(sp.vals, vals[i]), append(sp.counts, c), sp.total+c
		sp.idx = append(sp.idx, i)
	})
	if err != nil {
		return nil, err
	}
	return sp, nil
}

// MergeSparse adds every value of s into h.
func (h *Histogram) MergeSparse(s *Sparse) {
	for i, v := range s.vals {
		if j := s.idx[i]; j >= 0 {
			h.c.add(j, s.counts[i])
		} else {
			h.c.recordValue(v, s.counts[i]) // in range: a value of a bucket of the geometry
		}
	}
}

// Percentile is the value in µs at percentile p (0-100), exactly what
// Percentile of the dense histogram answers: the highest value equivalent
// to the bucket where the rank is reached (the lowest, for p = 0).
func (s *Sparse) Percentile(p float64) int64 {
	if s.total == 0 {
		return 0
	}
	p = min(max(p, 0), 100)
	rank := p/100*float64(s.total) + 0.5
	want := int64(rank)
	switch {
	case !(rank >= 1):
		want = 1
	case rank >= float64(s.total):
		want = s.total
	}
	var sum int64
	for i, c := range s.counts {
		sum += c
		if sum < want {
			continue
		}
		vals := bucketValues()
		if p == 0 {
			return s.vals[i]
		}
		if j := s.idx[i]; j >= 0 && j+1 < len(vals) {
			return vals[j+1] - 1
		}
		break // the last bucket, or a bucket of another geometry
	}
	dense := New()
	dense.MergeSparse(s)
	return dense.Percentile(p)
}
