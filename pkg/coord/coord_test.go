package coord_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/zktest"
	"github.com/stampede-load/stampede/pkg/coord"
)

// dial opens a session to addr with the given session timeout.
func dial(t *testing.T, addr string, session time.Duration) *coord.Client {
	t.Helper()
	return testcluster.DialZK(t, addr, session)
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestOpsAndMulti(t *testing.T) {
	zk := zktest.Standalone(t)
	c := dial(t, zk.Addr(), 4*time.Second)
	ctx := ctxT(t, 30*time.Second)
	if err := c.EnsurePath(ctx, "/t/a/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, "/t/a/b", nil, coord.Persistent); !errors.Is(err, coord.ErrNodeExists) {
		t.Fatalf("Create existing: err = %v, want ErrNodeExists", err)
	}
	if _, _, err := c.Get(ctx, "/t/none"); !errors.Is(err, coord.ErrNoNode) {
		t.Fatalf("Get missing: err = %v, want ErrNoNode", err)
	}
	// a failed multi applies nothing and says which op failed
	err := c.Multi(ctx,
		coord.CreateOp{Path: "/t/x", Data: []byte("1")},
		coord.CreateOp{Path: "/t/a/b"})
	var me *coord.MultiError
	if !errors.As(err, &me) || me.Index != 1 || !errors.Is(err, coord.ErrNodeExists) {
		t.Fatalf("Multi = %v, want MultiError at op 1 with ErrNodeExists", err)
	}
	testcluster.Absent(t, c, "/t/x", "a failed multi applied its first op")
	if err := c.DeleteTree(ctx, "/t"); err != nil {
		t.Fatal(err)
	}
	testcluster.Absent(t, c, "/t", "DeleteTree left it")
}

func TestRegistrationSurvivesSessionExpiry(t *testing.T) {
	zk := zktest.Standalone(t)
	proxy := zktest.NewProxy(t, zk.Addr())
	c := dial(t, proxy.Addr(), 2*time.Second)
	observer := dial(t, zk.Addr(), 4*time.Second)
	ctx := ctxT(t, 90*time.Second)
	if err := c.EnsurePath(ctx, "/w"); err != nil {
		t.Fatal(err)
	}
	reg, err := c.Register(ctx, "/w", "worker-", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	first := reg.Path()
	_, st, err := observer.Get(ctx, first)
	if err != nil || st.EphemeralOwner != c.Session().ID {
		t.Fatalf("registration %s: owner %#x err %v, want owner %#x", first, st.EphemeralOwner, err, c.Session().ID)
	}
	gen := c.Session().Generation

	proxy.Block()
	testcluster.Eventually(t, 20*time.Second, "the server expires the partitioned session", func() bool {
		ok, _, err := observer.Exists(ctx, first)
		return err == nil && !ok
	})
	proxy.Unblock()
	testcluster.Eventually(t, 60*time.Second, "a new session and a re-created registration", func() bool {
		s := c.Session()
		p := reg.Path()
		if s.Generation == gen || p == "" || p == first {
			return false
		}
		_, st, err := observer.Get(ctx, p)
		return err == nil && st.EphemeralOwner == s.ID
	})
	if err := reg.Update(ctx, []byte("b")); err != nil {
		t.Fatal(err)
	}
	d, _, err := observer.Get(ctx, reg.Path())
	if err != nil || string(d) != "b" {
		t.Fatalf("after Update: data %q err %v, want b", d, err)
	}
	kids, err := observer.Children(ctx, "/w")
	if err != nil || len(kids) != 1 {
		t.Fatalf("children of /w = %v (%v), want exactly one registration", kids, err)
	}
}

func TestElectionFailoverAndFencing(t *testing.T) {
	zk := zktest.Standalone(t)
	ctx := ctxT(t, 90*time.Second)
	type cand struct {
		c       *coord.Client
		leading chan *coord.Leader
		lost    chan struct{}
		cancel  context.CancelFunc
	}
	start := func(name string) *cand {
		c := dial(t, zk.Addr(), 4*time.Second)
		cd := &cand{c: c, leading: make(chan *coord.Leader, 4), lost: make(chan struct{}, 4)}
		rctx, cancel := context.WithCancel(ctx)
		cd.cancel = cancel
		e := coord.NewElection(c, "/el", []byte(name))
		go func() {
			_ = e.Run(rctx, func(lctx context.Context, l *coord.Leader) {
				cd.leading <- l
				<-lctx.Done()
				cd.lost <- struct{}{}
			})
		}()
		return cd
	}
	setup := dial(t, zk.Addr(), 4*time.Second)
	if err := setup.EnsurePath(ctx, "/el"); err != nil {
		t.Fatal(err)
	}
	a := start("a")
	var la *coord.Leader
	select {
	case la = <-a.leading:
	case <-time.After(20 * time.Second):
		t.Fatal("first candidate never led")
	}
	b := start("b")
	select {
	case <-b.leading:
		t.Fatal("second candidate leads while the first is alive")
	case <-time.After(time.Second):
	}
	cands, err := setup.Candidates(ctx, "/el")
	if err != nil || len(cands) != 2 || string(cands[0].Data) != "a" {
		t.Fatalf("Candidates = %+v, %v; want a then b", cands, err)
	}
	if err := la.Multi(ctx, coord.CreateOp{Path: "/fenced-ok"}); err != nil {
		t.Fatalf("leader write: %v", err)
	}
	// a's session ends: b leads, and a's leader handle is fenced
	a.c.Close()
	select {
	case <-a.lost:
	case <-time.After(10 * time.Second):
		t.Fatal("leadership context not cancelled after Close")
	}
	var lb *coord.Leader
	select {
	case lb = <-b.leading:
	case <-time.After(20 * time.Second):
		t.Fatal("second candidate never took over")
	}
	if err := lb.Multi(ctx, coord.CreateOp{Path: "/by-b"}); err != nil {
		t.Fatalf("new leader write: %v", err)
	}
	testcluster.Absent(t, setup, la.Node(), "the old leader's election node outlived its session")
	// the closed old leader's handle must not write either
	if err := la.Multi(ctx, coord.CreateOp{Path: "/by-a-after-close"}); err == nil {
		t.Fatal("the closed old leader's Multi succeeded")
	}
	testcluster.Absent(t, setup, "/by-a-after-close", "a write of the closed old leader landed")
}

// The fence itself (not the client's own idea of its session): a leader
// whose session is still connected and unchanged, but whose election node
// is gone and whose successor leads, has every Multi refused by the
// server with ErrFenced, and nothing of it applied.
func TestDeposedLeaderWriteIsFenced(t *testing.T) {
	zk := zktest.Standalone(t)
	ctx := ctxT(t, 90*time.Second)
	setup := dial(t, zk.Addr(), 4*time.Second)
	if err := setup.EnsurePath(ctx, "/el"); err != nil {
		t.Fatal(err)
	}
	campaign := func(name string) (*coord.Client, chan *coord.Leader) {
		c := dial(t, zk.Addr(), 4*time.Second)
		leading := make(chan *coord.Leader, 4)
		go func() {
			_ = coord.NewElection(c, "/el", []byte(name)).Run(ctx, func(lctx context.Context, l *coord.Leader) {
				leading <- l
				<-lctx.Done()
			})
		}()
		return c, leading
	}
	recv := func(ch chan *coord.Leader, what string) *coord.Leader {
		t.Helper()
		select {
		case l := <-ch:
			return l
		case <-time.After(20 * time.Second):
			t.Fatal(what)
			return nil
		}
	}
	ac, aLeads := campaign("a")
	la := recv(aLeads, "first candidate never led")
	_, bLeads := campaign("b")
	testcluster.Eventually(t, 10*time.Second, "two candidates", func() bool {
		cs, err := setup.Candidates(ctx, "/el")
		return err == nil && len(cs) == 2
	})
	gen := ac.Session().Generation
	// depose a without touching its session: its node goes, b leads
	if err := setup.Delete(ctx, la.Node(), -1); err != nil {
		t.Fatal(err)
	}
	lb := recv(bLeads, "second candidate never took over")
	if s := ac.Session(); s.State != coord.Connected || s.Generation != gen {
		t.Fatalf("a's session changed (%+v, generation was %d): the fence would not be what refuses", s, gen)
	}
	err := la.Multi(ctx, coord.CreateOp{Path: "/by-deposed", Data: []byte("a")})
	if !errors.Is(err, coord.ErrFenced) {
		t.Fatalf("deposed leader's Multi = %v, want ErrFenced", err)
	}
	testcluster.Absent(t, setup, "/by-deposed", "a write of the deposed leader landed")
	if err := lb.Multi(ctx, coord.CreateOp{Path: "/by-successor"}); err != nil {
		t.Fatalf("new leader write: %v", err)
	}
}

func TestLeadershipEndsOnDisconnectAndWritesAreFenced(t *testing.T) {
	zk := zktest.Standalone(t)
	proxy := zktest.NewProxy(t, zk.Addr())
	ctx := ctxT(t, 120*time.Second)
	setup := dial(t, zk.Addr(), 4*time.Second)
	if err := setup.EnsurePath(ctx, "/el"); err != nil {
		t.Fatal(err)
	}
	cut := dial(t, proxy.Addr(), 3*time.Second)
	leading := make(chan *coord.Leader, 4)
	lost := make(chan time.Time, 4)
	go func() {
		_ = coord.NewElection(cut, "/el", []byte("cut")).Run(ctx, func(lctx context.Context, l *coord.Leader) {
			leading <- l
			<-lctx.Done()
			lost <- time.Now()
		})
	}()
	var l *coord.Leader
	select {
	case l = <-leading:
	case <-time.After(20 * time.Second):
		t.Fatal("never led")
	}
	other := dial(t, zk.Addr(), 4*time.Second)
	type led struct {
		l  *coord.Leader
		at time.Time
	}
	otherLeads := make(chan led, 4)
	go func() {
		_ = coord.NewElection(other, "/el", []byte("other")).Run(ctx, func(lctx context.Context, l *coord.Leader) {
			otherLeads <- led{l, time.Now()}
			<-lctx.Done()
		})
	}()
	testcluster.Eventually(t, 10*time.Second, "the other candidate queued behind the leader", func() bool {
		cs, err := setup.Candidates(ctx, "/el")
		return err == nil && len(cs) == 2
	})

	blocked := time.Now()
	proxy.Block()
	var lostAt time.Time
	select {
	case lostAt = <-lost:
	case <-time.After(15 * time.Second):
		t.Fatal("leadership not given up while cut off")
	}
	var ol *coord.Leader
	select {
	case o := <-otherLeads:
		if !lostAt.Before(o.at) {
			t.Fatalf("two leaders at once: the other led at %v, the cut-off one gave up only at %v", o.at, lostAt)
		}
		ol = o.l
	case <-time.After(30 * time.Second):
		t.Fatal("other candidate never led")
	}
	if lostAt.Sub(blocked) > 3*time.Second {
		t.Errorf("cut-off leader gave up %v after the cut, want within the receive timeout (2 s)", lostAt.Sub(blocked))
	}
	if err := ol.Multi(ctx, coord.CreateOp{Path: "/new-leader-write"}); err != nil {
		t.Fatalf("new leader write: %v", err)
	}
	proxy.Unblock()
	// the old handle is refused locally or by the fence; never applied
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := l.Multi(wctx, coord.CreateOp{Path: "/old-leader-write"})
	if !errors.Is(err, coord.ErrFenced) && !errors.Is(err, coord.ErrNotLeader) {
		t.Fatalf("old leader write err = %v, want ErrFenced or ErrNotLeader", err)
	}
	testcluster.Absent(t, setup, "/old-leader-write", "a write of the deposed leader landed")
}
