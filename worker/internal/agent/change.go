package agent

import (
	"context"
	"log/slog"
	"time"

	"github.com/stampede-load/stampede/pkg/load"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/proto"
)

// followChanges watches the test's changes node while the run lasts and
// hands every new version to the engine, which adopts it at the change's
// second boundary. It also owns the run's hard deadline: the planned end
// after the changes (a pause moves it) plus the request timeout and a
// margin; cancel ends the run there whatever ZooKeeper does. A changes node
// that cannot be trusted is logged and ignored (the run keeps its last
// good course).
func (a *Agent) followChanges(ctx context.Context, id string, p load.Plan, run *load.Run, startAt time.Time, cancel context.CancelFunc, log *slog.Logger) {
	margin := p.Spec.Request.Timeout.D + 5*time.Second
	hard := time.NewTimer(time.Until(startAt.Add(p.Spec.Load.RunBound() + margin)))
	defer hard.Stop()
	lastVer := int32(-1)
	for ctx.Err() == nil {
		data, st, w, err := a.c.GetW(ctx, a.p.Changes(id))
		if err != nil {
			// absent until the first change (or unreachable): look again soon
			ok, ew, eerr := a.c.ExistsW(ctx, a.p.Changes(id))
			if eerr != nil || ok {
				w = nil
			} else {
				w = ew
			}
		} else if st.Version != lastVer {
			lastVer = st.Version
			if end, ok := a.adopt(ctx, data, p, run, log); ok {
				hard.Reset(time.Until(startAt.Add(time.Duration(end*float64(time.Second)) + margin)))
			}
		}
		if w == nil {
			t := time.NewTimer(500 * time.Millisecond)
			select {
			case <-t.C:
			case <-hard.C:
				t.Stop()
				cancel()
				return
			case <-ctx.Done():
			}
			t.Stop()
			continue
		}
		select {
		case <-w:
		case <-hard.C:
			log.Warn("run reached its hard deadline")
			cancel()
			return
		case <-ctx.Done():
		}
	}
}

// adopt hands a changes node to the engine; it returns the course's end
// (seconds from the start).
func (a *Agent) adopt(ctx context.Context, data []byte, p load.Plan, run *load.Run, log *slog.Logger) (float64, bool) {
	n, err := proto.DecodeChanges(data)
	if err != nil {
		log.Warn("ignoring the changes node", "err", err)
		return 0, false
	}
	if len(n.Changes) == 0 {
		return 0, false // the node as the leader created it: nothing to adopt
	}
	if err := run.Adopt(ctx, n.Changes); err != nil {
		log.Warn("cannot adopt live changes", "err", err)
		return 0, false
	}
	c := n.Changes[len(n.Changes)-1]
	log.Info("adopted a live change", "seq", c.Seq, "kind", c.Kind, "at_second", c.At)
	pl := run.Plan()
	return plan.Follow(&pl.Spec.Load, n.Changes).End, true
}
