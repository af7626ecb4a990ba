//go:build linux

package client

import (
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// read reads what arrived and completes the exchange once the response is
// whole.
func (l *Loop) read(i int, c *loopConn, d Driver) {
	if cap(c.in)-len(c.in) < 4096 {
		grown := make([]byte, len(c.in), 2*cap(c.in))
		copy(grown, c.in)
		c.in = grown
	}
	n, err := syscall.Read(c.fd, c.in[len(c.in):cap(c.in)])
	if err == syscall.EAGAIN || err == syscall.EINTR {
		return
	}
	now := time.Now()
	if err != nil || n == 0 {
		kind := Classify(err)
		if err == nil {
			kind = Reset // closed before a whole response
			if len(c.in) > 0 {
				kind = IO
			}
		}
		l.fail(i, c, kind, now, d)
		return
	}
	c.in = c.in[:len(c.in)+n]
	res, done, closeAfter := l.parse(c)
	if !done {
		return
	}
	res.BytesOut = c.off
	l.finish(i, c, res, now, d)
	if closeAfter || res.Kind != OK {
		l.closeSocket(c)
	}
	// The next request goes out after every response of this batch has
	// been read and timed (see Run).
	l.refeed = append(l.refeed, i)
}

// parse tries to read a whole response from c.in. It returns done == false
// if more bytes are needed.
func (l *Loop) parse(c *loopConn) (res Result, done, closeAfter bool) {
	c.rd.Reset(c.in)
	c.br.Reset(&c.rd)
	h := &c.resp.Header
	if err := h.Read(c.br); err != nil {
		if c.rd.Len() == 0 && len(c.in) < 1<<20 {
			return res, false, false // incomplete headers
		}
		return Result{Kind: IO}, true, true
	}
	hdrLen := len(c.in) - c.rd.Len() - c.br.Buffered()
	status := h.StatusCode()
	cl := h.ContentLength()
	switch {
	case c.req.head || status == fasthttp.StatusNoContent || status == fasthttp.StatusNotModified:
		cl = 0
	case status < 200:
		cl = -1 // interim responses: let fasthttp read the whole exchange
	}
	if cl >= 0 {
		if len(c.in) < hdrLen+cl {
			return res, false, false
		}
		return Result{Status: status, BytesIn: cl}, true, h.ConnectionClose() || c.req.r.ConnectionClose() || len(c.in) > hdrLen+cl
	}
	// chunked or until-close body: parse the whole response with fasthttp
	c.rd.Reset(c.in)
	c.br.Reset(&c.rd)
	c.resp.SkipBody = c.req.head
	if err := c.resp.Read(c.br); err != nil {
		if c.rd.Len() == 0 {
			return res, false, false
		}
		return Result{Kind: IO}, true, true
	}
	return Result{Status: c.resp.StatusCode(), BytesIn: len(c.resp.Body())}, true, c.resp.ConnectionClose() || c.req.r.ConnectionClose()
}
