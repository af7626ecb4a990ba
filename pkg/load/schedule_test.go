package load

import (
	"sort"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

func stages(pairs ...any) []spec.Stage {
	var out []spec.Stage
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, spec.Stage{Duration: spec.D(pairs[i].(time.Duration)), Target: pairs[i+1].(float64)})
	}
	return out
}

func TestScheduleAt(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		sched  Schedule
		n      int64
		want   time.Duration
		wantOK bool
	}{
		{"constant first", ConstantSchedule(1000, time.Second, plan.Share{Of: 1}), 0, 0, true},
		{"constant second", ConstantSchedule(1000, time.Second, plan.Share{Of: 1}), 1, ms, true},
		{"constant last", ConstantSchedule(1000, time.Second, plan.Share{Of: 1}), 999, 999 * ms, true},
		{"constant past the end", ConstantSchedule(1000, time.Second, plan.Share{Of: 1}), 1000, 0, false},
		{"worker 1 of 3 phase", ConstantSchedule(300, time.Second, plan.Share{Index: 1, Of: 3}), 0, time.Second / 300, true},
		{"worker 1 of 3 next", ConstantSchedule(300, time.Second, plan.Share{Index: 1, Of: 3}), 1, 4 * time.Second / 300, true},
		{"worker 2 of 3 last", ConstantSchedule(300, time.Second, plan.Share{Index: 2, Of: 3}), 99, 299 * time.Second / 300, true},
		{"worker 2 of 3 past", ConstantSchedule(300, time.Second, plan.Share{Index: 2, Of: 3}), 100, 0, false},
		// 0 → 100/s over 10 s: cumulative 5t², request k at √(k/5)
		{"ramp first", RampSchedule(0, stages(10*time.Second, 100.0), plan.Share{Of: 1}), 0, 0, true},
		{"ramp k=5", RampSchedule(0, stages(10*time.Second, 100.0), plan.Share{Of: 1}), 5, time.Second, true},
		{"ramp k=20", RampSchedule(0, stages(10*time.Second, 100.0), plan.Share{Of: 1}), 20, 2 * time.Second, true},
		{"ramp k=499", RampSchedule(0, stages(10*time.Second, 100.0), plan.Share{Of: 1}), 499, 9989994994, true},
		{"ramp k=500 past", RampSchedule(0, stages(10*time.Second, 100.0), plan.Share{Of: 1}), 500, 0, false},
		// hold at 100/s after the ramp: 500 + 100 (t - 10)
		{"ramp then hold", RampSchedule(0, stages(10*time.Second, 100.0, 5*time.Second, 100.0), plan.Share{Of: 1}), 600, 11 * time.Second, true},
		// down 100 → 0 over 10 s: cumulative 100t - 5t²; k=375 at t=5
		{"ramp down", RampSchedule(100, stages(10*time.Second, 0.0), plan.Share{Of: 1}), 375, 5 * time.Second, true},
		{"zero-rate stage skipped", RampSchedule(0, stages(time.Second, 0.0, time.Second, 0.0, 2*time.Second, 20.0), plan.Share{Of: 1}), 10, 3414213562, true}, // 2 s + √2 s
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.sched.At(tt.n)
			if ok != tt.wantOK || (ok && absDur(got-tt.want) > time.Microsecond) {
				t.Errorf("At(%d) = %v, %v; want %v, %v", tt.n, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func TestScheduleRate(t *testing.T) {
	tests := []struct {
		name    string
		sched   Schedule
		elapsed time.Duration
		want    float64
	}{
		{"constant per worker", ConstantSchedule(3000, time.Minute, plan.Share{Index: 2, Of: 3}), 5 * time.Second, 1000},
		{"ramp midpoint", RampSchedule(0, stages(10*time.Second, 100.0), plan.Share{Of: 1}), 5 * time.Second, 50},
		{"ramp from start rate", RampSchedule(100, stages(10*time.Second, 300.0), plan.Share{Index: 1, Of: 2}), 5 * time.Second, 100},
		{"after the end", RampSchedule(0, stages(10*time.Second, 100.0), plan.Share{Of: 1}), 11 * time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sched.Rate(tt.elapsed); abs(got-tt.want) > 1e-9 {
				t.Errorf("Rate(%v) = %v, want %v", tt.elapsed, got, tt.want)
			}
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestMergedStreamIsEven: the union of the schedules of N workers is exactly
// the schedule of one generator at the total rate: no two workers share a
// tick, whatever the model.
func TestMergedStreamIsEven(t *testing.T) {
	for _, of := range []int{1, 2, 3, 7} {
		for _, mk := range []struct {
			name string
			f    func(plan.Share) Schedule
		}{
			{"constant", func(sh plan.Share) Schedule { return ConstantSchedule(1000, 2*time.Second, sh) }},
			{"ramp", func(sh plan.Share) Schedule {
				return RampSchedule(200, stages(time.Second, 1000.0, time.Second, 500.0), sh)
			}},
		} {
			var merged []time.Duration
			for i := range of {
				s := mk.f(plan.Share{Index: i, Of: of})
				for n := int64(0); ; n++ {
					at, ok := s.At(n)
					if !ok {
						break
					}
					merged = append(merged, at)
				}
			}
			sort.Slice(merged, func(i, j int) bool { return merged[i] < merged[j] })
			single := mk.f(plan.Share{Of: 1})
			for k, at := range merged {
				want, ok := single.At(int64(k))
				if !ok || absDur(at-want) > time.Microsecond {
					t.Fatalf("%s over %d workers: merged request %d at %v, single generator at %v (%v)", mk.name, of, k, at, want, ok)
				}
			}
			if _, ok := single.At(int64(len(merged))); ok {
				t.Errorf("%s over %d workers: merged stream has %d requests, single generator more", mk.name, of, len(merged))
			}
		}
	}
}

func TestScheduleExpected(t *testing.T) {
	tests := []struct {
		name string
		s    *rampSchedule
		want int64
	}{
		{"1000/s 1s", ConstantSchedule(1000, time.Second, plan.Share{Of: 1}).(*rampSchedule), 1000},
		{"1000/s 1s worker 0 of 3", ConstantSchedule(1000, time.Second, plan.Share{Index: 0, Of: 3}).(*rampSchedule), 334},
		{"1000/s 1s worker 2 of 3", ConstantSchedule(1000, time.Second, plan.Share{Index: 2, Of: 3}).(*rampSchedule), 333},
		{"ramp 0-100 10s", RampSchedule(0, stages(10*time.Second, 100.0), plan.Share{Of: 1}).(*rampSchedule), 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Expected(); got != tt.want {
				t.Errorf("Expected() = %d, want %d", got, tt.want)
			}
			var n int64
			for ; ; n++ {
				if _, ok := tt.s.At(n); !ok {
					break
				}
			}
			if n != tt.want {
				t.Errorf("At is true for %d requests, Expected says %d", n, tt.want)
			}
		})
	}
}

func TestProfile(t *testing.T) {
	ramp := RampProfile(stages(10*time.Second, 10.0, 5*time.Second, 10.0, 5*time.Second, 0.0))
	tests := []struct {
		name    string
		p       Profile
		elapsed time.Duration
		want    int
	}{
		{"constant", ConstantProfile(50), time.Hour, 50},
		{"ramp start", ramp, 0, 0},
		{"ramp early", ramp, 50 * time.Millisecond, 1},
		{"ramp middle", ramp, 5 * time.Second, 5},
		{"ramp middle plus", ramp, 5*time.Second + time.Millisecond, 6},
		{"hold", ramp, 12 * time.Second, 10},
		{"down", ramp, 17500 * time.Millisecond, 5},
		{"after", ramp, 21 * time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Level(tt.elapsed); got != tt.want {
				t.Errorf("Level(%v) = %d, want %d", tt.elapsed, got, tt.want)
			}
		})
	}
	if ramp.Max() != 10 {
		t.Errorf("Max() = %d, want 10", ramp.Max())
	}
}

func TestProfileNextActive(t *testing.T) {
	ramp := RampProfile(stages(10*time.Second, 10.0, 10*time.Second, 0.0, 10*time.Second, 4.0))
	tests := []struct {
		name   string
		j      int
		from   time.Duration
		want   time.Duration
		wantOK bool
	}{
		{"conn 0 at once", 0, 0, time.Microsecond, true},
		{"conn 4 during ramp up", 4, 0, 4*time.Second + time.Microsecond, true},
		{"conn 4 already active", 4, 6 * time.Second, 6 * time.Second, true},
		{"conn 4 after ramp down, never again", 4, 17 * time.Second, 0, false},
		{"conn 2 after ramp down, back in last ramp", 2, 19 * time.Second, 25*time.Second + time.Microsecond, true},
		{"conn 9 in ramp down gone", 9, 12 * time.Second, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ramp.NextActive(tt.j, tt.from)
			if ok != tt.wantOK || (ok && absDur(got-tt.want) > time.Microsecond) {
				t.Errorf("NextActive(%d, %v) = %v, %v; want %v, %v", tt.j, tt.from, got, ok, tt.want, tt.wantOK)
			}
			if ok && !ramp.Active(tt.j, got) {
				t.Errorf("NextActive(%d, %v) = %v, but the connection is not active then", tt.j, tt.from, got)
			}
		})
	}
}
