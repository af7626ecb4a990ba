package spec

import (
	"encoding/base64"
	"fmt"
	"net/url"
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
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}

	checkURL := func(field, raw string, required bool) {
		if raw == "" {
			if required {
				add(field, "is required (an http:// or https:// URL)")
			}
			return
		}
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			add(field, "is not a valid URL: %v", err)
		case u.Scheme != "http" && u.Scheme != "https":
			add(field, "must be an http:// or https:// URL, got scheme %q", u.Scheme)
		case u.Host == "":
			add(field, "has no host")
		}
	}
	checkMethod := func(field, m string) {
		if m == "" {
			return
		}
		for _, ok := range Methods {
			if m == ok {
				return
			}
		}
		add(field, "unknown method %q (one of %s)", m, strings.Join(Methods, ", "))
	}
	checkBody := func(field, body, b64 string) {
		if b64 == "" {
			return
		}
		if body != "" {
			add(field, "set either body or body_base64, not both")
		}
		if _, err := base64.StdEncoding.DecodeString(b64); err != nil {
			add(field, "is not valid base64: %v", err)
		}
	}
	checkDur := func(field string, d Duration, positive bool) {
		if p := d.problem(); p != "" {
			add(field, "%s", p)
			return
		}
		if d.D < 0 || (positive && !d.IsZero() && d.D == 0) {
			add(field, "must be positive, got %q", d.Raw)
		}
	}

	r := &s.Request
	checkURL("request.url", r.URL, len(s.RequestsMix) == 0 && s.Scenario == nil)
	checkMethod("request.method", r.Method)
	checkBody("request.body_base64", r.Body, r.BodyBase64)
	checkDur("request.timeout", r.Timeout, true)
	if r.MaxResponseBytes < 0 {
		add("request.max_response_bytes", "must be a positive number of bytes, got %d", r.MaxResponseBytes)
	}
	for i, code := range r.ExpectStatus {
		if _, _, err := ParseStatusRange(code); err != nil {
			add(fmt.Sprintf("request.expect_status[%d]", i), "%v", err)
		}
	}
	for i, m := range s.RequestsMix {
		f := fmt.Sprintf("requests_mix[%d]", i)
		if m.Weight <= 0 {
			add(f+".weight", "must be a positive integer, got %d", m.Weight)
		}
		checkURL(f+".url", m.URL, r.URL == "")
		checkMethod(f+".method", m.Method)
		checkBody(f+".body_base64", m.Body, m.BodyBase64)
	}

	errs = append(errs, s.Load.validate(checkDur)...)

	if s.Workers < 0 {
		add("workers", "must be 0 (every idle worker) or a positive count, got %d", s.Workers)
	}
	if s.OnWorkerLoss != "" && s.OnWorkerLoss != OnLossContinue && s.OnWorkerLoss != OnLossAbort {
		add("on_worker_loss", "must be %q or %q, got %q", OnLossContinue, OnLossAbort, s.OnWorkerLoss)
	}
	if len(s.Name) > 200 {
		add("name", "is longer than 200 characters")
	}

	errs = append(errs, s.validateScenario()...)
	errs = append(errs, s.validateTemplates()...)
	errs = append(errs, append(s.validateNames(), s.validateThresholds()...)...)
	sortErrs(errs)
	return errs
}

// sortErrs orders field errors by field, keeping the order of one field's.
func sortErrs(errs FieldErrors) {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
}

// validate checks the load section; checkDur reports duration problems into
// the caller's list, so it is given the caller's collector.
func (l *Load) validate(checkDur func(string, Duration, bool)) FieldErrors {
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	known := false
	for _, m := range Models {
		known = known || l.Model == m
	}
	if l.Model == "" {
		add("load.model", "is required (one of %s)", strings.Join(Models, ", "))
	} else if !known {
		add("load.model", "unknown model %q (one of %s)", l.Model, strings.Join(Models, ", "))
	}
	if l.Rate < 0 {
		add("load.rate", "must not be negative, got %g", l.Rate)
	}
	if l.RatePerWorker < 0 {
		add("load.rate_per_worker", "must not be negative, got %g", l.RatePerWorker)
	}
	if l.Rate > 0 && l.RatePerWorker > 0 {
		add("load.rate_per_worker", "set either rate or rate_per_worker, not both")
	}
	if l.StartRate < 0 {
		add("load.start_rate", "must not be negative, got %g", l.StartRate)
	}
	if l.Concurrency < 0 {
		add("load.concurrency", "must be positive, got %d", l.Concurrency)
	}
	checkDur("load.delay", l.Delay, false)
	checkDur("load.duration", l.Duration, true)
	checkDur("load.max_duration", l.MaxDuration, true)
	if l.Requests < 0 {
		add("load.requests", "must be positive, got %d", l.Requests)
	}
	if l.RequestsPerWorker < 0 {
		add("load.requests_per_worker", "must be positive, got %d", l.RequestsPerWorker)
	}
	if l.Requests > 0 && l.RequestsPerWorker > 0 {
		add("load.requests_per_worker", "set either requests or requests_per_worker, not both")
	}
	if _, ok := stagesSum(l.Stages); !ok {
		add("load.stages", "the stages' durations add up to more than a Go duration can hold")
	}
	for i, st := range l.Stages {
		f := fmt.Sprintf("load.stages[%d]", i)
		checkDur(f+".duration", st.Duration, true)
		if st.Duration.IsZero() {
			add(f+".duration", "is required")
		}
		if st.Target < 0 {
			add(f+".target", "must not be negative, got %g", st.Target)
		}
	}

	switch l.Model {
	case ModelConstantRate:
		if l.Rate == 0 && l.RatePerWorker == 0 {
			add("load.rate", "must be a positive number of requests per second for model %q (or set load.rate_per_worker)", l.Model)
		}
	case ModelRampingRate, ModelRampingConcurrency:
		if len(l.Stages) == 0 {
			add("load.stages", "model %q needs at least one stage {\"duration\", \"target\"}", l.Model)
		}
	case ModelTsunami:
		if l.Delay.D <= 0 && l.Delay.problem() == "" {
			add("load.delay", "model %q needs a positive delay between requests, e.g. \"10ms\"", l.Model)
		}
	}
	hasStages := len(l.Stages) > 0 && (l.Model == ModelRampingRate || l.Model == ModelRampingConcurrency)
	if l.Duration.IsZero() && l.Requests == 0 && l.RequestsPerWorker == 0 && l.Iterations == 0 && l.IterationsPerWorker == 0 && !hasStages {
		add("load.duration", "the test has no bound: set load.duration, load.requests or load.requests_per_worker (load.iterations for a scenario)")
	}

	return errs
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
