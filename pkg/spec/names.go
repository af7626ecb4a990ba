package spec

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// Request name limits (contract: a spec beyond them is rejected).
const (
	MaxNames     = 200
	MaxNameBytes = 200
)

// DefaultName is the name of a request that has none: its method and URL
// path without the query ("GET /checkout").
func DefaultName(method, rawURL string) string {
	if method == "" {
		method = "GET"
	}
	p := rawURL
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		p = u.EscapedPath()
	} else if i := strings.Index(rawURL, "://"); i >= 0 {
		p = rawURL[i+3:]
		if j := strings.IndexByte(p, '/'); j >= 0 {
			p = p[j:]
		} else {
			p = ""
		}
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		p = "/"
	}
	return strings.ToUpper(method) + " " + p
}

// normalizeNames fills in default request names.
func (s *Spec) normalizeNames() {
	if s.Scenario != nil && len(s.Scenario.Steps) > 0 {
		return // steps name themselves (a name is required)
	}
	names := s.EntryNames()
	if len(s.RequestsMix) == 0 {
		s.Request.Name = names[0]
		return
	}
	for i := range s.RequestsMix {
		s.RequestsMix[i].Name = names[i]
	}
}

// EntryNames is the name of every request the test sends: the request's,
// or one per requests_mix entry in order (entries may share a name; their
// numbers are then reported together). Defaults apply to unnamed entries.
//
// With a scenario, the entries are its steps that send a request, in step
// order (the engine's entry index of a step's request is its index among
// them), each named by its step.
func (s *Spec) EntryNames() []string {
	if s.Scenario != nil && len(s.Scenario.Steps) > 0 {
		var out []string
		for _, st := range s.Scenario.Steps {
			if st.Request == nil {
				continue
			}
			n := st.Name
			if n == "" {
				n = DefaultName(st.Request.Method, st.Request.URL)
			}
			out = append(out, n)
		}
		if len(out) > 0 {
			return out
		}
	}
	if len(s.RequestsMix) == 0 {
		n := s.Request.Name
		if n == "" {
			n = DefaultName(s.Request.Method, s.Request.URL)
		}
		return []string{n}
	}
	out := make([]string, len(s.RequestsMix))
	for i, m := range s.RequestsMix {
		out[i] = m.Name
		if out[i] == "" {
			method, u := m.Method, m.URL
			if method == "" {
				method = s.Request.Method
			}
			if u == "" {
				u = s.Request.URL
			}
			out[i] = DefaultName(method, u)
		}
	}
	return out
}

// RequestNames lists the distinct request names in first-use order.
func (s *Spec) RequestNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range s.EntryNames() {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// validateNames checks the request names.
func (s *Spec) validateNames() FieldErrors {
	var errs FieldErrors
	check := func(field, name string) {
		if len(name) > MaxNameBytes {
			errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf("is longer than %d bytes", MaxNameBytes)})
		}
		if strings.IndexFunc(name, unicode.IsControl) >= 0 {
			errs = append(errs, FieldError{Field: field, Problem: "must not contain control characters"})
		}
	}
	check("request.name", s.Request.Name)
	for i, m := range s.RequestsMix {
		check(fmt.Sprintf("requests_mix[%d].name", i), m.Name)
	}
	if n := len(s.RequestNames()); n > MaxNames {
		errs = append(errs, FieldError{Field: "requests_mix", Problem: fmt.Sprintf("has %d distinct request names, at most %d are allowed", n, MaxNames)})
	}
	return errs
}
