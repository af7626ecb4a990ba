package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// HTTP/2 goes through Go's own HTTP/2 client (net/http's, which is
// golang.org/x/net/http2 bundled and maintained with the standard
// library): this file is the only place the engine uses it. An H2Pool is
// one http.Transport shared by a run's lanes, so their streams multiplex
// over few connections; each lane is a Serial whose exchanges are streams
// (NewSerialH2), so the load models, timeouts and outcome accounting are
// those of the goroutine transport. HTTP/2 costs more per request than
// the HTTP/1.1 client (net/http allocates), which stays the default.
type H2Pool struct {
	rt *http.Transport
}

// NewH2Pool prepares HTTP/2 to eps: over TLS (ALPN "h2", the endpoints'
// TLS configuration) or, with cleartext, h2c by prior knowledge. Each
// host:port of a URL is dialed at its endpoint's Addr (the address the
// target policy checked); any other is refused. Every exchange is bounded
// by timeout.
func NewH2Pool(eps []Endpoint, cleartext bool, timeout time.Duration) *H2Pool {
	byHost := map[string]Endpoint{}
	for _, ep := range eps {
		byHost[ep.Host] = ep
	}
	d := &net.Dialer{Timeout: timeout, KeepAlive: -1}
	dial := func(ctx context.Context, hostport string) (net.Conn, Endpoint, error) {
		ep, ok := byHost[hostport]
		if !ok {
			return nil, ep, fmt.Errorf("client: %s is not a target of this test", hostport)
		}
		c, err := d.DialContext(ctx, "tcp", ep.Addr)
		return c, ep, err
	}
	rt := &http.Transport{
		DialContext: func(ctx context.Context, _, hostport string) (net.Conn, error) {
			c, _, err := dial(ctx, hostport)
			return c, err
		},
		// each endpoint's own TLS configuration (CA, client certificate,
		// server name, version), offering only h2
		DialTLSContext: func(ctx context.Context, _, hostport string) (net.Conn, error) {
			c, ep, err := dial(ctx, hostport)
			if err != nil {
				return nil, err
			}
			if ep.TLS == nil {
				_ = c.Close()
				return nil, fmt.Errorf("client: %s is not an https endpoint", hostport)
			}
			cfg := ep.TLS.Clone()
			cfg.NextProtos = []string{"h2"}
			tc := tls.Client(c, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = c.Close()
				return nil, err
			}
			return tc, nil
		},
		DisableCompression:  true,
		MaxIdleConnsPerHost: 16,
		Protocols:           new(http.Protocols),
	}
	if cleartext {
		rt.Protocols.SetUnencryptedHTTP2(true)
	} else {
		rt.Protocols.SetHTTP2(true)
	}
	return &H2Pool{rt: rt}
}

// Close closes the pool's idle connections.
func (p *H2Pool) Close() { p.rt.CloseIdleConnections() }

// NewSerialH2 is a Serial whose requests are HTTP/2 streams of p; eps are
// the run's endpoints (a request goes to its Spec.Endpoint's Errs).
func NewSerialH2(p *H2Pool, eps []Endpoint, timeout time.Duration) *Serial {
	s := &Serial{timeout: timeout}
	for _, ep := range eps {
		s.conns = append(s.conns, &h2Stream{pool: p, ep: ep})
	}
	return s
}

// h2Stream sends a Serial's exchanges as HTTP/2 streams.
type h2Stream struct {
	pool *H2Pool
	ep   Endpoint
}

// Dial does nothing: the pool connects on the first stream.
func (h *h2Stream) Dial() Kind { return OK }

// Close does nothing: the pool's connections are shared.
func (h *h2Stream) Close() {}

// DoBy sends req as one stream and reads its whole response by deadline.
func (h *h2Stream) DoBy(req *Request, deadline time.Time) Result {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	hr, err := req.httpRequest(ctx)
	if err != nil {
		return h.fail(err, 0)
	}
	out := len(req.r.Body())
	resp, err := h.pool.rt.RoundTrip(hr)
	if err != nil {
		return h.fail(err, out)
	}
	defer resp.Body.Close()
	limit := req.maxBody
	if limit <= 0 || req.head {
		limit = 1<<63 - 1
	}
	n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, limit))
	switch {
	case err != nil:
		return h.fail(err, out)
	case n == limit && limit < 1<<63-1:
		var one [1]byte
		if m, _ := resp.Body.Read(one[:]); m > 0 {
			h.note(TooLarge, fmt.Sprintf("the answer is longer than %d bytes", limit))
			return Result{Kind: TooLarge, BytesOut: out}
		}
	}
	return Result{Status: resp.StatusCode, BytesIn: int(n), BytesOut: out}
}

func (h *h2Stream) fail(err error, out int) Result {
	k := Classify(err)
	if k == Other && !errors.Is(err, context.Canceled) {
		k = IO // a stream reset, a GOAWAY, a protocol error
	}
	h.note(k, err.Error())
	return Result{Kind: k, BytesOut: out}
}

func (h *h2Stream) note(k Kind, msg string) {
	if h.ep.Errs != nil {
		h.ep.Errs.Note(k.String(), msg)
	}
}

// httpRequest is q as a net/http request (HTTP/2 sends no Connection
// header; net/http sets Content-Length).
func (q *Request) httpRequest(ctx context.Context) (*http.Request, error) {
	body := q.r.Body()
	hr, err := http.NewRequestWithContext(ctx, string(q.r.Header.Method()), string(q.r.URI().FullURI()), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range q.r.Header.All() {
		switch string(k) {
		case "Host":
			if q.r.UseHostHeader {
				hr.Host = string(v)
			}
		case "Connection", "Content-Length", "User-Agent":
		default:
			hr.Header.Add(string(k), string(v))
		}
	}
	return hr, nil
}
