package client

// body follows one response body as its bytes arrive, counting and
// discarding them: a body is never held in memory, whatever its size. It
// understands every HTTP/1.1 framing: a Content-Length, chunked transfer
// coding (chunk extensions and trailers skipped), and a body that lasts
// until the connection closes. A body longer than its limit ends the
// exchange as TooLarge as soon as that is known.
type body struct {
	mode  bodyMode
	n     int64 // body bytes counted (chunked: decoded data bytes)
	max   int64 // the limit on n (0: none)
	left  int64 // length: bytes still due; chunked: bytes left of the chunk's data
	phase chunkPhase
	size  int64 // chunked: the chunk size being read
	sized bool  // chunked: the size line has a digit
	line  int   // chunked: bytes of the current size or trailer line
}

type bodyMode uint8

const (
	bodyNone       bodyMode = iota // no body (HEAD, 204, 304, Content-Length: 0)
	bodyLength                     // Content-Length bytes
	bodyChunked                    // chunked transfer coding
	bodyUntilClose                 // everything until the server closes
)

type chunkPhase uint8

const (
	chSize      chunkPhase = iota // hex digits of a chunk size
	chExt                         // a chunk extension, up to the end of the line
	chData                        // chunk data
	chDataEnd                     // the CRLF after chunk data
	chTrailer                     // at the start of a trailer line
	chTrailerIn                   // inside a trailer line
)

// maxChunkLine bounds a chunk-size line (with extensions) and each trailer
// line: a longer one is a broken response, not something to buffer.
const maxChunkLine = 4096

// reset prepares b for a new body. contentLength < 0 means none was given.
func (b *body) reset(mode bodyMode, contentLength, max int64) Kind {
	*b = body{mode: mode, max: max}
	if mode == bodyLength {
		b.left = contentLength
		if max > 0 && contentLength > max {
			return TooLarge
		}
		if contentLength == 0 {
			b.mode = bodyNone
		}
	}
	return OK
}

// done reports whether the body is complete (an until-close body is
// complete only when the connection closes: see closed).
func (b *body) done() bool {
	switch b.mode {
	case bodyNone:
		return true
	case bodyLength:
		return b.left == 0
	}
	return false
}

// closed is called when the connection closes during the body: an
// until-close body is then complete; any other is broken.
func (b *body) closed() bool { return b.mode == bodyUntilClose || b.done() }

// feed consumes the start of p. It returns how many bytes belong to the
// body, whether the body is now complete, and a failure (TooLarge, or IO
// for a malformed chunked body) that ends the exchange.
func (b *body) feed(p []byte) (used int, complete bool, k Kind) {
	switch b.mode {
	case bodyNone:
		return 0, true, OK
	case bodyLength:
		used = int(min(int64(len(p)), b.left))
		b.left -= int64(used)
		b.n += int64(used)
		return used, b.left == 0, OK
	case bodyUntilClose:
		b.n += int64(len(p))
		if b.max > 0 && b.n > b.max {
			return len(p), false, TooLarge
		}
		return len(p), false, OK
	}
	return b.feedChunked(p)
}

// feedChunked is feed for the chunked coding, one byte of framing or one
// run of data at a time.
func (b *body) feedChunked(p []byte) (used int, complete bool, k Kind) {
	for used < len(p) {
		if b.phase == chData {
			n := int(min(int64(len(p)-used), b.left))
			b.left -= int64(n)
			b.n += int64(n)
			used += n
			if b.left == 0 {
				b.phase = chDataEnd
			}
			continue
		}
		c := p[used]
		used++
		done, k := b.framing(c)
		if k != OK || done {
			return used, done, k
		}
	}
	return used, false, OK
}

// framing takes one byte of chunk framing (sizes, extensions, the CRLF
// after data, trailers).
func (b *body) framing(c byte) (complete bool, k Kind) {
	switch b.phase {
	case chSize:
		switch c {
		case '\n':
			return b.endSizeLine()
		case '\r':
		case ';', ' ', '\t':
			b.phase = chExt
		default:
			v := hexVal(c)
			if v < 0 || b.size > (1<<59) {
				return false, IO
			}
			b.size, b.sized = b.size<<4|int64(v), true
		}
		return b.lineByte()
	case chExt:
		if c == '\n' {
			return b.endSizeLine()
		}
		return b.lineByte()
	case chDataEnd:
		switch c {
		case '\r':
		case '\n':
			b.phase, b.size, b.sized, b.line = chSize, 0, false, 0
		default:
			return false, IO
		}
	case chTrailer:
		switch c {
		case '\r':
		case '\n':
			return true, OK // the empty line that ends the trailers
		default:
			b.phase, b.line = chTrailerIn, 1
		}
	case chTrailerIn:
		if c == '\n' {
			b.phase, b.line = chTrailer, 0
			return false, OK
		}
		return b.lineByte()
	}
	return false, OK
}

// endSizeLine ends a chunk-size line: data follows, or the trailers after
// the last (zero-size) chunk.
func (b *body) endSizeLine() (bool, Kind) {
	if !b.sized {
		return false, IO // no size at all
	}
	b.line, b.sized = 0, false
	if b.size == 0 {
		b.phase = chTrailer
		return false, OK
	}
	if b.max > 0 && b.n+b.size > b.max {
		return false, TooLarge
	}
	b.phase, b.left = chData, b.size
	return false, OK
}

// lineByte counts one byte of a framing line against maxChunkLine.
func (b *body) lineByte() (bool, Kind) {
	b.line++
	if b.line > maxChunkLine {
		return false, IO
	}
	return false, OK
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
