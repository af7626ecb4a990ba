package chaos

import (
	"context"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// docs/failures.md: reports that arrive twice or out of order are
// ignored by sequence number, never counted twice. While the test runs, an
// old report of w1 is written back over its metrics node again and again
// (a duplicate of what the leader saw, then older than what it saw); the
// result must still match the target exactly.
func TestStaleAndDuplicateReportsIgnored(t *testing.T) {
	scenario(t, "duplicate / out-of-order reports", func(t *testing.T, m *measure) {
		c := tc.New(t, tc.Options{Masters: 1, Workers: 2})
		c.ResetTarget()
		id := c.Submit(constantRate(c, 400, "8s", nil))
		waitRunningFor(t, c, id, 2500*time.Millisecond)
		z := c.ZKClient()
		p := proto.Paths{Root: c.Root}
		ctx := context.Background()
		var old []byte
		var r *report.Report
		tc.Eventually(t, 10*time.Second, "w1 has published a report past its first", func() bool {
			d, _, err := z.Get(ctx, p.Metrics(id, "w1"))
			if err != nil {
				return false
			}
			r, err = report.DecodeReport(d)
			old = d
			return err == nil && r.Seq >= 1 && r.Totals.Requests > 0
		})
		replays := 0
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); replays++ {
			if _, err := z.Set(ctx, p.Metrics(id, "w1"), old, -1); err != nil {
				t.Fatalf("replaying w1's report seq %d: %v", r.Seq, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		res := waitEnd(t, c, id, "completed", 60*time.Second)
		m.skewMs = skew(res)
		m.lost = conserve(t, c, id, res)
		fullSeconds(t, c, id, 2)
		exactShares(t, c, res, 1600)
		t.Logf("replayed w1's report seq %d %d times", r.Seq, replays)
	})
}
