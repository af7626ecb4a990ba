package orchestrator

import (
	"testing"
	"time"
)

// TestStartDelayCoversTheFleetsAnswer: start_at leaves at least the
// configured delay, and at least as long as the fleet took to vote (at
// most maxStartDelay), so that a slow-to-answer fleet hears the start in
// time.
func TestStartDelayCoversTheFleetsAnswer(t *testing.T) {
	for _, c := range []struct{ floor, answered, want time.Duration }{
		{time.Second, 80 * time.Millisecond, time.Second},               // a small fleet: the floor
		{time.Second, 2400 * time.Millisecond, 2400 * time.Millisecond}, // 2,000 workers
		{time.Second, time.Minute, maxStartDelay},                       // a straggler: bounded
		{time.Second, -time.Second, time.Second},                        // a clock step
	} {
		if got := startDelay(c.floor, c.answered); got != c.want {
			t.Errorf("startDelay(%v, %v) = %v, want %v", c.floor, c.answered, got, c.want)
		}
	}
}
