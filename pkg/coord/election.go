package coord

import (
	"context"
	"errors"
	"path"
	"slices"
	"sort"
	"strings"
	"time"
)

// Candidate is one node of an election directory.
type Candidate struct {
	Node string // full path
	Seq  int64
	Data []byte
}

// Candidates lists an election's candidates in order; the first one leads.
// Candidates whose node vanished while listing are skipped, and so is
// every node that is not a candidate: one whose name is not that of a
// protected sequential node, or that is not ephemeral (junk written into
// the directory can neither lead nor block the election).
func (c *Client) Candidates(ctx context.Context, dir string) ([]Candidate, error) {
	kids, err := c.Children(ctx, dir)
	if err != nil {
		return nil, err
	}
	kids = candidateNames(kids)
	paths := make([]string, len(kids))
	for i, k := range kids {
		paths[i] = path.Join(dir, k)
	}
	out := make([]Candidate, 0, len(kids))
	for i, r := range c.GetMany(ctx, paths) {
		if errors.Is(r.Err, ErrNoNode) || (r.Err == nil && r.Stat.EphemeralOwner == 0) {
			continue
		}
		if r.Err != nil {
			return nil, r.Err
		}
		out = append(out, Candidate{Node: paths[i], Seq: Seq(kids[i]), Data: r.Data})
	}
	return out, nil
}

// candidateNames keeps the names a Registration creates
// (_c_<32 hex>-<prefix><10 digits>), ordered by sequence number.
func candidateNames(names []string) []string {
	out := names[:0:0]
	for _, k := range names {
		if isCandidateName(k) {
			out = append(out, k)
		}
	}
	sortBySeq(out)
	return out
}

func isCandidateName(k string) bool {
	const guid = 32
	if len(k) < 3+guid+1+10 || !strings.HasPrefix(k, "_c_") || k[3+guid] != '-' || Seq(k) < 0 {
		return false
	}
	for _, r := range k[3 : 3+guid] {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// sortBySeq orders sequential node names by their sequence suffix (protected
// names start with a random GUID, so lexical order is meaningless).
func sortBySeq(names []string) {
	sort.SliceStable(names, func(i, j int) bool { return Seq(names[i]) < Seq(names[j]) })
}

// Election is one candidate in a leader election (ZooKeeper recipe without
// herd effect: each candidate watches only its predecessor).
type Election struct {
	c    *Client
	dir  string
	data []byte
}

// NewElection prepares a candidacy under dir with the given node data.
func NewElection(c *Client, dir string, data []byte) *Election {
	return &Election{c: c, dir: dir, data: data}
}

// Leader is the right to act as leader, valid while its context is.
type Leader struct {
	c    *Client
	node string
	gen  int64
}

// Node is the leader's election node, which fences its writes.
func (l *Leader) Node() string { return l.node }

// Multi applies ops in one transaction together with a check that the
// leader's election node still exists. If leadership was lost, nothing is
// applied and the error is ErrFenced (or ErrNotLeader if this client knows
// already that its session is not usable).
func (l *Leader) Multi(ctx context.Context, ops ...Op) error {
	s := l.c.Session()
	if s.State != Connected || s.Generation != l.gen {
		return ErrNotLeader
	}
	all := append([]Op{CheckOp{Path: l.node, Version: -1}}, ops...)
	err := l.c.Multi(ctx, all...)
	var me *MultiError
	if errors.As(err, &me) && me.Index == 0 {
		return ErrFenced
	}
	if me != nil {
		me.Index-- // report the caller's op index
	}
	return err
}

// Run campaigns until ctx ends. Whenever this candidate becomes leader, lead
// runs with a context that is cancelled as soon as leadership may be lost:
// the connection is suspended (not only when the session expires), the
// session changes, the election node disappears, or ctx ends. Run waits for
// lead to return before campaigning again, so two lead calls of one
// Election never overlap. Run returns ctx.Err() or ErrClosed.
func (e *Election) Run(ctx context.Context, lead func(ctx context.Context, l *Leader)) error {
	reg, err := e.register(ctx)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = reg.Close(cctx)
	}()
	sub, unsub := e.c.Subscribe()
	defer unsub()

	for ctx.Err() == nil {
		if err := e.c.WaitConnected(ctx); err != nil {
			return err
		}
		e.step(ctx, sub, reg, lead)
	}
	return ctx.Err()
}

// register creates this candidate's node, retrying until ctx ends.
func (e *Election) register(ctx context.Context) (*Registration, error) {
	for {
		reg, err := e.c.Register(ctx, e.dir, "n_", e.data)
		if err == nil {
			return reg, nil
		}
		if errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return nil, err
		}
		if errors.Is(err, ErrNoNode) {
			_ = e.c.EnsurePath(ctx, e.dir)
			continue
		}
		e.c.log.Warn("election: registering failed; retrying", "dir", e.dir, "err", err)
		if !sleep(ctx, time.Second) {
			return nil, ctx.Err()
		}
	}
}

// step looks at the candidates once: it leads (until leadership may be
// lost) if this candidate is first, or waits for its predecessor to go.
func (e *Election) step(ctx context.Context, sub <-chan struct{}, reg *Registration, lead func(context.Context, *Leader)) {
	me, gen := reg.current()
	sess := e.c.Session()
	if me == "" || gen != sess.Generation {
		wait(ctx, sub, 100*time.Millisecond)
		return
	}
	kids, err := e.c.Children(ctx, e.dir)
	if err != nil {
		wait(ctx, sub, 200*time.Millisecond)
		return
	}
	kids = candidateNames(kids)
	idx := slices.IndexFunc(kids, func(k string) bool { return path.Join(e.dir, k) == me })
	switch {
	case idx < 0: // our node is gone; the registration re-creates it
		reg.kick()
		wait(ctx, sub, 100*time.Millisecond)
	case idx == 0:
		e.leadWhileValid(ctx, sub, me, sess.Generation, lead)
	default:
		w, err := e.watchPredecessor(ctx, kids[:idx])
		if err != nil {
			wait(ctx, sub, 200*time.Millisecond)
			return
		}
		if w == nil { // no live candidate before this one
			e.leadWhileValid(ctx, sub, me, sess.Generation, lead)
			return
		}
		select {
		case <-w:
		case <-sub:
		case <-ctx.Done():
		}
	}
}

// watchPredecessor watches the nearest candidate before this one that is
// ephemeral (a persistent node with a candidate's name is junk and is
// skipped). A nil watch means there is none: this candidate leads.
func (e *Election) watchPredecessor(ctx context.Context, before []string) (<-chan WatchEvent, error) {
	for i := len(before) - 1; i >= 0; i-- {
		pred := path.Join(e.dir, before[i])
		_, st, err := e.c.Get(ctx, pred)
		if errors.Is(err, ErrNoNode) || (err == nil && st.EphemeralOwner == 0) {
			continue
		}
		if err != nil {
			return nil, err
		}
		_, _, w, err := e.c.GetW(ctx, pred)
		if errors.Is(err, ErrNoNode) {
			continue
		}
		return w, err
	}
	return nil, nil
}

// leadWhileValid confirms the node belongs to this session, then runs lead
// until leadership may be lost.
func (e *Election) leadWhileValid(ctx context.Context, sub <-chan struct{}, me string, gen int64, lead func(context.Context, *Leader)) {
	_, st, w, err := e.c.GetW(ctx, me)
	if err != nil || st.EphemeralOwner != e.c.Session().ID {
		wait(ctx, sub, 100*time.Millisecond)
		return
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(lctx, &Leader{c: e.c, node: me, gen: gen})
	}()
	for {
		select {
		case <-sub:
			if s := e.c.Session(); s.State == Connected && s.Generation == gen {
				continue
			}
		case ev := <-w:
			if ev.Type == EventDataChanged {
				if _, _, w, err = e.c.GetW(ctx, me); err == nil {
					continue
				}
			}
		case <-ctx.Done():
		case <-done:
		}
		cancel()
		<-done
		return
	}
}

func wait(ctx context.Context, sub <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-sub:
	case <-ctx.Done():
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
