package api

import (
	"bytes"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/stampede-load/stampede/master/internal/view"
	"github.com/stampede-load/stampede/pkg/export"
)

// exportRoutes serves a test's exports: GET /tests/{id}/report.html,
// stats.csv, timeline.csv, latency.hlog and junit.xml (see package export).
// A running test's export is of what has been merged so far.
func (s *Server) exportRoutes(r chi.Router) {
	r.Get("/tests/compare", s.getCompare)
	for _, kind := range export.Kinds {
		r.Get("/tests/{id}/"+kind, func(w http.ResponseWriter, r *http.Request) { s.getExport(w, r, kind) })
	}
}

func (s *Server) getExport(w http.ResponseWriter, r *http.Request, kind string) {
	id := chi.URLParam(r, "id")
	t, err := s.exportData(r, id)
	if s.readFailed(w, id, err) {
		return
	}
	var b bytes.Buffer
	if err := export.Write(&b, kind, t); err != nil {
		writeError(w, http.StatusInternalServerError, "rendering "+kind+": "+err.Error())
		return
	}
	w.Header().Set("Content-Type", export.ContentType(kind))
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+"-"+kind+`"`)
	if kind == export.KindHTML {
		// the report is self-contained: it may load nothing at all
		w.Header().Set("Content-Security-Policy", export.ReportCSP)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// exportData gathers what the exports are made of.
func (s *Server) exportData(r *http.Request, id string) (*export.Test, error) {
	ctx := r.Context()
	if ok, err := s.View.Exists(ctx, id); err != nil || !ok {
		if err == nil {
			err = view.ErrNotFound
		}
		return nil, err
	}
	tv, err := s.View.Test(ctx, id)
	if err != nil {
		return nil, err
	}
	pts, err := s.Feed.Timeline(ctx, id)
	if err != nil {
		return nil, err
	}
	hs, err := s.View.SecondHists(ctx, id)
	if err != nil {
		return nil, err
	}
	t := &export.Test{ID: tv.ID, Name: tv.Name, Phase: tv.Phase, Reason: tv.Reason, Points: pts, Seconds: hs}
	t.StartAt, _ = time.Parse(time.RFC3339Nano, tv.StartAt)
	t.EndedAt, _ = time.Parse(time.RFC3339Nano, tv.EndedAt)
	if tv.Summary != nil {
		sum := *tv.Summary
		if len(sum.Workers) == 0 {
			sum.Workers = tv.Workers
		}
		t.Summary = &sum
	}
	return t, nil
}

// getCompare is GET /tests/compare?base=A&head=B (see export.Comparison).
func (s *Server) getCompare(w http.ResponseWriter, r *http.Request) {
	ids := [2]string{r.URL.Query().Get("base"), r.URL.Query().Get("head")}
	if ids[0] == "" || ids[1] == "" {
		writeError(w, http.StatusBadRequest, "compare needs ?base=<test id>&head=<test id>")
		return
	}
	var ts [2]*export.Test
	for i, id := range ids {
		t, err := s.exportData(r, id)
		if s.readFailed(w, id, err) {
			return
		}
		ts[i] = t
	}
	writeJSON(w, http.StatusOK, export.Compare(ts[0], ts[1]))
}
