package api

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stampede-load/stampede/master/internal/view"
)

// rerunTest creates a new test from a test's stored spec (with the
// scenario's data file, which the stored spec holds inline), linked to it
// by rerun_of: 201 {"id", "rerun_of"}. The spec is held to today's limits
// and target policy again (400 naming the field if it no longer passes);
// 404 for no such test, 409 for a test whose stored spec does not validate.
// The new test waits in the queue like any other.
func (s *Server) rerunTest(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	ctx := r.Context()
	sp, err := s.View.Spec(ctx, id)
	if errors.Is(err, view.ErrInvalid) {
		writeJSON(w, http.StatusConflict, map[string]any{"error": "the stored spec of " + id + " does not validate; it cannot be rerun", "id": id})
		return
	}
	if s.readFailed(w, id, err) {
		return
	}
	live, err := s.View.Workers(ctx)
	if err != nil {
		s.unavailable(w, err)
		return
	}
	if errs := s.admit(ctx, sp, len(live)); len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	}
	s.create(w, r, sp, id)
}
