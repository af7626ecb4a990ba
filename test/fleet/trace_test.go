package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/zktest"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// traceEnv turns on the harness's timing breakdowns (docs/scale.md): where
// POST → running goes, and when the final reports were written and merged.
// They read every vote and every final report, so a measured row is taken
// without them.
const traceEnv = "STAMPEDE_SCALE_TRACE"

func tracing() bool { return os.Getenv(traceEnv) != "" }

// stats reads the stat (and data) of every child of dir.
func stats(z *coord.Client, dir string) (map[string]coord.Stat, map[string][]byte) {
	kids, _ := z.Children(context.Background(), dir)
	paths := make([]string, len(kids))
	for i, k := range kids {
		paths[i] = dir + "/" + k
	}
	st, data := map[string]coord.Stat{}, map[string][]byte{}
	for i, r := range z.GetMany(context.Background(), paths) {
		if r.Err == nil {
			st[kids[i]], data[kids[i]] = r.Stat, r.Data
		}
	}
	return st, data
}

// spread is min / p50 / p99 / max of times after t0, in ms.
func spread(ts []time.Time, t0 time.Time) string {
	if len(ts) == 0 {
		return "none"
	}
	ms := make([]int64, len(ts))
	for i, t := range ts {
		ms[i] = t.Sub(t0).Milliseconds()
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i] < ms[j] })
	at := func(p float64) int64 { return ms[min(len(ms)-1, int(float64(len(ms))*p))] }
	return fmt.Sprintf("min %d / p50 %d / p99 %d / max %d ms", ms[0], at(0.5), at(0.99), ms[len(ms)-1])
}

// traceStart logs where POST → running went, from ZooKeeper's own
// timestamps: the test node (the POST), the plans, the votes, the start
// barrier.
func traceStart(t *testing.T, z *coord.Client, p proto.Paths, id string, posted time.Time, st proto.TestState) {
	ctx := context.Background()
	_, tst, _ := z.Get(ctx, p.Test(id))
	plans, _ := stats(z, p.Plans(id))
	votes, _ := stats(z, p.ReadyDir(id))
	_, sst, _ := z.Get(ctx, p.Start(id))
	var pt, vt []time.Time
	for _, s := range plans {
		pt = append(pt, s.Created)
	}
	for _, s := range votes {
		vt = append(vt, s.Created)
	}
	t.Logf("POST → running, after the POST (ms): test node %d, plans written %s, planned_at %d, votes %s (%d), start barrier %d",
		tst.Created.Sub(posted).Milliseconds(), spread(pt, posted), time.Unix(0, st.PlannedAt).Sub(posted).Milliseconds(),
		spread(vt, posted), len(vt), sst.Created.Sub(posted).Milliseconds())
}

// traceEnd logs, after the planned end, when each worker's run ended (its
// final report's interval end), when its final report was written, and
// when the leader persisted the last point and the result.
func traceEnd(t *testing.T, z *coord.Client, p proto.Paths, id string, end time.Time) {
	ctx := context.Background()
	done, data := stats(z, p.DoneDir(id))
	var ends, written, skews []time.Time
	seqs := map[int64]int{}
	for w, s := range done {
		written = append(written, s.Created)
		if r, err := report.DecodeReport(data[w]); err == nil {
			ends = append(ends, time.Unix(0, r.IntervalEnd))
			skews = append(skews, end.Add(time.Duration(r.StartSkewUs)*time.Microsecond))
			seqs[r.Seq]++
		}
	}
	t.Logf("start skews (the first request's lateness, ms): %s", spread(skews, end))
	for _, d := range data {
		t.Logf("a final report's %d bytes by field: %s", len(d), fieldSizes(d))
		break
	}
	_, mst, _ := z.Get(ctx, p.Merged(id))
	_, rst, _ := z.Get(ctx, p.Result(id))
	t.Logf("after the planned end (ms): runs ended %s; final reports written %s (final seqs %v); merged last written %d, result %d",
		spread(ends, end), spread(written, end), seqs, mst.Modified.Sub(end).Milliseconds(), rst.Created.Sub(end).Milliseconds())
}

// traceStartSeen logs when the simulated workers learned the start (their
// "running" log lines, written once the start barrier was read), after
// startAt.
func traceStartSeen(t *testing.T, log string, startAt time.Time) {
	b, err := os.ReadFile(log)
	if err != nil {
		t.Logf("start seen: %v", err)
		return
	}
	var seen []time.Time
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "msg=running ") || !strings.HasPrefix(line, "time=") {
			continue
		}
		f, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		if at, err := time.Parse(time.RFC3339Nano, f); err == nil {
			seen = append(seen, at)
		}
	}
	t.Logf("start seen by the workers, after start_at: %s (%d)", spread(seen, startAt), len(seen))
}

// traceSnapshots logs the snapshots ZooKeeper took during the run (from its
// log): the second of the run each began in and how long it took. A
// snapshot serializes the whole tree while the fleet writes on; it falls
// in a run every 50,000 to 100,000 transactions (snapCount's default), so
// about every 25 to 50 s at 2,000 workers.
func traceSnapshots(t *testing.T, log string, startAt time.Time, d time.Duration) {
	out := snapshotsDuring(log, startAt, d)
	if len(out) == 0 {
		out = []string{"none"}
	}
	t.Logf("ZooKeeper snapshots during the run: %s", strings.Join(out, "; "))
}

// snapshotsDuring reads ZooKeeper's log for the snapshots begun and taken
// in the d after startAt, one entry each.
func snapshotsDuring(log string, startAt time.Time, d time.Duration) []string {
	var out []string
	for line := range strings.Lines(log) {
		if !strings.Contains(line, "Snapshotting: 0x") && !strings.Contains(line, "Snapshot taken in") {
			continue
		}
		// 2026-12-02 22:13:41,724 - INFO  [Snapshot Thread:...] - Snapshot taken in 153 ms
		if len(line) < 23 {
			continue
		}
		at, err := time.ParseInLocation("2006-01-02 15:04:05,000", line[:23], time.Local)
		if err != nil || at.Before(startAt) || at.After(startAt.Add(d)) {
			continue
		}
		sec := at.Sub(startAt) / time.Second
		if _, took, ok := strings.Cut(line, "Snapshot taken in "); ok {
			out = append(out, fmt.Sprintf("second %d: taken in %s", sec, strings.TrimSpace(took)))
		} else {
			out = append(out, fmt.Sprintf("second %d: begun", sec))
		}
	}
	return out
}

func TestSnapshotsDuringReadsZooKeepersLog(t *testing.T) {
	log := `2026-12-02 22:13:08,424 - INFO  [main:FileTxnSnapLog@479] - Snapshotting: 0x0 to /d/snapshot.0
2026-12-02 22:13:41,724 - INFO  [Snapshot Thread:FileTxnSnapLog@479] - Snapshotting: 0xe887 to /d/snapshot.e887
2026-12-02 22:13:41,730 - INFO  [SyncThread:0:FileTxnLog@285] - Creating new log file: log.e89b
2026-12-02 22:13:41,877 - INFO  [Snapshot Thread:ZooKeeperServer@547] - Snapshot taken in 153 ms
`
	startAt := time.Date(2026, 12, 2, 22, 13, 24, 491e6, time.Local)
	got := strings.Join(snapshotsDuring(log, startAt, 30*time.Second), "; ")
	if want := "second 17: begun; second 17: taken in 153 ms"; got != want {
		t.Errorf("snapshots = %q, want %q", got, want)
	}
}

// traceSlow logs the leader's "second merged late" lines (each names the
// worker the second waited for last) and, per worker so named, the
// simulator's "slow report write" lines of that worker: whether a late
// second waited on a worker's write or on the leader's read of it.
func traceSlow(t *testing.T, leaderLog, simLog string) {
	lb, _ := os.ReadFile(leaderLog)
	sb, _ := os.ReadFile(simLog)
	var late []string
	named := map[string]bool{}
	for line := range strings.Lines(string(lb)) {
		if strings.Contains(line, `msg="second merged late"`) {
			late = append(late, logFields(line, "second", "lag_ms", "waited_for", "written_ms", "read_ms", "gap"))
			named[logField(line, "waited_for")] = true
		}
	}
	t.Logf("seconds merged over 1 s late: %d %v", len(late), late)
	slow, total, worst := map[string][]string{}, 0, ""
	bySeq := map[string]int{}
	for line := range strings.Lines(string(sb)) {
		if !strings.Contains(line, `msg="slow report write"`) {
			continue
		}
		total++
		bySeq[logField(line, "seq")]++
		took, _ := strconv.Atoi(logField(line, "took_ms"))
		if w, _ := strconv.Atoi(logField(worst, "took_ms")); took > w {
			worst = line
		}
		if w := logField(line, "worker"); named[w] {
			slow[w] = append(slow[w], logFields(line, "seq", "began_ms", "took_ms", "err"))
		}
	}
	t.Logf("reports written over 500 ms after their interval's end: %d in all, by report seq %v, the slowest %s; of the workers named above: %v",
		total, bySeq, logFields(worst, "worker", "seq", "began_ms", "took_ms", "err"), slow)
}

// logField is the value of key in a slog text line ("" if absent).
func logField(line, key string) string {
	_, rest, ok := strings.Cut(line, " "+key+"=")
	if !ok {
		return ""
	}
	if strings.HasPrefix(rest, `"`) {
		v, _, _ := strings.Cut(rest[1:], `"`)
		return v
	}
	v, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
	return v
}

// logFields joins key=value for each key of a slog text line.
func logFields(line string, keys ...string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + logField(line, k)
	}
	return strings.Join(out, ",")
}

// fieldSizes is the bytes of each top-level field of a JSON object,
// largest first.
func fieldSizes(d []byte) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(d, &m); err != nil {
		return err.Error()
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(m[keys[i]]) > len(m[keys[j]]) })
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%s %d", k, len(m[k]))
	}
	return strings.Join(out, ", ")
}

// zkSecond is what ZooKeeper's mntr said over one second of the run: the
// packets it received (requests and pings) and the most requests it held
// queued at once (sampled every 100 ms), which tells a second that waited
// on ZooKeeper from one that waited on the simulator.
type zkSecond struct {
	received, outstanding int64
}

// zkEachSecond samples mntr on addr every 100 ms from startAt for seconds
// seconds, until ctx ends.
func zkEachSecond(ctx context.Context, addr string, startAt time.Time, seconds int64) []zkSecond {
	var out []zkSecond
	prev, _ := mntr(addr)
	cur := zkSecond{}
	for k := int64(1); k <= seconds && ctx.Err() == nil; {
		select {
		case <-ctx.Done():
			return out
		case <-time.After(100 * time.Millisecond):
		}
		m, ok := mntr(addr)
		if !ok {
			continue
		}
		cur.outstanding = max(cur.outstanding, m["zk_outstanding_requests"])
		if time.Now().After(startAt.Add(time.Duration(k) * time.Second)) {
			cur.received = m["zk_packets_received"] - prev["zk_packets_received"]
			out = append(out, cur)
			prev, cur, k = m, zkSecond{}, k+1
		}
	}
	return out
}

// mntr is ZooKeeper's mntr reply as numbers.
func mntr(addr string) (map[string]int64, bool) {
	text := zktest.FourLetter(addr, "mntr")
	m := map[string]int64{}
	for line := range strings.Lines(text) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if n, err := strconv.ParseInt(v, 10, 64); ok && err == nil {
			m[k] = n
		}
	}
	return m, len(m) > 0
}

func logZKSeconds(t *testing.T, secs []zkSecond) {
	var recv, out []int64
	for _, s := range secs {
		recv, out = append(recv, s.received), append(out, s.outstanding)
	}
	t.Logf("ZooKeeper in each second: packets received %v; most requests outstanding (every 100 ms) %v", recv, out)
}
