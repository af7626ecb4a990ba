package load

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/load/client"
	"github.com/stampede-load/stampede/pkg/report"
)

// slot is what one load goroutine records into between two collections:
// its histograms and counters. A slot is written by exactly one goroutine
// (its lane) and read by the collector only after the lane has let go of it
// (see lane.record and lane.swap), so it needs no lock.
type slot struct {
	lat, svc *hist.Histogram // svc is nil for closed models
	requests int64
	errors   int64
	late     int64
	bytesIn  int64
	bytesOut int64
	kinds    [numErrKinds]int64
	status   [600]int64
	// byName: record one packed word per request in named (see names.go)
	byName bool
	named  []uint64
}

// Error kinds counted by the engine: the client's failure kinds plus an
// unexpected status.
const (
	kindStatus  = int(client.NumKinds)
	numErrKinds = kindStatus + 1
)

var errKindNames = [numErrKinds]string{
	int(client.Timeout):             report.ErrTimeout,
	int(client.Refused):             report.ErrRefused,
	int(client.Reset):               report.ErrReset,
	int(client.IO):                  report.ErrIO,
	int(client.Other):               report.ErrOther,
	int(client.TooLarge):            report.ErrTooLarge,
	int(client.TLSHandshake):        client.TLSHandshake.String(),
	int(client.TLSUnknownAuthority): client.TLSUnknownAuthority.String(),
	int(client.TLSExpired):          client.TLSExpired.String(),
	int(client.TLSNameMismatch):     client.TLSNameMismatch.String(),
	kindStatus:                      report.ErrStatus,
}

func newSlot(service bool) *slot {
	s := &slot{lat: hist.New()}
	if service {
		s.svc = hist.New()
	}
	return s
}

// reset empties the slot for reuse.
func (s *slot) reset() {
	s.lat.Reset()
	if s.svc != nil {
		s.svc.Reset()
	}
	lat, svc, byName, named := s.lat, s.svc, s.byName, s.named[:0]
	*s = slot{lat: lat, svc: svc, byName: byName, named: named}
}

// addTo merges the slot into an interval.
func (s *slot) addTo(iv *Interval) {
	iv.Latency.Merge(s.lat)
	if s.svc != nil {
		iv.Service.Merge(s.svc)
	}
	c := &iv.Counters
	c.Requests += s.requests
	c.Errors += s.errors
	c.Late += s.late
	c.BytesIn += s.bytesIn
	c.BytesOut += s.bytesOut
	for k, n := range s.kinds {
		if n > 0 {
			if c.ErrorKinds == nil {
				c.ErrorKinds = map[string]int64{}
			}
			c.ErrorKinds[errKindNames[k]] += n
		}
	}
	for code, n := range s.status {
		if n > 0 {
			if c.Status == nil {
				c.Status = map[string]int64{}
			}
			c.Status[report.StatusKey(code)] += n
		}
	}
}

// lane is one load goroutine's recording state. The lane writes into cur
// inside a record section bracketed by seq (odd while inside); the
// collector swaps cur for an empty slot and then waits until seq shows that
// no record section that could have seen the old slot is still running.
// A record section contains no I/O, so that wait is at most a few hundred
// nanoseconds. Per request this costs two atomic stores and one atomic load.
type lane struct {
	cur atomic.Pointer[slot]
	seq atomic.Uint64
	n   uint64 // the lane's own copy of seq
	// inflight counts a live run's requests sent and not yet done
	// (course.go, Drain)
	inflight atomic.Int64
}

// outcome is one finished request, as the lane records it.
type outcome struct {
	res       client.Result
	scheduled time.Time // open models: when it was due; closed: the send
	sent      time.Time
	done      time.Time
	late      bool
	// entry is the index of the request entry sent (the request, or one
	// entry of requests_mix): the key for anything recorded per entry.
	entry    int
	expected *[600]bool
}

// record adds one request to the lane's current slot.
func (l *lane) record(o *outcome) {
	l.n++
	l.seq.Store(l.n) // odd: inside
	s := l.cur.Load()
	s.requests++
	s.bytesOut += int64(o.res.BytesOut)
	if o.late {
		s.late++
	}
	us := o.done.Sub(o.scheduled).Microseconds()
	s.lat.RecordMicros(us)
	if s.svc != nil {
		s.svc.RecordMicros(o.done.Sub(o.sent).Microseconds())
	}
	var outcome int
	isErr := false
	switch {
	case o.res.Kind != client.OK:
		s.errors++
		s.kinds[o.res.Kind]++
		outcome, isErr = 600+int(o.res.Kind), true
	default:
		s.bytesIn += int64(o.res.BytesIn)
		code := o.res.Status
		if code < 0 || code >= len(s.status) {
			code = 0
		}
		s.status[code]++
		outcome = code
		if !o.expected[code] {
			s.errors++
			s.kinds[kindStatus]++
			isErr = true
		}
	}
	if s.byName {
		s.named = append(s.named, pack(o.entry, us, outcome, isErr))
	}
	l.n++
	l.seq.Store(l.n) // even: outside
}

// swap replaces the lane's slot with fresh and returns the old one once the
// lane can no longer be writing to it. Only the collector calls swap.
func (l *lane) swap(fresh *slot) *slot {
	old := l.cur.Swap(fresh)
	if s := l.seq.Load(); s%2 == 1 {
		for l.seq.Load() == s {
			runtime.Gosched()
		}
	}
	return old
}
