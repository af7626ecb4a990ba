package load

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Live changes. A worker's run adopts a test's changes (plan.Change) while
// it runs: Adopt rebuilds the open model's schedule or the closed model's
// profile from the spec and every change so far, and swaps it in whole.
// The rebuilt schedule agrees with the old one before the change's second
// (the changes are written at least a second ahead), so the requests
// already due keep their times, the global stream keeps its numbering and
// every worker still takes exactly its share of it. A connection holding a
// ticket asks again at each second boundary at the latest, which is where
// changes take effect, and takes the ticket's time from the schedule then
// in force; latency keeps counting from that intended time.

// ErrNotLive means Adopt was called on a run prepared without
// Options.Live.
var ErrNotLive = errors.New("load: the run was not prepared for live changes")

// closedState is a closed model's connection profile; constant skips the
// profile for a fixed count that no change touched.
type closedState struct {
	profile  Profile
	constant bool
}

// Adopt makes the run follow the test's changes from now on (all of them,
// in order; the run keeps only what they add up to); ctx bounds the
// connecting of connections a closed model lacks. Safe for concurrent
// use with Run and Collect.
func (r *Run) Adopt(ctx context.Context, changes []plan.Change) error {
	if !r.live {
		return ErrNotLive
	}
	if r.journey != nil {
		return errors.New("load: scenarios take no live changes")
	}
	p := &r.plan
	course := plan.Follow(&p.Spec.Load, changes)
	r.course.Store(&course)
	if r.open {
		r.sched.Store(courseSchedule(p, course))
	} else {
		prof := courseProfile(p, course)
		if err := r.growTo(ctx, prof.Max()); err != nil {
			return err // the run keeps its course until it can hold the new one
		}
		r.closed.Store(&closedState{profile: prof})
	}
	r.endS.Store(math.Float64bits(course.End))
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return nil
}

// courseSchedule is an open model's schedule after the changes of course.
func courseSchedule(p *Plan, course plan.Course) *rampSchedule {
	l := &p.Spec.Load
	of := int64(max(p.Share.Of, 1))
	var base []segment
	switch l.Model {
	case spec.ModelConstantRate:
		rate := l.Rate
		if l.RatePerWorker > 0 {
			rate = l.RatePerWorker * float64(of)
		}
		base = []segment{{dur: math.Inf(1), r0: rate, r1: rate}}
	case spec.ModelRampingRate:
		base = RampSchedule(l.StartRate, l.Stages, p.Share).(*rampSchedule).segs
	}
	var segs []segment
	for _, pc := range course.Pieces {
		if pc.Paused {
			continue
		}
		if pc.Rate > 0 {
			segs = append(segs, segment{t0: pc.From, dur: pc.To - pc.From, r0: pc.Rate, r1: pc.Rate})
			continue
		}
		segs = append(segs, shift(base, pc)...)
	}
	s := newRamp(segs, p.Share)
	s.end = course.End
	s.epochs = epochsOf(s, p.Share, course)
	return s
}

// epochsOf splits the global stream where a rebalance changed the share.
func epochsOf(s *rampSchedule, sh plan.Share, course plan.Course) []epoch {
	out := []epoch{{of: int64(sh.Of), idx: int64(sh.Index)}}
	dropped := 0
	for _, pc := range course.Pieces {
		if len(pc.Drop) == dropped {
			continue
		}
		dropped = len(pc.Drop)
		prev := out[len(out)-1]
		k0 := int64(math.Ceil(s.countAt(pc.From) - 1e-9))
		e := epoch{k0: k0, n0: prev.n0 + takes(prev, k0)}
		if re, ok := plan.Reshare(sh, pc.Drop); ok {
			e.of, e.idx = int64(re.Of), int64(re.Index)
		}
		out = append(out, e)
	}
	return out
}

// shift places the part of base (in running time) that piece pc runs at
// its wall time: running time [pc.Run, pc.Run+len) at wall pc.From.
func shift(base []segment, pc plan.Piece) []segment {
	from, to := pc.Run, pc.Run+(pc.To-pc.From)
	var out []segment
	for _, b := range base {
		lo, hi := math.Max(b.t0, from), math.Min(b.t0+b.dur, to)
		if hi <= lo {
			continue
		}
		at := func(t float64) float64 {
			if math.IsInf(b.dur, 1) || b.dur == 0 {
				return b.r0
			}
			return b.r0 + (b.r1-b.r0)*(t-b.t0)/b.dur
		}
		out = append(out, segment{t0: pc.From + (lo - from), dur: hi - lo, r0: at(lo), r1: at(hi)})
	}
	return out
}

// courseProfile is a closed model's connection profile after the changes
// of course: no connection during a pause, a changed count where one was
// set, the spec's own shape (in running time) elsewhere.
func courseProfile(p *Plan, course plan.Course) Profile {
	l := &p.Spec.Load
	base := ConstantProfile(l.Concurrency)
	if l.Model == spec.ModelRampingConcurrency {
		base = RampProfile(l.Stages)
	}
	var out Profile
	for _, pc := range course.Pieces {
		switch {
		case pc.Paused:
			out.segs = append(out.segs, segment{t0: pc.From, dur: pc.To - pc.From})
		case pc.Concurrency > 0:
			c := float64(pc.Concurrency)
			out.segs = append(out.segs, segment{t0: pc.From, dur: pc.To - pc.From, r0: c, r1: c})
		default:
			out.segs = append(out.segs, shift(base.segs, pc)...)
		}
	}
	for _, s := range out.segs {
		out.max = max(out.max, int(math.Ceil(math.Max(s.r0, s.r1))))
	}
	return out
}

// Drain, at the end of second sec-1 of a live run whose second sec is the
// first of a pause, waits (at most max) until the requests in flight have
// finished, so that the interval collected next holds them and the paused
// seconds hold none. Elsewhere it returns at once.
func (r *Run) Drain(sec int64, max time.Duration) {
	if !r.Paused(sec) || r.Paused(sec-1) {
		return
	}
	deadline := time.Now().Add(max)
	for r.inFlight() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// Paused reports whether second sec of a live run lies in a pause, as the
// changes adopted so far have it (a change is written at least a second
// ahead, so the second in progress and the next are settled).
func (r *Run) Paused(sec int64) bool {
	c := r.course.Load()
	return c != nil && c.PausedAt(float64(sec))
}

// inFlight is how many requests of a live run are in flight.
func (r *Run) inFlight() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for _, ln := range r.lanes {
		n += ln.inflight.Load()
	}
	return n
}

// PlannedEnd is the wall time the run's schedule ends, for a run started
// at startAt: the end of its duration, as changes have moved it. The run
// itself ends later by what is still in flight then (open models: by at
// most OpenGrace, then the request timeout).
func (r *Run) PlannedEnd(startAt time.Time) time.Time {
	return startAt.Add(time.Duration(math.Float64frombits(r.endS.Load()) * float64(time.Second)))
}

// nextBoundary is the next whole second of the run after now: where a
// change can take effect.
func nextBoundary(start, now time.Time) time.Time {
	el := now.Sub(start)
	if el < 0 {
		return start
	}
	return start.Add((el/time.Second + 1) * time.Second)
}
