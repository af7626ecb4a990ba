package client

import "bytes"

// respHead is what the engine takes from a response head: its status and
// how its body is framed. Every other header is skipped unread (the
// engine's checks look at the status only; journeys, which extract from
// responses, go through Go's HTTP client). Parsing allocates nothing.
type respHead struct {
	status int
	length int64 // the Content-Length; -1: none
	te     teMode
	// close: "Connection: close", or HTTP/1.0 without keep-alive.
	close     bool
	keepAlive bool // a "keep-alive" connection option
	http10    bool
	// noFold: an obs-fold line here is a broken response (see fieldLine)
	noFold bool
}

// teMode is what a response's Transfer-Encoding says about its framing.
type teMode uint8

const (
	teNone    teMode = iota // no transfer coding (identity is none)
	teChunked               // chunked is the last coding
	teOther                 // codings, chunked not last: read until close
)

// parse parses the response head at the start of p: the status line, then
// header lines up to an empty line, each line ended by CRLF or a bare LF.
// It returns the head's length, or 0 if p does not hold all of it yet.
// A malformed head, or one longer than maxHeaderBytes, is IO.
func (h *respHead) parse(p []byte) (int, Kind) {
	*h = respHead{length: -1}
	lim := p[:min(len(p), maxHeaderBytes)]
	line, off := nextLine(lim, 0)
	if off < 0 {
		return h.incomplete(p)
	}
	if k := h.statusLine(line); k != OK {
		return 0, k
	}
	h.noFold = true
	for {
		line, off = nextLine(lim, off)
		switch {
		case off < 0:
			return h.incomplete(p)
		case len(line) == 0:
			if h.http10 && !h.keepAlive {
				h.close = true
			}
			return off, OK
		}
		if k := h.fieldLine(line); k != OK {
			return 0, k
		}
	}
}

// incomplete is parse's answer for a head not yet ended in p: wait for
// more, unless p already holds maxHeaderBytes of it.
func (h *respHead) incomplete(p []byte) (int, Kind) {
	if len(p) >= maxHeaderBytes {
		return 0, IO
	}
	return 0, OK
}

// nextLine returns the line of p starting at off, without its line end,
// and the offset after it; -1 if p holds no line end after off.
func nextLine(p []byte, off int) ([]byte, int) {
	i := bytes.IndexByte(p[off:], '\n')
	if i < 0 {
		return nil, -1
	}
	line := p[off : off+i]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, off + i + 1
}

// statusLine parses "HTTP/1.x SSS[ reason]": version 1.0 or 1.1, a
// three-digit status of at least 100, the reason phrase (possibly empty
// or absent) ignored.
func (h *respHead) statusLine(line []byte) Kind {
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return IO
	}
	switch line[7] {
	case '0':
		h.http10 = true
	case '1':
	default:
		return IO
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return IO
		}
		h.status = h.status*10 + int(c-'0')
	}
	if h.status < 100 {
		return IO
	}
	return OK
}

// fieldLine parses one header line, "name: value". Only the framing
// fields are read. An obs-fold line (starting with a space or a tab)
// continues the previous field's value: harmless after any other field,
// a broken response after a framing one (or after the status line),
// whose value it would change.
func (h *respHead) fieldLine(line []byte) Kind {
	if line[0] == ' ' || line[0] == '\t' {
		if h.noFold {
			return IO
		}
		return OK
	}
	colon := tokenLen(line)
	if colon == 0 || colon == len(line) || line[colon] != ':' {
		return IO // no name, or not a token (a space before the colon)
	}
	name, value := line[:colon], trimOWS(line[colon+1:])
	h.noFold = true
	// the length first (most names are none of these), then the usual
	// spelling, then any case
	switch len(name) {
	case len("content-length"):
		if string(name) == "Content-Length" || equalFold(name, "content-length") {
			return h.contentLength(value)
		}
	case len("transfer-encoding"):
		if string(name) == "Transfer-Encoding" || equalFold(name, "transfer-encoding") {
			h.transferEncoding(value)
			return OK
		}
	case len("connection"):
		if string(name) == "Connection" || equalFold(name, "connection") {
			h.connection(value)
			return OK
		}
	}
	h.noFold = false
	return OK
}

// contentLength takes a Content-Length value: decimal digits, or a list
// of identical ones (as a repeated field is). A field that disagrees with
// an earlier one, an empty element, a non-digit or a value beyond int64
// is a broken response.
func (h *respHead) contentLength(v []byte) Kind {
	for {
		elem, rest, more := cutByte(v, ',')
		n, ok := parseLength(trimOWS(elem))
		if !ok || (h.length >= 0 && n != h.length) {
			return IO
		}
		h.length = n
		if !more {
			return OK
		}
		v = rest
	}
}

// parseLength parses a non-empty run of decimal digits that fits int64.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// transferEncoding takes a Transfer-Encoding value, a list of codings
// (with parameters, skipped) continuing any earlier field's list: the
// last coding frames the body. chunked last is chunked; any other
// coding last leaves the body to last until the close. Identity codes
// nothing and is skipped.
func (h *respHead) transferEncoding(v []byte) {
	for len(v) > 0 {
		elem, rest, _ := cutByte(v, ',')
		v = rest
		coding, _, _ := cutByte(elem, ';')
		coding = trimOWS(coding)
		switch {
		case len(coding) == 0 || equalFold(coding, "identity"):
		case equalFold(coding, "chunked"):
			h.te = teChunked
		default:
			h.te = teOther
		}
	}
}

// connection takes a Connection value, a list of options: "close" and
// "keep-alive" count, the others are ignored.
func (h *respHead) connection(v []byte) {
	for len(v) > 0 {
		elem, rest, _ := cutByte(v, ',')
		v = rest
		opt := trimOWS(elem)
		switch {
		case equalFold(opt, "close"):
			h.close = true
		case equalFold(opt, "keep-alive"):
			h.keepAlive = true
		}
	}
}

// trimOWS trims optional whitespace (spaces and tabs) from both ends.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold reports whether b is lower, ignoring the case of ASCII
// letters (lower is lower-case).
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// tokenChars marks the bytes of a token (RFC 9110: a field name).
var tokenChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// tokenLen is the length of the token at the start of b.
func tokenLen(b []byte) int {
	for i, c := range b {
		if !tokenChars[c] {
			return i
		}
	}
	return len(b)
}

// cutByte is bytes.Cut around the first c, by a plain loop: the values
// it cuts are short.
func cutByte(b []byte, c byte) (before, after []byte, found bool) {
	for i, x := range b {
		if x == c {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}
