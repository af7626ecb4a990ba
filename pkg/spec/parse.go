package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Parse decodes a JSON spec, reports unknown and mistyped fields, applies
// defaults and validates. It returns the normalized spec and every problem.
func Parse(data []byte) (Spec, FieldErrors) {
	var s Spec
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		return s, FieldErrors{{Field: "", Problem: "not valid JSON: " + err.Error()}}
	}
	if _, ok := raw.(map[string]any); !ok {
		return s, FieldErrors{{Field: "", Problem: "a spec must be a JSON object"}}
	}
	errs := unknownFields(raw, reflect.TypeOf(s), "")
	if err := json.Unmarshal(data, &s); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			errs = append(errs, FieldError{Field: te.Field, Problem: fmt.Sprintf("must be %s, got JSON %s", typeName(te.Type), te.Value)})
		} else {
			errs = append(errs, FieldError{Field: "", Problem: err.Error()})
		}
		return s, errs
	}
	s.Normalize()
	errs = append(errs, s.Validate()...)
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return s, errs
}

// ParseFile decodes a spec given as YAML or JSON (JSON is YAML) whose JSON
// form is at most MaxFileJSON bytes.
func ParseFile(data []byte) (Spec, FieldErrors) { return ParseYAML(data, MaxFileJSON) }

// MaxFileJSON bounds the JSON form of a spec read by ParseFile.
const MaxFileJSON = 16 << 20

// ParseYAML decodes a spec given as YAML or JSON whose JSON form may be at
// most maxJSON bytes. The bound holds before anything is expanded: YAML
// anchors and aliases are sized once per use, so a document of a few
// kilobytes that would expand to gigabytes is refused without being
// expanded.
func ParseYAML(data []byte, maxJSON int) (Spec, FieldErrors) {
	if err := boundYAML(data, maxJSON); err != nil {
		return Spec{}, FieldErrors{{Field: "", Problem: err.Error()}}
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return Spec{}, FieldErrors{{Field: "", Problem: "not valid YAML or JSON: " + err.Error()}}
	}
	if len(j) > maxJSON {
		return Spec{}, FieldErrors{{Field: "", Problem: fmt.Sprintf("the spec is %d bytes as JSON; the limit is %d bytes", len(j), maxJSON)}}
	}
	return Parse(j)
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice:
		return "a list"
	}
	return t.String()
}

// unknownFields walks decoded JSON against the struct's json tags and names
// every key the struct does not have.
func unknownFields(v any, t reflect.Type, prefix string) FieldErrors {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var errs FieldErrors
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok || t == reflect.TypeOf(Duration{}) {
			return nil
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			fields[name] = f.Type
			names = append(names, name)
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				errs = append(errs, FieldError{Field: join(prefix, k), Problem: fmt.Sprintf("unknown field (known: %s)", strings.Join(names, ", "))})
				continue
			}
			errs = append(errs, unknownFields(obj[k], ft, join(prefix, k))...)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, k := range sortedKeys(obj) {
			errs = append(errs, unknownFields(obj[k], t.Elem(), join(prefix, k))...)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range arr {
			errs = append(errs, unknownFields(e, t.Elem(), fmt.Sprintf("%s[%d]", prefix, i))...)
		}
	}
	return errs
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// Encode is the canonical JSON of a spec, as stored in ZooKeeper.
func (s *Spec) Encode() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a Spec always encodes
	return bytes.TrimSpace(b.Bytes())
}
