package coord_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/coord"
)

// candidate is one campaigning client of a conformance case.
type candidate struct {
	c       *coord.Client
	leading chan led
	lost    chan time.Time
}

type led struct {
	l  *coord.Leader
	at time.Time
}

// campaign runs an election for c under the case's root until the case ends.
func campaign(h *harness, c *coord.Client, name string) *candidate {
	cd := &candidate{c: c, leading: make(chan led, 4), lost: make(chan time.Time, 4)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = coord.NewElection(c, h.root+"/el", []byte(name)).Run(ctx, func(lctx context.Context, l *coord.Leader) {
			cd.leading <- led{l, time.Now()}
			<-lctx.Done()
			cd.lost <- time.Now()
		})
	}()
	h.t.Cleanup(func() {
		cancel()
		<-done
	})
	return cd
}

func (cd *candidate) awaitLead(t *testing.T, what string) led {
	t.Helper()
	select {
	case l := <-cd.leading:
		return l
	case <-time.After(30 * time.Second):
		t.Fatal(what)
		return led{}
	}
}

func (cd *candidate) awaitLoss(t *testing.T, within time.Duration, what string) time.Time {
	t.Helper()
	select {
	case at := <-cd.lost:
		return at
	case <-time.After(within):
		t.Fatal(what)
		return time.Time{}
	}
}

func awaitCandidates(h *harness, c *coord.Client, names ...string) {
	h.t.Helper()
	ctx := h.ctx()
	testcluster.Eventually(h.t, 15*time.Second, "the candidates in order", func() bool {
		cs, err := c.Candidates(ctx, h.root+"/el")
		if err != nil || len(cs) != len(names) {
			return false
		}
		for i, cd := range cs {
			if string(cd.Data) != names[i] {
				return false
			}
		}
		return true
	})
}

// leaderAndSuccessor starts candidate a on client ac and, once it leads,
// candidate b; it returns once an observer lists both, in that order.
func leaderAndSuccessor(h *harness, ac *coord.Client) (observer *coord.Client, a *candidate, la led, b *candidate) {
	observer = h.client()
	mustEnsure(h.t, observer, h.root+"/el")
	a = campaign(h, ac, "a")
	la = a.awaitLead(h.t, "the first candidate never led")
	b = campaign(h, h.client(), "b")
	awaitCandidates(h, observer, "a", "b")
	return observer, a, la, b
}

// Each candidate waits for its predecessor only: when a middle one goes
// the leader stays, and when the leader goes its successor leads.
func caseElectionHandover(h *harness) {
	t, ctx := h.t, h.ctx()
	observer, a, la, b := leaderAndSuccessor(h, h.client())
	c := campaign(h, h.client(), "c")
	awaitCandidates(h, observer, "a", "b", "c")
	b.c.Close()
	awaitCandidates(h, observer, "a", "c")
	must(t, la.l.Multi(ctx, coord.CreateOp{Path: h.root + "/by-a"}))
	lostAt := time.Now()
	a.c.Close()
	a.awaitLoss(t, 10*time.Second, "leadership not ended by Close")
	lc := c.awaitLead(t, "the last candidate never took over")
	if lc.at.Before(lostAt) {
		t.Errorf("c led at %v, before a gave up at %v", lc.at, lostAt)
	}
	select {
	case l := <-b.leading:
		t.Errorf("the closed middle candidate led at %v", l.at)
	default:
	}
	must(t, lc.l.Multi(ctx, coord.CreateOp{Path: h.root + "/by-c"}))
	testcluster.Absent(t, observer, la.l.Node(), "the closed leader's node stayed")
}

// Nodes in an election directory that are not a candidate's (a persistent
// node with a candidate's name, a name of another shape) neither lead nor
// block the election.
func caseJunkCandidates(h *harness) {
	t, ctx := h.t, h.ctx()
	observer := h.client()
	mustEnsure(t, observer, h.root+"/el")
	_, err := observer.Create(ctx, h.root+"/el/_c_0123456789abcdef0123456789abcdef-n_", []byte("junk"), coord.PersistentSequential)
	must(t, err)
	_, err = observer.Create(ctx, h.root+"/el/zz", []byte("junk"), coord.Ephemeral)
	must(t, err)
	a := campaign(h, h.client(), "a")
	la := a.awaitLead(t, "a candidate behind junk never led")
	awaitCandidates(h, observer, "a")
	must(t, la.l.Multi(ctx, coord.CreateOp{Path: h.root + "/by-a"}))
}

// An expired leader loses leadership, its successor leads, and the old
// handle's writes are refused and never land.
func caseLeadershipLost(h *harness) {
	t, ctx := h.t, h.ctx()
	observer, a, la, b := leaderAndSuccessor(h, h.dial(2*time.Second, ""))
	h.expire(a.c)
	a.awaitLoss(t, 10*time.Second, "leadership not ended by the expiry")
	lb := b.awaitLead(t, "the successor never led")
	err := la.l.Multi(ctx, coord.CreateOp{Path: h.root + "/by-old"})
	if !errors.Is(err, coord.ErrNotLeader) && !errors.Is(err, coord.ErrFenced) {
		t.Errorf("the expired leader's Multi = %v, want ErrNotLeader or ErrFenced", err)
	}
	testcluster.Absent(t, observer, h.root+"/by-old", "a write of the expired leader landed")
	must(t, lb.l.Multi(ctx, coord.CreateOp{Path: h.root + "/by-new"}))
	// the expired candidate campaigns again, behind the new leader
	awaitCandidates(h, observer, "b", "a")
}

// A leader cut off gives up at once (not only when its session expires),
// before its successor leads.
func caseLeadershipDisconnect(h *harness) {
	t, ctx := h.t, h.ctx()
	observer, a, la, b := leaderAndSuccessor(h, h.dial(2*time.Second, ""))
	cut := time.Now()
	gen := a.c.Session().Generation
	heal := h.partition(a.c)
	lostAt := a.awaitLoss(t, 5*time.Second, "leadership kept while cut off")
	lb := b.awaitLead(t, "the successor never led")
	if !lostAt.Before(lb.at) {
		t.Errorf("two leaders: b led at %v, a gave up only at %v", lb.at, lostAt)
	}
	if d := lostAt.Sub(cut); d > 3*time.Second {
		t.Errorf("a gave up %v after the cut, want within its session timeout", d)
	}
	heal()
	err := la.l.Multi(ctx, coord.CreateOp{Path: h.root + "/by-cut"})
	if !errors.Is(err, coord.ErrNotLeader) && !errors.Is(err, coord.ErrFenced) {
		t.Errorf("the cut-off leader's Multi = %v, want ErrNotLeader or ErrFenced", err)
	}
	testcluster.Absent(t, observer, h.root+"/by-cut", "a write of the cut-off leader landed")
	must(t, lb.l.Multi(ctx, coord.CreateOp{Path: h.root + "/by-b"}))
	// healed, a learns its session expired and campaigns again behind b
	awaitNewSession(t, a.c, gen)
	awaitCandidates(h, observer, "b", "a")
}

// The fence itself: a leader still connected with an unchanged session,
// whose node is gone, has its writes refused by the server.
func caseFenced(h *harness) {
	t, ctx := h.t, h.ctx()
	observer, a, la, b := leaderAndSuccessor(h, h.client())
	_, err := observer.Create(ctx, h.root+"/taken", nil, coord.Persistent)
	must(t, err)
	err = la.l.Multi(ctx, coord.CreateOp{Path: h.root + "/fresh"}, coord.CreateOp{Path: h.root + "/taken"})
	var me *coord.MultiError
	if !errors.As(err, &me) || me.Index != 1 || !errors.Is(err, coord.ErrNodeExists) || errors.Is(err, coord.ErrFenced) {
		t.Errorf("leader's failing Multi = %v, want the caller's op 1 with ErrNodeExists", err)
	}
	gen := a.c.Session().Generation
	must(t, observer.Delete(ctx, la.l.Node(), -1))
	lb := b.awaitLead(t, "the successor never led")
	if s := a.c.Session(); s.State != coord.Connected || s.Generation != gen {
		t.Fatalf("a's session changed (%+v): the fence would not be what refuses", s)
	}
	err = la.l.Multi(ctx, coord.CreateOp{Path: h.root + "/by-deposed"})
	wantErr(t, "the deposed leader's Multi", err, coord.ErrFenced)
	testcluster.Absent(t, observer, h.root+"/by-deposed", "a write of the deposed leader landed")
	must(t, lb.l.Multi(ctx, coord.CreateOp{Path: h.root + "/by-successor"}))
}
