package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// maxAskBytes bounds an ask node the leader reads (the API writes a few
// hundred bytes).
const maxAskBytes = 4 << 10

// liveChanges is the leader's copy of a running test's changes node: the
// live changes (PATCH, pause, resume, rebalance) applied so far, with the
// node's version for the compare-and-set of the next one.
type liveChanges struct {
	node   proto.ChangesNode
	ver    int32
	course plan.Course
	// asks gets a token when the asks directory changed
	asks chan struct{}
}

// startChanges reads (or creates) the changes node, so that a resumed
// leader goes on from every change its predecessor wrote, and starts
// watching the asks the API leaves.
func (m *monitorRun) startChanges(ctx context.Context) error {
	if err := m.o.ensureNodes(ctx, m.l, m.o.p.Changes(m.id), m.o.p.AsksDir(m.id)); err != nil {
		return err
	}
	m.ch = &liveChanges{asks: make(chan struct{}, 1)}
	if err := m.readChanges(ctx); err != nil {
		return err
	}
	go m.watchAsks(ctx)
	return nil
}

// readChanges re-reads the changes node and follows its course.
func (m *monitorRun) readChanges(ctx context.Context) error {
	data, st, err := m.o.c.Get(ctx, m.o.p.Changes(m.id))
	if err != nil {
		return err
	}
	n, err := proto.DecodeChanges(data)
	if err != nil {
		return fmt.Errorf("%w: %w", errBadChanges, err)
	}
	m.ch.node, m.ch.ver = n, st.Version
	m.follow()
	return nil
}

var errBadChanges = errors.New("orchestrator: the changes node cannot be trusted")

// follow moves the planned end and the report bounds to the course the
// changes give.
func (m *monitorRun) follow() {
	m.ch.course = plan.Follow(&m.s.Load, m.ch.node.Changes)
	m.sumSpec = m.s
	if l := m.s.Load; len(m.ch.node.Changes) > 0 && l.Model == spec.ModelConstantRate {
		// the summary's target rate is the one the changes planned
		eff := *m.s
		base := l.Rate
		if l.RatePerWorker > 0 {
			base = l.RatePerWorker * float64(len(m.workers))
		}
		eff.Load.Rate, eff.Load.RatePerWorker = m.ch.course.MeanRate(base), 0
		m.sumSpec = &eff
	}
	end := time.Duration(m.ch.course.End * float64(time.Second))
	timeout := m.s.Request.Timeout.D
	m.plannedEnd = time.Unix(0, m.st.StartAt).Add(end + timeout)
	// the worker's hard deadline is the end + timeout + 5 s; one more
	// interval for the final, partial one
	m.bounds.MaxSeq = int64((end+timeout+5*time.Second)/time.Second) + 2
	m.tr.Limit(m.bounds.MaxSeq)
}

// watchAsks signals m.ch.asks whenever the asks directory has children.
func (m *monitorRun) watchAsks(ctx context.Context) {
	for ctx.Err() == nil {
		names, w, err := m.o.c.ChildrenW(ctx, m.o.p.AsksDir(m.id))
		if err != nil {
			sleep(ctx, time.Second)
			continue
		}
		if len(names) > 0 {
			select {
			case m.ch.asks <- struct{}{}:
			default:
			}
		}
		wait(ctx, w)
	}
}

// answerAsks applies or refuses every waiting ask, oldest first, each in
// one fenced write of the changes node that also deletes the ask.
func (m *monitorRun) answerAsks(ctx context.Context, now time.Time) error {
	names, err := m.o.c.Children(ctx, m.o.p.AsksDir(m.id))
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		data, _, err := m.o.c.Get(ctx, m.o.p.Ask(m.id, name))
		if errors.Is(err, coord.ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		var ask plan.Ask
		reason := ""
		if len(data) > maxAskBytes || json.Unmarshal(data, &ask) != nil {
			reason = "unreadable ask"
		}
		var change *plan.Change
		if reason == "" {
			change, reason = m.decide(ctx, ask, now)
		}
		if change != nil {
			change.Ask = name
		}
		if err := m.writeChange(ctx, change, name, reason); err != nil {
			return err
		}
	}
	return nil
}

// decide turns an ask into the change it makes, or the reason it is
// refused.
func (m *monitorRun) decide(ctx context.Context, ask plan.Ask, now time.Time) (*plan.Change, string) {
	if stopping, _, _ := m.o.c.Exists(ctx, m.o.p.Stop(m.id)); stopping {
		return nil, "the test is stopping"
	}
	changes := m.ch.node.Changes
	at := plan.EffectiveSecond(now.Sub(time.Unix(0, m.st.StartAt)), changes)
	errs, conflict := ask.Check(m.s, changes, at, m.o.cfg.Limits, len(m.workers))
	switch {
	case len(errs) > 0:
		return nil, errs.Error()
	case conflict != "":
		return nil, conflict
	}
	c := ask.Apply(changes, at, now)
	return &c, ""
}

// writeChange appends change (or, if nil, the refusal) to the changes node
// and deletes the ask it answers (none for the leader's own), fenced and
// compare-and-set on the node's version. On a version conflict it re-reads
// the node and the ask is answered on the next pass.
func (m *monitorRun) writeChange(ctx context.Context, change *plan.Change, ask, reason string) error {
	n := m.ch.node
	n.Changes = append([]plan.Change(nil), n.Changes...)
	if change != nil {
		n.Changes = append(n.Changes, *change)
	} else {
		n.Refused = append(append([]proto.Refusal(nil), n.Refused...), proto.Refusal{Ask: ask, Reason: reason})
		if len(n.Refused) > proto.MaxRefused {
			n.Refused = n.Refused[len(n.Refused)-proto.MaxRefused:]
		}
	}
	ops := []coord.Op{coord.SetOp{Path: m.o.p.Changes(m.id), Data: proto.Marshal(n), Version: m.ch.ver}}
	if ask != "" {
		ops = append(ops, coord.DeleteOp{Path: m.o.p.Ask(m.id, ask), Version: -1})
	}
	err := m.l.Multi(ctx, ops...)
	if errors.Is(err, coord.ErrBadVersion) || errors.Is(err, coord.ErrNoNode) {
		return m.readChanges(ctx)
	}
	if err != nil {
		return err
	}
	m.ch.node, m.ch.ver = n, m.ch.ver+1
	if change == nil {
		m.log.Info("live change refused", "ask", ask, "reason", reason)
		return nil
	}
	m.follow()
	m.log.Info("live change", "seq", change.Seq, "kind", change.Kind, "at_second", change.At, "by", change.By)
	return nil
}

// rebalance gives the shares of newly lost workers to the survivors (test
// policy on_worker_loss: rebalance, open models): one change that every
// surviving worker adopts at its second.
func (m *monitorRun) rebalance(ctx context.Context, lost []string, now time.Time) error {
	if !m.s.Load.IsOpen() {
		return nil
	}
	var drop []int
	for i, w := range m.workers {
		for _, l := range lost {
			if w == l {
				drop = append(drop, i)
			}
		}
	}
	changes := m.ch.node.Changes
	at := plan.EffectiveSecond(now.Sub(time.Unix(0, m.st.StartAt)), changes)
	if len(drop) == 0 || len(changes) >= plan.MaxChanges || float64(at) >= m.ch.course.End {
		return nil
	}
	c := plan.Change{Seq: len(changes) + 1, At: at, Kind: plan.ChangeRebalance, Drop: drop, Lost: lost, By: "leader", Time: now.UnixNano()}
	return m.writeChange(ctx, &c, "", "")
}

// markPaused flags the points of paused seconds (their requests are the
// exchanges that were in flight when the pause began, if any).
func (m *monitorRun) markPaused(pts []report.Point) {
	for i := range pts {
		pts[i].Paused = m.ch.course.PausedAt(float64(pts[i].Second))
	}
}
