package spec

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

const goodScenario = `
load: {model: avalanche, concurrency: 3, iterations: 30}
scenario:
  data: {mode: unique, content: "user\nu1\nu2\nu3\n"}
  steps:
    - name: login
      request: {method: POST, url: "http://127.0.0.1:1/shop/login", body: '{"user":"{{data.user}}"}'}
      extract: {token: {json: "$.token"}}
      check: {status: [200]}
    - think: {uniform: [100ms, 500ms]}
    - name: cart
      request: {method: POST, url: "http://127.0.0.1:1/shop/cart", headers: {Authorization: "Bearer {{token}}"}}
      check: {status: [200], body_contains: '"ok"'}
`

func TestScenarioValid(t *testing.T) {
	s, errs := ParseFile([]byte(strings.Replace(goodScenario, "iterations: 30", "iterations: 3", 1)))
	if len(errs) > 0 {
		t.Fatalf("good scenario: %v", errs)
	}
	if len(s.Scenario.Steps) != 3 || s.Scenario.Steps[0].Extract["token"].JSON != "$.token" ||
		s.Scenario.Steps[1].Think.Uniform[1].D.Milliseconds() != 500 || s.Load.Iterations != 3 {
		t.Errorf("parsed scenario = %+v", s.Scenario)
	}
	tab, err := s.Scenario.Data.Table()
	if err != nil || len(tab.Rows) != 3 || tab.Columns[0] != "user" || tab.Rows[2][0] != "u3" {
		t.Errorf("Table() = %+v, %v; want 3 rows of user", tab, err)
	}
}

// TestScenarioFieldErrors: every problem is named by its field.
func TestScenarioFieldErrors(t *testing.T) {
	tests := []struct {
		name, from, to string
		want           string // "field: problem prefix"
	}{
		{"unique runs out", "", "", "load.iterations: asks for 30 journeys but the unique data has only 3 rows"},
		{"bad json path", `"$.token"`, `"token"`, `scenario.steps[0].extract.token.json: "token" is not a JSON path`},
		{"two extractors", `{json: "$.token"}`, `{json: "$.token", header: X}`, "scenario.steps[0].extract.token: needs exactly one of json, regex or header"},
		{"regex without group", `{json: "$.token"}`, `{regex: "tok-.*"}`, "scenario.steps[0].extract.token.regex: needs a group"},
		{"bad regex", `{json: "$.token"}`, `{regex: "(tok"}`, "scenario.steps[0].extract.token.regex: error parsing regexp"},
		{"undefined variable", "{{token}}", "{{tokn}}", "scenario.steps[2].request.headers.Authorization: uses {{tokn}}, which no earlier step extracts"},
		{"unknown column", "{{data.user}}", "{{data.name}}", "scenario.steps[0].request.body: uses {{data.name}}, which is not a column of the data"},
		{"bad mode", "mode: unique", "mode: once", `scenario.data.mode: unknown mode "once"`},
		{"bad status", "status: [200]}\n    - think", "status: [20]}\n    - think", "scenario.steps[0].check.status[0]: 20 is not a status code"},
		{"think two kinds", "{uniform: [100ms, 500ms]}", "{fixed: 1s, uniform: [100ms, 500ms]}", "scenario.steps[1].think: needs exactly one of"},
		{"think inverted", "{uniform: [100ms, 500ms]}", "{uniform: [600ms, 500ms]}", "scenario.steps[1].think.uniform: min 600ms is above max 500ms"},
		{"think bad duration", "{uniform: [100ms, 500ms]}", "{normal: [1s, soon]}", `scenario.steps[1].think.normal[1]: cannot parse duration "soon"`},
		{"step without name", "- name: cart\n", "- \n", "scenario.steps[2].name: is required"},
		{"templated host", "http://127.0.0.1:1/shop/cart", "http://{{token}}/shop/cart", "scenario.steps[2].request.url: has no host"},
		{"templated port", "http://127.0.0.1:1/shop/cart", "http://127.0.0.1:{{token}}/shop/cart", "scenario.steps[2].request.url: must keep scheme and host literal"},
		{"bad method", "method: POST, url: \"http://127.0.0.1:1/shop/cart\"", "method: BREW, url: \"http://127.0.0.1:1/shop/cart\"", `scenario.steps[2].request.method: unknown method "BREW"`},
		{"unknown field", "body_contains:", "body_has:", "scenario.steps[2].check.body_has: unknown field"},
		{"unknown extract field", `{json: "$.token"}`, `{jsn: "$.token"}`, "scenario.steps[0].extract.token.jsn: unknown field"},
		{"requests with scenario", "iterations: 30", "requests: 30", "load.requests: a scenario counts journeys"},
		{"both iteration bounds", "iterations: 30", "iterations: 3, iterations_per_worker: 1", "load.iterations_per_worker: set either"},
		{"no content", `content: "user\nu1\nu2\nu3\n"`, "file: users.csv", "scenario.data.content: is required: the API takes the rows inline"},
		{"duplicate column", `"user\nu1`, `"user,user\nu1,u1`, `scenario.data.content: column "user" appears twice`},
		{"ragged csv", `"user\nu1\nu2`, `"user\nu1,x\nu2`, "scenario.data.content: CSV: record on line 2: wrong number of fields"},
		{"header only", `"user\nu1\nu2\nu3\n"`, `"user\n"`, "scenario.data.content: has a header but no rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := goodScenario
			if tt.from != "" {
				if !strings.Contains(src, tt.from) {
					t.Fatalf("test bug: %q not in the spec", tt.from)
				}
				src = strings.Replace(src, tt.from, tt.to, 1)
			}
			if tt.name != "unique runs out" {
				src = strings.Replace(src, "iterations: 30", "iterations: 3", 1)
			}
			_, errs := ParseFile([]byte(src))
			for _, e := range errs {
				if strings.HasPrefix(e.Error(), tt.want) {
					return
				}
			}
			t.Errorf("errors = %v, want one starting %q", errs, tt.want)
		})
	}
}

func TestScenarioBounds(t *testing.T) {
	many := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(f(i))
		}
		return b.String()
	}
	steps := many(MaxSteps+1, func(int) string { return "- {think: {fixed: 1ms}}\n" })
	vars := "- name: a\n  request: {url: \"http://h/\"}\n  extract: {" +
		many(MaxVariables+1, func(i int) string { return fmt.Sprintf("v%d: {header: X}, ", i) }) + "}\n"
	rows := "user\n" + many(MaxDataRows+1, func(i int) string { return "u\n" })
	big := strings.Repeat("x", MaxDataBytes+1)
	tests := []struct {
		name, spec, want string
	}{
		{"steps", "load: {model: avalanche, iterations: 1}\nscenario:\n  steps:\n" + indent(steps), fmt.Sprintf("scenario.steps: has %d steps, at most %d", MaxSteps+1, MaxSteps)},
		{"variables", "load: {model: avalanche, iterations: 1}\nscenario:\n  steps:\n" + indent(vars), fmt.Sprintf("scenario.steps[0].extract: the scenario extracts %d variables, at most %d", MaxVariables+1, MaxVariables)},
		{"rows", `{"load": {"model": "avalanche", "iterations": 1}, "scenario": {"data": {"mode": "random", "content": "` + strings.ReplaceAll(rows, "\n", `\n`) + `"}, "steps": [{"think": {"fixed": "1ms"}}]}}`, fmt.Sprintf("scenario.data.content: has more than %d rows", MaxDataRows)},
		{"bytes", `{"load": {"model": "avalanche", "iterations": 1}, "scenario": {"data": {"mode": "random", "content_base64": "` + base64.StdEncoding.EncodeToString([]byte(big)) + `"}, "steps": [{"think": {"fixed": "1ms"}}]}}`, fmt.Sprintf("scenario.data.content_base64: is %d bytes, at most %d", MaxDataBytes+1, MaxDataBytes)},
		{"iterations", "load: {model: avalanche, iterations: 2000000000}\nscenario:\n  steps: [{think: {fixed: 1ms}}]\n", "load.iterations: must be between 1 and"},
		{"iterations without scenario", "load: {model: avalanche, iterations: 5}\nrequest: {url: \"http://h/\"}\n", "load.iterations: counts journeys: it needs a scenario"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := ParseFile([]byte(tt.spec))
			for _, e := range errs {
				if strings.HasPrefix(e.Error(), tt.want) {
					return
				}
			}
			t.Errorf("errors = %v, want one starting %q", errs, tt.want)
		})
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ") + "\n"
}

func TestDataJSONLines(t *testing.T) {
	d := Data{Mode: DataSequential, Content: `{"user": "a", "n": 1}` + "\n\n" + `{"n": 2.5, "user": "b"}` + "\n"}
	tab, err := d.Table()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(tab.Columns, ",") != "n,user" || len(tab.Rows) != 2 || tab.Rows[1][0] != "2.5" || tab.Rows[1][1] != "b" {
		t.Errorf("Table() = %+v", tab)
	}
	for _, bad := range []string{`{"user": "a"}` + "\n" + `{"name": "b"}`, `{"user": {"x": 1}}`, `{"user": "a"`} {
		if _, err := (&Data{Content: bad}).Table(); err == nil {
			t.Errorf("Table(%q) = nil error, want one", bad)
		}
	}
}
