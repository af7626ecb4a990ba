package template

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/stampede-load/stampede/pkg/spec"
)

// Any binary that imports this package (pkg/load does) gets template
// checks in spec.Validate: a template error is a field error naming the
// field and the position, which the master's API answers with 400.
func init() { spec.RegisterValidator(Validate) }

// Field is one templated text of a spec, named by its dotted path.
type Field struct {
	Name string
	Src  string
	// URL fields must keep scheme and host literal: the connection is
	// chosen once, when the test is prepared.
	URL bool
}

// Fields lists every templated text of s in a stable order.
func Fields(s *spec.Spec) []Field {
	var out []Field
	add := func(prefix string, u string, headers map[string]string, body string) {
		if u != "" {
			out = append(out, Field{Name: prefix + ".url", Src: u, URL: true})
		}
		keys := make([]string, 0, len(headers))
		for k := range headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, Field{Name: prefix + ".headers." + k, Src: headers[k]})
		}
		if body != "" {
			out = append(out, Field{Name: prefix + ".body", Src: body})
		}
	}
	add("request", s.Request.URL, s.Request.Headers, s.Request.Body)
	for i, m := range s.RequestsMix {
		add(fmt.Sprintf("requests_mix[%d]", i), m.URL, m.Headers, m.Body)
	}
	return out
}

// Validate compiles every templated field of s and reports each error.
func Validate(s *spec.Spec) spec.FieldErrors {
	var errs spec.FieldErrors
	for _, f := range Fields(s) {
		t, err := Compile(f.Src)
		if err != nil {
			errs = append(errs, spec.FieldError{Field: f.Name, Problem: err.Error()})
			continue
		}
		if f.URL && !t.Static() {
			if err := CheckURLPrefix(f.Src); err != nil {
				errs = append(errs, spec.FieldError{Field: f.Name, Problem: err.Error()})
			}
		}
	}
	return errs
}

// CheckURLPrefix requires that a templated URL's scheme and host come before
// its first action.
func CheckURLPrefix(src string) error {
	prefix, _, _ := strings.Cut(src, "{{")
	_, rest, ok := strings.Cut(prefix, "://")
	if !ok || !strings.ContainsAny(rest, "/?") {
		return &Error{Pos: len([]rune(prefix)) + 1, Msg: "templates may not change the scheme or host of a URL; put them in the path or query"}
	}
	return nil
}

var _ error = (*Error)(nil)

// IsError reports whether err is a template error.
func IsError(err error) bool {
	var te *Error
	return errors.As(err, &te)
}
