package api

import (
	"context"
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

// createTest validates a spec and creates the test (phase pending). Nothing
// is written unless the spec is valid, within the limits and aimed at
// allowed targets.
func (s *Server) createTest(w http.ResponseWriter, r *http.Request) {
	lim := s.limits()
	// the body may hold comments and indentation the stored JSON does not
	maxBody := 2 * lim.SpecBytes
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(maxBody)+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	if len(body) > maxBody {
		writeFieldErrors(w, spec.FieldErrors{{Field: "", Problem: fmt.Sprintf("the request body is larger than %d bytes (twice the %d-byte stored spec limit)", maxBody, lim.SpecBytes)}})
		return
	}
	var sp spec.Spec
	var errs spec.FieldErrors
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if strings.Contains(ct, "yaml") {
		sp, errs = spec.ParseYAML(body, lim.SpecBytes)
	} else {
		sp, errs = spec.Parse(body)
	}
	ctx := r.Context()
	if len(errs) == 0 {
		live := 0
		if sp.Workers == 0 {
			// the test runs on every live worker: the limits hold that
			// many (a spec naming its count reads no registration)
			ws, err := s.View.Workers(ctx)
			if err != nil {
				s.unavailable(w, err)
				return
			}
			live = len(ws)
		}
		errs = s.admit(ctx, &sp, live)
	}
	if len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	}
	s.create(w, r, &sp, "")
}

// create stores a valid, admitted spec as a new test in phase pending
// (rerunOf names the test it reruns, if any) and answers 201 with its id.
func (s *Server) create(w http.ResponseWriter, r *http.Request, sp *spec.Spec, rerunOf string) {
	ctx := r.Context()
	now := time.Now()
	id := proto.NewTestID(now)
	st := proto.TestState{Phase: proto.PhasePending, CreatedAt: now.UnixNano(), RerunOf: rerunOf}
	data := sp.Encode()
	ops := []coord.Op{
		coord.CreateOp{Path: s.P.Test(id), Data: data},
		coord.CreateOp{Path: s.P.State(id), Data: proto.Marshal(st)},
		coord.CreateOp{Path: s.P.Plans(id)},
		coord.CreateOp{Path: s.P.ReadyDir(id)},
		coord.CreateOp{Path: s.P.RefusedDir(id)},
		coord.CreateOp{Path: s.P.MetricsDir(id)},
		coord.CreateOp{Path: s.P.DoneDir(id)},
	}
	if err := s.store(ctx, len(data), ops); err != nil {
		s.refuseStore(w, err)
		return
	}
	s.Log.Info("test created", "test", id, "name", sp.Name, "model", sp.Load.Model, "rerun_of", rerunOf)
	w.Header().Set("Location", "/api/v1/tests/"+id)
	body := map[string]any{"id": id}
	if rerunOf != "" {
		body["rerun_of"] = rerunOf
	}
	writeJSON(w, http.StatusCreated, body)
}

// admit checks a valid spec against the limits (live workers run a spec
// that does not name its worker count) and the target policy. A test that
// asks for more workers than are live is accepted: it waits in the queue
// for them (the leader fails it after --queue-wait).
func (s *Server) admit(ctx context.Context, sp *spec.Spec, live int) spec.FieldErrors {
	n := sp.Workers
	if n == 0 {
		n = live
	}
	errs := s.limits().Check(sp, n)
	if s.Guard.Policy != nil {
		check := func(field, u string) {
			if u == "" {
				return
			}
			if err := s.Guard.Policy.CheckURL(ctx, u); err != nil {
				errs = append(errs, spec.FieldError{Field: field, Problem: err.Error()})
			}
		}
		check("request.url", sp.Request.URL)
		for i, m := range sp.RequestsMix {
			check(fmt.Sprintf("requests_mix[%d].url", i), m.URL)
		}
	}
	return errs
}

func (s *Server) limits() spec.Limits {
	if s.Guard.Limits == nil {
		return spec.DefaultLimits()
	}
	return *s.Guard.Limits
}

func writeFieldErrors(w http.ResponseWriter, errs spec.FieldErrors) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid spec", "fields": errs})
}
