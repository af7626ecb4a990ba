package view

import (
	"context"
	"encoding/json"
	"errors"
	"path"
	"sort"

	"github.com/stampede-load/stampede/pkg/coord"

	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// addLiveVerdict copies the leader's live judgement of a running test's
// thresholds into its live summary (a finished test's result has its own).
func (r *Reader) addLiveVerdict(ctx context.Context, id string, sum *report.Summary) {
	if sum == nil {
		return
	}
	d, _, err := r.C.Get(ctx, r.P.Verdict(id))
	if err != nil {
		return // none yet
	}
	var lv proto.LiveVerdict
	if json.Unmarshal(d, &lv) == nil {
		sum.Verdict, sum.Thresholds = lv.Verdict, lv.Thresholds
	}
}

// SecondHists reads the persisted per-second histograms of a test, in
// second order (none before the leader has merged a second).
func (r *Reader) SecondHists(ctx context.Context, id string) ([]proto.SecondHist, error) {
	names, err := r.C.Children(ctx, r.P.HistDir(id))
	if errors.Is(err, coord.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []proto.SecondHist
	for _, n := range names {
		d, _, err := r.C.Get(ctx, path.Join(r.P.HistDir(id), n))
		if errors.Is(err, coord.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var hs []proto.SecondHist
		if json.Unmarshal(d, &hs) == nil {
			out = append(out, hs...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Second < out[j].Second })
	return out, nil
}
