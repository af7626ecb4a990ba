package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/stampede-load/stampede/master/internal/retention"
	"github.com/stampede-load/stampede/master/internal/view"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/policy"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Guard is what the API holds every new test to: the operator's limits,
// the target policy and the storage budget. Zero fields mean the defaults
// (no policy: every target).
type Guard struct {
	Limits    *spec.Limits
	Policy    *policy.Policy
	Retention *retention.Config
}

func (s *Server) retention() retention.Config {
	if s.Guard.Retention == nil {
		return retention.DefaultConfig()
	}
	return *s.Guard.Retention
}

// store creates a test (ops) charged against the storage budget.
func (s *Server) store(ctx context.Context, specBytes int, ops []coord.Op) error {
	cfg := s.retention()
	return retention.Create(ctx, s.C, s.P, cfg, cfg.Charge(specBytes), ops)
}

// refuseStore answers a failed store: 400 for a test that can never fit,
// 429 with Retry-After while the budget is full, 503 otherwise.
func (s *Server) refuseStore(w http.ResponseWriter, err error) {
	var big *retention.TooLargeError
	var full *retention.FullError
	switch {
	case errors.As(err, &big):
		writeFieldErrors(w, spec.FieldErrors{{Field: "", Problem: big.Error()}})
	case errors.As(err, &full):
		w.Header().Set("Retry-After", strconv.Itoa(10))
		writeError(w, http.StatusTooManyRequests, full.Error())
	default:
		s.unavailable(w, err)
	}
}

// deleteTest removes a test and everything it holds: 204, or 404 for no
// such test, 409 while it is preparing or running (stop it first). A
// waiting test is marked stopped first (see retire).
func (s *Server) deleteTest(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	ctx := r.Context()
	phase, err := s.retire(ctx, id)
	switch {
	case errors.Is(err, view.ErrNotFound):
		writeError(w, http.StatusNotFound, "no test "+id)
		return
	case errors.Is(err, errBusy):
		writeJSON(w, http.StatusConflict, map[string]any{"error": "test is " + phase + "; stop it first", "id": id, "phase": phase})
		return
	case errors.Is(err, coord.ErrBadVersion):
		writeJSON(w, http.StatusConflict, map[string]any{"error": "test changed phase meanwhile; look again", "id": id})
		return
	case err != nil:
		s.unavailable(w, err)
		return
	}
	var derr error
	for attempt := 0; attempt < 5; attempt++ { // a late report may land under it meanwhile
		if derr = s.C.DeleteTree(ctx, s.P.Test(id)); !errors.Is(derr, coord.ErrNotEmpty) {
			break
		}
	}
	if derr != nil {
		s.unavailable(w, derr)
		return
	}
	s.View.Forget(id)
	s.Log.Info("test deleted", "test", id)
	w.WriteHeader(http.StatusNoContent)
}

// errBusy means a test is preparing or running.
var errBusy = errors.New("api: test is preparing or running")

// retire readies a test for deletion and returns the phase it found: a
// finished test, or one whose state is unreadable (nothing can run it), as
// it is; a pending or queued one marked stopped with a compare-and-set on
// its state, so that a leader planning it at the same moment wins (then
// errBusy). The leader's queue rewrites a queued test's position as tests
// ahead of it leave, so a conflict that finds the test still waiting is
// tried again, a few times.
func (s *Server) retire(ctx context.Context, id string) (string, error) {
	for attempt := 1; ; attempt++ {
		st, ver, err := s.View.State(ctx, id)
		switch {
		case errors.Is(err, view.ErrInvalid):
			return "", nil
		case err != nil:
			return "", err
		case st.Phase == proto.PhasePreparing || st.Phase == proto.PhaseRunning:
			return st.Phase, errBusy
		case proto.Terminal(st.Phase):
			return st.Phase, nil
		}
		phase := st.Phase
		st.Phase, st.Reason, st.EndedAt, st.Position = proto.PhaseStopped, "deleted by user", time.Now().UnixNano(), 0
		_, err = s.C.Set(ctx, s.P.State(id), proto.Marshal(st), ver)
		if !errors.Is(err, coord.ErrBadVersion) || attempt == 5 {
			return phase, err
		}
	}
}
