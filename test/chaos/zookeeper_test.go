package chaos

import (
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/zktest"
)

// docs/failures.md: a standalone ZooKeeper restarted mid-test, back
// within the session timeout; the test is unaffected.
func TestZooKeeperRestartedMidTest(t *testing.T) {
	scenario(t, "ZooKeeper restarted", func(t *testing.T, m *measure) {
		c := tc.New(t, tc.Options{Masters: 2, Workers: 3, SessionTimeout: 10 * time.Second})
		c.ResetTarget()
		id := c.Submit(constantRate(c, 600, "12s", nil))
		waitRunningFor(t, c, id, 3*time.Second)
		down := time.Now()
		c.ZKSrv.Stop()
		c.ZKSrv.Start()
		c.ZKSrv.WaitMode("standalone", 30*time.Second)
		if back := time.Since(down); back >= c.Session {
			t.Fatalf("ZooKeeper took %v to come back, not within the session timeout %v", back, c.Session)
		} else {
			t.Logf("ZooKeeper back after %v", back.Round(time.Millisecond))
		}
		completedUndisturbed(t, c, id, m, 2400)
	})
}

// docs/failures.md: the leader of a three-node ZooKeeper ensemble is
// killed mid-test; the test is unaffected.
func TestZooKeeperEnsembleLeaderKilled(t *testing.T) {
	scenario(t, "ZooKeeper ensemble leader killed", func(t *testing.T, m *measure) {
		ens := zktest.StartEnsemble(t)
		c := tc.New(t, tc.Options{Masters: 2, Workers: 3, ZK: ens.Connect(), SessionTimeout: 6 * time.Second})
		c.ResetTarget()
		id := c.Submit(constantRate(c, 600, "12s", nil))
		waitRunningFor(t, c, id, 3*time.Second)
		zl := ens.Leader()
		if zl == nil {
			t.Fatal("the ensemble has no leader")
		}
		zl.Kill()
		completedUndisturbed(t, c, id, m, 2400)
	})
}
