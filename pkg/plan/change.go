package plan

import (
	"math"
	"slices"
	"time"

	"github.com/stampede-load/stampede/pkg/spec"
)

// Kinds of live change.
const (
	// ChangeLoad sets the rate (open models), the connections per worker
	// (closed models) and/or the running duration.
	ChangeLoad = "load"
	// ChangePause holds the schedule: no request starts until a resume.
	ChangePause = "pause"
	// ChangeResume ends a pause; the schedule goes on where it stopped.
	ChangeResume = "resume"
	// ChangeRebalance gives the shares of lost workers to the survivors.
	ChangeRebalance = "rebalance"
)

// MaxChanges bounds how many live changes one test may take, so the
// changes node stays small whatever is done to a test.
const MaxChanges = 100

// MaxPause is the longest a pause holds a test: a test still paused
// MaxPause after its pause began resumes by itself (every worker and the
// leader follow the same course), so no run is wedged by a forgotten pause
// and every bound stays finite.
const MaxPause = 10 * time.Minute

// Change is one live change to a running test. Every worker adopts it at
// the boundary of second At of the test's shared start time (wall seconds
// from start_at, paused ones included), so the fleet changes together and
// the exact split holds across it: the global request stream goes on with
// the same numbering, only its timing from At on is new.
type Change struct {
	// Seq numbers the changes of a test from 1, in the order they apply.
	Seq  int    `json:"seq"`
	At   int64  `json:"at"`
	Kind string `json:"kind"`
	// Rate is the new total rate (req/s) of an open model; 0: unchanged.
	Rate float64 `json:"rate,omitempty"`
	// Concurrency is the new connection count per worker of a closed
	// model; 0: unchanged.
	Concurrency int `json:"concurrency,omitempty"`
	// Duration is the new running duration of the whole test (paused
	// seconds do not count); nil: unchanged.
	Duration *spec.Duration `json:"duration,omitempty"`
	// Drop lists, for a rebalance, the share indices (Share.Index) of the
	// workers lost; Lost names them.
	Drop []int    `json:"drop,omitempty"`
	Lost []string `json:"lost,omitempty"`
	// By is who asked (the token's role, or "leader" for a rebalance or
	// an automatic resume); Time is when the leader wrote it (unix ns).
	By   string `json:"by,omitempty"`
	Time int64  `json:"time"`
	// Ask names the request node it answers (empty for the leader's own).
	Ask string `json:"ask,omitempty"`
}

// Piece is a stretch of wall time [From, To) (seconds from the start) over
// which a test's load does not change.
type Piece struct {
	From, To float64
	// Run is the running time at From: wall time minus the paused time
	// before it. The spec's own shape (stages) follows running time.
	Run    float64
	Paused bool
	// Rate is the total rate a change set (open models); 0: the spec's.
	Rate float64
	// Concurrency is the per-worker connection count a change set
	// (closed models); 0: the spec's.
	Concurrency int
	// Drop is every share index lost by a rebalance so far, sorted.
	Drop []int
}

// Course is a test's load over wall time after its changes: the pieces,
// back to back from 0 to End.
type Course struct {
	Pieces []Piece
	// End is the wall second at which the run ends: its running duration
	// reached (a pause without a resume lasts MaxPause).
	End float64
	// Total is the running duration (seconds) after the changes.
	Total float64
}

// Follow applies changes (in Seq order, each At at or after the one
// before) to a normalized load. A change at or after the end it finds is
// ignored (the leader writes none); a change in the past of an earlier one
// is treated as at that one's second.
func Follow(l *spec.Load, changes []Change) Course {
	total := l.RunBound().Seconds()
	cur := Piece{}
	var out []Piece
	for _, c := range changes {
		at := math.Max(float64(c.At), cur.From)
		if cur.Paused && at > cur.From+MaxPause.Seconds() { // resumed by itself
			cur.To = cur.From + MaxPause.Seconds()
			out = append(out, cur)
			cur = Piece{From: cur.To, Run: cur.Run, Rate: cur.Rate, Concurrency: cur.Concurrency, Drop: cur.Drop}
		}
		if !cur.Paused && cur.Run+(at-cur.From) >= total {
			break // the run ended before it
		}
		next := cur
		next.From = at
		if !cur.Paused {
			next.Run = cur.Run + (at - cur.From)
		}
		switch c.Kind {
		case ChangePause:
			next.Paused = true
		case ChangeResume:
			next.Paused = false
		case ChangeLoad:
			if c.Rate > 0 {
				next.Rate = c.Rate
			}
			if c.Concurrency > 0 {
				next.Concurrency = c.Concurrency
			}
			if c.Duration != nil {
				total = math.Max(c.Duration.D.Seconds(), next.Run)
			}
		case ChangeRebalance:
			next.Drop = mergeDrop(cur.Drop, c.Drop)
		}
		if at > cur.From {
			cur.To = at
			out = append(out, cur)
		}
		cur = next
	}
	if cur.Paused {
		cur.To = cur.From + MaxPause.Seconds()
		out = append(out, cur)
		cur = Piece{From: cur.To, Run: cur.Run, Rate: cur.Rate, Concurrency: cur.Concurrency, Drop: cur.Drop}
	}
	course := Course{End: cur.From + (total - cur.Run), Total: total}
	cur.To = course.End
	out = append(out, cur)
	course.Pieces = out
	return course
}

// mergeDrop is the sorted union of two index lists.
func mergeDrop(a, b []int) []int {
	out := slices.Clone(a)
	for _, i := range b {
		if !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// RunningAt is the running time (seconds, pauses excluded) at wall second
// t of the course.
func (c Course) RunningAt(t float64) float64 {
	for i, p := range c.Pieces {
		if t < p.To || i == len(c.Pieces)-1 {
			if p.Paused {
				return p.Run
			}
			return p.Run + math.Max(math.Min(t, p.To)-p.From, 0)
		}
	}
	return 0
}

// PausedAt reports whether wall second [t, t+1) lies in a pause.
func (c Course) PausedAt(t float64) bool {
	for _, p := range c.Pieces {
		if t >= p.From && t < p.To {
			return p.Paused
		}
	}
	return false
}

// At returns the piece in force at wall second t (the last one past the
// end).
func (c Course) At(t float64) Piece {
	for _, p := range c.Pieces {
		if t < p.To {
			return p
		}
	}
	return c.Pieces[len(c.Pieces)-1]
}

// MeanRate is a constant-rate test's total rate averaged over its running
// time after the changes (the rate it is planned to send at), given its
// own rate; 0 without running time.
func (c Course) MeanRate(base float64) float64 {
	if c.Total <= 0 {
		return 0
	}
	sum := 0.0
	for _, p := range c.Pieces {
		if p.Paused {
			continue
		}
		r := base
		if p.Rate > 0 {
			r = p.Rate
		}
		sum += r * (p.To - p.From)
	}
	return sum / c.Total
}

// Reshare is a share after the shares in drop were lost: the survivors
// keep their order and take every Of-th request of the global stream
// among themselves. ok is false for a share that was dropped.
func Reshare(sh Share, drop []int) (Share, bool) {
	if slices.Contains(drop, sh.Index) {
		return Share{}, false
	}
	lost := 0
	before := 0
	for _, i := range drop {
		if i < 0 || i >= sh.Of {
			continue
		}
		lost++
		if i < sh.Index {
			before++
		}
	}
	out := sh
	out.Index, out.Of = sh.Index-before, sh.Of-lost
	return out, out.Of > 0
}
