//go:build unix

package integration

import (
	"strings"
	"syscall"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
)

// TestWorkersNotReadyFailsWithoutStarting freezes a worker with SIGSTOP,
// which only Unix has.
func TestWorkersNotReadyFailsWithoutStarting(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 2, SessionTimeout: 10 * time.Second,
		MasterArgs: []string{"--ready-timeout", "3s"}})
	c.ResetTarget()
	// w2 is frozen: still registered (its session has not expired) but
	// unable to vote ready
	frozen := c.Workers[1]
	if err := frozen.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = frozen.Signal(syscall.SIGCONT) }()
	id := c.Submit(spec("constant-rate", map[string]any{"rate": 100, "duration": "5s"}, c.TargetURL("/ping")))
	res := c.WaitPhase(id, "failed", 30*time.Second)
	if !strings.Contains(res.Reason, "not ready") || !strings.Contains(res.Reason, "w2") {
		t.Errorf("reason %q, want it to say w2 was not ready", res.Reason)
	}
	if err := frozen.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// workers start only at a start barrier: with w2 thawed and both back
	// idle, none must exist, and nothing must have reached the target
	c.WaitWorkers(2, 20*time.Second)
	tc.Absent(t, c.ZKClient(), c.Paths().Start(id), "a start barrier exists for a failed test")
	if n := c.TargetRequests(); n != 0 {
		t.Errorf("the target saw %d requests from a test that never started", n)
	}
}
