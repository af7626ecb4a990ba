// Package template compiles the request templates of a test spec once and
// renders them per request without parsing and without allocating.
//
// Syntax: text with actions in double braces.
//
//	{{seq}}             the request's sequence number, unique within the test
//	{{worker}}          the worker id
//	{{randInt 1 100}}   a uniform random integer in [1, 100]
//	{{choice a b "c d"}} one of the words (quoted words may hold spaces)
//	{{uuid}}            a random version-4 UUID
//	{{"{{"}}            a quoted string, rendered as is (how to write "{{")
//
// Templates are allowed in request URLs (after the host), header values and
// bodies, in the main request and in every requests_mix entry. The package
// knows nothing of specs: pkg/spec compiles a spec's templated fields with
// Compile and CheckURLPrefix when it validates the spec.
package template

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Context is what a render reads: the per-request values and the caller's
// random source. A Context belongs to one goroutine.
type Context struct {
	Seq    int64
	Worker string
	Rand   *rand.Rand
}

// Template is a compiled template. It is immutable and safe for concurrent
// use; rendering writes only to the caller's buffer.
type Template struct {
	src   string
	parts []part
}

type opKind uint8

const (
	opLit opKind = iota
	opSeq
	opWorker
	opRandInt
	opChoice
	opUUID
)

type part struct {
	op      opKind
	lit     []byte   // opLit
	lo, n   int64    // opRandInt: lo + [0, n)
	choices [][]byte // opChoice
}

// Error is a template error at a 1-based character position of the source.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("template error at position %d: %s", e.Pos, e.Msg) }

// Functions lists the template actions.
var Functions = []string{"seq", "worker", "randInt", "choice", "uuid"}

// Compile parses src. A source without "{{" is a single literal.
func Compile(src string) (*Template, error) {
	t := &Template{src: src}
	i := 0
	for i < len(src) {
		open := strings.Index(src[i:], "{{")
		if open < 0 {
			t.lit(src[i:])
			break
		}
		t.lit(src[i : i+open])
		start := i + open
		end := strings.Index(src[start+2:], "}}")
		if end < 0 {
			return nil, &Error{Pos: runePos(src, start), Msg: `"{{" is not closed by "}}"`}
		}
		body := src[start+2 : start+2+end]
		p, err := parseAction(body)
		if err != nil {
			return nil, &Error{Pos: runePos(src, start), Msg: err.Error()}
		}
		if p.op == opLit {
			t.lit(string(p.lit))
		} else {
			t.parts = append(t.parts, p)
		}
		i = start + 2 + end + 2
	}
	return t, nil
}

// MustCompile is Compile for sources known to be valid; it panics otherwise.
func MustCompile(src string) *Template {
	t, err := Compile(src)
	if err != nil {
		panic(err)
	}
	return t
}

func runePos(s string, byteOff int) int { return len([]rune(s[:byteOff])) + 1 }

func (t *Template) lit(s string) {
	if s == "" {
		return
	}
	if n := len(t.parts); n > 0 && t.parts[n-1].op == opLit {
		t.parts[n-1].lit = append(t.parts[n-1].lit, s...)
		return
	}
	t.parts = append(t.parts, part{op: opLit, lit: []byte(s)})
}

// Static reports whether the template renders the same text every time.
func (t *Template) Static() bool {
	for _, p := range t.parts {
		if p.op != opLit {
			return false
		}
	}
	return true
}

// Source is the template text as written.
func (t *Template) Source() string { return t.src }

// String renders a static template (for static parts); for a dynamic one it
// returns the source.
func (t *Template) String() string {
	if !t.Static() {
		return t.src
	}
	var b []byte
	for _, p := range t.parts {
		b = append(b, p.lit...)
	}
	return string(b)
}

// Append renders the template for c onto dst and returns the extended
// buffer. It does not allocate once dst has room.
func (t *Template) Append(dst []byte, c *Context) []byte {
	for i := range t.parts {
		p := &t.parts[i]
		switch p.op {
		case opLit:
			dst = append(dst, p.lit...)
		case opSeq:
			dst = strconv.AppendInt(dst, c.Seq, 10)
		case opWorker:
			dst = append(dst, c.Worker...)
		case opRandInt:
			dst = strconv.AppendInt(dst, p.lo+c.Rand.Int64N(p.n), 10)
		case opChoice:
			dst = append(dst, p.choices[c.Rand.IntN(len(p.choices))]...)
		case opUUID:
			dst = appendUUID(dst, c.Rand)
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendUUID writes a random RFC 4122 version-4 UUID.
func appendUUID(dst []byte, r *rand.Rand) []byte {
	var u [16]byte
	a, b := r.Uint64(), r.Uint64()
	for i := range 8 {
		u[i] = byte(a >> (8 * i))
		u[8+i] = byte(b >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	for i, x := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[x>>4], hexDigits[x&0x0f])
	}
	return dst
}
