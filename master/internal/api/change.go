package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Live changes. Any master answers PATCH, pause and resume: it validates
// the ask against the spec and the changes so far (400 naming the field
// and the limit, 409 for a test that is not running or a pause while
// paused), leaves it for the leader under the test's asks directory and
// waits up to answerWait for the leader's answer in the changes node. The
// leader checks it again and writes the change in one fenced write; every
// worker adopts it at the change's second.

// answerWait bounds how long a change call waits for the leader.
const answerWait = 5 * time.Second

// maxPatchBody bounds a PATCH body.
const maxPatchBody = 4 << 10

func (s *Server) changeRoutes(r chi.Router) {
	r.Patch("/tests/{id}", s.patchTest)
	r.Post("/tests/{id}/pause", func(w http.ResponseWriter, r *http.Request) {
		s.ask(w, r, plan.Ask{Kind: plan.ChangePause})
	})
	r.Post("/tests/{id}/resume", func(w http.ResponseWriter, r *http.Request) {
		s.ask(w, r, plan.Ask{Kind: plan.ChangeResume})
	})
}

// patchBody is PATCH's body: a partial load.
type patchBody struct {
	Load *struct {
		Rate        *float64       `json:"rate"`
		Concurrency *int           `json:"concurrency"`
		Duration    *spec.Duration `json:"duration"`
	} `json:"load"`
}

func (s *Server) patchTest(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPatchBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	if len(body) > maxPatchBody {
		writeFieldErrors(w, spec.FieldErrors{{Field: "", Problem: "the request body is larger than 4096 bytes"}})
		return
	}
	var pb patchBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pb); err != nil || pb.Load == nil {
		problem := `must be a JSON object {"load": {"rate" | "concurrency" | "duration": ...}}`
		if err != nil {
			problem += ": " + err.Error()
		}
		writeFieldErrors(w, spec.FieldErrors{{Field: "load", Problem: problem}})
		return
	}
	ask := plan.Ask{Kind: plan.ChangeLoad}
	var errs spec.FieldErrors
	if l := pb.Load; l.Rate != nil {
		if ask.Rate = *l.Rate; ask.Rate <= 0 {
			errs = append(errs, spec.FieldError{Field: "load.rate", Problem: "must be a positive number of requests per second"})
		}
	}
	if l := pb.Load; l.Concurrency != nil {
		if ask.Concurrency = *l.Concurrency; ask.Concurrency < 1 {
			errs = append(errs, spec.FieldError{Field: "load.concurrency", Problem: "must be at least 1 connection per worker"})
		}
	}
	if d := pb.Load.Duration; d != nil {
		if d.D <= 0 {
			errs = append(errs, spec.FieldError{Field: "load.duration", Problem: "must be a positive duration"})
		}
		ask.Duration = d
	}
	if len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	}
	s.ask(w, r, ask)
}

// ask checks an ask, leaves it for the leader and answers with the change
// the leader made of it: 200 {"id", "change"}, or 202 {"id", "ask"} if the
// leader did not answer within answerWait.
func (s *Server) ask(w http.ResponseWriter, r *http.Request, ask plan.Ask) {
	id := chi.URLParam(r, "id")
	ctx := r.Context()
	st, _, err := s.View.State(ctx, id)
	if s.readFailed(w, id, err) {
		return
	}
	if st.Phase != proto.PhaseRunning {
		writeJSON(w, http.StatusConflict, map[string]any{"error": "test is " + st.Phase + "; live changes apply to a running test", "id": id, "phase": st.Phase})
		return
	}
	sp, err := s.View.Spec(ctx, id)
	if s.readFailed(w, id, err) {
		return
	}
	node, err := s.View.Changes(ctx, id)
	if err != nil {
		s.unavailable(w, err)
		return
	}
	at := plan.EffectiveSecond(time.Since(time.Unix(0, st.StartAt)), node.Changes)
	lim := s.limits()
	if errs, conflict := ask.Check(sp, node.Changes, at, &lim, st.Chosen); len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	} else if conflict != "" {
		writeJSON(w, http.StatusConflict, map[string]any{"error": conflict, "id": id})
		return
	}
	ask.By, ask.Time = RoleOf(ctx).String(), time.Now().UnixNano()
	p, err := s.C.Create(ctx, s.P.AsksDir(id)+"/a-", proto.Marshal(ask), coord.PersistentSequential)
	if errors.Is(err, coord.ErrNoNode) {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "the leader has not taken up the running test yet; retry")
		return
	}
	if err != nil {
		s.unavailable(w, err)
		return
	}
	name := p[len(s.P.AsksDir(id))+1:]
	s.Log.Info("live change asked", "test", id, "kind", ask.Kind, "ask", name)
	s.awaitAnswer(ctx, w, id, name)
}

// awaitAnswer waits for the leader to apply or refuse ask name.
func (s *Server) awaitAnswer(ctx context.Context, w http.ResponseWriter, id, name string) {
	ctx, cancel := context.WithTimeout(ctx, answerWait)
	defer cancel()
	for ctx.Err() == nil {
		data, _, watch, err := s.C.GetW(ctx, s.P.Changes(id))
		if err == nil {
			node, derr := proto.DecodeChanges(data)
			if derr == nil {
				for _, c := range node.Changes {
					if c.Ask == name {
						writeJSON(w, http.StatusOK, map[string]any{"id": id, "change": c})
						return
					}
				}
				for _, rf := range node.Refused {
					if rf.Ask == name {
						writeJSON(w, http.StatusConflict, map[string]any{"error": "the leader refused the change: " + rf.Reason, "id": id})
						return
					}
				}
			}
			select {
			case <-watch:
			case <-ctx.Done():
			}
			continue
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "ask": name})
}
