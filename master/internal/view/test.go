package view

import (
	"context"
	"errors"
	"time"

	"github.com/stampede-load/stampede/master/internal/aggregate"
	"github.com/stampede-load/stampede/pkg/coord"
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
}

// Test reads one test with per-worker status and its summary: the result
// for a finished test, or the exact merge of the workers' latest
// cumulative reports while it runs.
//
// A spec that no longer validates (the leader fails such a test) is shown
// as none; a state that does not decode is ErrInvalid.
func (r *Reader) Test(ctx context.Context, id string) (*Test, error) {
	s, err := r.spec(ctx, id)
	if err != nil {
		return nil, err
	}
	st, _, err := r.State(ctx, id)
	if err != nil {
		return nil, err
	}
	t := &Test{
		ID: id, Name: s.Name, Phase: st.Phase, Reason: st.Reason,
		CreatedAt: rfc3339(st.CreatedAt), StartAt: rfc3339(st.StartAt), EndedAt: rfc3339(st.EndedAt),
		Workers: []report.WorkerSummary{},
	}
	if s.Load.Model != "" {
		t.Spec = s
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
	reps, err := r.Reports(ctx, r.P.MetricsDir(id))
	if err != nil {
		return nil, err
	}
	done, err := r.Reports(ctx, r.P.DoneDir(id))
	if err != nil {
		return nil, err
	}
	for w, d := range done {
		reps[w] = d
	}
	lost := map[string]bool{}
	for _, w := range st.Lost {
		lost[w] = true
	}
	for _, w := range st.Workers {
		ws := report.WorkerSummary{ID: w, State: "planned"}
		if rep, ok := reps[w]; ok {
			ws.State = rep.State
			ws.Requests, ws.Errors, ws.Late = rep.Totals.Requests, rep.Totals.Errors, rep.Totals.Late
			ws.StartSkewMs = float64(rep.StartSkewUs) / 1000
			if secs := float64(rep.IntervalEnd-rep.StartAt) / 1e9; secs > 0 {
				ws.RPS = float64(rep.Totals.Requests) / secs
			}
		} else if ok, _, _ := r.C.Exists(ctx, r.P.Ready(id, w)); ok {
			ws.State = "ready"
		}
		if lost[w] {
			ws.State = "lost"
		}
		t.Workers = append(t.Workers, ws)
	}
	if proto.Terminal(st.Phase) {
		res, err := r.Result(ctx, id)
		if err != nil {
			return nil, err
		}
		t.Summary = res
	} else if len(reps) > 0 {
		sum, err := aggregate.Summarize(s, st, reps, lost)
		if err == nil {
			t.Summary = &sum
		}
	}
	if t.Summary != nil {
		p99 := map[string]float64{}
		for _, w := range t.Summary.Workers {
			p99[w.ID] = w.P99Ms
		}
		for i := range t.Workers {
			t.Workers[i].P99Ms = p99[t.Workers[i].ID]
		}
	}
	return t, nil
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
		s, err := r.spec(ctx, id)
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
		it = ListItem{ID: id, Name: s.Name, Phase: st.Phase, Reason: st.Reason,
			CreatedAt: rfc3339(st.CreatedAt), StartAt: rfc3339(st.StartAt), EndedAt: rfc3339(st.EndedAt)}
		if proto.Terminal(st.Phase) {
			res, err := r.Result(ctx, id)
			if errors.Is(err, ErrInvalid) {
				res = nil // shown without numbers
			} else if err != nil {
				return nil, err
			}
			if res != nil {
				res.Histogram, res.Distribution, res.Workers = "", nil, nil
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
