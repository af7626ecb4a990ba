package aggregate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

func TestBoundsRefuseReportsThePlanCannotProduce(t *testing.T) {
	sp := spec.Spec{Request: spec.Request{Timeout: spec.D(2 * time.Second)}, Load: spec.Load{Duration: spec.D(10 * time.Second)}}
	st := &proto.TestState{StartAt: t0.UnixNano(), Chosen: 2}
	b := NewBounds("t", st, []string{"w1", "w2"}, &sp)
	const wide = "HISTFAAAACR42pJpmSzMwMDAzAABrFCa0QHKsP8AoY8zMgECAAD//0lEA4k=" // 1..2^62 at 5 digits, one value
	good := func() *report.Report { r := rep("w1", 3, 10, 100, false); r.Test = "t"; return r }
	tests := []struct {
		name string
		key  string
		mut  func(r *report.Report)
		want string // "" = trusted
	}{
		{"a real report", "w1", func(*report.Report) {}, ""},
		{"stopped before its start", "w1", func(r *report.Report) { r.Seq, r.IntervalEnd = 0, t0.Add(-time.Second).UnixNano() }, ""},
		{"forged sequence", "w1", func(r *report.Report) { r.Seq = 100_000_000 }, "sequence 100000000 is outside 0..19"},
		{"negative sequence", "w1", func(r *report.Report) { r.Seq = -1 }, "outside"},
		{"another worker's name", "w1", func(r *report.Report) { r.Worker = "w2" }, "names worker"},
		{"not a worker of the test", "evil", func(r *report.Report) { r.Worker = "evil" }, "not a worker"},
		{"another test", "w1", func(r *report.Report) { r.Test = "u" }, "names test"},
		{"another start", "w1", func(r *report.Report) { r.StartAt++ }, "start_at"},
		{"interval far past the run", "w1", func(r *report.Report) { r.IntervalEnd = t0.Add(time.Hour).UnixNano() }, "past the run"},
		{"more errors than requests", "w1", func(r *report.Report) { r.Interval.Errors = 11 }, "counters"},
		{"foreign histogram geometry", "w1", func(r *report.Report) { r.Cumulative = wide }, "geometry"},
		{"recent interval not before", "w1", func(r *report.Report) { r.Recent = []report.Interval{{Seq: 3}} }, "not before"},
		{"one name and a list of names", "w1", func(r *report.Report) { r.Name, r.Names = "GET /", []report.NameReport{{Name: "x"}} }, "lists 1 names"},
		{"too many repeated intervals", "w1", func(r *report.Report) { r.Recent = make([]report.Interval, report.MaxPending+1) }, "repeats"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.mut(r)
			err := b.Check(tt.key, r)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check = %v, want trusted", err)
				}
				return
			}
			if !errors.Is(err, ErrBadReport) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want ErrBadReport with %q", err, tt.want)
			}
		})
	}
}
