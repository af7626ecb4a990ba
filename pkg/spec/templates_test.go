package spec

import (
	"strings"
	"testing"
)

// TestValidateTemplates: template errors come out of Validate as field
// errors naming the field and the position.
func TestValidateTemplates(t *testing.T) {
	s := Spec{
		Request: Request{
			URL:     "http://127.0.0.1:8081/x/{{sq}}",
			Headers: map[string]string{"X-Id": "{{uuid}}", "X-Bad": "v{{randInt 1}}"},
			Body:    `{"n": {{seq}`,
		},
		RequestsMix: []MixEntry{
			{Weight: 1, URL: "http://{{choice a b}}/x"},
			{Weight: 1, URL: "http://127.0.0.1:8081/ok?q={{seq}}"},
		},
		Load: Load{Model: ModelAvalanche, Requests: 10},
	}
	s.Normalize()
	got := map[string]string{}
	for _, e := range s.Validate() {
		got[e.Field] = e.Problem
	}
	want := map[string]string{
		"request.url":           `template error at position 25: unknown function "sq"`,
		"request.headers.X-Bad": `template error at position 2: randInt takes two integers`,
		"request.body":          `template error at position 7: "{{" is not closed by "}}"`,
		"requests_mix[0].url":   `template error at position 8: templates may not change the scheme or host of a URL`,
	}
	for field, prefix := range want {
		if !strings.HasPrefix(got[field], prefix) {
			t.Errorf("Validate()[%s] = %q, want prefix %q", field, got[field], prefix)
		}
	}
	for _, ok := range []string{"request.headers.X-Id", "requests_mix[1].url"} {
		if p, bad := got[ok]; bad {
			t.Errorf("Validate()[%s] = %q, want no error", ok, p)
		}
	}
}
