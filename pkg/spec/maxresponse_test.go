package spec

import (
	"strings"
	"testing"
)

// TestMaxResponseBytes: request.max_response_bytes defaults to 64 MiB, keeps
// a given value, and a negative one is a field error naming it.
func TestMaxResponseBytes(t *testing.T) {
	const base = `{"load":{"model":"avalanche","requests":1},"request":{"url":"http://h/"`
	tests := []struct {
		name    string
		extra   string
		want    int64
		problem string // expected problem for request.max_response_bytes
	}{
		{"default", ``, 64 << 20, ""},
		{"given", `,"max_response_bytes":1024`, 1024, ""},
		{"negative", `,"max_response_bytes":-1`, -1, "must be a positive number of bytes"},
		{"not a number", `,"max_response_bytes":"big"`, 0, "must be an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, errs := Parse([]byte(base + tt.extra + `}}`))
			var problem string
			for _, e := range errs {
				if e.Field == "request.max_response_bytes" {
					problem = e.Problem
				} else {
					t.Errorf("unexpected error %v", e)
				}
			}
			if tt.problem == "" {
				if problem != "" {
					t.Errorf("request.max_response_bytes: %q, want no error", problem)
				}
				if s.Request.MaxResponseBytes != tt.want {
					t.Errorf("MaxResponseBytes = %d, want %d", s.Request.MaxResponseBytes, tt.want)
				}
				return
			}
			if !strings.Contains(problem, tt.problem) {
				t.Errorf("request.max_response_bytes: %q, want it to say %q", problem, tt.problem)
			}
		})
	}
}
