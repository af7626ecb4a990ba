package orchestrator

import (
	"context"
	"maps"
	"time"

	"github.com/stampede-load/stampede/master/internal/aggregate"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// answers is what the leader adds to a running test's merge beyond the
// timeline: the live judgement of its thresholds and the persisted
// per-second histograms of the interval-log export. The merge loop calls
// it from one place each round and once at the end.
type answers struct {
	j  *judge
	hl *histLog
}

// newAnswers restores what an earlier leader persisted and hooks into the
// tracker's merged seconds.
func (o *Orchestrator) newAnswers(ctx context.Context, id string, s *spec.Spec, st *proto.TestState, tr *aggregate.Tracker) (*answers, error) {
	hl, err := o.restoreHistLog(ctx, id)
	if err != nil {
		return nil, err
	}
	a := &answers{j: o.newJudge(ctx, id, s, st), hl: hl}
	a.j.tr = tr
	if a.j.byName {
		tr.KeepNames() // its windows read each second's per-name numbers
	}
	tr.OnSecond = func(p report.Point, h *hist.Histogram, names map[string]*aggregate.NameSecond) {
		a.hl.add(p.Second, h)
		a.j.second(p, h, names)
	}
	return a, nil
}

// observe persists the new seconds' histograms and judges the thresholds;
// true means it has just requested the abort of the test.
func (a *answers) observe(ctx context.Context, l *coord.Leader, st *proto.TestState, pts []report.Point, now time.Time) (bool, error) {
	if err := a.hl.flush(ctx, l); err != nil {
		return false, err
	}
	return a.j.observe(ctx, l, st, pts, now)
}

// final persists the last seconds and writes the verdict into the summary.
func (a *answers) final(ctx context.Context, l *coord.Leader, sum *report.Summary) error {
	if err := a.hl.flush(ctx, l); err != nil {
		return err
	}
	a.j.final(sum)
	return nil
}

// liveCurveNames is how many names' percentile curves the live summary
// carries (the live node stays small however many names a test has).
const liveCurveNames = 20

// decorate adds the per-name lines to the live summary, without their
// histograms (the result has them).
func (a *answers) decorate(sum *report.Summary, reps map[string]*report.Report) {
	if order := a.j.s.RequestNames(); len(order) == 1 {
		// one name: its line is the whole test's, rather than a merge of
		// every worker's cumulative histogram
		n := sum.NameLine(order[0])
		n.StatusCodes, n.ErrorKinds = maps.Clone(n.StatusCodes), maps.Clone(n.ErrorKinds) // the line is kept a while
		n.Histogram = ""
		sum.Names = []report.NameSummary{n}
		return
	}
	names, err := aggregate.Names(a.j.s, reps, sum.DurationS)
	if err != nil {
		return
	}
	for i := range names {
		names[i].Histogram = ""
		if len(names) > liveCurveNames {
			names[i].Distribution = nil
		}
	}
	sum.Names = names
}
