package testcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/zktest"
	"github.com/stampede-load/stampede/pkg/report"
)

// Options shape a cluster.
type Options struct {
	Masters, Workers int
	// ZK is the ZooKeeper connect string; empty starts a standalone server.
	ZK string
	// SessionTimeout of masters and workers (default 4 s).
	SessionTimeout time.Duration
	// MasterArgs and WorkerArgs are extra flags.
	MasterArgs, WorkerArgs []string
	// NoTarget skips the sample target.
	NoTarget bool
	// NoAuth runs the masters with --no-auth and everything without a
	// ZooKeeper secret (by default the API needs OperatorToken or
	// ViewerToken and every node has a digest ACL for ZKAuth).
	NoAuth bool
	// ProfilePrefix, if set, has every master write a CPU profile of its
	// run to ProfilePrefix<id>.pprof (--cpuprofile).
	ProfilePrefix string
}

// Cluster is a running local Stampede cluster.
type Cluster struct {
	t       testing.TB
	Dir     string
	Bin     string
	ZK      string
	ZKSrv   *zktest.Server
	Root    string
	Session time.Duration
	Target  *Proc
	Masters []*Proc
	Workers []*Proc
	// TokensFile and ZKAuthFile are the masters' --tokens-file and the
	// --zk-auth-file of masters and workers ("" with Options.NoAuth).
	TokensFile, ZKAuthFile string
	opts                   Options
}

// New starts ZooKeeper (unless given), the target, the masters and the
// workers, and waits until every process is ready and every worker is
// registered.
func New(t testing.TB, o Options) *Cluster {
	t.Helper()
	if o.SessionTimeout == 0 {
		o.SessionTimeout = 4 * time.Second
	}
	c := &Cluster{t: t, Dir: logDir(t), Bin: Binaries(t), ZK: o.ZK, Root: "/stampede", Session: o.SessionTimeout, opts: o}
	if !o.NoAuth {
		c.TokensFile, c.ZKAuthFile = WriteSecrets(t, c.Dir)
	}
	if c.ZK == "" {
		c.ZKSrv = zktest.Standalone(t)
		c.ZK = c.ZKSrv.Addr()
	}
	if !o.NoTarget {
		addr := FreeAddr(t)
		c.Target = Start(t, c.Dir, "target", filepath.Join(c.Bin, "target"), addr, "--listen", addr)
		WaitReady(t, c.Target.URL()+"/readyz", 30*time.Second)
	}
	for i := 1; i <= o.Masters; i++ {
		c.AddMaster(fmt.Sprintf("m%d", i))
	}
	for i := 1; i <= o.Workers; i++ {
		c.AddWorker(fmt.Sprintf("w%d", i), c.ZK)
	}
	if o.Masters > 0 && o.Workers > 0 {
		c.WaitWorkers(o.Workers, 30*time.Second)
	}
	return c
}

// logDir is where the cluster's process logs go: a test temp dir, or a
// kept directory under $STAMPEDE_LOG_DIR when that is set (to read the logs
// of a failed run afterwards).
func logDir(t testing.TB) string {
	base := os.Getenv("STAMPEDE_LOG_DIR")
	if base == "" {
		return t.TempDir()
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(base, name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster logs in %s", dir)
	return dir
}

// AddMaster starts one more master.
func (c *Cluster) AddMaster(id string) *Proc {
	addr := FreeAddr(c.t)
	args := append([]string{"--id", id, "--zk", c.ZK, "--zk-root", c.Root, "--listen", addr,
		"--session-timeout", c.Session.String(), "--log-level", "debug"}, c.authArgs(true)...)
	args = append(args, c.opts.MasterArgs...)
	if c.opts.ProfilePrefix != "" {
		args = append(args, "--cpuprofile", c.opts.ProfilePrefix+id+".pprof")
	}
	p := Start(c.t, c.Dir, id, filepath.Join(c.Bin, "master"), addr, args...)
	WaitReady(c.t, p.URL()+"/readyz", 30*time.Second)
	c.Masters = append(c.Masters, p)
	return p
}

// AddWorker starts one more worker connected to zk (the cluster's, or a
// proxy in front of it).
func (c *Cluster) AddWorker(id, zk string, extra ...string) *Proc {
	addr := FreeAddr(c.t)
	args := append([]string{"--id", id, "--zk", zk, "--zk-root", c.Root, "--listen", addr,
		"--session-timeout", c.Session.String(), "--log-level", "debug"}, c.authArgs(false)...)
	args = append(args, c.opts.WorkerArgs...)
	args = append(args, extra...)
	p := Start(c.t, c.Dir, id, filepath.Join(c.Bin, "worker"), addr, args...)
	WaitReady(c.t, p.URL()+"/readyz", 30*time.Second)
	c.Workers = append(c.Workers, p)
	return p
}

// AddFleet starts the fleet simulator (test/fleet) beside the real
// workers: n simulated workers named prefix00001…, each a real agent with
// its own ZooKeeper session whose load answers in-process (they send
// nothing to the target), with extra flags after the cluster's. It waits
// until all n are registered.
func (c *Cluster) AddFleet(n int, prefix string, extra ...string) *Proc {
	args := []string{"--zk", c.ZK, "--zk-root", c.Root, "--workers", strconv.Itoa(n), "--id-prefix", prefix}
	if !c.opts.NoAuth {
		args = append(args, "--zk-auth-file", c.ZKAuthFile)
	}
	p := Start(c.t, c.Dir, "fleet-"+prefix, filepath.Join(c.Bin, "fleet"), "", append(args, extra...)...)
	// sessions open 32 at a time: thousands take a while
	Eventually(c.t, 60*time.Second+time.Duration(n)*30*time.Millisecond, "the simulated fleet registers", func() bool {
		if p.Exited() {
			c.t.Fatalf("the fleet simulator exited: %s", p.LogTail(20))
		}
		b, _ := os.ReadFile(p.Log)
		return strings.Contains(string(b), "fleet ready")
	})
	return p
}

// authArgs are the credential flags of a master or a worker.
func (c *Cluster) authArgs(master bool) []string {
	switch {
	case c.opts.NoAuth && master:
		return []string{"--no-auth"}
	case c.opts.NoAuth:
		return nil
	case master:
		return []string{"--tokens-file", c.TokensFile, "--zk-auth-file", c.ZKAuthFile}
	}
	return []string{"--zk-auth-file", c.ZKAuthFile}
}

// API is the base API URL of a live master: the first one connected to
// ZooKeeper (its /readyz answers 200), else the first one that answers at
// all (a master cut off from ZooKeeper cannot read what it serves).
func (c *Cluster) API() string {
	var fallback string
	for _, m := range c.Masters {
		if m.Exited() || !dialable(m.Addr) {
			continue
		}
		if ready(m.URL() + "/readyz") {
			return m.URL() + "/api/v1"
		}
		if fallback == "" {
			fallback = m.URL() + "/api/v1"
		}
	}
	if fallback == "" {
		c.t.Fatal("no live master")
	}
	return fallback
}

// Worker is an entry of GET /api/v1/workers.
type Worker struct {
	ID    string `json:"id"`
	State string `json:"state"`
	Test  string `json:"test"`
}

// LiveWorkers returns GET /api/v1/workers.
func (c *Cluster) LiveWorkers() []Worker {
	var ws []Worker
	GetJSON(c.t, c.API()+"/workers", &ws)
	return ws
}

// WaitWorkers waits until n workers are registered and idle.
func (c *Cluster) WaitWorkers(n int, d time.Duration) {
	c.t.Helper()
	Eventually(c.t, d, fmt.Sprintf("%d idle workers", n), func() bool {
		ws := c.LiveWorkers()
		idle := 0
		for _, w := range ws {
			if w.State == "idle" {
				idle++
			}
		}
		return idle == n
	})
}

// WorkerStatus is a worker line of GET /api/v1/tests/{id}.
type WorkerStatus struct {
	ID          string  `json:"id"`
	State       string  `json:"state"`
	Requests    int64   `json:"requests"`
	StartSkewMs float64 `json:"start_skew_ms"`
}

// Test is GET /api/v1/tests/{id}.
type Test struct {
	ID      string          `json:"id"`
	Phase   string          `json:"phase"`
	Reason  string          `json:"reason"`
	Workers []WorkerStatus  `json:"workers"`
	Summary *report.Summary `json:"summary"`
}

// Submit posts a spec and returns the test id.
func (c *Cluster) Submit(spec any) string {
	c.t.Helper()
	var out struct {
		ID     string `json:"id"`
		Error  string `json:"error"`
		Fields any    `json:"fields"`
	}
	if code := PostJSON(c.t, c.API()+"/tests", spec, &out); code != 201 {
		c.t.Fatalf("POST /tests = %d %s %v", code, out.Error, out.Fields)
	}
	return out.ID
}

// Get returns a test.
func (c *Cluster) Get(id string) Test {
	var t Test
	GetJSON(c.t, c.API()+"/tests/"+id, &t)
	return t
}

// WaitPhase waits until a test is in one of the |-separated phases.
func (c *Cluster) WaitPhase(id, phases string, d time.Duration) Test {
	c.t.Helper()
	var t Test
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		t = c.Get(id)
		for _, p := range strings.Split(phases, "|") {
			if t.Phase == p {
				return t
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("test %s is %s (%s) after %v, want %s", id, t.Phase, t.Reason, d, phases)
	return t
}

// TargetRequests is the target's exact request count (GET /stats).
func (c *Cluster) TargetRequests() int64 {
	var s struct {
		Requests int64 `json:"requests"`
	}
	GetJSON(c.t, c.Target.URL()+"/stats", &s)
	return s.Requests
}

// ResetTarget zeroes the target's counters.
func (c *Cluster) ResetTarget() {
	PostJSON(c.t, c.Target.URL()+"/stats/reset", nil, nil)
}

// TargetURL is a URL on the sample target.
func (c *Cluster) TargetURL(pathAndQuery string) string { return c.Target.URL() + pathAndQuery }
