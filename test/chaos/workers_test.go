package chaos

import (
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/zktest"
)

// docs/failures.md (worker loss, continue): kill -9 of a worker
// mid-test. The test completes, the worker is marked lost with its counts
// up to its last report, and what it sent after that report is the only
// shortfall against the target; the survivors run their whole shares.
func TestWorkerKilledContinue(t *testing.T) {
	scenario(t, "worker kill -9, continue", func(t *testing.T, m *measure) {
		c := tc.New(t, tc.Options{Masters: 1, Workers: 3})
		c.ResetTarget()
		id := c.Submit(constantRate(c, 600, "8s", nil))
		waitRunningFor(t, c, id, 3*time.Second)
		c.Workers[1].Kill() // w2
		res := waitEnd(t, c, id, "completed", 90*time.Second)
		if w := workerLine(res, "w2"); w == nil || w.State != "lost" || w.Requests == 0 {
			t.Errorf("w2 in the result: %+v, want lost with its reported counts", w)
		}
		if !strings.Contains(res.Reason, "w2") {
			t.Errorf("reason %q, want it to name the lost worker w2", res.Reason)
		}
		for _, w := range []string{"w1", "w3"} {
			if l := workerLine(res, w); l == nil || l.State != "done" {
				t.Errorf("%s in the result: %+v, want done", w, l)
			}
		}
		m.skewMs = skew(res)
		m.lost = conserve(t, c, id, res, "w2")
		exactShares(t, c, res, 1600, "w1", "w3")
	})
}

// docs/failures.md (worker loss, abort): with on_worker_loss: abort, the
// loss of a worker stops every other worker within 1 s and the test ends
// aborted with the reason recorded. Measured on the servers' clocks: each
// survivor's last request reaches the target within 1 s of the stop node's
// creation in ZooKeeper.
func TestWorkerKilledAbort(t *testing.T) {
	scenario(t, "worker kill -9, abort", func(t *testing.T, m *measure) {
		c := tc.New(t, tc.Options{Masters: 1, Workers: 3})
		c.ResetTarget()
		id := c.Submit(constantRate(c, 600, "30s", map[string]any{"on_worker_loss": "abort"}))
		waitRunningFor(t, c, id, 3*time.Second)
		c.Workers[1].Kill()
		res := waitEnd(t, c, id, "aborted", 60*time.Second)
		if !strings.Contains(res.Reason, "w2") {
			t.Errorf("reason %q, want it to name the lost worker w2", res.Reason)
		}
		stopAt := c.StopCreated(c.ZKClient(), id)
		m.skewMs = skew(res)
		m.lost = conserve(t, c, id, res, "w2")
		ts := c.TargetStats()
		for _, w := range []string{"w1", "w3"} {
			span, ok := ts.ByWorkerSpan[w]
			if !ok {
				t.Errorf("the target saw nothing from %s", w)
				continue
			}
			// the stop node's ctime has millisecond resolution
			if after := span.Last().Sub(stopAt); after > time.Second+time.Millisecond {
				t.Errorf("%s sent requests until %v after the stop node was written, want within 1 s", w, after)
			} else {
				t.Logf("%s: last request reached the target %v after the stop node was written", w, after.Round(time.Millisecond))
			}
		}
	})
}

// docs/failures.md: SIGTERM of a worker mid-test. It stops its load,
// publishes its final report and deregisters; its counts are exact, and
// the others run their whole shares.
func TestWorkerSIGTERMMidTest(t *testing.T) {
	scenario(t, "worker SIGTERM", func(t *testing.T, m *measure) {
		c := tc.New(t, tc.Options{Masters: 1, Workers: 3})
		c.ResetTarget()
		id := c.Submit(constantRate(c, 600, "8s", nil))
		waitRunningFor(t, c, id, 3*time.Second)
		if took := c.Workers[1].Stop(10 * time.Second); took > 5*time.Second {
			t.Errorf("w2 took %v to exit after SIGTERM", took)
		}
		for _, w := range c.LiveWorkers() {
			if w.ID == "w2" {
				t.Errorf("w2 still registered after it exited on SIGTERM")
			}
		}
		res := waitEnd(t, c, id, "completed", 90*time.Second)
		if w := workerLine(res, "w2"); w == nil || w.State != "done" {
			t.Errorf("w2 in the result: %+v, want done (its final report published)", w)
		}
		m.skewMs = skew(res)
		m.lost = conserve(t, c, id, res)
		exactShares(t, c, res, 1600, "w1", "w3")
	})
}

// docs/failures.md: a worker cut off from ZooKeeper beyond its session
// timeout finishes its plan without running past the planned end (its last
// request reaches the target by start_at + duration + 50 ms), keeps its
// reports, re-registers when the network heals and publishes its final
// report, which the leader waits for (FinalGrace) and counts.
func TestWorkerPartitionedBeyondSession(t *testing.T) {
	scenario(t, "worker partitioned past session", func(t *testing.T, m *measure) {
		c := tc.New(t, tc.Options{Masters: 1, Workers: 2})
		proxy := zktest.NewProxy(t, c.ZK)
		c.AddWorker("w3", proxy.Addr())
		c.WaitWorkers(3, 30*time.Second)
		c.ResetTarget()
		id := c.Submit(constantRate(c, 600, "8s", nil))
		c.WaitPhase(id, "running", 60*time.Second)
		end := c.StartAt(c.ZKClient(), id).Add(8 * time.Second)
		tc.Eventually(t, 10*time.Second, "w3 sends load", func() bool { return c.TargetStats().ByWorker["w3"] > 0 })
		proxy.Block()
		// w3's session expires and it leaves the registry while it runs on
		tc.Eventually(t, 4*c.Session, "w3's session expires", func() bool {
			for _, w := range c.LiveWorkers() {
				if w.ID == "w3" {
					return false
				}
			}
			return true
		})
		// stay cut off past the planned end: w3 must end its plan alone
		time.Sleep(time.Until(end.Add(time.Second)))
		proxy.Unblock()
		res := waitEnd(t, c, id, "completed", 120*time.Second)
		if w := workerLine(res, "w3"); w == nil || w.State != "done" {
			t.Errorf("w3 in the result: %+v, want done (final report published after the heal)", w)
		}
		c.WaitWorkers(3, 60*time.Second) // re-registered
		m.skewMs = skew(res)
		m.lost = conserve(t, c, id, res)
		// its last request is due before the end; on a busy machine it
		// may be sent (and reach the target) a few ms late, never more
		// than the same 50 ms the start barrier allows
		if last := c.TargetStats().ByWorkerSpan["w3"].Last(); last.After(end.Add(50 * time.Millisecond)) {
			t.Errorf("w3's last request reached the target %v after the planned end", last.Sub(end))
		}
		exactShares(t, c, res, 1600)
	})
}
