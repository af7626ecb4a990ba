package spec

import (
	"strings"
	"testing"
	"time"
)

func fields(errs FieldErrors) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return out
}

func TestParseReportsEveryProblemByField(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		want  []string // fields that must be named
		clean bool
	}{
		{"valid constant-rate", `{"request":{"url":"http://h:1/p"},"load":{"model":"constant-rate","rate":10,"duration":"1s"}}`, nil, true},
		{"valid requests bound", `{"request":{"url":"https://h/p"},"load":{"model":"avalanche","requests":5}}`, nil, true},
		{"valid ramping stages bound", `{"request":{"url":"http://h/"},"load":{"model":"ramping-rate","stages":[{"duration":"2s","target":10}]}}`, nil, true},
		{"missing url", `{"request":{},"load":{"model":"avalanche","duration":"1s"}}`, []string{"request.url"}, false},
		{"ftp url", `{"request":{"url":"ftp://h/p"},"load":{"model":"avalanche","duration":"1s"}}`, []string{"request.url"}, false},
		{"unknown method", `{"request":{"url":"http://h/","method":"GRAB"},"load":{"model":"avalanche","duration":"1s"}}`, []string{"request.method"}, false},
		{"unknown model", `{"request":{"url":"http://h/"},"load":{"model":"flood","duration":"1s"}}`, []string{"load.model"}, false},
		{"zero rate", `{"request":{"url":"http://h/"},"load":{"model":"constant-rate","duration":"1s"}}`, []string{"load.rate"}, false},
		{"negative rate", `{"request":{"url":"http://h/"},"load":{"model":"constant-rate","rate":-1,"duration":"1s"}}`, []string{"load.rate"}, false},
		{"bad duration", `{"request":{"url":"http://h/"},"load":{"model":"avalanche","duration":"soon"}}`, []string{"load.duration"}, false},
		{"numeric duration", `{"request":{"url":"http://h/"},"load":{"model":"avalanche","duration":30}}`, []string{"load.duration"}, false},
		{"no bound", `{"request":{"url":"http://h/"},"load":{"model":"avalanche"}}`, []string{"load.duration"}, false},
		{"unknown fields everywhere", `{"request":{"url":"http://h/","hedaers":{}},"load":{"model":"avalanche","duration":"1s","rps":3},"x":1}`, []string{"request.hedaers", "load.rps", "x"}, false},
		{"wrong type", `{"request":{"url":"http://h/"},"load":{"model":"avalanche","duration":"1s","concurrency":"many"}}`, []string{"load.concurrency"}, false},
		{"tsunami needs delay", `{"request":{"url":"http://h/"},"load":{"model":"tsunami","duration":"1s"}}`, []string{"load.delay"}, false},
		{"several at once", `{"request":{"url":"","method":"X"},"load":{"model":"constant-rate","rate":-3},"workers":-1}`, []string{"request.url", "request.method", "load.rate", "load.duration", "workers"}, false},
		{"bad status range", `{"request":{"url":"http://h/","expect_status":["2xx"]},"load":{"model":"avalanche","duration":"1s"}}`, []string{"request.expect_status[0]"}, false},
		{"bad policy", `{"request":{"url":"http://h/"},"load":{"model":"avalanche","duration":"1s"},"on_worker_loss":"panic"}`, []string{"on_worker_loss"}, false},
		{"not an object", `[1,2]`, []string{""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Parse([]byte(tt.json))
			if tt.clean {
				if len(errs) != 0 {
					t.Fatalf("Parse(%s) = %v, want no errors", tt.json, errs)
				}
				return
			}
			got := map[string]bool{}
			for _, e := range errs {
				if e.Problem == "" {
					t.Errorf("field %q has an empty problem", e.Field)
				}
				got[e.Field] = true
			}
			for _, f := range tt.want {
				if !got[f] {
					t.Errorf("Parse(%s) named %v, want %q among them", tt.json, fields(errs), f)
				}
			}
		})
	}
}

func TestNormalizeDefaultsAndRoundTrip(t *testing.T) {
	s, errs := ParseFile([]byte("request:\n  url: http://h/\nload:\n  model: constant-rate\n  rate: 5\n  duration: 2s\n"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if s.Request.Method != "GET" || s.Request.Timeout.D != DefaultTimeout || s.Load.Concurrency != DefaultOpenConcurrency || s.OnWorkerLoss != OnLossContinue {
		t.Errorf("defaults not applied: %+v", s)
	}
	again, errs := Parse(s.Encode())
	if len(errs) > 0 {
		t.Fatalf("re-parsing the stored spec: %v\n%s", errs, s.Encode())
	}
	if again.Load.Duration.D != 2*time.Second || again.Load.Rate != 5 {
		t.Errorf("round trip changed the spec: %s", again.Encode())
	}
	if got := again.Load.RunBound(); got != 2*time.Second {
		t.Errorf("RunBound = %v, want 2s", got)
	}
	if !strings.Contains(string(s.Encode()), `"duration":"2s"`) {
		t.Errorf("encoded spec %s does not keep the duration text", s.Encode())
	}
}
