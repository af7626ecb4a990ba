package chaos

import (
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/coord"
)

// docs/scale.md: kill -9 of the leader mid-test, with the masters' default
// session timeout. The workers keep every interval the leader had not
// acknowledged, so the new leader rebuilds every second exactly: the
// timeline has no gap second, and its per-second counts add up to the
// result, as if no leader had died.
func TestLeaderKilledTimelineHasNoGap(t *testing.T) {
	scenario(t, "leader kill -9, no gap", func(t *testing.T, m *measure) {
		c := tc.New(t, tc.Options{Masters: 2, Workers: 3, SessionTimeout: coord.MasterSessionTimeout})
		c.ResetTarget()
		leader, _ := leaderProc(t, c)
		id := c.Submit(constantRate(c, 600, "12s", nil))
		res := leaderKilledAt(t, c, leader, id, 4*time.Second, m)
		m.lost = conserve(t, c, id, res)
		if gaps := checkTimeline(t, c, id, res.Summary.Requests); len(gaps) > 0 {
			t.Errorf("timeline has gap seconds %v after the failover, want none", gaps)
		}
		fullSeconds(t, c, id, 3)
	})
}
