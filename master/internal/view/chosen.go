package view

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
)

// A test's chosen workers are the names of its plan nodes: the leader
// writes every plan before the state that counts them (proto.TestState's
// Chosen), and no plan is written or removed after it. The state itself
// does not list them, so it is as small with 20,000 workers as with one,
// and the workers, which each read the state when their test prepares, do
// not each read the whole fleet's ids.

// chosenList is one test's chosen workers, as read for the state planned
// at planned.
type chosenList struct {
	planned int64
	ids     []string
}

// maxChosenIDs bounds the ids kept over every test (a few MB): past it the
// cache starts over.
const maxChosenIDs = 100_000

// Chosen lists the workers chosen for a test whose state is st, sorted:
// none before it is planned. The list is read once per planning (one
// listing of plan/) and kept; a plan node whose name cannot name a worker,
// or a count of plans that is not the state's, is ErrInvalid: neither is
// written by a master.
func (r *Reader) Chosen(ctx context.Context, id string, st *proto.TestState) ([]string, error) {
	if st.Chosen <= 0 {
		return nil, nil
	}
	r.mu.Lock()
	c, ok := r.chosen[id]
	r.mu.Unlock()
	if ok && c.planned == st.PlannedAt && len(c.ids) == st.Chosen {
		return slices.Clone(c.ids), nil
	}
	ids, err := r.C.Children(ctx, r.P.Plans(id))
	if errors.Is(err, coord.ErrNoNode) {
		return nil, fmt.Errorf("%w: test %s says %d workers were chosen and has no plans", ErrInvalid, id, st.Chosen)
	}
	if err != nil {
		return nil, err
	}
	for _, w := range ids {
		if err := proto.CheckWorkerID(w); err != nil {
			return nil, fmt.Errorf("%w: test %s has a plan node that names no worker: %w", ErrInvalid, id, err)
		}
	}
	if len(ids) != st.Chosen {
		return nil, fmt.Errorf("%w: test %s has %d plans, and its state says %d workers were chosen", ErrInvalid, id, len(ids), st.Chosen)
	}
	slices.Sort(ids)
	r.mu.Lock()
	if r.chosen == nil || r.chosenIDs+len(ids) > maxChosenIDs {
		r.chosen, r.chosenIDs = map[string]chosenList{}, 0 // a simple bound: start over
	}
	if old, ok := r.chosen[id]; ok {
		r.chosenIDs -= len(old.ids)
	}
	r.chosen[id] = chosenList{planned: st.PlannedAt, ids: ids}
	r.chosenIDs += len(ids)
	r.mu.Unlock()
	return slices.Clone(ids), nil
}

// forgetChosen drops a deleted test's chosen workers (with r.mu held).
func (r *Reader) forgetChosen(id string) {
	if old, ok := r.chosen[id]; ok {
		r.chosenIDs -= len(old.ids)
		delete(r.chosen, id)
	}
}
