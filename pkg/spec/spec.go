// Package spec defines a Stampede test specification (docs/spec.md): the JSON
// (or YAML) document a user submits, its defaults and its validation.
//
// A Spec is plain data. Parse decodes it and reports unknown and mistyped
// fields; Validate reports every other problem with the field's dotted name,
// so a bad spec gets one complete answer.
package spec

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Load model names (contract).
const (
	ModelAvalanche          = "avalanche"
	ModelTsunami            = "tsunami"
	ModelConstantRate       = "constant-rate"
	ModelRampingRate        = "ramping-rate"
	ModelRampingConcurrency = "ramping-concurrency"
)

// Models lists every load model name.
var Models = []string{ModelAvalanche, ModelTsunami, ModelConstantRate, ModelRampingRate, ModelRampingConcurrency}

// Worker-loss policies.
const (
	OnLossContinue = "continue"
	OnLossAbort    = "abort"
	// OnLossRebalance gives a lost worker's share of an open model's rate
	// to the survivors (a live change), so the total rate holds.
	OnLossRebalance = "rebalance"
)

// Defaults applied by Spec.Normalize.
const (
	DefaultTimeout         = 5 * time.Second
	DefaultConcurrency     = 10  // closed models: connections per worker
	DefaultOpenConcurrency = 100 // open models: max in flight per worker
	DefaultMaxDuration     = 10 * time.Minute
	// DefaultMaxResponseBytes is request.max_response_bytes's default.
	DefaultMaxResponseBytes = 64 << 20
)

// Spec is one test (contract, docs/spec.md).
type Spec struct {
	Name         string     `json:"name,omitempty"`
	Request      Request    `json:"request"`
	RequestsMix  []MixEntry `json:"requests_mix,omitempty"`
	Load         Load       `json:"load"`
	Workers      int        `json:"workers,omitempty"`
	OnWorkerLoss string     `json:"on_worker_loss,omitempty"`
	// Thresholds are the test's pass/fail criteria (see Threshold).
	Thresholds []Threshold `json:"thresholds,omitempty"`
	// Scenario, when set, makes the unit of load a journey (scenario.go).
	Scenario *Scenario `json:"scenario,omitempty"`
}

// Request describes the HTTP request every load goroutine sends (or the
// defaults of each RequestsMix entry).
type Request struct {
	// Name groups this request's numbers (default: method and URL path
	// without the query, see DefaultName). It is the test's only name
	// unless requests_mix is set.
	Name               string            `json:"name,omitempty"`
	Method             string            `json:"method,omitempty"`
	URL                string            `json:"url"`
	Headers            map[string]string `json:"headers,omitempty"`
	Body               string            `json:"body,omitempty"`
	BodyBase64         string            `json:"body_base64,omitempty"`
	Host               string            `json:"host,omitempty"`
	Timeout            Duration          `json:"timeout,omitzero"`
	KeepAlive          *bool             `json:"keep_alive,omitempty"`
	InsecureSkipVerify bool              `json:"insecure_skip_verify,omitempty"`
	// ExpectStatus lists the status codes counted as success, as codes
	// ("204") or ranges ("200-399"). Empty means 200-399.
	ExpectStatus []string `json:"expect_status,omitempty"`
	// MaxResponseBytes bounds a response body: bodies are counted as they
	// arrive, never held, and one longer than this counts as an error of
	// kind response_too_large (its connection is closed).
	MaxResponseBytes int64 `json:"max_response_bytes,omitempty"`
	// TLS configures HTTPS: trusted CAs, a client certificate, the server
	// name and the lowest version (tls.go).
	TLS *TLS `json:"tls,omitempty"`
	// Protocol is http/1.1 (default), h2 (HTTP/2 over TLS) or h2c (HTTP/2
	// in cleartext).
	Protocol string `json:"protocol,omitempty"`
}

// MixEntry is one weighted request of a request mix. Empty fields inherit
// from Spec.Request.
type MixEntry struct {
	Weight     int               `json:"weight"`
	Name       string            `json:"name,omitempty"`
	Method     string            `json:"method,omitempty"`
	URL        string            `json:"url,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	Body       string            `json:"body,omitempty"`
	BodyBase64 string            `json:"body_base64,omitempty"`
}

// Load describes how much load, in which shape, for how long.
type Load struct {
	Model             string   `json:"model"`
	Rate              float64  `json:"rate,omitempty"`
	RatePerWorker     float64  `json:"rate_per_worker,omitempty"`
	StartRate         float64  `json:"start_rate,omitempty"`
	Concurrency       int      `json:"concurrency,omitempty"`
	Delay             Duration `json:"delay,omitzero"`
	Stages            []Stage  `json:"stages,omitempty"`
	Duration          Duration `json:"duration,omitzero"`
	Requests          int64    `json:"requests,omitempty"`
	RequestsPerWorker int64    `json:"requests_per_worker,omitempty"`
	// Iterations bounds a scenario by journeys (split exactly over the
	// workers), or IterationsPerWorker by journeys per worker.
	Iterations          int64 `json:"iterations,omitempty"`
	IterationsPerWorker int64 `json:"iterations_per_worker,omitempty"`
	// MaxDuration is the hard bound of a run that has no duration (a
	// request-count run); a worker never runs longer than this.
	MaxDuration Duration `json:"max_duration,omitzero"`
}

// Stage is one segment of a ramping model: move linearly to Target (req/s
// or connections) over Duration.
type Stage struct {
	Duration Duration `json:"duration"`
	Target   float64  `json:"target"`
}

// IsOpen reports whether the model is open loop (rate driven).
func (l Load) IsOpen() bool {
	return l.Model == ModelConstantRate || l.Model == ModelRampingRate
}

// StagesDuration is the sum of the stage durations.
func (l Load) StagesDuration() time.Duration {
	var d time.Duration
	for _, s := range l.Stages {
		d += s.Duration.D
	}
	return d
}

// RunBound is the longest a worker may run this spec: the duration (or the
// stages' total) if set, else MaxDuration.
func (l Load) RunBound() time.Duration {
	switch {
	case l.Duration.D > 0:
		return l.Duration.D
	case len(l.Stages) > 0 && (l.Model == ModelRampingRate || l.Model == ModelRampingConcurrency):
		return l.StagesDuration()
	case l.MaxDuration.D > 0:
		return l.MaxDuration.D
	default:
		return DefaultMaxDuration
	}
}

// Normalize fills defaults in place. It is idempotent and never overrides a
// value the user set.
func (s *Spec) Normalize() {
	if s.Request.Method == "" {
		s.Request.Method = "GET"
	}
	s.Request.Method = strings.ToUpper(s.Request.Method)
	if s.Request.Timeout.D == 0 && s.Request.Timeout.Raw == "" {
		s.Request.Timeout = D(DefaultTimeout)
	}
	if s.Request.MaxResponseBytes == 0 {
		s.Request.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if s.Load.Concurrency == 0 {
		if s.Load.IsOpen() {
			s.Load.Concurrency = DefaultOpenConcurrency
		} else {
			s.Load.Concurrency = DefaultConcurrency
		}
	}
	if s.OnWorkerLoss == "" {
		s.OnWorkerLoss = OnLossContinue
	}
	for i := range s.RequestsMix {
		m := &s.RequestsMix[i]
		m.Method = strings.ToUpper(m.Method)
	}
	s.normalizeNames()
}

// Duration is a Go duration string in JSON ("30s", "1m30s"). It keeps the
// raw text so that an unparsable value is reported by Validate with its
// field name instead of failing the whole decode.
type Duration struct {
	D   time.Duration
	Raw string
	err string
}

// D makes a Duration from a time.Duration.
func D(d time.Duration) Duration { return Duration{D: d, Raw: d.String()} }

// IsZero reports whether the duration was not given.
func (d Duration) IsZero() bool { return d.D == 0 && d.Raw == "" }

// UnmarshalJSON accepts a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		d.Raw = string(b)
		d.err = fmt.Sprintf("must be a duration string like \"30s\", got %s", b)
		return nil
	}
	d.Raw = s
	v, err := time.ParseDuration(s)
	if err != nil {
		d.err = fmt.Sprintf("cannot parse duration %q (use Go syntax like \"500ms\", \"30s\", \"2m\")", s)
		return nil
	}
	d.D = v
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	if d.Raw != "" && d.err == "" {
		return json.Marshal(d.Raw)
	}
	return json.Marshal(d.D.String())
}

// problem is the parse error of the raw text, if any.
func (d Duration) problem() string { return d.err }
