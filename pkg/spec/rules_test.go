package spec

import (
	"slices"
	"strings"
	"testing"
)

// TestValidateNamesExactlyTheFaultyFields: each rule of Validate, broken
// on its own, names exactly the fields at fault — no more, no fewer — each
// with a problem text. Specs are JSON documents as a user would send.
func TestValidateNamesExactlyTheFaultyFields(t *testing.T) {
	const (
		u    = `"request":{"url":"http://h/"}`
		load = `"load":{"model":"avalanche","duration":"1s"}`
	)
	tests := []struct {
		name string
		json string
		want []string // sorted; empty means valid
	}{
		// request
		{"valid", `{` + u + `,` + load + `}`, nil},
		{"body and body_base64", `{"request":{"url":"http://h/","body":"x","body_base64":"eA=="},` + load + `}`, []string{"request.body_base64"}},
		{"body_base64 not base64", `{"request":{"url":"http://h/","body_base64":"%%%"},` + load + `}`, []string{"request.body_base64"}},
		{"body_base64 alone", `{"request":{"url":"http://h/","body_base64":"eA=="},` + load + `}`, nil},
		{"url without host", `{"request":{"url":"http:///p"},` + load + `}`, []string{"request.url"}},
		{"zero timeout", `{"request":{"url":"http://h/","timeout":"0s"},` + load + `}`, []string{"request.timeout"}},
		{"negative timeout", `{"request":{"url":"http://h/","timeout":"-1s"},` + load + `}`, []string{"request.timeout"}},
		{"inverted status range", `{"request":{"url":"http://h/","expect_status":["200","399-200"]},` + load + `}`, []string{"request.expect_status[1]"}},
		{"status out of range", `{"request":{"url":"http://h/","expect_status":["600"]},` + load + `}`, []string{"request.expect_status[0]"}},
		{"name too long", `{"name":"` + strings.Repeat("n", 201) + `",` + u + `,` + load + `}`, []string{"name"}},
		// requests_mix
		{"mix inherits the url", `{` + u + `,"requests_mix":[{"weight":1},{"weight":2,"url":"http://o/"}],` + load + `}`, nil},
		{"mix without any url", `{"request":{},"requests_mix":[{"weight":1,"url":"http://h/"},{"weight":1}],` + load + `}`, []string{"requests_mix[1].url"}},
		{"mix zero weight", `{` + u + `,"requests_mix":[{"weight":0}],` + load + `}`, []string{"requests_mix[0].weight"}},
		{"mix negative weight and bad url", `{` + u + `,"requests_mix":[{"weight":1},{"weight":-2,"url":"ftp://h/"}],` + load + `}`, []string{"requests_mix[1].url", "requests_mix[1].weight"}},
		{"mix bad method", `{` + u + `,"requests_mix":[{"weight":1,"method":"grab"}],` + load + `}`, []string{"requests_mix[0].method"}},
		{"mix body and body_base64", `{` + u + `,"requests_mix":[{"weight":1,"body":"a","body_base64":"YQ=="}],` + load + `}`, []string{"requests_mix[0].body_base64"}},
		// rates
		{"rate_per_worker alone", `{` + u + `,"load":{"model":"constant-rate","rate_per_worker":50,"duration":"1s"}}`, nil},
		{"rate and rate_per_worker", `{` + u + `,"load":{"model":"constant-rate","rate":100,"rate_per_worker":50,"duration":"1s"}}`, []string{"load.rate_per_worker"}},
		{"negative rate_per_worker", `{` + u + `,"load":{"model":"constant-rate","rate_per_worker":-1,"duration":"1s"}}`, []string{"load.rate_per_worker"}},
		{"negative start_rate", `{` + u + `,"load":{"model":"ramping-rate","start_rate":-5,"stages":[{"duration":"1s","target":10}]}}`, []string{"load.start_rate"}},
		{"negative concurrency", `{` + u + `,"load":{"model":"avalanche","concurrency":-1,"duration":"1s"}}`, []string{"load.concurrency"}},
		{"missing model", `{` + u + `,"load":{"duration":"1s"}}`, []string{"load.model"}},
		// bounds
		{"requests and requests_per_worker", `{` + u + `,"load":{"model":"avalanche","requests":10,"requests_per_worker":5}}`, []string{"load.requests_per_worker"}},
		{"negative requests", `{` + u + `,"load":{"model":"avalanche","requests":-1,"duration":"1s"}}`, []string{"load.requests"}},
		{"negative requests_per_worker", `{` + u + `,"load":{"model":"avalanche","requests_per_worker":-1,"duration":"1s"}}`, []string{"load.requests_per_worker"}},
		{"requests_per_worker bounds", `{` + u + `,"load":{"model":"avalanche","requests_per_worker":5}}`, nil},
		{"max_duration with requests", `{` + u + `,"load":{"model":"avalanche","requests":5,"max_duration":"30s"}}`, nil},
		{"max_duration alone is no bound", `{` + u + `,"load":{"model":"avalanche","max_duration":"30s"}}`, []string{"load.duration"}},
		{"zero max_duration", `{` + u + `,"load":{"model":"avalanche","requests":5,"max_duration":"0s"}}`, []string{"load.max_duration"}},
		{"unparsable max_duration", `{` + u + `,"load":{"model":"avalanche","requests":5,"max_duration":"long"}}`, []string{"load.max_duration"}},
		{"zero duration", `{` + u + `,"load":{"model":"avalanche","duration":"0s"}}`, []string{"load.duration"}},
		{"negative delay", `{` + u + `,"load":{"model":"avalanche","delay":"-1ms","duration":"1s"}}`, []string{"load.delay"}},
		{"tsunami zero delay", `{` + u + `,"load":{"model":"tsunami","delay":"0s","duration":"1s"}}`, []string{"load.delay"}},
		{"tsunami with delay", `{` + u + `,"load":{"model":"tsunami","delay":"5ms","duration":"1s"}}`, nil},
		// stages
		{"ramping-rate without stages", `{` + u + `,"load":{"model":"ramping-rate","duration":"1s"}}`, []string{"load.stages"}},
		{"ramping-concurrency without stages or bound", `{` + u + `,"load":{"model":"ramping-concurrency"}}`, []string{"load.duration", "load.stages"}},
		{"stage without duration", `{` + u + `,"load":{"model":"ramping-rate","stages":[{"duration":"1s","target":5},{"target":10}]}}`, []string{"load.stages[1].duration"}},
		{"stage zero duration", `{` + u + `,"load":{"model":"ramping-rate","stages":[{"duration":"0s","target":5}]}}`, []string{"load.stages[0].duration"}},
		{"stage negative target", `{` + u + `,"load":{"model":"ramping-concurrency","stages":[{"duration":"1s","target":-1}]}}`, []string{"load.stages[0].target"}},
		{"stages do not bound avalanche", `{` + u + `,"load":{"model":"avalanche","stages":[{"duration":"1s","target":1}]}}`, []string{"load.duration"}},
		// top level
		{"negative workers", `{` + u + `,` + load + `,"workers":-2}`, []string{"workers"}},
		{"abort policy", `{` + u + `,` + load + `,"on_worker_loss":"abort"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Parse([]byte(tt.json))
			got := fields(errs)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Parse(%s)\nnamed %q (%v)\nwant  %q", tt.json, got, errs, tt.want)
			}
			for _, e := range errs {
				if e.Problem == "" {
					t.Errorf("field %q has an empty problem", e.Field)
				}
			}
		})
	}
}
