package server

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits of the echo parameters, so that a typo cannot tie the target up.
const (
	MaxDelay = time.Minute
	MaxSize  = 64 << 20
)

// params are the behaviour a load request asks for in its query string:
//
//	delay=10ms       wait before answering
//	status=503:20    answer 503 to 20 % of requests (several: "503:20,429:5";
//	                 a bare code means 100 %)
//	size=1024        answer with this many body bytes
type params struct {
	delay    time.Duration
	statuses []weightedStatus
	size     int // -1: not set
}

type weightedStatus struct {
	code    int
	percent float64
}

// parseParams reads the echo parameters; a bad one is an error naming it.
func parseParams(r *http.Request) (params, error) {
	p := params{size: -1}
	if r.URL.RawQuery == "" {
		return p, nil
	}
	q := r.URL.Query()
	if v := q.Get("delay"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > MaxDelay {
			return p, fmt.Errorf("delay=%q: want a duration between 0 and %s, like 10ms", v, MaxDelay)
		}
		p.delay = d
	}
	if v := q.Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxSize {
			return p, fmt.Errorf("size=%q: want a byte count between 0 and %d", v, MaxSize)
		}
		p.size = n
	}
	if v := q.Get("status"); v != "" {
		var total float64
		for _, part := range strings.Split(v, ",") {
			ws, err := parseStatus(part)
			if err != nil {
				return p, fmt.Errorf("status=%q: %w", v, err)
			}
			total += ws.percent
			p.statuses = append(p.statuses, ws)
		}
		if total > 100 {
			return p, fmt.Errorf("status=%q: percentages add up to %g, more than 100", v, total)
		}
	}
	return p, nil
}

func parseStatus(s string) (weightedStatus, error) {
	codeS, pctS, hasPct := strings.Cut(strings.TrimSpace(s), ":")
	code, err := strconv.Atoi(codeS)
	if err != nil || code < 100 || code > 599 {
		return weightedStatus{}, fmt.Errorf("%q is not a status code between 100 and 599", codeS)
	}
	ws := weightedStatus{code: code, percent: 100}
	if hasPct {
		pct, err := strconv.ParseFloat(pctS, 64)
		if err != nil || pct < 0 || pct > 100 {
			return weightedStatus{}, fmt.Errorf("%q is not a percentage between 0 and 100", pctS)
		}
		ws.percent = pct
	}
	return ws, nil
}

// pickStatus draws the status of one response.
func (p *params) pickStatus() int {
	if len(p.statuses) == 0 {
		return http.StatusOK
	}
	x := rand.Float64() * 100
	for _, ws := range p.statuses {
		if x < ws.percent {
			return ws.code
		}
		x -= ws.percent
	}
	return http.StatusOK
}

// filler is the content of size= bodies.
var filler = []byte(strings.Repeat("stampede", 4096/8))

var pong = []byte("pong")

// echo serves every load request: GET /ping answers "pong"; any path
// honours delay=, status= and size=; without size= the request body is
// echoed back. It counts the request in s and waits out any stall before
// it answers.
func (srv *Server) echo(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	srv.stats.begin(r.Header.Get(WorkerHeader))
	p, err := parseParams(r)
	if err != nil {
		srv.stall.wait()
		msg := err.Error() + "\n"
		http.Error(w, err.Error(), http.StatusBadRequest)
		srv.stats.end(http.StatusBadRequest, len(msg), time.Since(start))
		return
	}
	if p.delay > 0 {
		t := time.NewTimer(p.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	code := p.pickStatus()
	var body []byte
	switch {
	case p.size >= 0:
		// written below in chunks
	case r.URL.Path == "/ping":
		body = pong
	case r.ContentLength != 0 && r.Body != nil:
		body, _ = io.ReadAll(io.LimitReader(r.Body, MaxSize))
	}
	srv.stall.wait()
	h := w.Header()
	h["Content-Type"] = textPlain
	n := len(body)
	if p.size >= 0 {
		n = p.size
	}
	h["Content-Length"] = []string{strconv.Itoa(n)}
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		if p.size >= 0 {
			writeFiller(w, p.size)
		} else if len(body) > 0 {
			_, _ = w.Write(body)
		}
	}
	srv.stats.end(code, n, time.Since(start))
}

var textPlain = []string{"text/plain; charset=utf-8"}

func writeFiller(w io.Writer, n int) {
	for n > 0 {
		chunk := min(n, len(filler))
		if _, err := w.Write(filler[:chunk]); err != nil {
			return
		}
		n -= chunk
	}
}
