package journey

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
	"github.com/stampede-load/stampede/pkg/tlsopt"
)

// Error kinds of a journey step, besides transport failures ("io").
const (
	KindCheck   = "check"
	KindExtract = "extract"
	KindIO      = "io"
	// KindTooLarge is an answer longer than request.max_response_bytes.
	KindTooLarge = "response_too_large"
)

// LateThreshold is how far behind its due time a step may be sent before
// it counts as late.
const LateThreshold = time.Millisecond

// MaxSamples is how many distinct messages are kept per step and kind.
const MaxSamples = report.MaxSamples

// maxBody bounds the response body a step reads for checks and extraction
// when the spec sets no request.max_response_bytes.
const maxBody = 1 << 20

// StepStats are one step name's numbers.
type StepStats struct {
	Latency  *hist.Histogram
	Requests int64
	// Late counts open-model requests sent more than LateThreshold after
	// they were due.
	Late    int64
	Errors  map[string]int64    // by kind
	Samples map[string][]string // by kind, distinct, at most MaxSamples
}

// Result is what a Runner measured.
type Result struct {
	Steps map[string]*StepStats
	// Iteration is the duration of every completed journey.
	Iteration         *hist.Histogram
	Completed, Failed int64
}

// Runner runs one worker's share of a scenario in the closed model: Users
// virtual users, each with its own variables and cookie jar, loop through
// the steps until the share's iterations are done (or, with no iteration
// budget, until ctx ends), or the unique rows are used up. It sends over
// net/http: this is the reference executor of a journey's semantics, not
// the engine's allocation-free request path.
type Runner struct {
	sc     *spec.Scenario
	users  int
	budget int64 // 0: no bound
	rows   *Rows
	client *http.Transport
	timout time.Duration
	// maxBody bounds a step's answer (request.max_response_bytes).
	maxBody int64
	// rate > 0: the open model, journeys started per second on this
	// worker, for duration (unless pace.Due says otherwise).
	rate     float64
	duration time.Duration
	pace     Pace
	ex       [][]namedExtractor

	mu  sync.Mutex
	res Result
}

type namedExtractor struct {
	name string
	x    *Extractor
}

// NewRunner prepares s (a validated spec with a scenario) for the worker
// share sh, with users virtual users.
func NewRunner(s *spec.Spec, sh plan.Share, users int) (*Runner, error) {
	r := &Runner{sc: s.Scenario, users: max(users, 1), budget: sh.Iterations, timout: s.Request.Timeout.D,
		client: &http.Transport{MaxIdleConnsPerHost: max(users, 1)},
		res:    Result{Steps: map[string]*StepStats{}, Iteration: hist.New()}}
	r.maxBody = s.Request.MaxResponseBytes
	if r.maxBody <= 0 {
		r.maxBody = maxBody
	}
	if s.Request.KeepAlive != nil && !*s.Request.KeepAlive {
		r.client.DisableKeepAlives = true
	}
	tc, err := tlsopt.Config(s.Request.TLS, s.Request.InsecureSkipVerify, "")
	if err != nil {
		return nil, err
	}
	r.client.TLSClientConfig = tc
	switch s.Request.Protocol {
	case spec.ProtocolH2:
		r.client.Protocols = new(http.Protocols)
		r.client.Protocols.SetHTTP2(true)
	case spec.ProtocolH2C:
		r.client.Protocols = new(http.Protocols)
		r.client.Protocols.SetUnencryptedHTTP2(true)
	}
	switch s.Load.Model {
	case spec.ModelConstantRate:
		r.rate, r.duration = s.Load.RatePerWorker, s.Load.Duration.D
		if r.rate == 0 {
			r.rate = s.Load.Rate / float64(max(sh.Of, 1))
		}
	case spec.ModelRampingRate:
		r.rate = 1 // open; the schedule is the pace's (SetPace)
	}
	if d := s.Scenario.Data; d != nil {
		t, err := d.Table()
		if err != nil {
			return nil, fmt.Errorf("scenario.data: %w", err)
		}
		r.rows = NewRows(t, d.Mode, sh.DataFirst, sh.DataRows)
	}
	for i, st := range s.Scenario.Steps {
		var xs []namedExtractor
		for _, name := range sortedNames(st.Extract) {
			x, err := NewExtractor(st.Extract[name])
			if err != nil {
				return nil, fmt.Errorf("scenario.steps[%d].extract.%s: %w", i, name, err)
			}
			xs = append(xs, namedExtractor{name, x})
		}
		r.ex = append(r.ex, xs)
		if st.Request != nil && r.res.Steps[st.Name] == nil {
			r.res.Steps[st.Name] = newStepStats()
		}
	}
	return r, nil
}

// Pace is a load shape the engine computes for a runner (pkg/load's
// schedules and profiles), so that journeys follow the same shapes as
// requests.
type Pace struct {
	// Due is the open model's schedule: the start offset of this worker's
	// journey n from the run's start, false once the schedule has ended.
	// Needed for ramping-rate; constant-rate without it starts journey n at
	// n/rate.
	Due func(n int64) (time.Duration, bool)
	// NextActive is the closed model's profile (ramping-concurrency): the
	// earliest offset at or after from when virtual user j may start a
	// journey, false if it never may again. A journey under way when its
	// user becomes inactive runs to its end.
	NextActive func(j int, from time.Duration) (time.Duration, bool)
}

// SetPace sets the runner's load shape; call it before Run.
func (r *Runner) SetPace(p Pace) { r.pace = p }

// due is the open model's start offset of journey n.
func (r *Runner) due(n int64) (time.Duration, bool) {
	if r.pace.Due != nil {
		return r.pace.Due(n)
	}
	off := time.Duration(float64(n) / r.rate * float64(time.Second))
	return off, r.duration <= 0 || off < r.duration
}

// await waits until virtual user u may start a journey (the closed
// model's profile); false if it never may again or ctx ends.
func (r *Runner) await(ctx context.Context, u int, start time.Time) bool {
	if r.pace.NextActive == nil {
		return true
	}
	at, ok := r.pace.NextActive(u, time.Since(start))
	if !ok {
		return false
	}
	if d := time.Until(start.Add(at)); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false
		}
	}
	return ctx.Err() == nil
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// noRedirects makes a redirect the step's response: a journey only talks to
// the URLs its spec names (and the target policy checked).
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Pin makes the runner dial, for each host:port of its steps, the address
// addrs maps it to (the worker's target policy checked it at prepare), and
// refuse any other. Call it before Run.
func (r *Runner) Pin(addrs map[string]string) {
	d := &net.Dialer{Timeout: r.timout}
	r.client.DialContext = func(ctx context.Context, network, hostport string) (net.Conn, error) {
		a, ok := addrs[hostport]
		if !ok {
			return nil, fmt.Errorf("journey: %s is not a target of this test", hostport)
		}
		return d.DialContext(ctx, network, a)
	}
}

// HostPorts lists the host:port of every step of s (default ports filled
// in), each once.
func HostPorts(s *spec.Scenario) []string {
	seen := map[string]bool{}
	var out []string
	for _, st := range s.Steps {
		if st.Request == nil {
			continue
		}
		u, err := url.Parse(strings.SplitN(st.Request.URL, "{{", 2)[0])
		if err != nil || u.Host == "" {
			continue
		}
		hp := u.Host
		if u.Port() == "" {
			port := "80"
			if u.Scheme == "https" {
				port = "443"
			}
			hp = net.JoinHostPort(u.Hostname(), port)
		}
		if !seen[hp] {
			seen[hp] = true
			out = append(out, hp)
		}
	}
	return out
}

// Run runs the journeys and returns what they measured.
func (r *Runner) Run(ctx context.Context) Result {
	defer r.client.CloseIdleConnections()
	var left atomic.Int64
	left.Store(r.budget)
	take := func() bool { return ctx.Err() == nil && (r.budget == 0 || left.Add(-1) >= 0) }
	start := time.Now()
	var tickets chan time.Time
	if r.rate > 0 {
		tickets = make(chan time.Time)
		go r.schedule(ctx, start, take, tickets)
	}
	var wg sync.WaitGroup
	for u := range r.users {
		wg.Go(func() {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Transport: r.client, Jar: jar, Timeout: r.timout, CheckRedirect: noRedirects}
			rng := rand.New(rand.NewPCG(uint64(u), uint64(time.Now().UnixNano())))
			for {
				var due time.Time // closed model: none
				if tickets != nil {
					var ok bool
					if due, ok = <-tickets; !ok {
						return
					}
				} else if !r.await(ctx, u, start) || !take() {
					return
				}
				if !r.begin(ctx, c, rng, due) {
					return
				}
			}
		})
	}
	wg.Wait()
	return r.Collect()
}

// Collect returns what was measured since the previous Collect (or the
// start) and starts afresh; safe to call while Run runs. Run returns the
// last Collect.
func (r *Runner) Collect() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.res
	r.res = Result{Steps: make(map[string]*StepStats, len(out.Steps)), Iteration: hist.New()}
	for name := range out.Steps {
		r.res.Steps[name] = newStepStats()
	}
	return out
}

func newStepStats() *StepStats {
	return &StepStats{Latency: hist.New(), Errors: map[string]int64{}, Samples: map[string][]string{}}
}

// schedule is the open model: journey k is due at start + due(k), whatever
// the response times; a due journey waits for a free virtual user, and its
// steps' latencies count from when they were due.
func (r *Runner) schedule(ctx context.Context, start time.Time, take func() bool, tickets chan<- time.Time) {
	defer close(tickets)
	for k := int64(0); ; k++ {
		off, ok := r.due(k)
		if !ok || !take() {
			return
		}
		due := start.Add(off)
		select {
		case <-time.After(time.Until(due)):
		case <-ctx.Done():
			return
		}
		select {
		case tickets <- due:
		case <-ctx.Done():
			return
		}
	}
}

// begin starts one journey with the next data row; false once the rows
// are used up.
func (r *Runner) begin(ctx context.Context, c *http.Client, rng *rand.Rand, due time.Time) bool {
	v := &Vars{Extracted: map[string]string{}}
	if r.rows != nil {
		row, ok := r.rows.Next(rng)
		if !ok {
			return false
		}
		v.Columns, v.Row = r.rows.Columns(), row
	}
	r.iterate(ctx, c, v, rng, due)
	return true
}

// iterate runs one journey; due is when it was due (zero in the closed
// model, where each step is measured from its send). In the open model a
// journey keeps its schedule: step k is due at the journey's due time plus
// the think times before it, so a step sent late because an earlier one
// was slow counts that lateness in its latency (no coordinated omission
// inside a journey either).
func (r *Runner) iterate(ctx context.Context, c *http.Client, v *Vars, rng *rand.Rand, due time.Time) {
	start := due
	if start.IsZero() {
		start = time.Now()
	}
	for i, st := range r.sc.Steps {
		if st.Request != nil {
			if !r.step(ctx, c, i, &st, v, due) {
				r.mu.Lock()
				r.res.Failed++
				r.mu.Unlock()
				return
			}
		}
		if d := Think(st.Think, rng); d > 0 {
			if !due.IsZero() {
				due = due.Add(d)
			}
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
	}
	r.mu.Lock()
	r.res.Completed++
	r.res.Iteration.Record(time.Since(start))
	r.mu.Unlock()
}

// step sends one step's request and reports whether the journey goes on: a failed check is counted and the
// journey continues; a failed extraction is counted and ends it. due, if
// set, is when the step was due: its latency counts from then, and a send
// more than LateThreshold after it counts as late.
func (r *Runner) step(ctx context.Context, c *http.Client, i int, st *spec.Step, v *Vars, due time.Time) bool {
	req, err := r.build(ctx, st.Request, v)
	if err != nil {
		r.record(st.Name, 0, false, KindExtract, err.Error())
		return false
	}
	sent := time.Now()
	from := sent
	if !due.IsZero() {
		from = due
		if sent.Sub(due) > LateThreshold {
			r.late(st.Name)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		kind := tlsopt.Kind(err)
		if kind == "" {
			kind = KindIO
		}
		r.record(st.Name, time.Since(from), true, kind, err.Error())
		return false
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.maxBody+1))
	resp.Body.Close()
	took := time.Since(from)
	if err != nil {
		r.record(st.Name, took, true, KindIO, err.Error())
		return false
	}
	if int64(len(body)) > r.maxBody {
		r.record(st.Name, took, true, KindTooLarge, fmt.Sprintf("the answer is longer than %d bytes", r.maxBody))
		return false
	}
	kind, msg := "", ""
	if msg = Check(st.Check, resp.StatusCode, body); msg != "" {
		kind = KindCheck
	}
	for _, nx := range r.ex[i] {
		val, err := nx.x.Extract(body, resp.Header.Get)
		if err != nil {
			if kind != "" {
				r.record(st.Name, took, true, kind, msg)
				r.record(st.Name, 0, false, KindExtract, nx.name+": "+err.Error())
			} else {
				r.record(st.Name, took, true, KindExtract, nx.name+": "+err.Error())
			}
			return false
		}
		v.Extracted[nx.name] = val
	}
	r.record(st.Name, took, true, kind, msg)
	return true
}

func (r *Runner) build(ctx context.Context, sr *spec.StepRequest, v *Vars) (*http.Request, error) {
	u, err := v.Render(sr.URL)
	if err != nil {
		return nil, err
	}
	body, err := v.Render(sr.Body)
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(sr.Method)
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, hv := range sr.Headers {
		val, err := v.Render(hv)
		if err != nil {
			return nil, err
		}
		req.Header.Set(k, val)
	}
	return req, nil
}

func (r *Runner) late(name string) {
	r.mu.Lock()
	r.res.Steps[name].Late++
	r.mu.Unlock()
}

// record counts one step outcome; sent says a request went out (its
// latency took), kind is "" for success.
func (r *Runner) record(name string, took time.Duration, sent bool, kind, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.res.Steps[name]
	if sent {
		s.Requests++
		s.Latency.Record(took)
	}
	if kind == "" {
		return
	}
	s.Errors[kind]++
	msg = report.Clip(msg)
	for _, m := range s.Samples[kind] {
		if m == msg {
			return
		}
	}
	if len(s.Samples[kind]) < MaxSamples {
		s.Samples[kind] = append(s.Samples[kind], msg)
	}
}
