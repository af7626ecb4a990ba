package load

import (
	"math"
	"time"

	"github.com/stampede-load/stampede/pkg/spec"
)

// Profile is a closed model's connection count over time for one worker:
// a pure function of elapsed time, tested without sleeping.
type Profile struct {
	segs []segment // r0/r1 are connection counts
	max  int
}

// ConstantProfile keeps n connections.
func ConstantProfile(n int) Profile {
	return Profile{segs: []segment{{dur: math.Inf(1), r0: float64(n), r1: float64(n)}}, max: n}
}

// RampProfile follows stages (targets are connections per worker) from 0.
func RampProfile(stages []spec.Stage) Profile {
	var p Profile
	t, r := 0.0, 0.0
	for _, st := range stages {
		p.segs = append(p.segs, segment{t0: t, dur: st.Duration.D.Seconds(), r0: r, r1: st.Target})
		t, r = t+st.Duration.D.Seconds(), st.Target
		p.max = max(p.max, int(math.Ceil(st.Target)))
	}
	return p
}

// Max is the most connections the profile ever asks for.
func (p Profile) Max() int { return p.max }

// level is the exact (fractional) connection count at t seconds.
func (p Profile) level(t float64) float64 {
	for _, s := range p.segs {
		if t >= s.t0 && t < s.t0+s.dur {
			if math.IsInf(s.dur, 1) {
				return s.r0
			}
			return s.r0 + (s.r1-s.r0)*(t-s.t0)/s.dur
		}
	}
	if n := len(p.segs); n > 0 {
		return p.segs[n-1].r1
	}
	return 0
}

// Level is the number of connections active at elapsed: connection j is
// active while the profile's level is above j.
func (p Profile) Level(elapsed time.Duration) int {
	return int(math.Ceil(p.level(elapsed.Seconds()) - 1e-9))
}

// Active reports whether connection j works at elapsed.
func (p Profile) Active(j int, elapsed time.Duration) bool { return p.Level(elapsed) > j }

// NextActive is the earliest time at or after from when connection j is
// active, and false if it never is again.
func (p Profile) NextActive(j int, from time.Duration) (time.Duration, bool) {
	if p.Active(j, from) {
		return from, true
	}
	f := from.Seconds()
	target := float64(j)
	for _, s := range p.segs {
		end := s.t0 + s.dur
		if end <= f {
			continue
		}
		lo := math.Max(s.t0, f)
		if s.r0 > target && lo == s.t0 {
			return time.Duration(lo * float64(time.Second)), true
		}
		if s.r1 > target && s.r1 > s.r0 {
			// level crosses target inside this segment
			t := s.t0 + (target-s.r0)/(s.r1-s.r0)*s.dur
			if t < lo {
				t = lo
			}
			// step just past the crossing so that Level(t) > j
			d := time.Duration(t*float64(time.Second)) + time.Microsecond
			if d < time.Duration(end*float64(time.Second)) {
				return d, true
			}
		}
	}
	return 0, false
}
