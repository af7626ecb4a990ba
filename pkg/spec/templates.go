package spec

import (
	"fmt"
	"sort"

	"github.com/stampede-load/stampede/pkg/template"
)

// templateField is one templated text of a spec, named by its dotted path.
type templateField struct {
	name string
	src  string
	// url fields must keep scheme and host literal: the connection is
	// chosen once, when the test is prepared.
	url bool
}

// templateFields lists every templated text of s in a stable order.
func (s *Spec) templateFields() []templateField {
	var out []templateField
	add := func(prefix string, u string, headers map[string]string, body string) {
		if u != "" {
			out = append(out, templateField{name: prefix + ".url", src: u, url: true})
		}
		keys := make([]string, 0, len(headers))
		for k := range headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, templateField{name: prefix + ".headers." + k, src: headers[k]})
		}
		if body != "" {
			out = append(out, templateField{name: prefix + ".body", src: body})
		}
	}
	add("request", s.Request.URL, s.Request.Headers, s.Request.Body)
	for i, m := range s.RequestsMix {
		add(fmt.Sprintf("requests_mix[%d]", i), m.URL, m.Headers, m.Body)
	}
	return out
}

// validateTemplates compiles every templated field of s and reports each
// error as a field error naming the field and the position in it.
func (s *Spec) validateTemplates() FieldErrors {
	var errs FieldErrors
	for _, f := range s.templateFields() {
		t, err := template.Compile(f.src)
		if err != nil {
			errs = append(errs, FieldError{Field: f.name, Problem: err.Error()})
			continue
		}
		if f.url && !t.Static() {
			if err := template.CheckURLPrefix(f.src); err != nil {
				errs = append(errs, FieldError{Field: f.name, Problem: err.Error()})
			}
		}
	}
	return errs
}
