package api

import (
	_ "embed"
	"net/http"
)

// openAPI is the API's OpenAPI 3.1 description. A test walks the router and
// fails if a route is missing from it (or documented but not served), and
// the integration suite checks real answers of every route against it.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3.1 document.
func OpenAPI() []byte { return openAPI }

func (s *Server) getOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}
