package standalone

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/stampede-load/stampede/pkg/export"
	"github.com/stampede-load/stampede/pkg/spec"
)

// quick is a test given on the command line, as hey and vegeta take one:
// -u URL [-r RATE] [-c CONNS] [-d DUR] [-m METHOD] [-H header]... [-b BODY].
type quick struct {
	url, method, body string
	rate              float64
	conns             int
	dur               time.Duration
	headers           headerList
}

type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

func quickFlags(fs *flag.FlagSet) *quick {
	q := &quick{}
	fs.StringVar(&q.url, "u", "", "target URL (instead of -f): a test of one request")
	fs.Float64Var(&q.rate, "r", 0, "with -u: requests per second (constant-rate); 0 = as fast as possible (avalanche)")
	fs.IntVar(&q.conns, "c", 0, "with -u: connections (default 10, or 100 in flight with -r)")
	fs.DurationVar(&q.dur, "d", 10*time.Second, "with -u: duration")
	fs.StringVar(&q.method, "m", "GET", "with -u: HTTP method")
	fs.Var(&q.headers, "H", "with -u: a request header 'Name: value' (repeatable)")
	fs.StringVar(&q.body, "b", "", "with -u: request body")
	return q
}

// spec builds and validates the test the flags describe.
func (q *quick) spec() (spec.Spec, error) {
	s := spec.Spec{Request: spec.Request{URL: q.url, Method: q.method, Body: q.body},
		Load: spec.Load{Model: spec.ModelAvalanche, Concurrency: q.conns, Duration: spec.D(q.dur)}}
	if q.rate != 0 { // a negative rate is reported by Validate
		s.Load.Model, s.Load.Rate = spec.ModelConstantRate, q.rate
	}
	for _, h := range q.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return s, fmt.Errorf("-H %q: want 'Name: value'", h)
		}
		if s.Request.Headers == nil {
			s.Request.Headers = map[string]string{}
		}
		s.Request.Headers[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	s.Normalize()
	if errs := s.Validate(); len(errs) > 0 {
		msg := "invalid test:"
		for _, e := range errs {
			msg += fmt.Sprintf("\n  %s: %s", flagOf(e.Field), e.Problem)
		}
		return s, errors.New(msg)
	}
	return s, nil
}

// flagOf names the flag behind a spec field.
func flagOf(field string) string {
	for f, fl := range map[string]string{"request.url": "-u", "request.method": "-m", "load.rate": "-r",
		"load.concurrency": "-c", "load.duration": "-d", "request.body": "-b"} {
		if field == f {
			return fl
		}
	}
	if strings.HasPrefix(field, "request.headers") {
		return "-H"
	}
	return field
}

// outKind checks an --out file name ("" is none).
func outKind(file string) (string, error) {
	if file == "" {
		return "", nil
	}
	return export.KindOf(file)
}
