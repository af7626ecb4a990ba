package client

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/stampede-load/stampede/pkg/spec"
	"github.com/stampede-load/stampede/pkg/tlsopt"
	"github.com/valyala/fasthttp"
)

// Request is a reusable request owned by one goroutine: its static parts
// are set once; Set* replace the parts that change per request (rendered
// templates) without allocating. Not safe for concurrent use.
type Request struct {
	r        fasthttp.Request
	head     bool
	endpoint int
	maxBody  int64
	// wire is r serialized (by fasthttp), kept until a Set* changes r:
	// a request that does not change is serialized once, not per send.
	wire  bytes.Buffer
	stale bool
	bw    *bufio.Writer // into wire
}

// Spec is what a Request is built from.
type Spec struct {
	Method    string
	URL       string // absolute http(s) URL
	Headers   [][2]string
	Body      []byte
	Host      string // Host header override; empty: from URL
	KeepAlive bool
	// MaxResponseBytes bounds the response body (0: no bound); a longer
	// one ends the exchange as TooLarge.
	MaxResponseBytes int64
	// Endpoint is the index of the request's endpoint among a Serial
	// transport's endpoints (NewSerial); a Loop has one endpoint.
	Endpoint int
}

// NewRequest builds a request from s.
func NewRequest(s Spec) *Request {
	q := &Request{head: s.Method == fasthttp.MethodHead, endpoint: s.Endpoint, maxBody: s.MaxResponseBytes, stale: true}
	q.r.Header.SetMethod(s.Method)
	q.r.SetRequestURI(s.URL)
	q.r.URI() // parse now, so that Write sends origin-form with our Host
	q.r.Header.DisableNormalizing()
	for _, h := range s.Headers {
		if strings.EqualFold(h[0], "Host") {
			q.r.UseHostHeader = true
			q.r.Header.SetHost(h[1])
			continue
		}
		q.r.Header.Set(h[0], h[1])
	}
	if s.Host != "" {
		q.r.UseHostHeader = true
		q.r.Header.SetHost(s.Host)
	}
	if len(s.Body) > 0 {
		q.r.SetBody(s.Body)
	}
	if !s.KeepAlive {
		q.r.SetConnectionClose()
	}
	return q
}

// SetURI replaces the request URI (an absolute URL on the same endpoint).
func (q *Request) SetURI(b []byte) {
	q.r.SetRequestURIBytes(b)
	q.r.URI() // see NewRequest
	q.stale = true
}

// SetHeader replaces one header's value.
func (q *Request) SetHeader(key string, value []byte) {
	q.r.Header.SetBytesV(key, value)
	q.stale = true
}

// SetBody replaces the body. The request keeps a reference to b and
// reads it when it is next sent: b must not change after that until the
// next SetBody (a request is serialized again only after a Set*).
func (q *Request) SetBody(b []byte) {
	q.r.SetBodyRaw(b)
	q.stale = true
}

// bytes is the request as it goes on the wire, serialized by fasthttp
// when the request is new or a Set* changed it, and otherwise the same
// bytes as last time. They are valid until the next Set*. An error is a
// request that cannot be serialized.
func (q *Request) bytes() ([]byte, error) {
	if !q.stale {
		return q.wire.Bytes(), nil
	}
	if q.bw == nil {
		q.bw = bufio.NewWriterSize(&q.wire, 1024)
	}
	q.wire.Reset()
	q.bw.Reset(&q.wire)
	err := q.r.Write(q.bw)
	if err == nil {
		err = q.bw.Flush()
	}
	if err != nil {
		return nil, err
	}
	q.stale = false
	return q.wire.Bytes(), nil
}

// ParseEndpoint finds where a URL's requests go. insecure disables TLS
// certificate verification (the spec's insecure_skip_verify).
func ParseEndpoint(raw string, insecure bool) (Endpoint, error) {
	return ParseEndpointTLS(raw, nil, insecure)
}

// ParseEndpointTLS is ParseEndpoint with the spec's request.tls options
// (nil: defaults) for an https URL.
func ParseEndpointTLS(raw string, opts *spec.TLS, insecure bool) (Endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Endpoint{}, fmt.Errorf("client: %w", err)
	}
	host, port := u.Hostname(), u.Port()
	var ep Endpoint
	switch u.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
		if ep.TLS, err = tlsopt.Config(opts, insecure, host); err != nil {
			return Endpoint{}, fmt.Errorf("client: %w", err)
		}
	default:
		return Endpoint{}, fmt.Errorf("client: URL %q: scheme must be http or https", raw)
	}
	if host == "" {
		return Endpoint{}, fmt.Errorf("client: URL %q has no host", raw)
	}
	ep.Addr = net.JoinHostPort(host, port)
	ep.Host = ep.Addr
	return ep, nil
}
