package chaos

import (
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/coord"
)

// The gapless failover of TestLeaderKilledTimelineHasNoGap with a fleet of
// simulated workers beside the three real ones (docs/scale.md): the new
// leader must rebuild every second from 43 workers' reports, written in
// plan batches and acknowledged by one watermark, which three processes
// alone do not exercise. The real workers' counts are held to the
// target's, the simulated ones' to their exact share, and the timeline to
// the result, with no gap second.
func TestLeaderKilledWithFleetBeside(t *testing.T) {
	const real, simulated, perWorkerRate, seconds = 3, 40, 10, 12
	scenario(t, "leader kill -9 with a simulated fleet", func(t *testing.T, m *measure) {
		c := tc.New(t, tc.Options{Masters: 2, Workers: real, SessionTimeout: coord.MasterSessionTimeout})
		c.AddFleet(simulated, "sim-")
		c.WaitWorkers(real+simulated, 30*time.Second)
		c.ResetTarget()
		leader, _ := leaderProc(t, c)
		spec := constantRate(c, (real+simulated)*perWorkerRate, (seconds * time.Second).String(), nil)
		spec["workers"] = real + simulated
		id := c.Submit(spec)
		res := leaderKilledAt(t, c, leader, id, 4*time.Second, m)
		const perWorker = perWorkerRate * seconds
		if want := int64((real + simulated) * perWorker); res.Summary.Requests != want {
			t.Errorf("result counts %d requests, want exactly %d", res.Summary.Requests, want)
		}
		ts := c.Settled(10 * time.Second)
		var realIDs []string
		for _, w := range res.Workers {
			if !strings.HasPrefix(w.ID, "sim-") {
				realIDs = append(realIDs, w.ID)
			} else if w.Requests != perWorker {
				t.Errorf("simulated worker %s ran %d requests, want its share %d", w.ID, w.Requests, perWorker)
			}
		}
		if len(res.Workers) != real+simulated || len(realIDs) != real {
			t.Errorf("the result has %d workers (%d real), want %d (%d real)", len(res.Workers), len(realIDs), real+simulated, real)
		}
		exactShares(t, c, res, perWorker, realIDs...)
		if ts.Requests != int64(real*perWorker) {
			t.Errorf("the target saw %d requests, want the real workers' %d", ts.Requests, real*perWorker)
		}
		if gaps := checkTimeline(t, c, id, res.Summary.Requests); len(gaps) > 0 {
			t.Errorf("timeline has gap seconds %v after the failover, want none", gaps)
		}
	})
}
