// Package journey holds the parts of a scenario's virtual user that do not
// depend on how requests travel: taking values out of responses (Extract),
// putting variables and data into a step's texts (Render), checking a
// response (Check), drawing think times (Think) and handing out data rows
// (Rows). A journey executor combines them over a transport.
package journey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/stampede-load/stampede/pkg/spec"
)

// MaxValueBytes bounds one extracted value, so that a hostile response
// cannot grow a virtual user's variables without end.
const MaxValueBytes = 4 << 10

// Extractor takes one value out of a response. Build it with NewExtractor
// (once per test); Extract is safe for concurrent use.
type Extractor struct {
	path   []pathElem // json
	re     *regexp.Regexp
	header string
}

type pathElem struct {
	key   string
	index int // -1: key
}

// NewExtractor compiles a validated spec.Extract.
func NewExtractor(e spec.Extract) (*Extractor, error) {
	switch {
	case e.JSON != "":
		p, err := parsePath(e.JSON)
		return &Extractor{path: p}, err
	case e.Regex != "":
		re, err := regexp.Compile(e.Regex)
		if err != nil {
			return nil, err
		}
		if re.NumSubexp() < 1 {
			return nil, errors.New("regex needs a group")
		}
		return &Extractor{re: re}, nil
	case e.Header != "":
		return &Extractor{header: e.Header}, nil
	}
	return nil, errors.New("extract needs json, regex or header")
}

// parsePath parses the subset $ ( .key | [n] )*.
func parsePath(src string) ([]pathElem, error) {
	if !strings.HasPrefix(src, "$") {
		return nil, fmt.Errorf("JSON path %q must start with $", src)
	}
	var out []pathElem
	rest := src[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			if end == 0 {
				return nil, fmt.Errorf("JSON path %q has an empty key", src)
			}
			out = append(out, pathElem{key: rest[1 : 1+end], index: -1})
			rest = rest[1+end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			n, err := strconv.Atoi(rest[1:max(end, 1)])
			if end < 0 || err != nil || n < 0 {
				return nil, fmt.Errorf("JSON path %q has a bad index", src)
			}
			out = append(out, pathElem{index: n})
			rest = rest[end+1:]
		default:
			return nil, fmt.Errorf("JSON path %q: unexpected %q", src, rest[0])
		}
	}
	return out, nil
}

// Extract returns the value, or an error saying why there is none: a
// missing or empty value is an error, never an empty variable. header
// looks up a response header (nil: no headers).
func (x *Extractor) Extract(body []byte, header func(string) string) (string, error) {
	var v string
	switch {
	case x.re != nil:
		m := x.re.FindSubmatch(body)
		if m == nil {
			return "", fmt.Errorf("regex %s: no match", x.re)
		}
		v = string(m[1])
	case x.header != "":
		if header != nil {
			v = header(x.header)
		}
		if v == "" {
			return "", fmt.Errorf("header %s: not in the response", x.header)
		}
	default:
		var err error
		if v, err = x.walk(body); err != nil {
			return "", err
		}
	}
	if v == "" {
		return "", errors.New("the value is empty")
	}
	if len(v) > MaxValueBytes {
		return "", fmt.Errorf("the value is %d bytes, at most %d are kept", len(v), MaxValueBytes)
	}
	return v, nil
}

// walk follows the JSON path through body.
func (x *Extractor) walk(body []byte) (string, error) {
	var cur any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&cur); err != nil {
		return "", fmt.Errorf("the body is not JSON: %w", err)
	}
	for _, p := range x.path {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[p.key]
			if p.index >= 0 || !ok {
				return "", fmt.Errorf("JSON path: no %s", p.describe())
			}
			cur = v
		case []any:
			if p.index < 0 || p.index >= len(c) {
				return "", fmt.Errorf("JSON path: no %s", p.describe())
			}
			cur = c[p.index]
		default:
			return "", fmt.Errorf("JSON path: no %s", p.describe())
		}
	}
	switch c := cur.(type) {
	case string:
		return c, nil
	case json.Number:
		return c.String(), nil
	case bool:
		return strconv.FormatBool(c), nil
	}
	return "", errors.New("JSON path: the value is not a string, number or boolean")
}

func (p pathElem) describe() string {
	if p.index >= 0 {
		return "[" + strconv.Itoa(p.index) + "]"
	}
	return "." + p.key
}
