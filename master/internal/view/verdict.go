package view

import (
	"context"
	"encoding/json"

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
