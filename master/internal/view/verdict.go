package view

import (
	"context"
	"encoding/json"
	"sort"

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
	var out []proto.SecondHist
	_, err := proto.ReadChunks(ctx, r.C, r.P.HistDir(id), func(_ string, hs []proto.SecondHist, _ int) {
		out = append(out, hs...)
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Second < out[j].Second })
	return out, err
}
