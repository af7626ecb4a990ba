package client

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseHead: parsing any bytes as a response head never panics and
// gives what a plain reference reading of HTTP/1.x framing (refParseHead,
// written with the standard library's string functions) gives: the same
// length, status and framing for a valid head, incomplete for a valid
// beginning, IO for everything else; and a proper prefix of a valid head
// is incomplete.
func FuzzParseHead(f *testing.F) {
	for _, tt := range headCases {
		f.Add([]byte(tt.wire), uint16(len(tt.wire)/2))
	}
	f.Fuzz(func(t *testing.T, wire []byte, split uint16) {
		var h respHead
		n, k := h.parse(wire)
		ref := refParseHead(string(wire))
		if n != ref.n || k != ref.kind {
			t.Fatalf("parse(%q) = %d, %v; the reference says %d, %v", wire, n, k, ref.n, ref.kind)
		}
		if n == 0 {
			return
		}
		if h.status != ref.status || h.length != ref.length || h.te != ref.te || h.close != ref.close {
			t.Fatalf("parse(%q) = status %d length %d te %d close %v; the reference says %+v", wire, h.status, h.length, h.te, h.close, ref)
		}
		i := int(split) % n
		if m, k := h.parse(wire[:i]); m != 0 || k != OK {
			t.Fatalf("the first %d bytes of the %d-byte head %q parse as %d, %v; want incomplete", i, n, wire[:n], m, k)
		}
	})
}

// refHead is the reference reading of a head.
type refHead struct {
	n      int
	kind   Kind
	status int
	length int64
	te     teMode
	close  bool
}

var (
	refStatusLine = regexp.MustCompile(`(?s)^HTTP/1\.([01]) ([0-9]{3})( .*)?$`)
	refToken      = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
	refDigits     = regexp.MustCompile(`^[0-9]+$`)
)

// refParseHead reads wire's head the slow, obvious way: split into lines,
// check each, then read the framing fields.
func refParseHead(wire string) refHead {
	var lines []string
	end := -1
	for rest := wire; ; {
		line, after, found := strings.Cut(rest, "\n")
		if !found {
			break
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "" && len(lines) > 0 {
			end = len(wire) - len(after)
			break
		}
		lines = append(lines, line)
		rest = after
	}
	switch {
	case end > maxHeaderBytes, end < 0 && len(wire) >= maxHeaderBytes:
		return refHead{kind: IO}
	}
	h := refHead{n: end, length: -1}
	if !refLines(&h, lines) {
		return refHead{kind: IO}
	}
	if end < 0 {
		return refHead{}
	}
	return h
}

// refLines checks the lines of a head (all of them, or those complete so
// far) and reads their framing into h.
func refLines(h *refHead, lines []string) bool {
	if len(lines) == 0 {
		return true
	}
	m := refStatusLine.FindStringSubmatch(lines[0])
	if m == nil {
		return false
	}
	h.status, _ = strconv.Atoi(m[2])
	http10, keepAlive := m[1] == "0", false
	foldable := false
	for _, line := range lines[1:] {
		if line[0] == ' ' || line[0] == '\t' {
			if !foldable {
				return false
			}
			continue
		}
		name, value, found := strings.Cut(line, ":")
		if !found || !refToken.MatchString(name) {
			return false
		}
		value = strings.Trim(value, " \t")
		foldable = false
		switch refLower(name) {
		case "content-length":
			for e := range strings.SplitSeq(value, ",") {
				e = strings.Trim(e, " \t")
				v, err := strconv.ParseInt(e, 10, 64)
				if !refDigits.MatchString(e) || err != nil || (h.length >= 0 && v != h.length) {
					return false
				}
				h.length = v
			}
		case "transfer-encoding":
			for e := range strings.SplitSeq(value, ",") {
				coding, _, _ := strings.Cut(e, ";")
				switch refLower(strings.Trim(coding, " \t")) {
				case "", "identity":
				case "chunked":
					h.te = teChunked
				default:
					h.te = teOther
				}
			}
		case "connection":
			for e := range strings.SplitSeq(value, ",") {
				switch refLower(strings.Trim(e, " \t")) {
				case "close":
					h.close = true
				case "keep-alive":
					keepAlive = true
				}
			}
		default:
			foldable = true
		}
	}
	h.close = h.close || (http10 && !keepAlive)
	return h.status >= 100
}

// refLower lower-cases ASCII letters only, as HTTP compares names and
// tokens (no Unicode folding: "\u212a" is not "k").
func refLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
