package server

import (
	"sync/atomic"
	"time"
)

// stall makes every response that would complete inside a window wait until
// the window ends: a target that "freezes" for a while, which the engine's
// coordinated-omission test needs. It is safe for concurrent use.
type stall struct {
	until atomic.Int64 // unix nanoseconds; 0 or in the past means no stall
}

// start opens (or extends) a stall window of length d from now. A shorter
// window never shortens one already in force.
func (s *stall) start(now time.Time, d time.Duration) time.Time {
	end := now.Add(d).UnixNano()
	for {
		cur := s.until.Load()
		if cur >= end {
			return time.Unix(0, cur)
		}
		if s.until.CompareAndSwap(cur, end) {
			return time.Unix(0, end)
		}
	}
}

// wait blocks until no stall window covers the current time. It returns at
// once when there is none, which is the common case (one atomic load).
func (s *stall) wait() {
	for {
		end := s.until.Load()
		if end == 0 {
			return
		}
		left := time.Until(time.Unix(0, end))
		if left <= 0 {
			return
		}
		time.Sleep(left)
	}
}
