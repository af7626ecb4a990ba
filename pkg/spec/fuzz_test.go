package spec

import (
	"strings"
	"testing"
)

// FuzzParse: any JSON document is either a spec or a list of field errors,
// never a panic; an accepted spec survives its own encoding.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"request":{"url":"http://h:1/p"},"load":{"model":"constant-rate","rate":10,"duration":"1s"}}`))
	f.Add([]byte(`{"request":{"url":"http://h/"},"load":{"model":"ramping-rate","stages":[{"duration":"2s","target":10}]}}`))
	f.Add([]byte(`{"requests_mix":[{"weight":1,"url":"http://h/a"}],"load":{"model":"avalanche","requests":5}}`))
	f.Add([]byte(`{"load":{"duration":"2562047h","concurrency":1000000}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, errs := Parse(data)
		if len(errs) > 0 {
			return
		}
		_ = DefaultLimits().Check(&s, 1)
		again, errs := Parse(s.Encode())
		if len(errs) > 0 {
			t.Fatalf("an accepted spec does not parse again: %v\n%s", errs, s.Encode())
		}
		if string(again.Encode()) != string(s.Encode()) {
			t.Fatalf("encoding is not stable:\n%s\n%s", s.Encode(), again.Encode())
		}
	})
}

// FuzzParseYAML: any YAML document is refused or converted within the
// bound, without a panic and without expanding past it.
func FuzzParseYAML(f *testing.F) {
	f.Add([]byte("request:\n  url: http://h/\nload: {model: avalanche, duration: 1s}\n"))
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"))
	f.Add([]byte("request: {url: http://h/, headers: {A: &v x, B: *v}}\nload: {model: avalanche, duration: 1s}\n"))
	f.Add([]byte("<<: {a: 1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 64 << 10
		s, errs := ParseYAML(data, limit)
		if len(errs) > 0 {
			for _, e := range errs {
				if e.Problem == "" {
					t.Fatalf("an error without a problem: %+v", e)
				}
			}
			return
		}
		if strings.TrimSpace(s.Request.URL) == "" && len(s.RequestsMix) == 0 {
			t.Fatalf("accepted a spec without a URL: %s", s.Encode())
		}
	})
}
