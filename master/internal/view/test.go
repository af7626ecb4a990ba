package view

import (
	"context"
	"errors"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Test is the body of GET /api/v1/tests/{id} (contract, extend freely).
type Test struct {
	ID         string                 `json:"id"`
	Name       string                 `json:"name"`
	Spec       *spec.Spec             `json:"spec"`
	Phase      string                 `json:"phase"`
	Reason     string                 `json:"reason,omitempty"`
	CreatedAt  string                 `json:"created_at"`
	StartAt    string                 `json:"start_at,omitempty"`
	EndedAt    string                 `json:"ended_at,omitempty"`
	ElapsedS   float64                `json:"elapsed_s"`
	RemainingS float64                `json:"remaining_s"`
	Workers    []report.WorkerSummary `json:"workers"`
	Summary    *report.Summary        `json:"summary"`
	// Events are the test's live changes, in order (changes.go); Paused
	// says whether it is paused now.
	Events []plan.Change `json:"events,omitempty"`
	Paused bool          `json:"paused,omitempty"`
	// Position is a queued test's place in the queue (1 runs next).
	Position int `json:"position,omitempty"`
	// RerunOf is the test this one reruns.
	RerunOf string `json:"rerun_of,omitempty"`
}

// ListItem is one entry of GET /api/v1/tests.
type ListItem struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Phase     string          `json:"phase"`
	Reason    string          `json:"reason,omitempty"`
	CreatedAt string          `json:"created_at"`
	StartAt   string          `json:"start_at,omitempty"`
	EndedAt   string          `json:"ended_at,omitempty"`
	Summary   *report.Summary `json:"summary"`
	Position  int             `json:"position,omitempty"`
	RerunOf   string          `json:"rerun_of,omitempty"`
}

// Test reads one test with per-worker lines and its summary: the result
// for a finished test, or the leader's live merge while it runs. It reads a
// handful of nodes whatever the number of workers (never a worker's
// report).
//
// A spec that no longer validates (the leader fails such a test) is shown
// as none; a state that does not decode is ErrInvalid.
func (r *Reader) Test(ctx context.Context, id string) (*Test, error) {
	t, _, err := r.TestLive(ctx, id)
	return t, err
}

// TestLive is Test plus the live node of a running test (nil otherwise, or
// before the leader first wrote it).
func (r *Reader) TestLive(ctx context.Context, id string) (*Test, *proto.Live, error) {
	s, err := r.spec(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	st, _, err := r.State(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	t := &Test{
		ID: id, Name: s.Name, Phase: st.Phase, Reason: st.Reason,
		CreatedAt: rfc3339(st.CreatedAt), StartAt: rfc3339(st.StartAt), EndedAt: rfc3339(st.EndedAt),
		Position: queuePosition(st), RerunOf: st.RerunOf,
	}
	if s.Load.Model != "" {
		t.Spec = s.Redacted()
	}
	if st.StartAt > 0 {
		end := time.Now()
		if st.EndedAt > 0 {
			end = time.Unix(0, st.EndedAt)
		}
		t.ElapsedS = max(0, end.Sub(time.Unix(0, st.StartAt)).Seconds())
		if !proto.Terminal(st.Phase) && s.Load.Duration.D > 0 {
			t.RemainingS = max(0, s.Load.Duration.D.Seconds()-t.ElapsedS)
		}
	}
	if err := r.addChanges(ctx, t, s, st); err != nil {
		return nil, nil, err
	}
	lines, err := r.Lines(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	var live *proto.Live
	switch {
	case proto.Terminal(st.Phase):
		if t.Summary, err = r.Result(ctx, id); err != nil {
			return nil, nil, err
		}
		if t.Summary != nil && len(lines) == 0 {
			lines = t.Summary.Workers // a result written with its lines inside
		}
	case st.Phase == proto.PhaseRunning:
		if live, err = r.Live(ctx, id); err != nil {
			return nil, nil, err
		}
		if live != nil {
			t.Summary = live.Summary
			r.addLiveVerdict(ctx, id, t.Summary)
		}
	}
	if t.Workers, err = r.workerLines(ctx, id, st, lines); err != nil {
		return nil, nil, err
	}
	if t.Summary != nil {
		t.Summary.Workers = t.Workers
	}
	return t, live, nil
}

// workerLines is a line for every chosen worker: the leader's stored line,
// else "ready" or "planned" (from one listing of the ready votes), and
// "lost" for the workers the state says are lost.
func (r *Reader) workerLines(ctx context.Context, id string, st *proto.TestState, stored []report.WorkerSummary) ([]report.WorkerSummary, error) {
	chosen, err := r.Chosen(ctx, id, st)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]report.WorkerSummary, len(stored))
	for _, l := range stored {
		byID[l.ID] = l
	}
	var ready map[string]bool
	if len(stored) < len(chosen) && !proto.Terminal(st.Phase) {
		votes, err := r.C.Children(ctx, r.P.ReadyDir(id))
		if err != nil && !errors.Is(err, coord.ErrNoNode) {
			return nil, err
		}
		ready = make(map[string]bool, len(votes))
		for _, v := range votes {
			ready[v] = true
		}
	}
	lost := make(map[string]bool, len(st.Lost))
	for _, w := range st.Lost {
		lost[w] = true
	}
	out := make([]report.WorkerSummary, 0, len(chosen))
	for _, w := range chosen {
		l, ok := byID[w]
		if !ok {
			l = report.WorkerSummary{ID: w, State: "planned"}
			if ready[w] {
				l.State = "ready"
			}
		}
		if lost[w] {
			l.State = "lost"
		}
		out = append(out, l)
	}
	return out, nil
}

// List reads the newest tests (at most limit), newest first, each with its
// headline numbers (no histogram, distribution or per-worker lines).
func (r *Reader) List(ctx context.Context, limit int) ([]ListItem, error) {
	ids, err := r.TestIDs(ctx)
	if err != nil {
		return nil, err
	}
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]ListItem, 0, len(ids))
	for _, id := range ids {
		r.mu.Lock()
		it, ok := r.finished[id]
		r.mu.Unlock()
		if ok {
			out = append(out, it)
			continue
		}
		name, err := r.name(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		st, _, err := r.State(ctx, id)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) || errors.Is(err, coord.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		it = ListItem{ID: id, Name: name, Phase: st.Phase, Reason: st.Reason,
			CreatedAt: rfc3339(st.CreatedAt), StartAt: rfc3339(st.StartAt), EndedAt: rfc3339(st.EndedAt),
			Position: queuePosition(st), RerunOf: st.RerunOf}
		if proto.Terminal(st.Phase) {
			res, err := r.Result(ctx, id)
			if errors.Is(err, ErrInvalid) {
				res = nil // shown without numbers
			} else if err != nil {
				return nil, err
			}
			if res != nil {
				res.Histogram, res.Distribution, res.Workers = "", nil, nil
				for i := range res.Names {
					res.Names[i].Histogram, res.Names[i].Distribution = "", nil
				}
				it.Summary = res
			}
			if res != nil || st.Phase == proto.PhaseFailed {
				r.mu.Lock()
				if r.finished == nil {
					r.finished = map[string]ListItem{}
				}
				r.finished[id] = it
				r.mu.Unlock()
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// spec reads a test's spec for display: one that does not validate is an
// empty spec (the test keeps its id, phase and reason).
func (r *Reader) spec(ctx context.Context, id string) (*spec.Spec, error) {
	s, err := r.Spec(ctx, id)
	if errors.Is(err, ErrInvalid) {
		return &spec.Spec{}, nil
	}
	return s, err
}

// queuePosition is a queued test's place in the queue, 0 in any other
// phase (the leader leaves the last position in the state it moves on from).
func queuePosition(st *proto.TestState) int {
	if st.Phase != proto.PhaseQueued {
		return 0
	}
	return st.Position
}
