// Package oapi checks real HTTP responses against an OpenAPI 3.1 document.
//
// It understands the part of JSON Schema that Stampede's own document uses:
// type (one name or a list), required, properties, additionalProperties,
// items, enum, oneOf and local $ref. It exists for tests: the API's document
// is only worth serving if every route's real answers match it.
package oapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Doc is a parsed OpenAPI document.
type Doc struct {
	raw   map[string]any
	paths map[string]map[string]any // path → method → operation
}

// Route is one documented operation.
type Route struct {
	Method string // upper case
	Path   string // as documented, with {params}
}

// Parse reads an OpenAPI document.
func Parse(b []byte) (*Doc, error) {
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("oapi: decode: %w", err)
	}
	if v, _ := raw["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		return nil, fmt.Errorf("oapi: openapi version %q, want 3.1.x", v)
	}
	d := &Doc{raw: raw, paths: map[string]map[string]any{}}
	paths, _ := raw["paths"].(map[string]any)
	for p, item := range paths {
		ops, _ := item.(map[string]any)
		d.paths[p] = map[string]any{}
		for m, op := range ops {
			switch m {
			case "get", "put", "post", "delete", "patch", "head", "options":
				d.paths[p][strings.ToUpper(m)] = op
			}
		}
	}
	return d, nil
}

// Routes lists every documented operation, sorted.
func (d *Doc) Routes() []Route {
	var out []Route
	for p, ops := range d.paths {
		for m := range ops {
			out = append(out, Route{Method: m, Path: p})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Check validates one response of the documented route: its status must be
// documented for that operation and, where the document gives a JSON schema,
// the body must match it.
func (d *Doc) Check(r Route, status int, body []byte) error {
	op, ok := d.paths[r.Path][r.Method].(map[string]any)
	if !ok {
		return fmt.Errorf("oapi: %s %s is not documented", r.Method, r.Path)
	}
	responses, _ := op["responses"].(map[string]any)
	resp, ok := responses[strconv.Itoa(status)]
	if !ok {
		return fmt.Errorf("oapi: %s %s: status %d is not documented", r.Method, r.Path, status)
	}
	rm, err := d.deref(resp)
	if err != nil {
		return err
	}
	content, _ := rm["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	schema, ok := media["schema"]
	if !ok {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("oapi: %s %s %d: body is not JSON: %w", r.Method, r.Path, status, err)
	}
	if err := d.validate(schema, v, "$"); err != nil {
		return fmt.Errorf("oapi: %s %s %d: %w", r.Method, r.Path, status, err)
	}
	return nil
}

// deref follows a local "$ref" (repeatedly).
func (d *Doc) deref(node any) (map[string]any, error) {
	for range 16 {
		m, ok := node.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("oapi: schema node is %T, not an object", node)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		target, err := d.pointer(ref)
		if err != nil {
			return nil, err
		}
		node = target
	}
	return nil, fmt.Errorf("oapi: $ref chain too long")
}

func (d *Doc) pointer(ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("oapi: only local references are supported, got %q", ref)
	}
	var cur any = d.raw
	for _, part := range strings.Split(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("oapi: %q does not resolve", ref)
		}
		if cur, ok = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]; !ok {
			return nil, fmt.Errorf("oapi: %q does not resolve", ref)
		}
	}
	return cur, nil
}

// validate checks v against schema; at is v's JSON path, for messages.
func (d *Doc) validate(schema, v any, at string) error {
	s, err := d.deref(schema)
	if err != nil {
		return err
	}
	if alts, ok := s["oneOf"].([]any); ok {
		return d.oneOf(alts, v, at)
	}
	if err := checkType(s["type"], v, at); err != nil {
		return err
	}
	if enum, ok := s["enum"].([]any); ok && !inEnum(enum, v) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, enum)
	}
	switch x := v.(type) {
	case map[string]any:
		return d.object(s, x, at)
	case []any:
		if items, ok := s["items"]; ok {
			for i, e := range x {
				if err := d.validate(items, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (d *Doc) oneOf(alts []any, v any, at string) error {
	matched := 0
	var errs []string
	for _, a := range alts {
		if err := d.validate(a, v, at); err != nil {
			errs = append(errs, err.Error())
		} else {
			matched++
		}
	}
	if matched != 1 {
		return fmt.Errorf("%s: matches %d of the oneOf alternatives, want exactly 1 (%s)", at, matched, strings.Join(errs, "; "))
	}
	return nil
}

func (d *Doc) object(s map[string]any, x map[string]any, at string) error {
	req, _ := s["required"].([]any)
	for _, r := range req {
		name, _ := r.(string)
		if _, ok := x[name]; !ok {
			return fmt.Errorf("%s: required property %q is missing", at, name)
		}
	}
	props, _ := s["properties"].(map[string]any)
	keys := make([]string, 0, len(x))
	for k := range x {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sub, ok := props[k]
		if !ok {
			sub, ok = s["additionalProperties"]
			if b, isBool := sub.(bool); isBool {
				if !b {
					return fmt.Errorf("%s: property %q is not allowed", at, k)
				}
				continue
			}
		}
		if !ok {
			continue
		}
		if err := d.validate(sub, x[k], at+"."+k); err != nil {
			return err
		}
	}
	return nil
}

func checkType(t, v any, at string) error {
	var names []string
	switch x := t.(type) {
	case nil:
		return nil
	case string:
		names = []string{x}
	case []any:
		for _, n := range x {
			if s, ok := n.(string); ok {
				names = append(names, s)
			}
		}
	}
	for _, n := range names {
		if isType(n, v) {
			return nil
		}
	}
	return fmt.Errorf("%s: %s is not of type %s", at, describe(v), strings.Join(names, " or "))
}

func isType(name string, v any) bool {
	switch name {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && f == math.Trunc(f)
	}
	return false
}

func inEnum(enum []any, v any) bool {
	for _, e := range enum {
		if fmt.Sprint(e) == fmt.Sprint(v) {
			return true
		}
	}
	return false
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case json.Number:
		return x.String()
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprint(v)
}
