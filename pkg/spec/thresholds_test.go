package spec

import (
	"strings"
	"testing"
	"time"
)

func TestParseExpr(t *testing.T) {
	tests := []struct {
		in   string
		want Expr
	}{
		{"p99 < 250ms", Expr{Metric: "p99", Op: "<", Value: 250}},
		{"p95<=1.5s", Expr{Metric: "p95", Op: "<=", Value: 1500}},
		{"mean < 800us", Expr{Metric: "mean", Op: "<", Value: 0.8}},
		{"max < 2", Expr{Metric: "max", Op: "<", Value: 2}},
		{"error_rate < 1%", Expr{Metric: "error_rate", Op: "<", Value: 0.01}},
		{"error_rate <= 0.05", Expr{Metric: "error_rate", Op: "<=", Value: 0.05}},
		{"error_rate[10s] < 50%", Expr{Metric: "error_rate", Window: 10 * time.Second, Op: "<", Value: 0.5}},
		{"rps > 900", Expr{Metric: "rps", Op: ">", Value: 900}},
		{"rps[1m] >= 10", Expr{Metric: "rps", Window: time.Minute, Op: ">=", Value: 10}},
		{"requests >= 1000", Expr{Metric: "requests", Op: ">=", Value: 1000}},
		{"errors == 0", Expr{Metric: "errors", Op: "==", Value: 0}},
		{"status.503 == 0", Expr{Metric: "status.503", Op: "==", Value: 0}},
		{"p999[5s] < 1s", Expr{Metric: "p999", Window: 5 * time.Second, Op: "<", Value: 1000}},
	}
	for _, tt := range tests {
		got, err := ParseExpr(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseExpr(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseExprRejects(t *testing.T) {
	for in, want := range map[string]string{
		"p99 250ms":                       "no operator",
		"p98 < 250ms":                     "unknown metric",
		"p99 =< 250ms":                    "unknown operator",
		"p99 < 250 apples":                "unit",
		"p99 < -1ms":                      "non-negative",
		"p99 <":                           "no value",
		"error_rate < 150%":               "at most 100%",
		"error_rate < 1ms":                "percentage",
		"requests > 1.5":                  "whole count",
		"status.999 == 0":                 "100 to 599",
		"status.abc == 0":                 "100 to 599",
		"rps[0s] > 1":                     "whole seconds",
		"rps[1500ms] > 1":                 "whole seconds",
		"rps[1h] > 1":                     "whole seconds",
		"rps[soon] > 1":                   "not a duration",
		"rps[10s > 1":                     "window",
		"p99 < NaN":                       "non-negative",
		strings.Repeat("p", 300) + " < 1": "longer than",
	} {
		_, err := ParseExpr(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseExpr(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestThresholdsValidatedByField(t *testing.T) {
	base := `{"request":{"url":"http://h/ping"},"requests_mix":[{"weight":3},{"weight":1,"url":"http://h/checkout?x=1","name":"checkout"}],"load":{"model":"avalanche","duration":"1s"},"thresholds":`
	tests := []struct {
		name, ths string
		want      []string
	}{
		{"valid", `["p99 < 250ms", {"expr":"p95 < 400ms","name":"checkout","abort":true,"after":"10s"}, {"expr":"error_rate[10s] < 50%","abort":true}, {"expr":"rps > 1","name":"GET /ping"}]`, nil},
		{"bad expr", `["p99 < 250ms", "p98 < 1"]`, []string{"thresholds[1].expr"}},
		{"unknown name", `[{"expr":"p99 < 1","name":"nope"}]`, []string{"thresholds[0].name"}},
		{"bad after", `[{"expr":"p99 < 1","after":"later"}]`, []string{"thresholds[0].after"}},
		{"missing expr", `[{"name":"checkout"}]`, []string{"thresholds[0].expr"}},
		{"unknown field", `[{"expr":"p99 < 1","stop":true}]`, []string{"thresholds[0].stop"}},
		{"wrong type", `[42, "p99 < 1"]`, []string{"thresholds[0]"}},
		{"too many", "[" + strings.Repeat(`"p99 < 1",`, MaxThresholds) + `"p99 < 1"]`, []string{"thresholds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, errs := Parse([]byte(base + tt.ths + "}"))
			got := fields(errs)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("fields %v (%v), want %v", got, errs, tt.want)
			}
			if tt.want == nil {
				again, errs := Parse(s.Encode())
				if len(errs) > 0 || len(again.Thresholds) != len(s.Thresholds) || again.Thresholds[1] != s.Thresholds[1] {
					t.Errorf("encoded spec does not round-trip: %v %+v", errs, again.Thresholds)
				}
			}
		})
	}
}

func TestRequestNames(t *testing.T) {
	s, errs := Parse([]byte(`{"request":{"url":"http://h:1/ping?delay=2ms","method":"post"},"requests_mix":[{"weight":3},{"weight":1,"url":"http://h/checkout"},{"weight":1,"name":"custom"},{"weight":1,"method":"GET","url":"http://h"}],"load":{"model":"avalanche","duration":"1s"}}`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []string{"POST /ping", "POST /checkout", "custom", "GET /"}
	if got := s.EntryNames(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("EntryNames = %q, want %q", got, want)
	}
	one, _ := Parse([]byte(`{"request":{"url":"http://h/a/b?q=1"},"load":{"model":"avalanche","duration":"1s"}}`))
	if got := one.RequestNames(); len(got) != 1 || got[0] != "GET /a/b" || one.Request.Name != "GET /a/b" {
		t.Errorf("single request names %q (request.name %q), want [GET /a/b]", got, one.Request.Name)
	}
}

func TestTooManyNamesRejected(t *testing.T) {
	var mix []string
	for i := 0; i <= MaxNames; i++ {
		mix = append(mix, `{"weight":1,"url":"http://h/p`+strings.Repeat("x", i%7)+`","name":"n`+strings.Repeat("i", i)+`"}`)
	}
	_, errs := Parse([]byte(`{"request":{"url":"http://h/"},"requests_mix":[` + strings.Join(mix, ",") + `],"load":{"model":"avalanche","duration":"1s"}}`))
	found := false
	for _, e := range errs {
		found = found || (e.Field == "requests_mix" && strings.Contains(e.Problem, "at most 200"))
	}
	if !found {
		t.Errorf("errors %v, want requests_mix: ... at most 200", errs)
	}
}

func TestScenarioStepsAreTheNames(t *testing.T) {
	s, errs := ParseFile([]byte(strings.Replace(goodScenario, "iterations: 30", "iterations: 3", 1) + "thresholds: [{expr: 'p99 < 1s', name: cart}]\n"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := s.RequestNames(); strings.Join(got, ",") != "login,cart" {
		t.Errorf("names %q, want the steps with a request: login, cart", got)
	}
	_, errs = ParseFile([]byte(strings.Replace(goodScenario, "iterations: 30", "iterations: 3", 1) + "thresholds: [{expr: 'p99 < 1s', name: checkout}]\n"))
	if len(errs) != 1 || errs[0].Field != "thresholds[0].name" {
		t.Errorf("errors %v, want thresholds[0].name", errs)
	}
}
