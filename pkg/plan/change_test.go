package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/spec"
)

func TestFollow(t *testing.T) {
	d := func(x time.Duration) *spec.Duration { v := spec.D(x); return &v }
	maxPause := MaxPause.Seconds()
	tests := []struct {
		name      string
		changes   []Change
		end       float64
		pausedAt  []float64
		runningAt map[float64]float64
	}{
		{"none", nil, 10, nil, map[float64]float64{4: 4, 12: 10}},
		{"pause 3 to 6", []Change{{Seq: 1, At: 3, Kind: ChangePause}, {Seq: 2, At: 6, Kind: ChangeResume}}, 13, []float64{3, 5.5}, map[float64]float64{4: 3, 7: 4}},
		{"open pause resumes by itself", []Change{{Seq: 1, At: 2, Kind: ChangePause}}, 10 + maxPause, []float64{2, 1 + maxPause}, map[float64]float64{3 + maxPause: 3}},
		{"extended", []Change{{Seq: 1, At: 4, Kind: ChangeLoad, Duration: d(20 * time.Second)}}, 20, nil, nil},
		{"shortened during a pause", []Change{{Seq: 1, At: 2, Kind: ChangePause}, {Seq: 2, At: 4, Kind: ChangeLoad, Duration: d(5 * time.Second)}, {Seq: 3, At: 5, Kind: ChangeResume}}, 8, []float64{4}, nil},
		{"change after the end is ignored", []Change{{Seq: 1, At: 11, Kind: ChangePause}}, 10, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := spec.Load{Model: spec.ModelConstantRate, Rate: 100, Duration: spec.D(10 * time.Second)}
			c := Follow(&l, tt.changes)
			if c.End != tt.end {
				t.Errorf("Follow(%+v).End = %v, want %v", tt.changes, c.End, tt.end)
			}
			for _, at := range tt.pausedAt {
				if !c.PausedAt(at) {
					t.Errorf("PausedAt(%v) = false, want true", at)
				}
			}
			if c.PausedAt(0) {
				t.Errorf("PausedAt(0) = true before any change")
			}
			for at, want := range tt.runningAt {
				if got := c.RunningAt(at); got != want {
					t.Errorf("RunningAt(%v) = %v, want %v", at, got, want)
				}
			}
			for i := 1; i < len(c.Pieces); i++ {
				if c.Pieces[i].From != c.Pieces[i-1].To {
					t.Errorf("pieces %d and %d are not back to back: %+v", i-1, i, c.Pieces)
				}
			}
		})
	}
}

func TestReshare(t *testing.T) {
	tests := []struct {
		sh   Share
		drop []int
		want Share
		ok   bool
	}{
		{Share{Index: 2, Of: 3}, []int{1}, Share{Index: 1, Of: 2}, true},
		{Share{Index: 0, Of: 3}, []int{1}, Share{Index: 0, Of: 2}, true},
		{Share{Index: 1, Of: 3}, []int{1}, Share{}, false},
		{Share{Index: 3, Of: 4}, []int{0, 2, 9}, Share{Index: 1, Of: 2}, true},
	}
	for _, tt := range tests {
		got, ok := Reshare(tt.sh, tt.drop)
		if ok != tt.ok || (ok && (got.Index != tt.want.Index || got.Of != tt.want.Of)) {
			t.Errorf("Reshare(%+v, %v) = %+v, %v; want %+v, %v", tt.sh, tt.drop, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAskCheck(t *testing.T) {
	open := spec.Spec{Load: spec.Load{Model: spec.ModelConstantRate, Rate: 100, Concurrency: 10, Duration: spec.D(10 * time.Second)}}
	closed := spec.Spec{Load: spec.Load{Model: spec.ModelAvalanche, Concurrency: 8, Duration: spec.D(10 * time.Second)}}
	for _, s := range []*spec.Spec{&open, &closed} {
		s.Request.URL = "http://127.0.0.1:1/"
		s.Normalize()
	}
	lim := spec.DefaultLimits()
	short := spec.D(3 * time.Second)
	paused := []Change{{Seq: 1, At: 2, Kind: ChangePause}}
	tests := []struct {
		name     string
		s        *spec.Spec
		ask      Ask
		changes  []Change
		at       int64
		field    string // a field error naming it
		conflict string
	}{
		{"rate", &open, Ask{Kind: ChangeLoad, Rate: 200}, nil, 5, "", ""},
		{"rate over the limit", &open, Ask{Kind: ChangeLoad, Rate: 1e9}, nil, 5, "load.rate", ""},
		{"rate of a closed model", &closed, Ask{Kind: ChangeLoad, Rate: 200}, nil, 5, "load.rate", ""},
		{"concurrency", &closed, Ask{Kind: ChangeLoad, Concurrency: 2}, nil, 5, "", ""},
		{"more connections than prepared", &closed, Ask{Kind: ChangeLoad, Concurrency: 9}, nil, 5, "", ""},
		{"connections over the limit", &closed, Ask{Kind: ChangeLoad, Concurrency: 20000}, nil, 5, "load.concurrency", ""},
		{"concurrency of an open model", &open, Ask{Kind: ChangeLoad, Concurrency: 2}, nil, 5, "load.concurrency", ""},
		{"duration shorter than the run so far", &open, Ask{Kind: ChangeLoad, Duration: &short}, nil, 5, "load.duration", ""},
		{"nothing", &open, Ask{Kind: ChangeLoad}, nil, 5, "load", ""},
		{"pause", &open, Ask{Kind: ChangePause}, nil, 5, "", ""},
		{"pause while paused", &open, Ask{Kind: ChangePause}, paused, 3, "", "already paused"},
		{"resume while running", &open, Ask{Kind: ChangeResume}, nil, 3, "", "not paused"},
		{"resume", &open, Ask{Kind: ChangeResume}, paused, 3, "", ""},
		{"after the end", &open, Ask{Kind: ChangePause}, nil, 10, "", "ends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs, conflict := tt.ask.Check(tt.s, tt.changes, tt.at, &lim, 2)
			if tt.field == "" && len(errs) > 0 || tt.field != "" && (len(errs) != 1 || errs[0].Field != tt.field) {
				t.Errorf("Check(%+v) errors = %v, want one naming %q", tt.ask, errs, tt.field)
			}
			if !strings.Contains(conflict, tt.conflict) || (tt.conflict == "") != (conflict == "") {
				t.Errorf("Check(%+v) conflict = %q, want %q", tt.ask, conflict, tt.conflict)
			}
		})
	}
}

func TestEffectiveSecond(t *testing.T) {
	tests := []struct {
		elapsed time.Duration
		changes []Change
		want    int64
	}{
		{3500 * time.Millisecond, nil, 5},
		{3 * time.Second, nil, 4},
		{-2 * time.Second, nil, 0},
		{1 * time.Second, []Change{{At: 7}}, 7},
	}
	for _, tt := range tests {
		if got := EffectiveSecond(tt.elapsed, tt.changes); got != tt.want {
			t.Errorf("EffectiveSecond(%v, %v) = %d, want %d", tt.elapsed, tt.changes, got, tt.want)
		}
	}
}

func TestMeanRate(t *testing.T) {
	l := spec.Load{Model: spec.ModelConstantRate, Rate: 1000, Duration: spec.D(10 * time.Second)}
	c := Follow(&l, []Change{
		{Seq: 1, At: 5, Kind: ChangeLoad, Rate: 2000},
		{Seq: 2, At: 6, Kind: ChangePause},
		{Seq: 3, At: 8, Kind: ChangeResume},
	})
	// 5 s at 1,000/s, then 5 s of running time at 2,000/s
	if got := c.MeanRate(1000); got != 1500 {
		t.Errorf("MeanRate = %v, want 1500", got)
	}
}
