// Package retention keeps tests from filling ZooKeeper. Every test is
// charged against a total byte budget in the usage node (<root>/usage): a
// new test is created in the same transaction that adds its charge, with a
// compare-and-set on the usage node's version, so that concurrent
// submissions to any number of masters can never together exceed the
// budget. The leader measures what finished tests really hold, deletes the
// oldest finished ones beyond --retain-tests, older than --retain-for or
// over the budget, and rewrites the usage from what is left.
package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
)

// Config bounds what tests may keep in ZooKeeper.
type Config struct {
	// RetainTests is how many finished tests are kept (newest first).
	RetainTests int
	// RetainFor is how long a finished test is kept after it ended.
	RetainFor time.Duration
	// Budget is the most bytes all tests together may hold.
	Budget int64
	// Reserve is charged for an unfinished test on top of its spec, for
	// the state, plans, reports, timeline and result it will write; once
	// it has finished, what it holds is measured instead.
	Reserve int64
}

// DefaultConfig keeps the last 1,000 finished tests for 30 days, in at most
// 32 MiB. ZooKeeper holds every node in memory, with copies of recent
// transactions besides: keep the budget to about an eighth of its heap (a
// 256 MB heap survived floods of maximum-size specs at 32 MiB, and lost its
// clients once at 64 MiB).
func DefaultConfig() Config {
	return Config{RetainTests: 1000, RetainFor: 30 * 24 * time.Hour, Budget: 32 << 20, Reserve: 64 << 10}
}

// Validate reports every bad setting.
func (c Config) Validate() error {
	var errs []error
	if c.RetainTests < 1 {
		errs = append(errs, fmt.Errorf("--retain-tests must be at least 1, got %d", c.RetainTests))
	}
	if c.RetainFor <= 0 {
		errs = append(errs, fmt.Errorf("--retain-for must be positive, got %v", c.RetainFor))
	}
	if c.Budget < 1<<20 {
		errs = append(errs, fmt.Errorf("--retain-bytes must be at least 1 MiB, got %d", c.Budget))
	}
	return errors.Join(errs...)
}

// Usage is the usage node's data.
type Usage struct {
	Bytes int64 `json:"bytes"`
	// MeasuredAt is when the leader last measured (unix ns); creates in
	// between add their charge.
	MeasuredAt int64 `json:"measured_at,omitempty"`
}

// FullError refuses a test the budget has no room for.
type FullError struct {
	Used, Need, Budget int64
}

func (e *FullError) Error() string {
	return fmt.Sprintf("test storage is full: %d of %d bytes are used and this test needs %d; delete finished tests (DELETE /api/v1/tests/{id}) or wait for the oldest to be pruned",
		e.Used, e.Budget, e.Need)
}

// TooLargeError refuses a test that could never fit.
type TooLargeError struct{ Need, Budget int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("this test needs %d bytes of storage; the whole budget (--retain-bytes) is %d", e.Need, e.Budget)
}

// UsagePath is the usage node of a cluster.
func UsagePath(p proto.Paths) string { return p.Root + "/usage" }

// Charge is what a new test with a spec of specBytes is charged.
func (c Config) Charge(specBytes int) int64 { return int64(specBytes) + c.Reserve }

// Create applies ops (which create one test) together with its charge
// against the budget, retrying on concurrent changes of the usage node. It
// returns *FullError or *TooLargeError when the budget has no room.
func Create(ctx context.Context, c *coord.Client, p proto.Paths, cfg Config, charge int64, ops []coord.Op) error {
	if charge > cfg.Budget {
		return &TooLargeError{Need: charge, Budget: cfg.Budget}
	}
	up := UsagePath(p)
	for attempt := 0; ; attempt++ {
		u, ver, err := readUsage(ctx, c, up)
		if err != nil {
			return err
		}
		if u.Bytes+charge > cfg.Budget {
			return &FullError{Used: u.Bytes, Need: charge, Budget: cfg.Budget}
		}
		u.Bytes += charge
		var op coord.Op = coord.SetOp{Path: up, Data: proto.Marshal(u), Version: ver}
		if ver < 0 {
			op = coord.CreateOp{Path: up, Data: proto.Marshal(u)}
		}
		err = c.Multi(ctx, append([]coord.Op{op}, ops...)...)
		var me *coord.MultiError
		if errors.As(err, &me) && me.Index == 0 && attempt < 20 &&
			(errors.Is(err, coord.ErrBadVersion) || errors.Is(err, coord.ErrNodeExists)) {
			continue // another master charged first: read again
		}
		return err
	}
}

// readUsage reads the usage node; version -1 if it does not exist yet. A
// node that does not decode counts as empty (the leader rewrites it).
func readUsage(ctx context.Context, c *coord.Client, path string) (Usage, int32, error) {
	d, st, err := c.Get(ctx, path)
	if errors.Is(err, coord.ErrNoNode) {
		return Usage{}, -1, nil
	}
	if err != nil {
		return Usage{}, 0, err
	}
	var u Usage
	if json.Unmarshal(d, &u) != nil || u.Bytes < 0 {
		u = Usage{}
	}
	return u, st.Version, nil
}

// Read returns the current usage.
func Read(ctx context.Context, c *coord.Client, p proto.Paths) (Usage, error) {
	u, _, err := readUsage(ctx, c, UsagePath(p))
	return u, err
}
