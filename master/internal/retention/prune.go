package retention

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"path"
	"sort"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
)

// nodeOverhead is what ZooKeeper holds per node besides its data and path
// (its stat and bookkeeping), roughly.
const nodeOverhead = 100

// Pruner measures the tests and deletes those retention lets go. Only the
// leader runs it; it is not safe for concurrent use.
type Pruner struct {
	c   *coord.Client
	p   proto.Paths
	cfg Config
	log *slog.Logger
	now func() time.Time

	specs    map[string]int64    // spec node bytes per test (never change)
	finished map[string]finished // measured finished tests (never change)
}

type finished struct {
	bytes int64
	ended time.Time
}

// NewPruner returns a pruner for the cluster under p.
func NewPruner(c *coord.Client, p proto.Paths, cfg Config, log *slog.Logger) *Pruner {
	return &Pruner{c: c, p: p, cfg: cfg, log: log, now: time.Now, specs: map[string]int64{}, finished: map[string]finished{}}
}

// Run prunes every period until ctx (the leadership) ends.
func (pr *Pruner) Run(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for ctx.Err() == nil {
		if err := pr.Round(ctx); err != nil && ctx.Err() == nil {
			pr.log.Warn("retention round failed", "err", err)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// Round measures every test, deletes what retention lets go and writes the
// usage node. A concurrent create makes the write fail its version check;
// the round then measures again (a few times) so the usage stays exact.
func (pr *Pruner) Round(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		u, ver, err := readUsage(ctx, pr.c, UsagePath(pr.p)) // before listing: see Create
		if err != nil {
			return err
		}
		total, err := pr.pruneOnce(ctx)
		if err != nil {
			return err
		}
		if ver >= 0 && u.Bytes == total {
			return nil
		}
		nu := proto.Marshal(Usage{Bytes: total, MeasuredAt: pr.now().UnixNano()})
		if ver < 0 {
			_, err = pr.c.Create(ctx, UsagePath(pr.p), nu, coord.Persistent)
		} else {
			_, err = pr.c.Set(ctx, UsagePath(pr.p), nu, ver)
		}
		if (errors.Is(err, coord.ErrBadVersion) || errors.Is(err, coord.ErrNodeExists)) && attempt < 3 {
			continue
		}
		return err
	}
}

// pruneOnce measures the tests, deletes the ones to let go and returns the
// bytes the rest are charged.
func (pr *Pruner) pruneOnce(ctx context.Context) (int64, error) {
	ids, err := pr.c.Children(ctx, pr.p.Tests())
	if err != nil {
		return 0, err
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids))) // newest first
	var total int64
	type done struct {
		id string
		finished
	}
	var fin []done
	present := map[string]bool{}
	for _, id := range ids {
		present[id] = true
		cost, f, err := pr.measure(ctx, id)
		if err != nil {
			return 0, err
		}
		total += cost
		if f != nil {
			fin = append(fin, done{id, *f})
		}
	}
	pr.forget(present)
	// newest first by end (ids sort by creation; a test that ran long may
	// end after a later one, and junk with no end sorts last)
	sort.SliceStable(fin, func(i, j int) bool { return fin[i].ended.After(fin[j].ended) })
	cutoff := pr.now().Add(-pr.cfg.RetainFor)
	low := pr.cfg.Budget / 10 * 9
	var drop, kept []done
	for i, f := range fin { // newest first
		if i >= pr.cfg.RetainTests || f.ended.Before(cutoff) {
			drop = append(drop, f)
			total -= f.bytes
		} else {
			kept = append(kept, f)
		}
	}
	for i := len(kept) - 1; i >= 0 && total > low; i-- { // oldest first
		drop = append(drop, kept[i])
		total -= kept[i].bytes
	}
	for _, d := range drop {
		if err := pr.c.DeleteTree(ctx, pr.p.Test(d.id)); err != nil {
			return 0, err
		}
		delete(pr.finished, d.id)
		delete(pr.specs, d.id)
		pr.log.Info("pruned a finished test", "test", d.id, "bytes", d.bytes, "ended", d.ended)
	}
	return total, nil
}

// measure returns what one test is charged, and, for a finished test, what
// it holds and when it ended.
func (pr *Pruner) measure(ctx context.Context, id string) (int64, *finished, error) {
	if f, ok := pr.finished[id]; ok {
		return f.bytes, &f, nil
	}
	d, st, err := pr.c.Get(ctx, pr.p.State(id))
	if errors.Is(err, coord.ErrNoNode) {
		return pr.measureFinished(ctx, id, time.Time{}) // half deleted, or junk
	}
	if err != nil {
		return 0, nil, err
	}
	var s proto.TestState
	if json.Unmarshal(d, &s) != nil || proto.Terminal(s.Phase) {
		ended := st.Modified
		if s.EndedAt > 0 {
			ended = time.Unix(0, s.EndedAt)
		}
		return pr.measureFinished(ctx, id, ended)
	}
	sb, ok := pr.specs[id]
	if !ok {
		found, sst, err := pr.c.Exists(ctx, pr.p.Test(id))
		if err != nil || !found {
			return 0, nil, err
		}
		sb = int64(sst.DataLength)
		pr.specs[id] = sb
	}
	return sb + pr.cfg.Reserve, nil, nil
}

func (pr *Pruner) measureFinished(ctx context.Context, id string, ended time.Time) (int64, *finished, error) {
	n, err := treeBytes(ctx, pr.c, pr.p.Test(id))
	if err != nil {
		return 0, nil, err
	}
	f := finished{bytes: n, ended: ended}
	pr.finished[id] = f
	return n, &f, nil
}

// forget drops the cache entries of tests that are gone.
func (pr *Pruner) forget(present map[string]bool) {
	maps.DeleteFunc(pr.finished, func(id string, _ finished) bool { return !present[id] })
	maps.DeleteFunc(pr.specs, func(id string, _ int64) bool { return !present[id] })
}

// treeBytes is what the tree under p holds: data, path and overhead of
// every node.
func treeBytes(ctx context.Context, c *coord.Client, p string) (int64, error) {
	ok, st, err := c.Exists(ctx, p)
	if err != nil || !ok {
		return 0, err
	}
	n := int64(st.DataLength) + int64(len(p)) + nodeOverhead
	if st.NumChildren == 0 {
		return n, nil
	}
	kids, err := c.Children(ctx, p)
	if errors.Is(err, coord.ErrNoNode) {
		return n, nil
	}
	if err != nil {
		return 0, err
	}
	for _, k := range kids {
		m, err := treeBytes(ctx, c, path.Join(p, k))
		if err != nil {
			return 0, err
		}
		n += m
	}
	return n, nil
}
