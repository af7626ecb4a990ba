package spec

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// FieldError is one problem with one field, named by its dotted JSON path
// ("load.rate", "requests_mix[1].url").
type FieldError struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Problem }

// FieldErrors is every problem found in a spec.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return "invalid spec: " + strings.Join(parts, "; ")
}

// Methods is the set of accepted HTTP methods.
var Methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// Validate reports every problem of a normalized spec. An empty result means
// the spec can be planned and run.
func (s *Spec) Validate() FieldErrors {
	var c checker
	s.validateRequest(&c)
	s.validateMix(&c)
	s.Load.validate(&c)
	s.validateTop(&c)
	errs := c.errs
	errs = append(errs, s.validateScenario()...)
	errs = append(errs, s.validateTemplates()...)
	errs = append(errs, append(s.validateNames(), s.validateThresholds()...)...)
	sortErrs(errs)
	return errs
}

// checker collects field errors; its checks are shared by the request, the
// mix entries and the load section.
type checker struct{ errs FieldErrors }

func (c *checker) add(field, format string, args ...any) {
	c.errs = append(c.errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
}

func (c *checker) url(field, raw string, required bool) {
	if raw == "" {
		if required {
			c.add(field, "is required (an http:// or https:// URL)")
		}
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		c.add(field, "is not a valid URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		c.add(field, "must be an http:// or https:// URL, got scheme %q", u.Scheme)
	case u.Host == "":
		c.add(field, "has no host")
	}
}

func (c *checker) method(field, m string) {
	if m == "" || slices.Contains(Methods, m) {
		return
	}
	c.add(field, "unknown method %q (one of %s)", m, strings.Join(Methods, ", "))
}

func (c *checker) body(field, body, b64 string) {
	if b64 == "" {
		return
	}
	if body != "" {
		c.add(field, "set either body or body_base64, not both")
	}
	if _, err := base64.StdEncoding.DecodeString(b64); err != nil {
		c.add(field, "is not valid base64: %v", err)
	}
}

func (c *checker) dur(field string, d Duration, positive bool) {
	if p := d.problem(); p != "" {
		c.add(field, "%s", p)
		return
	}
	if d.D < 0 || (positive && !d.IsZero() && d.D == 0) {
		c.add(field, "must be positive, got %q", d.Raw)
	}
}

// notNegative reports a negative count or rate.
func (c *checker) notNegative(field string, v float64, problem string) {
	if v < 0 {
		c.add(field, "%s, got %g", problem, v)
	}
}

func (s *Spec) validateRequest(c *checker) {
	r := &s.Request
	c.url("request.url", r.URL, len(s.RequestsMix) == 0 && s.Scenario == nil)
	c.method("request.method", r.Method)
	c.body("request.body_base64", r.Body, r.BodyBase64)
	c.dur("request.timeout", r.Timeout, true)
	r.TLS.validate(c)
	s.validateProtocol(c)
	if r.MaxResponseBytes < 0 {
		c.add("request.max_response_bytes", "must be a positive number of bytes, got %d", r.MaxResponseBytes)
	}
	for i, code := range r.ExpectStatus {
		if _, _, err := ParseStatusRange(code); err != nil {
			c.add(fmt.Sprintf("request.expect_status[%d]", i), "%v", err)
		}
	}
}

func (s *Spec) validateMix(c *checker) {
	for i, m := range s.RequestsMix {
		f := fmt.Sprintf("requests_mix[%d]", i)
		if m.Weight <= 0 {
			c.add(f+".weight", "must be a positive integer, got %d", m.Weight)
		}
		c.url(f+".url", m.URL, s.Request.URL == "")
		c.method(f+".method", m.Method)
		c.body(f+".body_base64", m.Body, m.BodyBase64)
	}
}

func (s *Spec) validateTop(c *checker) {
	if s.Workers < 0 {
		c.add("workers", "must be 0 (every live worker) or a positive count, got %d", s.Workers)
	}
	if s.OnWorkerLoss != "" && s.OnWorkerLoss != OnLossContinue && s.OnWorkerLoss != OnLossAbort && s.OnWorkerLoss != OnLossRebalance {
		c.add("on_worker_loss", "must be %q, %q or %q, got %q", OnLossContinue, OnLossAbort, OnLossRebalance, s.OnWorkerLoss)
	}
	if len(s.Name) > 200 {
		c.add("name", "is longer than 200 characters")
	}
}

// sortErrs orders field errors by field, keeping the order of one field's.
func sortErrs(errs FieldErrors) {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
}

// validate checks the load section.
func (l *Load) validate(c *checker) {
	switch {
	case l.Model == "":
		c.add("load.model", "is required (one of %s)", strings.Join(Models, ", "))
	case !slices.Contains(Models, l.Model):
		c.add("load.model", "unknown model %q (one of %s)", l.Model, strings.Join(Models, ", "))
	}
	l.validateAmounts(c)
	l.validateStages(c)
	l.validateModelNeeds(c)
}

// validateAmounts checks rates, counts and durations, and that no two
// exclusive fields are both set.
func (l *Load) validateAmounts(c *checker) {
	c.notNegative("load.rate", l.Rate, "must not be negative")
	c.notNegative("load.rate_per_worker", l.RatePerWorker, "must not be negative")
	if l.Rate > 0 && l.RatePerWorker > 0 {
		c.add("load.rate_per_worker", "set either rate or rate_per_worker, not both")
	}
	c.notNegative("load.start_rate", l.StartRate, "must not be negative")
	if l.Concurrency < 0 {
		c.add("load.concurrency", "must be positive, got %d", l.Concurrency)
	}
	c.dur("load.delay", l.Delay, false)
	c.dur("load.duration", l.Duration, true)
	c.dur("load.max_duration", l.MaxDuration, true)
	if l.Requests < 0 {
		c.add("load.requests", "must be positive, got %d", l.Requests)
	}
	if l.RequestsPerWorker < 0 {
		c.add("load.requests_per_worker", "must be positive, got %d", l.RequestsPerWorker)
	}
	if l.Requests > 0 && l.RequestsPerWorker > 0 {
		c.add("load.requests_per_worker", "set either requests or requests_per_worker, not both")
	}
}

func (l *Load) validateStages(c *checker) {
	if _, ok := stagesSum(l.Stages); !ok {
		c.add("load.stages", "the stages' durations add up to more than a Go duration can hold")
	}
	for i, st := range l.Stages {
		f := fmt.Sprintf("load.stages[%d]", i)
		c.dur(f+".duration", st.Duration, true)
		if st.Duration.IsZero() {
			c.add(f+".duration", "is required")
		}
		c.notNegative(f+".target", st.Target, "must not be negative")
	}
}

// validateModelNeeds checks what each model requires, and that the test has
// a bound.
func (l *Load) validateModelNeeds(c *checker) {
	switch l.Model {
	case ModelConstantRate:
		if l.Rate == 0 && l.RatePerWorker == 0 {
			c.add("load.rate", "must be a positive number of requests per second for model %q (or set load.rate_per_worker)", l.Model)
		}
	case ModelRampingRate, ModelRampingConcurrency:
		if len(l.Stages) == 0 {
			c.add("load.stages", "model %q needs at least one stage {\"duration\", \"target\"}", l.Model)
		}
	case ModelTsunami:
		if l.Delay.D <= 0 && l.Delay.problem() == "" {
			c.add("load.delay", "model %q needs a positive delay between requests, e.g. \"10ms\"", l.Model)
		}
	}
	hasStages := len(l.Stages) > 0 && (l.Model == ModelRampingRate || l.Model == ModelRampingConcurrency)
	counted := l.Requests != 0 || l.RequestsPerWorker != 0 || l.Iterations != 0 || l.IterationsPerWorker != 0
	if l.Duration.IsZero() && !counted && !hasStages {
		c.add("load.duration", "the test has no bound: set load.duration, load.requests or load.requests_per_worker (load.iterations for a scenario)")
	}
}

// ParseStatusRange parses "204" or "200-399".
func ParseStatusRange(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(strings.TrimSpace(s), "-")
	lo, err = strconv.Atoi(strings.TrimSpace(a))
	if err != nil {
		return 0, 0, fmt.Errorf("%q is not a status code or range like \"200-399\"", s)
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(strings.TrimSpace(b)); err != nil {
			return 0, 0, fmt.Errorf("%q is not a status code or range like \"200-399\"", s)
		}
	}
	if lo < 100 || hi > 599 || lo > hi {
		return 0, 0, fmt.Errorf("%q is not a status range within 100-599", s)
	}
	return lo, hi, nil
}
