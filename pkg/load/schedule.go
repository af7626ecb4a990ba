package load

import (
	"math"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Schedule is an open model's arrival schedule for one worker. It is a pure
// function of the request index: it never reads the clock, so every
// schedule is table-tested without sleeping.
//
// Worker Index of Of takes every Of-th request of one global stream,
// starting at its own index: global request k = n·Of + Index is due when
// the cumulative rate ∫r reaches k. The merged arrivals of all workers are
// therefore exactly one generator's stream, with no burst on a shared tick.
type Schedule interface {
	// At is the start offset of this worker's n-th request (0-based) from
	// the run's start, and false if the schedule ends before it.
	At(n int64) (time.Duration, bool)
	// Rate is this worker's scheduled rate (req/s) at elapsed.
	Rate(elapsed time.Duration) float64
}

// segment is a linear piece of the global rate: from r0 to r1 over dur
// seconds, starting at t0 seconds when c0 requests were due.
type segment struct {
	t0, dur, r0, r1, c0 float64
}

func (s segment) count() float64 { return (s.r0 + s.r1) / 2 * s.dur }

// rampSchedule is a piecewise-linear global rate split over Of workers.
// Live changes (course.go) rebuild it: the global stream keeps its
// numbering, and epochs say which of its requests this worker takes.
type rampSchedule struct {
	segs  []segment
	end   float64 // seconds; no request is due at or after end
	of    int64
	index int64
	// epochs split the global stream where the worker's share changed
	// (a rebalance); one epoch from 0 without one.
	epochs []epoch
}

// epoch is a stretch of the global stream [k0, next epoch's k0) over which
// this worker takes global requests k0+idx, k0+idx+of, ...; of == 0: none.
// n0 is how many requests the worker took before it.
type epoch struct {
	k0, n0, of, idx int64
}

var _ Schedule = (*rampSchedule)(nil)

// ConstantSchedule is globalRate req/s over all workers for up to bound;
// this worker (index of of) takes its share.
func ConstantSchedule(globalRate float64, bound time.Duration, sh plan.Share) Schedule {
	return newRamp([]segment{{t0: 0, dur: bound.Seconds(), r0: globalRate, r1: globalRate}}, sh)
}

// RampSchedule follows stages (targets are global req/s) from startRate.
func RampSchedule(startRate float64, stages []spec.Stage, sh plan.Share) Schedule {
	segs := make([]segment, 0, len(stages))
	t, r, c := 0.0, startRate, 0.0
	for _, st := range stages {
		s := segment{t0: t, dur: st.Duration.D.Seconds(), r0: r, r1: st.Target, c0: c}
		segs = append(segs, s)
		t, r, c = t+s.dur, st.Target, c+s.count()
	}
	return newRamp(segs, sh)
}

func newRamp(segs []segment, sh plan.Share) *rampSchedule {
	of, idx := int64(sh.Of), int64(sh.Index)
	if of < 1 {
		of, idx = 1, 0
	}
	end := 0.0
	c := 0.0
	for i := range segs {
		segs[i].c0 = c
		c += segs[i].count()
		end = segs[i].t0 + segs[i].dur
	}
	return &rampSchedule{segs: segs, end: end, of: of, index: idx, epochs: []epoch{{of: of, idx: idx}}}
}

// global is the global stream index of this worker's n-th request.
func (s *rampSchedule) global(n int64) (int64, bool) {
	if n < 0 {
		return 0, false
	}
	for i, e := range s.epochs {
		if i+1 < len(s.epochs) && n >= s.epochs[i+1].n0 {
			continue
		}
		if e.of == 0 {
			return 0, false
		}
		return e.k0 + (n-e.n0)*e.of + e.idx, true
	}
	return 0, false
}

// At implements Schedule.
func (s *rampSchedule) At(n int64) (time.Duration, bool) {
	g, ok := s.global(n)
	if !ok {
		return 0, false
	}
	k := float64(g)
	for _, seg := range s.segs {
		c := seg.count()
		if k >= seg.c0+c || c == 0 {
			continue
		}
		x := k - seg.c0
		// Solve r0·τ + a·τ²/2 = x with a = (r1-r0)/dur, in the form that
		// is stable for a = 0 and a < 0: τ = 2x / (r0 + √(r0² + 2ax)).
		a := (seg.r1 - seg.r0) / seg.dur
		disc := math.Max(seg.r0*seg.r0+2*a*x, 0)
		den := seg.r0 + math.Sqrt(disc)
		tau := 0.0
		if den > 0 {
			tau = 2 * x / den
		}
		t := seg.t0 + tau
		if t >= s.end {
			return 0, false
		}
		return time.Duration(t * float64(time.Second)), true
	}
	return 0, false
}

// Rate implements Schedule.
func (s *rampSchedule) Rate(elapsed time.Duration) float64 {
	t := elapsed.Seconds()
	of := s.of
	for _, e := range s.epochs {
		if float64(e.k0) <= s.countAt(t) {
			of = e.of
		}
	}
	if of == 0 {
		return 0
	}
	for _, seg := range s.segs {
		if t >= seg.t0 && t < seg.t0+seg.dur {
			return (seg.r0 + (seg.r1-seg.r0)*(t-seg.t0)/seg.dur) / float64(of)
		}
	}
	return 0
}

// countAt is how many global requests are due before t seconds.
func (s *rampSchedule) countAt(t float64) float64 {
	c := 0.0
	for _, seg := range s.segs {
		switch {
		case t >= seg.t0+seg.dur:
			c = seg.c0 + seg.count()
		case t > seg.t0:
			tau := t - seg.t0
			a := (seg.r1 - seg.r0) / seg.dur
			return seg.c0 + seg.r0*tau + a*tau*tau/2
		}
	}
	return c
}

// Expected is how many requests this worker's schedule holds in total
// (before any request budget).
func (s *rampSchedule) Expected() int64 {
	total := 0.0
	for _, seg := range s.segs {
		total += seg.count()
	}
	// global requests k < total that fall to this worker, epoch by epoch
	kEnd := int64(math.Ceil(total)) // first k with k >= total
	var n int64
	for i, e := range s.epochs {
		next := kEnd
		if i+1 < len(s.epochs) {
			next = min(s.epochs[i+1].k0, kEnd)
		}
		n += takes(e, next)
	}
	return n
}

// takes is how many of the global requests [e.k0, next) epoch e gives
// this worker.
func takes(e epoch, next int64) int64 {
	span := next - e.k0 - e.idx
	if e.of == 0 || span <= 0 {
		return 0
	}
	return (span + e.of - 1) / e.of
}

// scheduleFor builds the schedule of an open-model plan.
func scheduleFor(p *Plan) *rampSchedule {
	l := &p.Spec.Load
	of := max(p.Share.Of, 1)
	switch l.Model {
	case spec.ModelConstantRate:
		rate := l.Rate
		if l.RatePerWorker > 0 {
			rate = l.RatePerWorker * float64(of)
		}
		return ConstantSchedule(rate, l.RunBound(), p.Share).(*rampSchedule)
	case spec.ModelRampingRate:
		s := RampSchedule(l.StartRate, l.Stages, p.Share).(*rampSchedule)
		if b := l.RunBound().Seconds(); b < s.end {
			s.end = b
		}
		return s
	}
	return nil
}
