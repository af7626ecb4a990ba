package spec

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Scenario is a user journey: every virtual user runs Steps in order, with
// its own variables (taken from responses by Extract) and its own cookie
// jar, and one run through the steps is one iteration, the scenario's unit
// of load. Data gives each user a row of values ({{data.COL}}).
type Scenario struct {
	Data  *Data  `json:"data,omitempty"`
	Steps []Step `json:"steps"`
}

// Data is a table of rows for the virtual users: CSV with a header line, or
// JSON lines (one object of strings or numbers per line). The API takes the
// rows inline (Content or ContentBase64); the CLIs read File, relative to
// the spec file, and send its content inline.
type Data struct {
	File          string `json:"file,omitempty"`
	Mode          string `json:"mode,omitempty"`
	Content       string `json:"content,omitempty"`
	ContentBase64 string `json:"content_base64,omitempty"`
}

// Data modes (contract).
const (
	// DataUnique uses every row for exactly one iteration in the whole
	// fleet: workers get disjoint slices of the rows, split exactly, and a
	// worker stops when its slice is used up.
	DataUnique = "unique"
	// DataSequential hands rows out in order, starting over at the end.
	DataSequential = "sequential"
	// DataRandom draws a row at random for every iteration.
	DataRandom = "random"
)

// DataModes lists the data modes.
var DataModes = []string{DataUnique, DataSequential, DataRandom}

// Step is one request of a journey, or a pause (Think), or a request
// followed by a pause.
type Step struct {
	// Name is the step's request name: its numbers are reported under it.
	Name    string       `json:"name,omitempty"`
	Request *StepRequest `json:"request,omitempty"`
	// Extract names variables taken from the response for later steps
	// ({{VAR}}). A failed extraction ends the iteration.
	Extract map[string]Extract `json:"extract,omitempty"`
	Check   *Check             `json:"check,omitempty"`
	Think   *Think             `json:"think,omitempty"`
}

// StepRequest is a step's request; the test's request section gives the
// defaults (timeout, keep-alive, response bound).
type StepRequest struct {
	Method     string            `json:"method,omitempty"`
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers,omitempty"`
	Body       string            `json:"body,omitempty"`
	BodyBase64 string            `json:"body_base64,omitempty"`
}

// Extract takes one value from a response: exactly one of a JSON path
// ($.a.b[0]), a regular expression (its first group) or a header name.
type Extract struct {
	JSON   string `json:"json,omitempty"`
	Regex  string `json:"regex,omitempty"`
	Header string `json:"header,omitempty"`
}

// Check is what a step's response must satisfy; a failure counts as an
// error of kind "check" under the step's name.
type Check struct {
	Status       []int  `json:"status,omitempty"`
	BodyContains string `json:"body_contains,omitempty"`
}

// Think is a pause: exactly one of a fixed duration, uniform [min, max] or
// normal [mean, stddev] (drawn values below zero wait zero).
type Think struct {
	Fixed   Duration   `json:"fixed,omitzero"`
	Uniform []Duration `json:"uniform,omitempty"`
	Normal  []Duration `json:"normal,omitempty"`
}

// Bounds of a scenario.
const (
	MaxSteps        = 50
	MaxVariables    = 32
	MaxDataBytes    = 192 << 10
	MaxDataRows     = 50_000
	MaxDataColumns  = 64
	MaxIterations   = 1_000_000_000
	MaxThink        = time.Hour
	MaxPatternBytes = 1 << 10
	MaxContainsLen  = 4 << 10
)

var (
	identRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	jsonPathRe = regexp.MustCompile(`^\$((\.[A-Za-z_][A-Za-z0-9_-]*)|(\[[0-9]{1,6}\]))*$`)
	// refRe finds {{NAME}} and {{data.COL}} references in a template.
	refRe = regexp.MustCompile(`\{\{\s*(data\.)?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)
)

// validateScenario reports every problem of s.Scenario and of the load
// fields that only scenarios use.
func (s *Spec) validateScenario() FieldErrors {
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	l := s.Load
	if s.Scenario == nil {
		if l.Iterations != 0 || l.IterationsPerWorker != 0 {
			add("load.iterations", "counts journeys: it needs a scenario (use load.requests for requests)")
		}
		return errs
	}
	if len(s.RequestsMix) > 0 {
		add("requests_mix", "set either requests_mix or scenario, not both")
	}
	if l.Requests != 0 || l.RequestsPerWorker != 0 {
		add("load.requests", "a scenario counts journeys: use load.iterations or load.iterations_per_worker")
	}
	switch {
	case l.Iterations < 0 || l.Iterations > MaxIterations:
		add("load.iterations", "must be between 1 and %d, got %d", MaxIterations, l.Iterations)
	case l.IterationsPerWorker < 0 || l.IterationsPerWorker > MaxIterations:
		add("load.iterations_per_worker", "must be between 1 and %d, got %d", MaxIterations, l.IterationsPerWorker)
	case l.Iterations > 0 && l.IterationsPerWorker > 0:
		add("load.iterations_per_worker", "set either iterations or iterations_per_worker, not both")
	}
	columns, rows, dataErrs := s.Scenario.Data.validate()
	errs = append(errs, dataErrs...)
	if d := s.Scenario.Data; d != nil && d.Mode == DataUnique && rows > 0 && l.Iterations > int64(rows) {
		add("load.iterations", "asks for %d journeys but the unique data has only %d rows", l.Iterations, rows)
	}
	errs = append(errs, s.Scenario.validateSteps(columns)...)
	return errs
}

// validateSteps checks the steps; columns are the data's column names (nil
// without data).
func (sc *Scenario) validateSteps(columns map[string]bool) FieldErrors {
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	switch {
	case len(sc.Steps) == 0:
		add("scenario.steps", "needs at least one step")
	case len(sc.Steps) > MaxSteps:
		add("scenario.steps", "has %d steps, at most %d are allowed", len(sc.Steps), MaxSteps)
	}
	vars := map[string]bool{}
	for i, st := range sc.Steps {
		f := fmt.Sprintf("scenario.steps[%d]", i)
		if st.Request == nil && st.Think == nil {
			add(f, "needs a request or a think")
		}
		if st.Request == nil && (st.Name != "" || st.Extract != nil || st.Check != nil) {
			add(f+".request", "is required with name, extract or check")
		}
		if st.Request != nil {
			if st.Name == "" {
				add(f+".name", "is required: the step's numbers are reported under it")
			} else if len(st.Name) > MaxNameBytes {
				add(f+".name", "is longer than %d bytes", MaxNameBytes)
			}
			errs = append(errs, st.Request.validate(f+".request", vars, columns)...)
		}
		errs = append(errs, st.validateExtract(f, vars)...)
		errs = append(errs, st.Check.validate(f+".check")...)
		errs = append(errs, st.Think.validate(f+".think")...)
	}
	return errs
}

func (st *Step) validateExtract(f string, vars map[string]bool) FieldErrors {
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	for _, name := range sortedKeys(st.Extract) {
		e, ef := st.Extract[name], f+".extract."+name
		switch {
		case !identRe.MatchString(name) || name == "data":
			add(ef, "is not a variable name (letters, digits and _, not starting with a digit, at most 64, not \"data\")")
		case isTemplateFunction(name):
			add(ef, "is the name of a template function")
		}
		n := 0
		for _, v := range []string{e.JSON, e.Regex, e.Header} {
			if v != "" {
				n++
			}
		}
		if n != 1 {
			add(ef, "needs exactly one of json, regex or header")
		}
		if e.JSON != "" && (len(e.JSON) > MaxPatternBytes || !jsonPathRe.MatchString(e.JSON)) {
			add(ef+".json", "%q is not a JSON path like $.token or $.items[0].id", e.JSON)
		}
		if e.Regex != "" {
			errs = append(errs, checkRegex(ef+".regex", e.Regex)...)
		}
		if e.Header != "" && (len(e.Header) > MaxPatternBytes || strings.ContainsAny(e.Header, " :\r\n")) {
			add(ef+".header", "%q is not a header name", e.Header)
		}
		vars[name] = true
	}
	if len(vars) > MaxVariables {
		add(f+".extract", "the scenario extracts %d variables, at most %d are allowed", len(vars), MaxVariables)
	}
	return errs
}

func checkRegex(field, src string) FieldErrors {
	if len(src) > MaxPatternBytes {
		return FieldErrors{{Field: field, Problem: fmt.Sprintf("is longer than %d bytes", MaxPatternBytes)}}
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return FieldErrors{{Field: field, Problem: err.Error()}}
	}
	if re.NumSubexp() < 1 {
		return FieldErrors{{Field: field, Problem: "needs a group (...): its first group is the value"}}
	}
	return nil
}

// validate checks a step's request; vars are the variables earlier steps
// extract and columns the data's columns.
func (r *StepRequest) validate(f string, vars, columns map[string]bool) FieldErrors {
	var c checker
	if p := stepURLProblem(r.URL); p != "" {
		c.add(f+".url", "%s", p)
	}
	c.method(f+".method", strings.ToUpper(r.Method))
	c.body(f+".body_base64", r.Body, r.BodyBase64)
	c.refs(f+".url", r.URL, vars, columns)
	for _, k := range sortedKeys(r.Headers) {
		c.refs(f+".headers."+k, r.Headers[k], vars, columns)
	}
	c.refs(f+".body", r.Body, vars, columns)
	return c.errs
}

// refs checks the variables and data columns a step's text refers to.
func (c *checker) refs(field, src string, vars, columns map[string]bool) {
	for _, m := range refRe.FindAllStringSubmatch(src, -1) {
		switch {
		case m[1] != "" && columns == nil:
			c.add(field, "uses {{data.%s}} but the scenario has no data", m[2])
		case m[1] != "" && !columns[m[2]] && !columns[anyColumn]:
			c.add(field, "uses {{data.%s}}, which is not a column of the data", m[2])
		case m[1] == "" && !isTemplateFunction(m[2]) && !vars[m[2]]:
			c.add(field, "uses {{%s}}, which no earlier step extracts", m[2])
		}
	}
}

// stepURLProblem says what is wrong with a step's URL ("" if nothing): it
// must be http(s) with scheme and host literal; templates may follow.
func stepURLProblem(raw string) string {
	if raw == "" {
		return "is required (an http:// or https:// URL)"
	}
	lit, _, _ := strings.Cut(raw, "{{")
	u, err := url.Parse(lit)
	switch {
	case err != nil:
		return fmt.Sprintf("is not a valid URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("must be an http:// or https:// URL with a literal scheme, got %q", raw)
	case u.Host == "":
		return "has no host"
	case lit != raw && !strings.Contains(strings.TrimPrefix(lit, u.Scheme+"://"), "/"):
		return "must keep scheme and host literal: templates may follow the first / of the path"
	}
	return ""
}

func (c *Check) validate(f string) FieldErrors {
	if c == nil {
		return nil
	}
	var errs FieldErrors
	for i, code := range c.Status {
		if code < 100 || code > 599 {
			errs = append(errs, FieldError{Field: fmt.Sprintf("%s.status[%d]", f, i), Problem: fmt.Sprintf("%d is not a status code between 100 and 599", code)})
		}
	}
	if len(c.BodyContains) > MaxContainsLen {
		errs = append(errs, FieldError{Field: f + ".body_contains", Problem: fmt.Sprintf("is longer than %d bytes", MaxContainsLen)})
	}
	if len(c.Status) == 0 && c.BodyContains == "" {
		errs = append(errs, FieldError{Field: f, Problem: "needs status or body_contains"})
	}
	return errs
}

func (t *Think) validate(f string) FieldErrors {
	if t == nil {
		return nil
	}
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	n := 0
	if !t.Fixed.IsZero() {
		n++
	}
	if t.Uniform != nil {
		n++
	}
	if t.Normal != nil {
		n++
	}
	if n != 1 {
		add(f, "needs exactly one of fixed, uniform [min, max] or normal [mean, stddev]")
	}
	checkD := func(field string, d Duration) {
		if p := d.problem(); p != "" {
			add(field, "%s", p)
		} else if d.D < 0 || d.D > MaxThink {
			add(field, "must be between 0 and %s, got %q", MaxThink, d.Raw)
		}
	}
	if !t.Fixed.IsZero() {
		checkD(f+".fixed", t.Fixed)
	}
	for name, pair := range map[string][]Duration{"uniform": t.Uniform, "normal": t.Normal} {
		if pair == nil {
			continue
		}
		if len(pair) != 2 {
			add(f+"."+name, "needs two durations, got %d", len(pair))
			continue
		}
		checkD(f+"."+name+"[0]", pair[0])
		checkD(f+"."+name+"[1]", pair[1])
		if name == "uniform" && pair[0].D > pair[1].D {
			add(f+".uniform", "min %s is above max %s", pair[0].Raw, pair[1].Raw)
		}
	}
	return errs
}

// anyColumn marks the columns of data that could not be read, so that its
// error is not repeated for every {{data.COL}}.
const anyColumn = "*"

func isTemplateFunction(name string) bool {
	switch name {
	case "seq", "worker", "uuid", "randInt", "choice":
		return true
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
