package hist

import "errors"

// Sparse is a decoded histogram kept as its non-empty buckets only: what
// merging an interval (a few dozen buckets) into other histograms needs,
// without allocating, clearing and walking a dense counts array of some
// 20,000 buckets. The leader merges one per worker-second.
type Sparse struct {
	idx    []int // the counts index of each non-empty bucket, increasing
	counts []int64
	total  int64
}

// Count is the number of values.
func (s *Sparse) Count() int64 { return s.total }

// DecodeSparse parses the V2 compressed base64 encoding, with the same
// checks as Decode.
func DecodeSparse(s string) (*Sparse, error) {
	sp := &Sparse{}
	if s == "" {
		return sp, nil
	}
	add := func(i int, n int64) {
		sp.idx, sp.counts, sp.total = append(sp.idx, i), append(sp.counts, n), sp.total+n
	}
	payload, release, err := inflate(s)
	if errors.Is(err, errOtherGeometry) {
		h, err := Decode(s) // the general path, then its non-empty buckets
		if err != nil {
			return nil, err
		}
		h.c.each(add)
		return sp, nil
	}
	if err != nil {
		return nil, err
	}
	defer release()
	if err := eachCount(payload, countsLen, add); err != nil {
		return nil, err
	}
	return sp, nil
}

// MergeSparse adds every value of s into h.
func (h *Histogram) MergeSparse(s *Sparse) {
	for k, i := range s.idx {
		h.c.add(i, s.counts[k])
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
	want := percentileRank(p, s.total)
	var sum int64
	for k, i := range s.idx {
		sum += s.counts[k]
		if sum < want {
			continue
		}
		if p == 0 {
			return lowestAt(i)
		}
		return highestAt(i)
	}
	return highestAt(s.idx[len(s.idx)-1]) // not reached: the counts sum to total
}
