package coord_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/zktest"
	"github.com/stampede-load/stampede/pkg/coord"
)

// The conformance suite: one table of behaviours the recipes rely on,
// written once against *coord.Client and run on a real ZooKeeper and on the
// in-memory twin (coord.MemServer). Where the twin differs from ZooKeeper
// in anything listed here, TestConformanceMemory fails while
// TestConformanceZooKeeper passes.

// harness is one implementation's way to open sessions and inject faults.
// Every case gets its own root directory.
type harness struct {
	t    *testing.T
	root string
	// dial opens a session with the given timeout and digest identity.
	dial func(session time.Duration, auth string) *coord.Client
	// expire ends c's session as the server does when it hears nothing for
	// a session timeout; it returns once c has a new session.
	expire func(c *coord.Client)
	// partition cuts c off (returning once c knows it is disconnected);
	// heal lets it reconnect.
	partition func(c *coord.Client) (heal func())
}

// client is a session with the default timeout and no secret.
func (h *harness) client() *coord.Client { return h.dial(4*time.Second, "") }

// ctx is a context bounded by the case's deadline.
func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	h.t.Cleanup(cancel)
	return ctx
}

// conformance is the suite; every case must hold on both implementations.
var conformance = []struct {
	name string
	run  func(h *harness)
}{
	{"CRUDAndVersions", caseCRUD},
	{"MzxidNamesOneContent", caseMzxid},
	{"SequentialNames", caseSequential},
	{"EphemeralsEndWithTheirSession", caseEphemerals},
	{"WatchesFireOnceWithTheirEvent", caseWatches},
	{"WatchesEndWithTheSession", caseWatchesEnd},
	{"WatchesSurviveADisconnection", caseWatchSurvivesPartition},
	{"CallsWaitWhileCutOff", caseCutOffCalls},
	{"MultiIsAtomicAndNamesTheFailedOp", caseMulti},
	{"SizeLimit", caseSizeLimit},
	{"DigestACLs", caseACL},
	{"KeptEphemeralsComeBackAfterExpiry", caseKeptEphemeral},
	{"ElectionHandsOverToTheSuccessor", caseElectionHandover},
	{"CandidatesIgnoreJunk", caseJunkCandidates},
	{"LeadershipEndsOnExpiryAndWritesAreRefused", caseLeadershipLost},
	{"LeadershipEndsOnDisconnection", caseLeadershipDisconnect},
	{"DeposedLeaderIsFenced", caseFenced},
}

func runConformance(t *testing.T, newHarness func(t *testing.T, root string) *harness) {
	for _, c := range conformance {
		t.Run(c.name, func(t *testing.T) {
			c.run(newHarness(t, "/conformance-"+strings.ToLower(c.name)))
		})
	}
}

// quietLogger keeps the library's expected warnings out of the test log.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestConformanceMemory(t *testing.T) {
	srv := coord.NewMemServer()
	runConformance(t, func(t *testing.T, root string) *harness {
		h := &harness{t: t, root: root}
		h.dial = func(session time.Duration, auth string) *coord.Client {
			cfg := coord.Config{SessionTimeout: session, OpTimeout: 5 * time.Second, Auth: auth, Logger: quietLogger()}
			c, err := coord.DialMemory(context.Background(), srv, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			return c
		}
		h.expire = func(c *coord.Client) {
			gen := c.Session().Generation
			srv.Expire(c.Session().ID)
			awaitNewSession(t, c, gen)
		}
		h.partition = func(c *coord.Client) func() {
			id := c.Session().ID
			srv.Partition(id)
			awaitDisconnected(t, c)
			return func() { srv.Heal(id) }
		}
		mustEnsure(t, h.client(), root)
		return h
	})
}

func TestConformanceZooKeeper(t *testing.T) {
	zk := zktest.Standalone(t)
	setup := dialOpen(t, zk.Addr())
	const markers = "/conformance-expiry-markers"
	mustEnsure(t, setup, markers)
	runConformance(t, func(t *testing.T, root string) *harness {
		h := &harness{t: t, root: root}
		var mu sync.Mutex
		proxies := map[*coord.Client]*zktest.Proxy{}
		h.dial = func(session time.Duration, auth string) *coord.Client {
			p := zktest.NewProxy(t, zk.Addr())
			cfg := coord.Config{Servers: p.Addr(), SessionTimeout: session, OpTimeout: 5 * time.Second, Auth: auth, Logger: quietLogger()}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := coord.Dial(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			mu.Lock()
			proxies[c] = p
			mu.Unlock()
			return c
		}
		proxyOf := func(c *coord.Client) *zktest.Proxy {
			mu.Lock()
			defer mu.Unlock()
			return proxies[c]
		}
		h.expire = func(c *coord.Client) {
			expireZK(t, c, proxyOf(c), setup, markers)
		}
		h.partition = func(c *coord.Client) func() {
			p := proxyOf(c)
			p.Block()
			awaitDisconnected(t, c)
			return func() {
				p.Unblock()
				p.Reset() // the handshakes sent while blocked are lost; redial at once
			}
		}
		mustEnsure(t, setup, root)
		return h
	})
}

// dialOpen is a session without a secret, so that the nodes it creates are
// open to every case's clients.
func dialOpen(t *testing.T, addr string) *coord.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := coord.Dial(ctx, coord.Config{Servers: addr, SessionTimeout: 4 * time.Second, OpTimeout: 5 * time.Second, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// expireZK cuts c off until the server has expired its session (an
// ephemeral marker of the session is gone), then lets it reconnect and
// waits for its new session.
func expireZK(t *testing.T, c *coord.Client, p *zktest.Proxy, observer *coord.Client, markers string) {
	t.Helper()
	ctx := context.Background()
	var b [8]byte
	_, _ = rand.Read(b[:])
	marker := markers + "/" + hex.EncodeToString(b[:])
	if _, err := c.Create(ctx, marker, nil, coord.Ephemeral); err != nil {
		t.Fatal(err)
	}
	gen := c.Session().Generation
	p.Block()
	testcluster.Eventually(t, 30*time.Second, "the server expires the cut-off session", func() bool {
		ok, _, err := observer.Exists(ctx, marker)
		return err == nil && !ok
	})
	p.Unblock()
	p.Reset() // the handshakes sent while blocked are lost; redial at once
	awaitNewSession(t, c, gen)
}

func awaitNewSession(t *testing.T, c *coord.Client, gen int64) {
	t.Helper()
	testcluster.Eventually(t, 30*time.Second, "a new session after the expiry", func() bool {
		s := c.Session()
		return s.State == coord.Connected && s.Generation > gen
	})
}

func awaitDisconnected(t *testing.T, c *coord.Client) {
	t.Helper()
	testcluster.Eventually(t, 15*time.Second, "the client sees it is cut off", func() bool {
		return c.Session().State == coord.Disconnected
	})
}

func mustEnsure(t *testing.T, c *coord.Client, p string) {
	t.Helper()
	if err := c.EnsurePath(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}
