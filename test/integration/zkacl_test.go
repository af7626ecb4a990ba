package integration

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/zktest"
	"github.com/stampede-load/stampede/pkg/coord"
)

// dialAs opens a ZooKeeper session with the digest identity auth ("" for
// an anonymous client).
func dialAs(t *testing.T, addr, auth string) *coord.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := coord.DefaultConfig(addr)
	cfg.Auth = auth
	cfg.OpTimeout = 5 * time.Second
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	c, err := coord.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// expireWorkerSession cuts worker id off ZooKeeper (it reaches ZooKeeper
// through proxy) until its session expired and it left GET /workers, then
// lets it reconnect: it registers again with a new session.
func expireWorkerSession(t *testing.T, c *tc.Cluster, proxy *zktest.Proxy, id string) {
	t.Helper()
	proxy.Block()
	tc.Eventually(t, 30*time.Second, "the cut-off worker's session expires and it leaves GET /workers", func() bool {
		for _, w := range c.LiveWorkers() {
			if w.ID == id {
				return false
			}
		}
		return true
	})
	proxy.Unblock()
}

// tree lists p and every node below it.
func tree(t *testing.T, c *coord.Client, p string) []string {
	t.Helper()
	kids, err := c.Children(context.Background(), p)
	if err != nil {
		t.Fatalf("listing %s with the cluster's secret: %v", p, err)
	}
	out := []string{p}
	for _, k := range kids {
		out = append(out, tree(t, c, path.Join(p, k))...)
	}
	return out
}

// refused checks that every operation of an unauthorised client on p is
// refused by the node's ACL.
func refused(t *testing.T, c *coord.Client, who, p string, isRoot bool) {
	t.Helper()
	ctx := context.Background()
	check := func(op string, err error) {
		if !errors.Is(err, coord.ErrNoAuth) {
			t.Errorf("%s: %s %s: err = %v, want not authorized", who, op, p, err)
		}
	}
	_, _, err := c.Get(ctx, p)
	check("get", err)
	_, err = c.Children(ctx, p)
	check("list", err)
	_, err = c.Set(ctx, p, []byte(`{"seq":100000000}`), -1)
	check("set", err)
	_, err = c.Create(ctx, p+"/evil", []byte("x"), coord.Persistent)
	check("create under", err)
	if !isRoot { // the root's parent is not Stampede's
		check("delete", c.Delete(ctx, p, -1))
	}
}

// Every node under the root has a digest ACL for the cluster's secret
// only: a client without it, or with a wrong password, can neither read
// nor write any of them, including a worker registration re-created after
// the worker's session expired (its new session authenticates again and
// the worker runs the next test).
func TestZooKeeperNodesRefuseClientsWithoutTheSecret(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 2, Workers: 1, SessionTimeout: 2 * time.Second})
	proxy := zktest.NewProxy(t, c.ZK)
	c.AddWorker("wp", proxy.Addr())
	c.WaitWorkers(2, 30*time.Second)
	first := c.Submit(spec("avalanche", map[string]any{"requests": 400, "concurrency": 2}, c.TargetURL("/ping")))
	c.WaitPhase(first, "completed", 60*time.Second)
	stopped := c.Submit(spec("constant-rate", map[string]any{"rate": 20, "duration": "60s"}, c.TargetURL("/ping")))
	c.WaitPhase(stopped, "running", 60*time.Second)
	if code := tc.PostJSON(t, c.API()+"/tests/"+stopped+"/stop", nil, nil); code != 202 {
		t.Fatalf("stop = %d, want 202", code)
	}
	c.WaitPhase(stopped, "stopped", 60*time.Second)

	expireWorkerSession(t, c, proxy, "wp")
	c.WaitWorkers(2, 60*time.Second) // re-registered with a new session
	next := c.Submit(spec("avalanche", map[string]any{"requests": 400, "concurrency": 2}, c.TargetURL("/ping")))
	res := c.WaitPhase(next, "completed", 60*time.Second)
	for _, w := range res.Workers {
		if w.Requests != 200 {
			t.Errorf("after wp's new session: worker %s did %d requests, want 200", w.ID, w.Requests)
		}
	}

	nodes := tree(t, c.ZKClient(), c.Root)
	for _, want := range []string{"/masters/", "/workers/", "/tests/" + first + "/", "/tests/" + stopped + "/stop", "/tests/" + next + "/"} {
		found := false
		for _, n := range nodes {
			found = found || strings.Contains(n, c.Root+want)
		}
		if !found {
			t.Fatalf("no node %s…%s… among the %d checked: %v", c.Root, want, len(nodes), nodes)
		}
	}
	user, _, _ := strings.Cut(tc.ZKAuth, ":")
	for who, z := range map[string]*coord.Client{
		"anonymous":      dialAs(t, c.ZK, ""),
		"wrong password": dialAs(t, c.ZK, user+":not-the-password"),
	} {
		for _, n := range nodes {
			refused(t, z, who, n, n == c.Root)
		}
	}
	t.Logf("%d nodes refuse clients without the secret", len(nodes))
	if after := tree(t, c.ZKClient(), c.Root); len(after) != len(nodes) {
		t.Errorf("nodes changed while only unauthorised clients wrote: %d -> %d", len(nodes), len(after))
	}
	zkCliRefuses(t, c.ZK, c.Root, c.Root+"/tests/"+first)
}

// zkCliRefuses runs ZooKeeper's own shell, zkCli.sh, without credentials
// on each path: listing and reading are refused.
func zkCliRefuses(t *testing.T, addr string, paths ...string) {
	t.Helper()
	const cli = "/usr/share/zookeeper/bin/zkCli.sh"
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("%s: %v (Debian's zookeeper package ships it)", cli, err)
	}
	for _, p := range paths {
		for _, cmd := range []string{"ls " + p, "get " + p} {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			out, _ := exec.CommandContext(ctx, cli, append([]string{"-server", addr}, strings.Fields(cmd)...)...).CombinedOutput()
			cancel()
			if !strings.Contains(string(out), "Insufficient permission") {
				t.Errorf("zkCli.sh %s: want Insufficient permission, got:\n%s", cmd, tail(string(out), 15))
			}
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
