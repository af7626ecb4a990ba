package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Threshold limits (a spec beyond them is rejected with a field error).
const (
	MaxThresholds = 50
	MaxWindow     = 5 * time.Minute
	maxExprLen    = 200
)

// Threshold is one pass/fail criterion of a test (contract). In a spec it
// is either a string (the expression) or an object {expr, name, abort,
// after}:
//
//	thresholds:
//	  - "p99 < 250ms"
//	  - {expr: "p95 < 400ms", name: checkout, abort: true, after: 10s}
//	  - {expr: "error_rate[10s] < 50%", abort: true}
//
// Name limits it to one named request; Abort ends the test as soon as it
// fails, but not before After has passed since the start.
type Threshold struct {
	Expr  string   `json:"expr"`
	Name  string   `json:"name,omitempty"`
	Abort bool     `json:"abort,omitempty"`
	After Duration `json:"after,omitzero"`
	err   string
}

// UnmarshalJSON accepts the string and the object form. A value of any
// other type is kept as a problem that Validate reports by field.
func (t *Threshold) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*t = Threshold{Expr: s}
		return nil
	}
	type plain Threshold
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		*t = Threshold{err: fmt.Sprintf(`must be a string like "p99 < 250ms" or an object {expr, name, abort, after}, got %.40s`, b)}
		return nil
	}
	*t = Threshold(p)
	return nil
}

// Metric names of threshold expressions (contract).
var (
	LatencyMetrics = []string{"min", "mean", "p50", "p90", "p95", "p99", "p999", "max"}
	countMetrics   = []string{"error_rate", "rps", "requests", "errors"}
	// StatusMetricPrefix starts a status-count metric: "status.503".
	StatusMetricPrefix = "status."
)

// Comparison operators of threshold expressions (contract).
var Operators = []string{"<=", ">=", "==", "<", ">"}

// Expr is a parsed threshold expression: Metric[Window] Op Value. Value is
// in the metric's unit: milliseconds for latency metrics, a fraction (0-1)
// for error_rate, requests per second for rps, a count otherwise.
type Expr struct {
	Metric string
	Window time.Duration // 0: the whole test
	Op     string
	Value  float64
}

// IsLatency reports whether the metric is a latency.
func (e Expr) IsLatency() bool { return isLatency(e.Metric) }

func isLatency(m string) bool {
	for _, l := range LatencyMetrics {
		if m == l {
			return true
		}
	}
	return false
}

// Holds reports whether observed satisfies the expression.
func (e Expr) Holds(observed float64) bool {
	switch e.Op {
	case "<":
		return observed < e.Value
	case "<=":
		return observed <= e.Value
	case ">":
		return observed > e.Value
	case ">=":
		return observed >= e.Value
	default: // ==
		return math.Abs(observed-e.Value) <= 1e-9*math.Max(1, math.Abs(e.Value))
	}
}

// ParseExpr parses a threshold expression like "p99 < 250ms",
// "error_rate[10s] < 1%" or "status.503 == 0".
func ParseExpr(s string) (Expr, error) {
	var e Expr
	if len(s) > maxExprLen {
		return e, fmt.Errorf("is longer than %d characters", maxExprLen)
	}
	i := strings.IndexAny(s, "<>=")
	if i < 0 {
		return e, fmt.Errorf("%q has no operator (one of %s), e.g. \"p99 < 250ms\"", s, strings.Join(Operators, " "))
	}
	lhs, rest := strings.TrimSpace(s[:i]), s[i:]
	for _, op := range Operators {
		if strings.HasPrefix(rest, op) {
			e.Op, rest = op, strings.TrimSpace(rest[len(op):])
			break
		}
	}
	if e.Op == "" {
		return e, fmt.Errorf("%q: unknown operator (one of %s)", s, strings.Join(Operators, " "))
	}
	metric, window, err := parseMetric(lhs)
	if err != nil {
		return e, err
	}
	e.Metric, e.Window = metric, window
	if e.Value, err = parseValue(metric, rest); err != nil {
		return e, err
	}
	return e, nil
}

// parseMetric parses "p99", "error_rate[10s]" or "status.503".
func parseMetric(lhs string) (string, time.Duration, error) {
	metric, window := lhs, time.Duration(0)
	if open := strings.IndexByte(lhs, '['); open >= 0 {
		if !strings.HasSuffix(lhs, "]") {
			return "", 0, fmt.Errorf("%q: a window is written [10s] right after the metric", lhs)
		}
		metric = strings.TrimSpace(lhs[:open])
		raw := lhs[open+1 : len(lhs)-1]
		d, err := time.ParseDuration(strings.TrimSpace(raw))
		switch {
		case err != nil:
			return "", 0, fmt.Errorf("window [%s] is not a duration like [10s]", raw)
		case d < time.Second || d > MaxWindow || d%time.Second != 0:
			return "", 0, fmt.Errorf("window [%s] must be whole seconds from 1s to %v", raw, MaxWindow)
		}
		window = d
	}
	if code, ok := strings.CutPrefix(metric, StatusMetricPrefix); ok {
		if n, err := strconv.Atoi(code); err != nil || n < 100 || n > 599 {
			return "", 0, fmt.Errorf("%q: status metrics are status.<code> with a code from 100 to 599", metric)
		}
		return metric, window, nil
	}
	if isLatency(metric) {
		return metric, window, nil
	}
	for _, m := range countMetrics {
		if metric == m {
			return metric, window, nil
		}
	}
	known := append(append([]string{}, LatencyMetrics...), countMetrics...)
	return "", 0, fmt.Errorf("unknown metric %q (one of %s, status.<code>)", metric, strings.Join(known, " "))
}

// parseValue parses the right-hand side in the metric's unit.
func parseValue(metric, raw string) (float64, error) {
	if raw == "" {
		return 0, fmt.Errorf("has no value after the operator")
	}
	num := strings.TrimRightFunc(raw, func(r rune) bool { return unicode.IsLetter(r) || r == '%' || r == 'µ' })
	unit := strings.TrimSpace(raw[len(num):])
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("value %q is not a non-negative number", raw)
	}
	switch {
	case isLatency(metric):
		scale, ok := map[string]float64{"": 1, "ms": 1, "s": 1000, "us": 0.001, "µs": 0.001, "m": 60000}[unit]
		if !ok {
			return 0, fmt.Errorf("value %q: a latency takes a unit of us, ms, s or m (ms if none)", raw)
		}
		return v * scale, nil
	case metric == "error_rate":
		if unit == "%" {
			v /= 100
		} else if unit != "" {
			return 0, fmt.Errorf("value %q: an error rate is a percentage (1%%) or a fraction (0.01)", raw)
		}
		if v > 1 {
			return 0, fmt.Errorf("value %q: an error rate is at most 100%%", raw)
		}
		return v, nil
	case metric == "rps":
		if unit != "" && unit != "/s" {
			return 0, fmt.Errorf("value %q: rps is a number of requests per second", raw)
		}
		return v, nil
	default:
		if unit != "" || v != math.Trunc(v) {
			return 0, fmt.Errorf("value %q: %s is a whole count", raw, metric)
		}
		return v, nil
	}
}

// validateThresholds reports every problem of the thresholds section;
// names are the spec's request names.
func (s *Spec) validateThresholds() FieldErrors {
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if len(s.Thresholds) > MaxThresholds {
		add("thresholds", "has %d entries, at most %d are allowed", len(s.Thresholds), MaxThresholds)
		return errs
	}
	names := map[string]bool{}
	for _, n := range s.RequestNames() {
		names[n] = true
	}
	for i, t := range s.Thresholds {
		f := fmt.Sprintf("thresholds[%d]", i)
		if t.err != "" {
			add(f, "%s", t.err)
			continue
		}
		if strings.TrimSpace(t.Expr) == "" {
			add(f+".expr", `is required, e.g. "p99 < 250ms"`)
		} else if _, err := ParseExpr(t.Expr); err != nil {
			add(f+".expr", "%v", err)
		}
		if t.Name != "" && !names[t.Name] {
			add(f+".name", "no request is named %q (names: %s)", t.Name, strings.Join(s.RequestNames(), ", "))
		}
		if p := t.After.problem(); p != "" {
			add(f+".after", "%s", p)
		} else if t.After.D < 0 {
			add(f+".after", "must not be negative, got %q", t.After.Raw)
		}
	}
	return errs
}
