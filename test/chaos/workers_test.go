package chaos

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/zktest"
	"github.com/stampede-load/stampede/pkg/proto"
)

// docs/failures.md (worker loss, continue): kill -9 of a worker
// mid-test. The test completes, the worker is marked lost with its counts
// up to its last report, and what it sent after that report is the only
// shortfall against the target.
func TestWorkerKilledContinue(t *testing.T) {
	scenario(t, "worker kill -9, continue", true, func(t *testing.T, m *measure) {
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
	})
}

// docs/failures.md (worker loss, abort): with on_worker_loss: abort, the loss of a
// worker stops every other worker within 1 s and the test ends aborted
// with the reason recorded.
func TestWorkerKilledAbort(t *testing.T) {
	scenario(t, "worker kill -9, abort", false, func(t *testing.T, m *measure) {
		c := tc.New(t, tc.Options{Masters: 1, Workers: 3})
		c.ResetTarget()
		id := c.Submit(constantRate(c, 600, "30s", map[string]any{"on_worker_loss": "abort"}))
		waitRunningFor(t, c, id, 3*time.Second)

		// sample the survivors' counts at the target to see when they stop
		type sample struct {
			at time.Time
			n  int64
		}
		var mu sync.Mutex
		var samples []sample
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				s := statsOf(t, c)
				mu.Lock()
				samples = append(samples, sample{time.Now(), s.ByWorker["w1"] + s.ByWorker["w3"]})
				mu.Unlock()
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		c.Workers[1].Kill()
		res := waitEnd(t, c, id, "aborted", 60*time.Second)
		time.Sleep(time.Second)
		close(stop)
		wg.Wait()
		if !strings.Contains(res.Reason, "w2") {
			t.Errorf("reason %q, want it to name the lost worker w2", res.Reason)
		}
		z := zkClient(t, c.ZK)
		_, st, err := z.Exists(context.Background(), proto.Paths{Root: c.Root}.Stop(id))
		if err != nil {
			t.Fatal(err)
		}
		final := samples[len(samples)-1].n
		var lastChange time.Time
		for _, s := range samples {
			if s.n < final {
				lastChange = s.at
			}
		}
		// the last sample below the final count bounds when the last
		// survivor's request arrived (to within the 20 ms sampling period
		// and the stop node's millisecond ctime)
		if stopped := lastChange.Sub(st.Created); stopped > time.Second {
			t.Errorf("survivors sent requests until %v after the abort, want within 1 s", stopped)
		} else {
			t.Logf("last survivor request seen %v after the stop node was written (±20 ms sampling)", stopped.Round(time.Millisecond))
		}
		m.skewMs = skew(res)
		m.lost = conserve(t, c, id, res, "w2")
	})
}

// docs/failures.md: SIGTERM of a worker mid-test. It stops its load,
// publishes its final report and deregisters; its counts are exact.
func TestWorkerSIGTERMMidTest(t *testing.T) {
	scenario(t, "worker SIGTERM", true, func(t *testing.T, m *measure) {
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
	})
}

// docs/failures.md: a worker cut off from ZooKeeper beyond its session
// timeout finishes its plan without running past the planned end, keeps
// its reports, re-registers when the network heals and publishes its final
// report, which the leader waits for (FinalGrace) and counts.
func TestWorkerPartitionedBeyondSession(t *testing.T) {
	scenario(t, "worker partitioned past session", false, func(t *testing.T, m *measure) {
		c := tc.New(t, tc.Options{Masters: 1, Workers: 2})
		proxy := zktest.NewProxy(t, c.ZK)
		c.AddWorker("w3", proxy.Addr())
		c.WaitWorkers(3, 30*time.Second)
		c.ResetTarget()
		id := c.Submit(constantRate(c, 600, "8s", nil))
		started := c.WaitPhase(id, "running", 60*time.Second)
		_ = started
		time.Sleep(2 * time.Second)
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
		time.Sleep(8 * time.Second) // past the planned end, still cut off
		atPlannedEnd := statsOf(t, c).ByWorker["w3"]
		time.Sleep(2 * time.Second)
		if after := statsOf(t, c).ByWorker["w3"]; after != atPlannedEnd {
			t.Errorf("w3 sent %d requests after its planned end", after-atPlannedEnd)
		}
		proxy.Unblock()
		res := waitEnd(t, c, id, "completed", 120*time.Second)
		if w := workerLine(res, "w3"); w == nil || w.State != "done" {
			t.Errorf("w3 in the result: %+v, want done (final report published after the heal)", w)
		}
		c.WaitWorkers(3, 60*time.Second) // re-registered
		m.skewMs = skew(res)
		m.lost = conserve(t, c, id, res)
	})
}
