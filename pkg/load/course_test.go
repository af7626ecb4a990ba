package load

import (
	"math"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// fleet builds the schedule of every worker of a constant-rate test after
// changes and returns, for each, every due time it holds.
func fleet(t *testing.T, rate float64, dur time.Duration, n int, changes []plan.Change) [][]time.Duration {
	t.Helper()
	s := spec.Spec{Load: spec.Load{Model: spec.ModelConstantRate, Rate: rate, Duration: spec.D(dur)}}
	out := make([][]time.Duration, n)
	for i, sh := range plan.Split(&s, n) {
		p := Plan{Spec: s, Share: sh}
		sched := courseSchedule(&p, plan.Follow(&s.Load, changes))
		for k := int64(0); ; k++ {
			at, ok := sched.At(k)
			if !ok {
				break
			}
			if k > 0 && at < out[i][k-1] {
				t.Fatalf("worker %d: request %d due at %v, before request %d at %v", i, k, at, k-1, out[i][k-1])
			}
			out[i] = append(out[i], at)
		}
		if got := sched.Expected(); got != int64(len(out[i])) {
			t.Errorf("worker %d: Expected() = %d, but the schedule holds %d", i, got, len(out[i]))
		}
	}
	return out
}

// perSecond counts the due times of every worker in each second.
func perSecond(all [][]time.Duration) map[int]int {
	got := map[int]int{}
	for _, ts := range all {
		for _, at := range ts {
			got[int(at/time.Second)]++
		}
	}
	return got
}

func TestCourseRateChangeSteps(t *testing.T) {
	changes := []plan.Change{{Seq: 1, At: 5, Kind: plan.ChangeLoad, Rate: 2000}}
	for _, n := range []int{1, 3, 7} {
		all := fleet(t, 1000, 10*time.Second, n, changes)
		got := perSecond(all)
		total := 0
		for sec := range 10 {
			want := 1000
			if sec >= 5 {
				want = 2000
			}
			if got[sec] != want {
				t.Errorf("%d workers: second %d holds %d requests, want %d", n, sec, got[sec], want)
			}
			total += got[sec]
		}
		if total != 15000 || len(got) != 10 {
			t.Errorf("%d workers: %d requests over %d seconds, want 15000 over 10", n, total, len(got))
		}
		// before the change second every due time is the old schedule's
		old := fleet(t, 1000, 10*time.Second, n, nil)
		for i := range all {
			for k, at := range old[i] {
				if at >= 5*time.Second {
					break
				}
				if all[i][k] != at {
					t.Fatalf("%d workers: worker %d request %d moved from %v to %v before the change", n, i, k, at, all[i][k])
				}
			}
		}
	}
}

func TestCoursePauseHoldsAndExtends(t *testing.T) {
	changes := []plan.Change{
		{Seq: 1, At: 3, Kind: plan.ChangePause},
		{Seq: 2, At: 6, Kind: plan.ChangeResume},
	}
	all := fleet(t, 100, 10*time.Second, 2, changes)
	got := perSecond(all)
	total := 0
	for sec := range 14 {
		want := 100
		if (sec >= 3 && sec < 6) || sec >= 13 {
			want = 0
		}
		if got[sec] != want {
			t.Errorf("second %d holds %d requests, want %d", sec, got[sec], want)
		}
		total += got[sec]
	}
	if total != 1000 {
		t.Errorf("paused run holds %d requests, want the planned 1000", total)
	}
	// a pause without a resume holds the schedule for MaxPause, then the
	// run goes on by itself
	held := perSecond(fleet(t, 100, 10*time.Second, 2, changes[:1]))
	back := 3 + int(plan.MaxPause/time.Second)
	for sec := 0; sec < back+7; sec++ {
		want := 0
		if sec < 3 || sec >= back {
			want = 100
		}
		if held[sec] != want {
			t.Errorf("open pause: second %d holds %d requests, want %d", sec, held[sec], want)
		}
	}
}

func TestCourseDurationChange(t *testing.T) {
	d := spec.D(4 * time.Second)
	all := fleet(t, 100, 10*time.Second, 3, []plan.Change{{Seq: 1, At: 2, Kind: plan.ChangeLoad, Duration: &d}})
	if got := perSecond(all); got[3] != 100 || got[4] != 0 {
		t.Errorf("shortened to 4 s: per second %v, want 100 through second 3 and none after", got)
	}
	d = spec.D(12 * time.Second)
	all = fleet(t, 100, 10*time.Second, 3, []plan.Change{{Seq: 1, At: 2, Kind: plan.ChangeLoad, Duration: &d}})
	if got := perSecond(all); got[11] != 100 || got[12] != 0 {
		t.Errorf("extended to 12 s: per second %v, want 100 through second 11", got)
	}
}

// TestCourseRebalance: after a worker's share is dropped, the survivors
// take every request of the global stream from that second on, exactly
// once, and the lost worker none.
func TestCourseRebalance(t *testing.T) {
	changes := []plan.Change{{Seq: 1, At: 4, Kind: plan.ChangeRebalance, Drop: []int{1}}}
	s := spec.Spec{Load: spec.Load{Model: spec.ModelConstantRate, Rate: 300, Duration: spec.D(10 * time.Second)}}
	seen := map[int64]int{}
	perSec := map[int]int{}
	for _, sh := range plan.Split(&s, 3) {
		p := Plan{Spec: s, Share: sh}
		sched := courseSchedule(&p, plan.Follow(&s.Load, changes))
		for n := int64(0); ; n++ {
			at, ok := sched.At(n)
			if !ok {
				break
			}
			g, _ := sched.global(n)
			if sh.Index == 1 && at >= 4*time.Second {
				t.Fatalf("the dropped worker still holds request %d at %v", g, at)
			}
			seen[g]++
			perSec[int(at/time.Second)]++
		}
	}
	for g := range int64(3000) {
		if seen[g] != 1 {
			t.Fatalf("global request %d is held %d times, want once", g, seen[g])
		}
	}
	for sec := range 10 {
		if perSec[sec] != 300 {
			t.Errorf("second %d holds %d requests, want 300", sec, perSec[sec])
		}
	}
	if len(seen) != 3000 {
		t.Errorf("%d distinct requests, want 3000", len(seen))
	}
}

func TestCourseProfile(t *testing.T) {
	s := spec.Spec{Load: spec.Load{Model: spec.ModelAvalanche, Concurrency: 4, Duration: spec.D(10 * time.Second)}}
	p := Plan{Spec: s, Share: plan.Share{Of: 1}}
	course := plan.Follow(&s.Load, []plan.Change{
		{Seq: 1, At: 2, Kind: plan.ChangeLoad, Concurrency: 2},
		{Seq: 2, At: 4, Kind: plan.ChangePause},
		{Seq: 3, At: 5, Kind: plan.ChangeResume},
	})
	prof := courseProfile(&p, course)
	for _, tt := range []struct {
		at   float64
		want int
	}{{0.5, 4}, {1.99, 4}, {2, 2}, {3.9, 2}, {4, 0}, {4.9, 0}, {5, 2}, {10.5, 2}} {
		if got := prof.Level(time.Duration(tt.at * float64(time.Second))); got != tt.want {
			t.Errorf("Level(%vs) = %d, want %d", tt.at, got, tt.want)
		}
	}
	if math.Abs(course.End-11) > 1e-9 {
		t.Errorf("end = %v, want 11 (10 s of running time and a 1 s pause)", course.End)
	}
}
