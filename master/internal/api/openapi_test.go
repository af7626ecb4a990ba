package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/stampede-load/stampede/internal/oapi"
)

// TestOpenAPIDocumentsEveryRoute fails when a route is served but not
// documented in openapi.json, or documented but not served.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc, err := oapi.Parse(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	s := &Server{Live: LiveHandlers{Test: http.NotFoundHandler(), Cluster: http.NotFoundHandler()}}
	s.Routes(r)
	served := map[oapi.Route]bool{}
	err = chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		p, ok := strings.CutPrefix(strings.TrimSuffix(route, "/"), "/api/v1")
		if ok {
			served[oapi.Route{Method: method, Path: p}] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	documented := map[oapi.Route]bool{}
	for _, rt := range doc.Routes() {
		documented[rt] = true
		if !served[rt] {
			t.Errorf("%s %s is documented in openapi.json but not served", rt.Method, rt.Path)
		}
	}
	for rt := range served {
		if !documented[rt] {
			t.Errorf("%s %s is served but not documented in openapi.json", rt.Method, rt.Path)
		}
	}
	if len(served) < 9 {
		t.Errorf("walked only %d routes: %v", len(served), served)
	}
}
