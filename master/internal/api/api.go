// Package api is the master's REST API (docs/api.md), served by every master
// replica from ZooKeeper state. Only POST /tests and POST /tests/{id}/stop
// write, and neither needs the leader: the leader picks the new test or the
// stop request up from ZooKeeper.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stampede-load/stampede/master/internal/feed"
	"github.com/stampede-load/stampede/master/internal/view"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
)

// LiveHandlers are the websocket endpoints (served by the live hub).
type LiveHandlers struct {
	Test    http.Handler // GET /api/v1/tests/{id}/live
	Cluster http.Handler // GET /api/v1/live
}

// Server serves the API.
type Server struct {
	C    *coord.Client
	P    proto.Paths
	View *view.Reader
	Feed *feed.Feed
	Self proto.MasterInfo
	Live LiveHandlers
	Log  *slog.Logger
	// Guard bounds new tests (manage.go).
	Guard Guard
	// Auth guards every route (nil refuses every request, see Auth).
	Auth *Auth
	// MaxRequests caps concurrent API requests other than websockets
	// (0: no cap; see Limit).
	MaxRequests int
}

// Routes mounts the API under /api/v1, every route behind Auth and every
// route but the websockets behind Limit.
func (s *Server) Routes(r chi.Router) {
	auth := s.Auth
	if auth == nil {
		auth = &Auth{Log: s.Log}
	}
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(auth.Middleware)
		r.Group(func(r chi.Router) {
			r.Use(Limit(s.MaxRequests))
			r.Get("/cluster", s.getCluster)
			r.Get("/workers", s.getWorkers)
			r.Post("/tests", s.createTest)
			r.Get("/tests", s.listTests)
			r.Get("/tests/{id}", s.getTest)
			r.Delete("/tests/{id}", s.deleteTest)
			r.Post("/tests/{id}/stop", s.stopTest)
			s.changeRoutes(r)
			r.Post("/tests/{id}/rerun", s.rerunTest)
			r.Get("/tests/{id}/timeline", s.getTimeline)
			s.exportRoutes(r)
			r.Get("/openapi.json", s.getOpenAPI)
		})
		if s.Live.Test != nil {
			r.Get("/tests/{id}/live", s.Live.Test.ServeHTTP)
		}
		if s.Live.Cluster != nil {
			r.Get("/live", s.Live.Cluster.ServeHTTP)
		}
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "no such API endpoint: "+r.Method+" "+r.URL.Path)
		})
	})
}

// ClusterView is the body of GET /api/v1/cluster.
type ClusterView struct {
	Self      proto.MasterInfo  `json:"self"`
	Leader    *proto.MasterInfo `json:"leader"`
	Masters   []view.Master     `json:"masters"`
	ZooKeeper ZKView            `json:"zookeeper"`
}

// ZKView describes this master's ZooKeeper connection.
type ZKView struct {
	Servers   string `json:"servers"`
	State     string `json:"state"`
	SessionID string `json:"session_id"`
	Server    string `json:"server,omitempty"`
}

// Cluster builds the cluster view.
func (s *Server) Cluster(ctx context.Context) (any, error) {
	masters, err := s.View.Masters(ctx)
	if err != nil {
		return nil, err
	}
	sess := s.C.Session()
	cv := ClusterView{Self: s.Self, Masters: masters, ZooKeeper: ZKView{
		Servers: s.C.Servers(), State: sess.State.String(), SessionID: fmt.Sprintf("%#x", sess.ID), Server: sess.Server,
	}}
	if len(masters) > 0 {
		cv.Leader = &masters[0].MasterInfo
	}
	return cv, nil
}

func (s *Server) getCluster(w http.ResponseWriter, r *http.Request) {
	cv, err := s.Cluster(r.Context())
	if err != nil {
		s.unavailable(w, err)
		return
	}
	writeJSON(w, http.StatusOK, cv)
}

func (s *Server) getWorkers(w http.ResponseWriter, r *http.Request) {
	ws, err := s.View.Workers(r.Context())
	if err != nil {
		s.unavailable(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ws)
}

func (s *Server) listTests(w http.ResponseWriter, r *http.Request) {
	ts, err := s.View.List(r.Context(), 200)
	if err != nil {
		s.unavailable(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ts)
}

func (s *Server) getTest(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	t, err := s.View.Test(r.Context(), id)
	if s.readFailed(w, id, err) {
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) getTimeline(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if ok, err := s.View.Exists(r.Context(), id); err != nil || !ok {
		if err != nil {
			s.unavailable(w, err)
			return
		}
		writeError(w, http.StatusNotFound, "no test "+id)
		return
	}
	pts, err := s.Feed.Timeline(r.Context(), id)
	if s.readFailed(w, id, err) {
		return
	}
	out := map[string]any{"id": id, "points": pts}
	if n, err := s.View.Changes(r.Context(), id); err == nil && len(n.Changes) > 0 {
		out["events"] = n.Changes // the charts' markers
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) stopTest(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	ctx := r.Context()
	st, _, err := s.View.State(ctx, id)
	if s.readFailed(w, id, err) {
		return
	}
	if proto.Terminal(st.Phase) {
		writeJSON(w, http.StatusConflict, map[string]any{"error": "test already " + st.Phase, "id": id, "phase": st.Phase})
		return
	}
	req := proto.StopRequest{Reason: "stopped by user"}
	if _, err := s.C.Create(ctx, s.P.Stop(id), proto.Marshal(req), coord.Persistent); err != nil && !errors.Is(err, coord.ErrNodeExists) {
		s.unavailable(w, err)
		return
	}
	s.Log.Info("stop requested", "test", id)
	writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "phase": st.Phase})
}

// readFailed answers a failed read of test id: 404 if it does not exist,
// 503 for any other error. It reports whether there was an error.
func (s *Server) readFailed(w http.ResponseWriter, id string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, view.ErrNotFound):
		writeError(w, http.StatusNotFound, "no test "+id)
	default:
		s.unavailable(w, err)
	}
	return true
}

func (s *Server) unavailable(w http.ResponseWriter, err error) {
	s.Log.Warn("API call failed", "err", err)
	status := http.StatusServiceUnavailable
	if errors.Is(err, context.Canceled) {
		status = 499
	}
	writeError(w, status, "ZooKeeper unavailable: "+err.Error())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": msg})
}
