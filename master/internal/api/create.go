package api

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/spec"
)

// maxSpec bounds a submitted spec.
const maxSpec = 256 << 10

// createTest validates a spec and creates the test (phase pending). Nothing
// is written unless the spec is valid.
func (s *Server) createTest(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSpec+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	if len(body) > maxSpec {
		writeFieldErrors(w, spec.FieldErrors{{Field: "", Problem: fmt.Sprintf("spec is larger than %d bytes", maxSpec)}})
		return
	}
	var sp spec.Spec
	var errs spec.FieldErrors
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if strings.Contains(ct, "yaml") {
		sp, errs = spec.ParseFile(body)
	} else {
		sp, errs = spec.Parse(body)
	}
	ctx := r.Context()
	if len(errs) == 0 && sp.Workers > 0 {
		live, err := s.View.Workers(ctx)
		if err != nil {
			s.unavailable(w, err)
			return
		}
		if sp.Workers > len(live) {
			errs = append(errs, spec.FieldError{Field: "workers",
				Problem: fmt.Sprintf("asks for %d workers but only %d are live", sp.Workers, len(live))})
		}
	}
	if len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	}
	now := time.Now()
	id := proto.NewTestID(now)
	st := proto.TestState{Phase: proto.PhasePending, CreatedAt: now.UnixNano()}
	err = s.C.Multi(ctx,
		coord.CreateOp{Path: s.P.Test(id), Data: sp.Encode()},
		coord.CreateOp{Path: s.P.State(id), Data: proto.Marshal(st)},
		coord.CreateOp{Path: s.P.Plans(id)},
		coord.CreateOp{Path: s.P.ReadyDir(id)},
		coord.CreateOp{Path: s.P.MetricsDir(id)},
		coord.CreateOp{Path: s.P.DoneDir(id)},
	)
	if err != nil {
		s.unavailable(w, err)
		return
	}
	s.Log.Info("test created", "test", id, "name", sp.Name, "model", sp.Load.Model)
	w.Header().Set("Location", "/api/v1/tests/"+id)
	writeJSON(w, http.StatusCreated, map[string]any{"id": id})
}

func writeFieldErrors(w http.ResponseWriter, errs spec.FieldErrors) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid spec", "fields": errs})
}
