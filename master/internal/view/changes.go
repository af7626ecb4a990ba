package view

import (
	"context"
	"errors"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Changes reads a test's live changes node (none yet: empty). A node that
// does not decode is ErrInvalid.
func (r *Reader) Changes(ctx context.Context, id string) (proto.ChangesNode, error) {
	data, _, err := r.C.Get(ctx, r.P.Changes(id))
	if errors.Is(err, coord.ErrNoNode) {
		return proto.ChangesNode{}, nil
	}
	if err != nil {
		return proto.ChangesNode{}, err
	}
	n, err := proto.DecodeChanges(data)
	if err != nil {
		return proto.ChangesNode{}, errors.Join(ErrInvalid, err)
	}
	return n, nil
}

// addChanges puts a started test's live changes into its view as events,
// and what they make of it: paused now, and the running time left.
func (r *Reader) addChanges(ctx context.Context, t *Test, s *spec.Spec, st *proto.TestState) error {
	if st.StartAt == 0 {
		return nil
	}
	n, err := r.Changes(ctx, t.ID)
	if errors.Is(err, ErrInvalid) {
		return nil // shown without events; the leader logs it
	}
	if err != nil || len(n.Changes) == 0 {
		return err
	}
	t.Events = n.Changes
	if proto.Terminal(st.Phase) {
		return nil
	}
	course := plan.Follow(&s.Load, n.Changes)
	el := time.Since(time.Unix(0, st.StartAt)).Seconds()
	t.Paused = course.PausedAt(el)
	t.RemainingS = max(0, course.Total-course.RunningAt(el)) // running time: a pause does not count
	return nil
}
