package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/zktest"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// ratePerWorker is the constant rate every simulated worker runs.
const ratePerWorker = 10

// row is what one fleet size measured (a line of the docs/scale.md table).
type row struct {
	workers          int
	duration         time.Duration
	postToRunning    time.Duration
	lagP50, lagP99   time.Duration
	leaderCPU        float64 // cores, over the running window
	followerCPU      float64
	fleetCPU         float64 // the simulator process
	zkCPU            float64 // the ZooKeeper server
	zkWrittenPerWS   float64 // bytes clients wrote to ZooKeeper per worker-second
	zkReadPerWS      float64
	largest          int
	largestPath      string
	requests         int64
	planned          int64
	apiP50, apiP99   time.Duration
	gaps             []int64
	timelineRequests int64
	fleetStop        time.Duration
	steal            string // the host's share of the machine over the running window
}

// scaleRun starts a real ZooKeeper (its traffic counted by the kernel), two real
// masters and the fleet simulator with n workers, runs one constant-rate
// test of d and measures it.
func scaleRun(t *testing.T, n int, d time.Duration) row {
	t.Logf("%d workers for %v; load average %s", n, d, loadAvg())
	zo := zktest.Options{Production: true}
	dir := os.Getenv(profileDirEnv)
	if dir != "" {
		zo.FlightRecording = filepath.Join(dir, fmt.Sprintf("zookeeper-%d.jfr", n))
	}
	zk := zktest.Standalone(t, zo)
	opts := tc.Options{ZK: zk.Addr(), Masters: 2, NoTarget: true, MasterArgs: []string{"--log-level", "info"}}
	if dir != "" {
		opts.ProfilePrefix = filepath.Join(dir, fmt.Sprintf("master-%d-", n))
	}
	c := tc.New(t, opts)
	z := observer(t, zk.Addr(), c.ZKAuthFile)
	p := proto.Paths{Root: c.Root}
	sim := startFleet(t, c, n)
	waitIdle(t, z, p, n, 60*time.Second+time.Duration(n)*20*time.Millisecond)

	r := row{workers: n, duration: d, planned: int64(n) * ratePerWorker * int64(d/time.Second)}
	spec := map[string]any{
		"name":    fmt.Sprintf("scale-%d", n),
		"request": map[string]any{"url": "http://127.0.0.1:9/simulated"}, // never contacted: the transport is in-process
		"load":    map[string]any{"model": "constant-rate", "rate_per_worker": ratePerWorker, "duration": d.String(), "concurrency": 1},
		"workers": n,
	}
	posted := time.Now()
	id := c.Submit(spec)
	st := waitRunning(t, z, p, id, 60*time.Second)
	r.postToRunning = time.Since(posted)
	if tracing() {
		traceStart(t, z, p, id, posted, st)
	}

	leader, follower := masters(t, c)
	t.Logf("leader %s, follower %s", leader.Name, follower.Name)
	pids := []int{leader.Pid(), follower.Pid(), sim.Pid(), zk.Pid(), os.Getpid()}
	cpu0 := make([]float64, len(pids))
	for i, pid := range pids {
		cpu0[i] = cpuSeconds(t, pid)
	}
	wall0, steal0 := time.Now(), readCPUTimes()
	b0 := socketBytes(t, zk)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var lags, api []time.Duration
	wg.Go(func() { lags = mergeLags(ctx, z, p, id, time.Unix(0, st.StartAt), int64(d/time.Second)) })
	wg.Go(func() { api = apiLatencies(ctx, c, id) })
	var steals []string
	var zkSecs []zkSecond
	if tracing() {
		wg.Go(func() { steals = stealEachSecond(ctx, time.Unix(0, st.StartAt), int64(d/time.Second)) })
		wg.Go(func() { zkSecs = zkEachSecond(ctx, zk.Addr(), time.Unix(0, st.StartAt), int64(d/time.Second)) })
	}

	waitEnded(t, z, p, id, d+90*time.Second)
	res := c.Get(id)
	cancel()
	wg.Wait()
	wall := time.Since(wall0).Seconds()
	cpu := make([]float64, len(pids))
	for i, pid := range pids {
		cpu[i] = (cpuSeconds(t, pid) - cpu0[i]) / wall
	}
	r.leaderCPU, r.followerCPU, r.fleetCPU, r.zkCPU = cpu[0], cpu[1], cpu[2], cpu[3]
	r.steal = stealSince(steal0)
	t.Logf("CPU over the run (cores): leader %.3f, follower %.3f, simulator %.3f, ZooKeeper %.3f, this harness %.3f; load average %s; host steal %s",
		r.leaderCPU, r.followerCPU, r.fleetCPU, r.zkCPU, cpu[4], loadAvg(), r.steal)
	tr := zktest.TrafficSince(b0, socketBytes(t, zk))
	ws := float64(n) * d.Seconds()
	r.zkWrittenPerWS, r.zkReadPerWS = float64(tr.ToServer)/ws, float64(tr.ToClient)/ws
	if res.Phase != proto.PhaseCompleted || res.Summary == nil {
		t.Fatalf("test ended %s (%s), want completed with a result", res.Phase, res.Reason)
	}
	r.requests = res.Summary.Requests
	if per := r.planned / int64(n); r.requests != r.planned {
		short := 0
		for _, w := range res.Workers {
			if w.Requests != per {
				short++
				if short <= 5 {
					t.Logf("worker %s: %s, %d requests, want %d", w.ID, w.State, w.Requests, per)
				}
			}
		}
		t.Logf("%d of %d workers did not send their planned %d requests; %d requests late, max start skew %.1f ms, fleet CPU %.2f cores",
			short, len(res.Workers), per, res.Summary.Late, res.Summary.MaxSkewMs, r.fleetCPU)
	}
	ms := make([]int64, len(lags))
	for k, l := range lags {
		ms[k] = l.Milliseconds()
	}
	t.Logf("merge lag of each second, ms: %v", ms)
	if tracing() {
		t.Logf("host steal in each second, %% of the machine's CPU time: %v", steals)
		logZKSeconds(t, zkSecs)
	}
	r.lagP50, r.lagP99 = pct(lags, 50), pct(lags, 99)
	r.apiP50, r.apiP99 = pct(api, 50), pct(api, 99)
	r.gaps, r.timelineRequests = timeline(t, c, id)
	r.largest, r.largestPath = largestNode(t, z, p.Test(id))
	if tracing() {
		traceEnd(t, z, p, id, time.Unix(0, st.StartAt).Add(d))
		traceStartSeen(t, sim.Log, time.Unix(0, st.StartAt))
		traceSnapshots(t, zk.LogText(), time.Unix(0, st.StartAt), d)
		traceSlow(t, leader.Log, sim.Log)
	}
	r.fleetStop = sim.Stop(60 * time.Second)
	if b, err := os.ReadFile(sim.Log); err != nil || !strings.Contains(string(b), "fleet stopped") {
		t.Errorf("the fleet did not stop cleanly on SIGTERM (err %v): %s", err, sim.LogTail(20))
	}
	return r
}

// socketBytes is the traffic of every client connection to zk, from the
// kernel's counters.
func socketBytes(t *testing.T, zk *zktest.Server) map[string]zktest.Traffic {
	b, err := zk.SocketBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// profileDirEnv names the directory the simulator and both masters write
// their CPU profiles to (docs/scale.md, "Profiling").
const profileDirEnv = "STAMPEDE_FLEET_CPUPROFILE_DIR"

// loadAvg is the machine's load average (1, 5 and 15 minutes), to label a
// measurement taken while other work runs.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// cpuTimes is the machine's CPU time so far, from /proc/stat's cpu line
// (in clock ticks): all of it, and what the hypervisor stole.
type cpuTimes struct{ total, steal int64 }

func readCPUTimes() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var c cpuTimes
	for i := 1; i < len(f) && i <= 8; i++ {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		c.total += v
		if i == 8 {
			c.steal = v
		}
	}
	return c
}

// stealSince is the share of the machine's CPU time since c0 that the
// hypervisor gave to other guests: on a shared VM, time every process
// here waited without running (docs/scale.md).
func stealSince(c0 cpuTimes) string {
	share, ok := readCPUTimes().stealSince(c0)
	if !ok {
		return "unknown"
	}
	return fmt.Sprintf("%.1f %%", share)
}

// stealSince is the percentage of the CPU time from c0 to c that was stolen
// (ok false if no time passed).
func (c cpuTimes) stealSince(c0 cpuTimes) (share float64, ok bool) {
	if c.total <= c0.total {
		return 0, false
	}
	return 100 * float64(c.steal-c0.steal) / float64(c.total-c0.total), true
}

// stealEachSecond is the host's steal share in each of the run's seconds
// (from startAt), until ctx ends.
func stealEachSecond(ctx context.Context, startAt time.Time, seconds int64) []string {
	var out []string
	prev := readCPUTimes()
	for k := int64(1); k <= seconds; k++ {
		select {
		case <-ctx.Done():
			return out
		case <-time.After(time.Until(startAt.Add(time.Duration(k) * time.Second))):
		}
		c := readCPUTimes()
		if share, ok := c.stealSince(prev); ok {
			out = append(out, fmt.Sprintf("%.0f", share))
		}
		prev = c
	}
	return out
}

// startFleet starts the simulator (testcluster.AddFleet) and waits for
// its ready line.
func startFleet(t *testing.T, c *tc.Cluster, n int) *tc.Proc {
	var extra []string
	if tracing() { // the workers' "running" lines time when each learned the start
		extra = append(extra, "--log-level", "info")
	}
	if dir := os.Getenv(profileDirEnv); dir != "" { // profiling the simulator (docs/scale.md)
		extra = append(extra, "--cpuprofile", filepath.Join(dir, fmt.Sprintf("fleet-%d.pprof", n)))
	}
	return c.AddFleet(n, "sim-", extra...)
}

// observer is the harness's own ZooKeeper session (its traffic is counted
// with everyone's, a few reads a second).
func observer(t *testing.T, addr, authFile string) *coord.Client {
	cfg := coord.DefaultConfig(addr)
	if authFile != "" {
		a, err := coord.ReadAuthFile(authFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Auth = a
	}
	z, err := coord.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(z.Close)
	return z
}

// waitIdle waits until n worker registrations exist.
func waitIdle(t *testing.T, z *coord.Client, p proto.Paths, n int, d time.Duration) {
	tc.Eventually(t, d, fmt.Sprintf("%d workers registered", n), func() bool {
		kids, err := z.Children(context.Background(), p.Workers())
		return err == nil && len(kids) >= n
	})
}

// waitRunning polls the test's state until it runs.
func waitRunning(t *testing.T, z *coord.Client, p proto.Paths, id string, d time.Duration) proto.TestState {
	var st proto.TestState
	tc.Eventually(t, d, "the test runs", func() bool {
		b, _, err := z.Get(context.Background(), p.State(id))
		if err != nil || json.Unmarshal(b, &st) != nil {
			return false
		}
		if proto.Terminal(st.Phase) {
			t.Fatalf("test ended %s (%s) before running", st.Phase, st.Reason)
		}
		return st.Phase == proto.PhaseRunning
	})
	return st
}

// waitEnded waits, with a watch on the test's state, until the test ends.
// It reads no view through the API while the test runs: polling one (ten
// GETs a second of a test with thousands of workers) would load the master
// it asks, the leader as often as not, and count in its CPU and merge lag.
// The API's latency is measured on its own (apiLatencies).
func waitEnded(t *testing.T, z *coord.Client, p proto.Paths, id string, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	phase := ""
	for {
		b, _, w, err := z.GetW(ctx, p.State(id))
		var st proto.TestState
		if err == nil && json.Unmarshal(b, &st) == nil {
			if phase = st.Phase; proto.Terminal(phase) {
				return
			}
		}
		if err != nil {
			w = nil // retry after a pause
		}
		select {
		case <-ctx.Done():
			t.Fatalf("test %s is %q after %v, want it ended", id, phase, d)
		case <-w:
		case <-time.After(time.Second):
		}
	}
}

// masters returns the leading master and the other one.
func masters(t *testing.T, c *tc.Cluster) (leader, follower *tc.Proc) {
	var v struct {
		Leader *struct{ ID string } `json:"leader"`
	}
	tc.GetJSON(t, c.API()+"/cluster", &v)
	if v.Leader == nil || len(c.Masters) != 2 {
		t.Fatalf("no leader among %d masters", len(c.Masters))
	}
	if c.Masters[0].Name == v.Leader.ID {
		return c.Masters[0], c.Masters[1]
	}
	return c.Masters[1], c.Masters[0]
}

// cpuSeconds is a process's user + system CPU time.
func cpuSeconds(t *testing.T, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // fields from 3 (state) on
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// mergeLags follows the merged-through watermark and returns, for each
// whole second of the run, how long after its end it was persisted.
func mergeLags(ctx context.Context, z *coord.Client, p proto.Paths, id string, startAt time.Time, seconds int64) []time.Duration {
	var out []time.Duration
	last := int64(-1)
	for ctx.Err() == nil {
		b, _, w, err := z.GetW(ctx, p.Merged(id))
		now := time.Now()
		var m proto.Merged
		if err == nil && len(b) > 0 && json.Unmarshal(b, &m) == nil {
			for k := last + 1; k <= m.Through && k < seconds; k++ {
				out = append(out, now.Sub(startAt.Add(time.Duration(k+1)*time.Second)))
			}
			last = max(last, m.Through)
		}
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		select {
		case <-w:
		case <-ctx.Done():
		}
	}
	return out
}

// apiLatencies times GET /api/v1/tests/{id} on each master in turn, twice a
// second, until ctx ends.
func apiLatencies(ctx context.Context, c *tc.Cluster, id string) []time.Duration {
	var out []time.Duration
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; ctx.Err() == nil; i++ {
		m := c.Masters[i%len(c.Masters)]
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL()+"/api/v1/tests/"+id, nil)
		if err != nil {
			return out
		}
		req.Header.Set("Authorization", "Bearer "+tc.OperatorToken)
		began := time.Now()
		resp, err := client.Do(req)
		if err == nil {
			var v tc.Test
			if json.NewDecoder(resp.Body).Decode(&v) == nil && resp.StatusCode == http.StatusOK {
				out = append(out, time.Since(began))
			}
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	return out
}

// timeline reads the persisted timeline: its gap seconds and the sum of its
// per-second requests; seconds must appear once each, in order.
func timeline(t *testing.T, c *tc.Cluster, id string) ([]int64, int64) {
	var tl struct{ Points []report.Point }
	tc.GetJSON(t, c.API()+"/tests/"+id+"/timeline", &tl)
	var gaps []int64
	var sum int64
	if tracing() {
		var late []int64
		var p99, worst []float64
		for _, p := range tl.Points {
			late, p99, worst = append(late, p.Late), append(p99, p.LatencyMs.P99), append(worst, p.LatencyMs.Max)
		}
		t.Logf("each second: late requests %v; latency p99 %v ms; max %v ms", late, p99, worst)
	}
	for i, p := range tl.Points {
		if p.Second != int64(i) {
			t.Errorf("timeline point %d is second %d", i, p.Second)
		}
		if p.Gap {
			gaps = append(gaps, p.Second)
		}
		sum += p.Requests
	}
	if len(tl.Points) == 0 {
		t.Error("empty timeline")
	}
	return gaps, sum
}

// largestNode walks the tree under root and returns its largest node.
func largestNode(t *testing.T, z *coord.Client, root string) (int, string) {
	ctx := context.Background()
	best, bestPath := 0, ""
	stack := []string{root}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		b, _, err := z.Get(ctx, p)
		if err != nil {
			continue // an ephemeral vote that just went
		}
		if len(b) > best {
			best, bestPath = len(b), p
		}
		kids, err := z.Children(ctx, p)
		if err != nil {
			continue
		}
		for _, k := range kids {
			stack = append(stack, path.Join(p, k))
		}
	}
	return best, strings.TrimPrefix(bestPath, root+"/")
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
