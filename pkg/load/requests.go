package load

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/stampede-load/stampede/pkg/load/client"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
	"github.com/stampede-load/stampede/pkg/template"
)

// entry is one compiled request of a test (the request, or one weighted
// entry of requests_mix). It is immutable once compiled and shared by all
// lanes.
type entry struct {
	weight   int
	endpoint int // index into requestSet.endpoints
	static   client.Spec
	url      *template.Template // nil if static
	headers  []dynHeader
	body     *template.Template // nil if static
}

type dynHeader struct {
	name string
	tmpl *template.Template
}

// requestSet is every request a test sends, compiled once.
type requestSet struct {
	entries   []entry
	cumWeight []int // for the weighted pick
	total     int
	endpoints []client.Endpoint
	expected  [600]bool
	// errs samples the messages of failed exchanges on every endpoint.
	errs *report.Sampler
}

// compileRequests builds the request set of a normalized, valid spec.
func compileRequests(s *spec.Spec) (*requestSet, error) {
	rs := &requestSet{errs: &report.Sampler{}}
	if err := rs.compileExpected(s.Request.ExpectStatus); err != nil {
		return nil, err
	}
	base := s.Request
	mix := s.RequestsMix
	if len(mix) == 0 {
		mix = []spec.MixEntry{{Weight: 1}}
	}
	epIndex := map[client.Endpoint]int{}
	for i, m := range mix {
		field := "request"
		if len(s.RequestsMix) > 0 {
			field = fmt.Sprintf("requests_mix[%d]", i)
		}
		e, err := rs.compileEntry(field, base, m, epIndex, s.Request.InsecureSkipVerify)
		if err != nil {
			return nil, err
		}
		rs.entries = append(rs.entries, e)
		rs.total += e.weight
		rs.cumWeight = append(rs.cumWeight, rs.total)
	}
	return rs, nil
}

func (rs *requestSet) compileExpected(codes []string) error {
	if len(codes) == 0 {
		codes = []string{"200-399"}
	}
	for i, c := range codes {
		lo, hi, err := spec.ParseStatusRange(c)
		if err != nil {
			return fmt.Errorf("load: request.expect_status[%d]: %w", i, err)
		}
		for code := lo; code <= hi; code++ {
			rs.expected[code] = true
		}
	}
	return nil
}

func (rs *requestSet) compileEntry(field string, base spec.Request, m spec.MixEntry, epIndex map[client.Endpoint]int, insecure bool) (entry, error) {
	e := entry{weight: max(m.Weight, 1)}
	method, url, headers, body, body64 := base.Method, base.URL, base.Headers, base.Body, base.BodyBase64
	if m.Method != "" {
		method = m.Method
	}
	if m.URL != "" {
		url = m.URL
	}
	if m.Body != "" || m.BodyBase64 != "" {
		body, body64 = m.Body, m.BodyBase64
	}
	if len(m.Headers) > 0 {
		merged := make(map[string]string, len(headers)+len(m.Headers))
		for k, v := range headers {
			merged[k] = v
		}
		for k, v := range m.Headers {
			merged[k] = v
		}
		headers = merged
	}
	keepAlive := base.KeepAlive == nil || *base.KeepAlive
	e.static = client.Spec{Method: method, Host: base.Host, KeepAlive: keepAlive, MaxResponseBytes: base.MaxResponseBytes}

	ut, err := template.Compile(url)
	if err != nil {
		return e, fmt.Errorf("load: %s.url: %w", field, err)
	}
	e.static.URL = ut.String()
	if !ut.Static() {
		e.url = ut
		// the endpoint comes from the literal prefix
		e.static.URL = url
	}
	ep, err := client.ParseEndpointTLS(e.static.URL, base.TLS, insecure)
	if err != nil {
		return e, fmt.Errorf("load: %s.url: %w", field, err)
	}
	ep.Errs = rs.errs
	idx, ok := epIndex[ep]
	if !ok {
		idx = len(rs.endpoints)
		rs.endpoints = append(rs.endpoints, ep)
		epIndex[ep] = idx
	}
	e.endpoint = idx
	e.static.Endpoint = idx

	if err := e.compileHeaders(field, headers); err != nil {
		return e, err
	}

	switch {
	case body64 != "":
		b, err := base64.StdEncoding.DecodeString(body64)
		if err != nil {
			return e, fmt.Errorf("load: %s.body_base64: %w", field, err)
		}
		e.static.Body = b
	case body != "":
		t, err := template.Compile(body)
		if err != nil {
			return e, fmt.Errorf("load: %s.body: %w", field, err)
		}
		if t.Static() {
			e.static.Body = []byte(t.String())
		} else {
			e.body = t
		}
	}
	return e, nil
}

// compileHeaders compiles an entry's headers in name order: static ones
// are set once, templated ones rendered per request.
func (e *entry) compileHeaders(field string, headers map[string]string) error {
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t, err := template.Compile(headers[k])
		if err != nil {
			return fmt.Errorf("load: %s.headers.%s: %w", field, k, err)
		}
		if t.Static() {
			e.static.Headers = append(e.static.Headers, [2]string{k, t.String()})
		} else {
			e.static.Headers = append(e.static.Headers, [2]string{k, ""})
			e.headers = append(e.headers, dynHeader{name: k, tmpl: t})
		}
	}
	return nil
}

// laneRequests is one lane's private copy of the request set: its
// reusable requests, render buffers and random source.
type laneRequests struct {
	set   *requestSet
	reqs  []*client.Request
	tctx  template.Context
	urlB  []byte
	hdrB  [][]byte
	bodyB []byte
}

// forLane makes a lane's requests.
func (rs *requestSet) forLane(worker string, seed uint64) *laneRequests {
	lr := &laneRequests{set: rs, tctx: template.Context{Worker: worker, Rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}}
	for i := range rs.entries {
		lr.reqs = append(lr.reqs, client.NewRequest(rs.entries[i].static))
	}
	lr.urlB = make([]byte, 0, 256)
	lr.bodyB = make([]byte, 0, 256)
	return lr
}

// pick chooses the next request by weight and renders its templates for
// sequence number seq. It returns the request and its entry's index.
func (lr *laneRequests) pick(seq int64) (*client.Request, int) {
	i := 0
	if len(lr.set.entries) > 1 {
		x := lr.tctx.Rand.IntN(lr.set.total)
		for lr.set.cumWeight[i] <= x {
			i++
		}
	}
	e := &lr.set.entries[i]
	req := lr.reqs[i]
	if e.url != nil || e.headers != nil || e.body != nil {
		lr.tctx.Seq = seq
		if e.url != nil {
			lr.urlB = e.url.Append(lr.urlB[:0], &lr.tctx)
			req.SetURI(lr.urlB)
		}
		for h := range e.headers {
			for len(lr.hdrB) <= h {
				lr.hdrB = append(lr.hdrB, make([]byte, 0, 64))
			}
			lr.hdrB[h] = e.headers[h].tmpl.Append(lr.hdrB[h][:0], &lr.tctx)
			req.SetHeader(e.headers[h].name, lr.hdrB[h])
		}
		if e.body != nil {
			lr.bodyB = e.body.Append(lr.bodyB[:0], &lr.tctx)
			req.SetBody(lr.bodyB)
		}
	}
	return req, i
}
