package chaos

import (
	"os"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/zktest"
)

// docs/failures.md: kill -9 of the leader mid-test; another master
// leads within the session timeout + 2 s, resumes the test from ZooKeeper,
// keeps merging and finishes it with every request counted.
func TestLeaderKilledMidTest(t *testing.T) {
	scenario(t, "leader kill -9", func(t *testing.T, m *measure) {
		c := tc.New(t, tc.Options{Masters: 2, Workers: 3})
		c.ResetTarget()
		leader, _ := leaderProc(t, c)
		id := c.Submit(constantRate(c, 600, "12s", nil))
		waitRunningFor(t, c, id, 3*time.Second)
		killed := time.Now()
		leader.Kill()
		m.failover = failover(t, c, id, killed, c.Session+10*time.Second)
		if limit := c.Session + 2*time.Second; m.failover > limit {
			t.Errorf("failover took %v, more than session timeout + 2 s (%v)", m.failover, limit)
		}
		completedUndisturbed(t, c, id, m, 2400)
	})
}

// docs/failures.md: every master killed mid-test; the workers keep
// running their plans and the first master back finishes the test.
func TestAllMastersRestartedMidTest(t *testing.T) {
	scenario(t, "all masters restarted", func(t *testing.T, m *measure) {
		c := tc.New(t, tc.Options{Masters: 2, Workers: 3})
		c.ResetTarget()
		id := c.Submit(constantRate(c, 600, "12s", nil))
		waitRunningFor(t, c, id, 3*time.Second)
		killed := time.Now()
		for _, p := range c.Masters {
			p.Kill()
		}
		// with no master at all, the workers keep running their plans
		before := c.TargetStats().Requests
		tc.Eventually(t, 5*time.Second, "the workers send a second of load with every master dead", func() bool {
			return c.TargetStats().Requests >= before+600
		})
		for _, p := range c.Masters {
			p.Restart()
		}
		for _, p := range c.Masters {
			tc.WaitReady(t, p.URL()+"/readyz", 30*time.Second)
		}
		m.failover = failover(t, c, id, killed, c.Session+30*time.Second)
		completedUndisturbed(t, c, id, m, 2400)
	})
}

// docs/failures.md: the leader is cut off from ZooKeeper by a
// black-holing proxy. It stops acting as leader when its connection is
// lost; the other master takes over once the cut-off session expires; the
// ex-leader's writes never land (the timeline has each second once, the
// counts are exact).
func TestLeaderPartitionedFromZooKeeper(t *testing.T) {
	scenario(t, "leader partitioned", func(t *testing.T, m *measure) {
		c := tc.New(t, tc.Options{Workers: 3})
		proxy := zktest.NewProxy(t, c.ZK)
		zkAddr := c.ZK
		c.ZK = proxy.Addr()
		cut := c.AddMaster("m1") // first master: it leads
		c.ZK = zkAddr
		c.AddMaster("m2")
		c.WaitWorkers(3, 30*time.Second)
		if l, _ := leaderProc(t, c); l != cut {
			t.Fatalf("leader is %s, want m1 (behind the proxy)", l.Name)
		}
		c.ResetTarget()
		id := c.Submit(constantRate(c, 600, "14s", nil))
		waitRunningFor(t, c, id, 3*time.Second)
		blocked := time.Now()
		proxy.Block()
		// m1 notices the lost connection after 2/3 of the session timeout
		// and must give up leadership then, before its session expires.
		tc.Eventually(t, c.Session+5*time.Second, "m1 logs that its leadership ended", func() bool {
			b, _ := os.ReadFile(cut.Log)
			return strings.Contains(string(b), "leadership ended")
		})
		stepDown := time.Since(blocked)
		if stepDown >= c.Session {
			t.Errorf("m1 stepped down %v after the partition, want before its session (%v) could expire", stepDown, c.Session)
		}
		m.failover = failover(t, c, id, blocked, c.Session+15*time.Second)
		// heal while the test still runs: m1 comes back as a candidate
		// behind m2 and must not write as leader again
		proxy.Unblock()
		healed := time.Now()
		tc.WaitReady(t, cut.URL()+"/readyz", 4*c.Session)
		rejoined := time.Since(healed)
		res := waitEnd(t, c, id, "completed", 90*time.Second)
		if l, _ := leaderProc(t, c); l.Name != "m2" {
			t.Errorf("leader after the heal is %s, want m2", l.Name)
		}
		log, _ := os.ReadFile(cut.Log)
		_, after, _ := strings.Cut(string(log), "leadership ended")
		for _, act := range []string{"msg=leading", "test finished", "start barrier released"} {
			if strings.Contains(after, act) {
				t.Errorf("m1 logged %q after it lost leadership", act)
			}
		}
		m.skewMs = skew(res)
		m.lost = conserve(t, c, id, res)
		fullSeconds(t, c, id, 3)
		exactShares(t, c, res, 2800)
		t.Logf("m1 stepped down %v after the partition, was back %v after the heal",
			stepDown.Round(time.Millisecond), rejoined.Round(time.Millisecond))
	})
}
