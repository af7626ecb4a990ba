// Package client is Stampede's HTTP/1.1 load client and the only importer
// of fasthttp. Each load goroutine owns its Conns and Requests outright: an
// exchange takes no lock, shares no pool and, in steady state, allocates
// nothing. Connections are opened ahead (Dial) and re-opened after a
// failure or a "Connection: close".
package client

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"

	"github.com/stampede-load/stampede/pkg/report"
)

// Endpoint is where a Conn connects: a host:port, with TLS or not.
type Endpoint struct {
	Addr string // host:port: where to dial (the target policy may change it)
	// Host is the URL's host:port (with the default port), as requests
	// name it.
	Host string
	TLS  *tls.Config
	// Errs, if set, takes a sample of the messages of failed exchanges
	// (only on failure: it locks).
	Errs *report.Sampler
}

// Conn is one connection owned by one goroutine. It is not safe for
// concurrent use.
type Conn struct {
	ep      Endpoint
	timeout time.Duration
	dialer  net.Dialer
	c       net.Conn
	br      *bufio.Reader
	head    respHead
	body    body
	// refusedCert: the server asked this connection for a client
	// certificate that the spec does not have and nothing has been
	// answered on it yet (see certRefusal).
	refusedCert bool
}

// NewConn returns an unconnected Conn whose exchanges each time out after
// timeout (dial, write and read together).
func NewConn(ep Endpoint, timeout time.Duration) *Conn {
	return &Conn{
		ep:      ep,
		timeout: timeout,
		dialer:  net.Dialer{Timeout: timeout, KeepAlive: -1},
	}
}

// Dial opens the connection if it is not open. A failure is returned as a
// Kind; the next Do dials again.
func (c *Conn) Dial() Kind {
	if c.c != nil {
		return OK
	}
	nc, err := c.dialer.Dial("tcp", c.ep.Addr)
	if err != nil {
		return c.fail(err)
	}
	c.refusedCert = false
	if c.ep.TLS != nil {
		cfg := c.ep.TLS
		if len(cfg.Certificates) == 0 {
			cfg = cfg.Clone()
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				c.refusedCert = true
				return &tls.Certificate{}, nil
			}
		}
		tc := tls.Client(nc, cfg)
		_ = tc.SetDeadline(time.Now().Add(c.timeout))
		if err := tc.Handshake(); err != nil {
			_ = nc.Close()
			return c.fail(err)
		}
		nc = tc
	}
	c.c = nc
	if c.br == nil {
		c.br = bufio.NewReaderSize(nc, maxHeaderBytes)
	} else {
		c.br.Reset(nc)
	}
	return OK
}

// certRefusal names the failure of a connection's first exchange after
// the server asked for a client certificate the spec does not have. In TLS
// 1.3 the server judges the certificate after the client's handshake has
// ended, and its alert may be lost to a reset if our request was already
// on its way: that is still a refused handshake, not a reset.
func (c *Conn) certRefusal(err error) Kind {
	if !c.refusedCert {
		return OK
	}
	c.refusedCert = false
	if k := Classify(err); k != Reset && k != IO {
		return OK // the alert itself, or a timeout: classified as such
	}
	c.note(TLSHandshake, "the server asked for a client certificate (none in request.tls) and closed the connection: "+err.Error())
	return TLSHandshake
}

// fail classifies err and samples its message.
func (c *Conn) fail(err error) Kind {
	k := Classify(err)
	c.note(k, err.Error())
	return k
}

func (c *Conn) note(k Kind, msg string) {
	if c.ep.Errs != nil {
		c.ep.Errs.Note(k.String(), msg)
	}
}

// Close closes the connection; the Conn may dial again.
func (c *Conn) Close() {
	if c.c != nil {
		_ = c.c.Close()
		c.c = nil
	}
}

// Result is the outcome of one exchange.
type Result struct {
	Kind     Kind // OK if a response was read
	Status   int  // 0 unless Kind is OK
	BytesIn  int  // response body bytes
	BytesOut int  // request bytes written
}

// Do sends req and reads the whole response. It dials first if needed; a
// failed or closing connection is closed so that the next Do re-dials.
// The exchange (dial included) is bounded by the Conn's timeout.
func (c *Conn) Do(req *Request) Result { return c.DoBy(req, time.Now().Add(c.timeout)) }

// DoBy is Do with an explicit deadline for the exchange (the dial keeps its
// own timeout).
func (c *Conn) DoBy(req *Request, deadline time.Time) Result {
	if c.c == nil {
		if k := c.Dial(); k != OK {
			return Result{Kind: k}
		}
	}
	_ = c.c.SetDeadline(deadline)
	out := 0 // the request bytes written
	p, err := req.bytes()
	if err == nil {
		out, err = c.c.Write(p)
	}
	if err != nil {
		c.Close()
		if k := c.certRefusal(err); k != OK {
			return Result{Kind: k, BytesOut: out}
		}
		return Result{Kind: c.fail(err), BytesOut: out}
	}
	// Wait for the first byte: a reset or a timeout keeps its kind, and a
	// close without any answer counts as a reset (a close in the middle of
	// a response is IO).
	if _, err := c.br.Peek(1); err != nil {
		c.Close()
		if k := c.certRefusal(err); k != OK {
			return Result{Kind: k, BytesOut: out}
		}
		if errors.Is(err, io.EOF) {
			c.note(Reset, "the server closed the connection without answering")
			return Result{Kind: Reset, BytesOut: out}
		}
		return Result{Kind: c.fail(err), BytesOut: out}
	}
	c.refusedCert = false
	res := c.read(req)
	res.BytesOut = out
	if res.Kind != OK {
		c.Close()
	}
	return res
}

// readHead reads a response head into c.head: it parses what is
// buffered and, while the head is incomplete, reads more (the buffer holds
// maxHeaderBytes, the most a head may take); then it discards the head.
func (c *Conn) readHead() Kind {
	for seen := 0; ; {
		p, _ := c.br.Peek(c.br.Buffered())
		// parse again only once a line has ended since the last parse
		// (a head trickling in is not parsed once per byte)
		if seen > 0 && bytes.IndexByte(p[seen:], '\n') < 0 && len(p) < maxHeaderBytes {
			if k := c.more(len(p)); k != OK {
				return k
			}
			seen = len(p)
			continue
		}
		seen = len(p)
		n, k := c.head.parse(p)
		if k != OK {
			c.note(k, "malformed response head (or longer than 16 KiB)")
			return k
		}
		if n > 0 {
			_, _ = c.br.Discard(n)
			return OK
		}
		if k := c.more(len(p)); k != OK {
			return k
		}
	}
}

// more waits until more than n bytes of an incomplete head (shorter than
// the buffer) are buffered.
func (c *Conn) more(n int) Kind {
	if _, err := c.br.Peek(n + 1); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Classify(err)
	}
	return OK
}

// read reads a response to req: its head (interim responses skipped),
// then its body, counted and discarded as it arrives.
func (c *Conn) read(req *Request) Result {
	closeAfter := false
	for {
		if k := c.readHead(); k != OK {
			return Result{Kind: k}
		}
		interim, ca, k := frame(&c.head, req, &c.body)
		if k != OK {
			return Result{Kind: k}
		}
		if !interim {
			closeAfter = ca
			break
		}
	}
	res := Result{Status: c.head.status}
	for !c.body.done() {
		p, err := c.br.Peek(max(c.br.Buffered(), 1))
		if len(p) == 0 {
			if errors.Is(err, io.EOF) && c.body.closed() {
				closeAfter = true // the body lasted until the close
				break
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return Result{Kind: Classify(err)}
		}
		used, done, k := c.body.feed(p)
		_, _ = c.br.Discard(used)
		if k != OK {
			return Result{Kind: k}
		}
		if done {
			break
		}
	}
	res.BytesIn = int(c.body.n)
	// bytes after the response were not asked for: do not reuse
	if closeAfter || c.br.Buffered() > 0 {
		c.Close()
	}
	return res
}
