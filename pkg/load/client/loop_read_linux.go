//go:build linux

package client

import (
	"bytes"
	"errors"
	"syscall"
	"time"
)

// read reads what arrived on connection i into the loop's shared buffer
// and takes it: the response head (kept in c.hdr only while incomplete),
// then the body, counted and discarded (c.body). The exchange completes
// once the response is whole.
func (l *Loop) read(i int, c *loopConn, d Driver) {
	n, now, err := l.recv(c.fd)
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
		return
	}
	if now.Before(c.sent) {
		now = c.sent
	}
	if err != nil || n == 0 {
		if err == nil && c.inBody && c.body.closed() {
			l.complete(i, c, now, true, d) // the body lasted until the close
			return
		}
		kind := Classify(err)
		if err == nil {
			kind = Reset // closed before any of the response
			if c.got {
				kind = IO // closed in the middle of it
			}
		}
		l.fail(i, c, kind, now, d)
		return
	}
	c.got = true
	complete, extra, k := l.take(c, l.buf[:n])
	switch {
	case k != OK:
		l.fail(i, c, k, now, d)
	case complete:
		// bytes after the response were not asked for: the connection
		// is out of step and is not reused
		l.complete(i, c, now, extra, d)
	}
}

// take consumes p, bytes of c's response: head, then body. It reports
// whether the response is complete, whether p held bytes beyond it, and
// a failure that ends the exchange.
func (l *Loop) take(c *loopConn, p []byte) (complete, extra bool, k Kind) {
	for !c.inBody {
		buf := p
		if len(c.hdr) > 0 {
			c.hdr = append(c.hdr, p...)
			buf = c.hdr
			// no line ended in p: the head is still incomplete (parse
			// again only with a new line, so that a head trickling in
			// a byte at a time is not parsed once per byte)
			if bytes.IndexByte(p, '\n') < 0 && len(buf) < maxHeaderBytes {
				return false, false, OK
			}
		}
		n, interim, k := l.parseHead(c, buf)
		if k != OK {
			return false, false, k
		}
		if n == 0 { // the head is not all here yet (and under maxHeaderBytes)
			if len(c.hdr) == 0 {
				c.hdr = append(c.hdr, p...)
			}
			return false, false, OK
		}
		p = buf[n:]
		// p may alias c.hdr; an append to c.hdr[:0] copies it forward
		// safely (memmove) before anything else writes there
		c.hdr = c.hdr[:0]
		if !interim {
			c.inBody = true
		} else if len(p) == 0 {
			return false, false, OK
		}
	}
	used, done, k := c.body.feed(p)
	return done, done && used < len(p), k
}

// parseHead parses a response head at the start of buf with the loop's
// parser. It returns the head's length (0 if the head is not complete)
// and whether it was an interim (1xx) response.
func (l *Loop) parseHead(c *loopConn, buf []byte) (n int, interim bool, k Kind) {
	n, k = l.head.parse(buf)
	if n == 0 || k != OK {
		return 0, false, k
	}
	interim, c.closeAfter, k = frame(&l.head, c.req, &c.body)
	c.status = l.head.status
	return n, interim, k
}

// complete ends c's exchange with its response; the connection is closed
// if the response or the request asked for it (or closeConn).
func (l *Loop) complete(i int, c *loopConn, now time.Time, closeConn bool, d Driver) {
	res := Result{Status: c.status, BytesIn: int(c.body.n), BytesOut: c.off}
	closeAfter := closeConn || c.closeAfter
	c.inBody = false
	l.finish(i, c, res, now, d)
	if closeAfter {
		l.closeSocket(c)
	}
	// The next request goes out after every response of this batch has
	// been read and timed (see Run).
	l.refeed = append(l.refeed, i)
}
