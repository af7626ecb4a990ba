package coord

import (
	"context"
	"errors"
	"path"
	"sort"
	"time"
)

// Candidate is one node of an election directory.
type Candidate struct {
	Node string // full path
	Seq  int64
	Data []byte
}

// Candidates lists an election's candidates in order; the first one leads.
// Candidates whose node vanished while listing are skipped.
func (c *Client) Candidates(ctx context.Context, dir string) ([]Candidate, error) {
	kids, err := c.Children(ctx, dir)
	if err != nil {
		return nil, err
	}
	sortBySeq(kids)
	out := make([]Candidate, 0, len(kids))
	for _, k := range kids {
		d, _, err := c.Get(ctx, path.Join(dir, k))
		if errors.Is(err, ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Candidate{Node: path.Join(dir, k), Seq: Seq(k), Data: d})
	}
	return out, nil
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
	var reg *Registration
	for {
		var err error
		reg, err = e.c.Register(ctx, e.dir, "n_", e.data)
		if err == nil {
			break
		}
		if errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return err
		}
		if errors.Is(err, ErrNoNode) {
			_ = e.c.EnsurePath(ctx, e.dir)
			continue
		}
		e.c.log.Warn("election: registering failed; retrying", "dir", e.dir, "err", err)
		if !sleep(ctx, time.Second) {
			return ctx.Err()
		}
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
		me, gen := reg.current()
		sess := e.c.Session()
		if me == "" || gen != sess.Generation {
			wait(ctx, sub, 100*time.Millisecond)
			continue
		}
		kids, err := e.c.Children(ctx, e.dir)
		if err != nil {
			wait(ctx, sub, 200*time.Millisecond)
			continue
		}
		sortBySeq(kids)
		idx := -1
		for i, k := range kids {
			if path.Join(e.dir, k) == me {
				idx = i
			}
		}
		switch {
		case idx < 0: // our node is gone; the registration re-creates it
			reg.kick()
			wait(ctx, sub, 100*time.Millisecond)
		case idx == 0:
			e.leadWhileValid(ctx, sub, me, sess.Generation, lead)
		default:
			pred := path.Join(e.dir, kids[idx-1])
			_, _, w, err := e.c.GetW(ctx, pred)
			if err != nil {
				continue // predecessor gone: look again
			}
			select {
			case <-w:
			case <-sub:
			case <-ctx.Done():
			}
		}
	}
	return ctx.Err()
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
