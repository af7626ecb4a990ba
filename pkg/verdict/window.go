package verdict

import (
	"github.com/stampede-load/stampede/pkg/hist"
)

// buffer keeps the last size seconds of one scope: counters always, the
// latency histogram's buckets only if a latency threshold needs them (a
// few hundred buckets, not a whole histogram, per second).
type buffer struct {
	size    int64
	latency bool
	secs    []winSec // increasing index, at most size
}

type winSec struct {
	idx      int64
	secs     float64
	requests int64
	errors   int64
	status   map[string]int64
	bars     []hist.Bar
}

func (b *buffer) add(idx int64, secs float64, sl Slice) {
	w := winSec{idx: idx, secs: secs, requests: sl.Counters.Requests, errors: sl.Counters.Errors}
	if len(sl.Counters.Status) > 0 {
		w.status = make(map[string]int64, len(sl.Counters.Status))
		for k, v := range sl.Counters.Status {
			w.status[k] = v
		}
	}
	if b.latency && sl.Hist != nil {
		w.bars = sl.Hist.Bars()
	}
	b.secs = append(b.secs, w)
	for len(b.secs) > 0 && b.secs[0].idx <= idx-b.size {
		b.secs = b.secs[1:]
	}
}

// stats merges the window of n seconds that ends with second last.
func (b *buffer) stats(last, n int64, scratch *hist.Histogram) Stats {
	scratch.Reset()
	var st Stats
	var secs float64
	for _, w := range b.secs {
		if w.idx <= last-n || w.idx > last {
			continue
		}
		st.Requests += w.requests
		st.Errors += w.errors
		secs += w.secs
		for k, v := range w.status {
			if st.Status == nil {
				st.Status = map[string]int64{}
			}
			st.Status[k] += v
		}
		for _, bar := range w.bars {
			scratch.RecordN(bar.Value, bar.Count)
		}
	}
	if secs > 0 {
		st.RPS = float64(st.Requests) / secs
	}
	st.Latency = scratch.Summary()
	return st
}
