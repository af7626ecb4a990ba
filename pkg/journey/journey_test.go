package journey

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/spec"
)

func TestExtract(t *testing.T) {
	body := []byte(`{"token":"tok-ann","n":42,"ok":true,"items":[{"id":"a"},{"id":"b"}],"empty":"","obj":{}}`)
	headers := map[string]string{"Location": "/orders/7"}
	tests := []struct {
		e       spec.Extract
		want    string
		wantErr string
	}{
		{spec.Extract{JSON: "$.token"}, "tok-ann", ""},
		{spec.Extract{JSON: "$.n"}, "42", ""},
		{spec.Extract{JSON: "$.ok"}, "true", ""},
		{spec.Extract{JSON: "$.items[1].id"}, "b", ""},
		{spec.Extract{JSON: "$.items[2].id"}, "", "JSON path: no [2]"},
		{spec.Extract{JSON: "$.nope"}, "", "JSON path: no .nope"},
		{spec.Extract{JSON: "$.token.x"}, "", "JSON path: no .x"},
		{spec.Extract{JSON: "$.empty"}, "", "the value is empty"},
		{spec.Extract{JSON: "$.obj"}, "", "not a string, number or boolean"},
		{spec.Extract{Regex: `tok-(\w+)`}, "ann", ""},
		{spec.Extract{Regex: `nothing-(\w+)`}, "", "no match"},
		{spec.Extract{Header: "Location"}, "/orders/7", ""},
		{spec.Extract{Header: "Set-Cookie"}, "", "not in the response"},
	}
	for _, tt := range tests {
		x, err := NewExtractor(tt.e)
		if err != nil {
			t.Fatalf("NewExtractor(%+v): %v", tt.e, err)
		}
		got, err := x.Extract(body, func(k string) string { return headers[k] })
		if got != tt.want || (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Extract(%+v) = %q, %v; want %q, error %q", tt.e, got, err, tt.want, tt.wantErr)
		}
	}
	x, _ := NewExtractor(spec.Extract{JSON: "$.a"})
	if _, err := x.Extract([]byte("<html>"), nil); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("Extract of HTML = %v, want not JSON", err)
	}
	if _, err := x.Extract([]byte(`{"a":"`+strings.Repeat("x", MaxValueBytes+1)+`"}`), nil); err == nil {
		t.Error("Extract of a huge value succeeded, want it bounded")
	}
}

func TestRender(t *testing.T) {
	v := &Vars{Extracted: map[string]string{"token": "tok-ann"}, Columns: []string{"user", "sku"}, Row: []string{"ann", "42"}}
	tests := []struct{ src, want, wantErr string }{
		{"Bearer {{token}}", "Bearer tok-ann", ""},
		{`{"user":"{{data.user}}","sku":{{ data.sku }}}`, `{"user":"ann","sku":42}`, ""},
		{"/x?n={{seq}}&t={{token}}", "/x?n={{seq}}&t=tok-ann", ""},
		{"Bearer {{missing}}", "", "{{missing}} has no value"},
		{"{{data.nope}}", "", "{{data.nope}} has no value"},
		{"plain", "plain", ""},
	}
	for _, tt := range tests {
		got, err := v.Render(tt.src)
		if got != tt.want || (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Render(%q) = %q, %v; want %q, error %q", tt.src, got, err, tt.want, tt.wantErr)
		}
	}
	empty := &Vars{Extracted: map[string]string{"token": ""}}
	if _, err := empty.Render("{{token}}"); err == nil {
		t.Error("Render with an empty variable succeeded, want an error")
	}
}

func TestCheck(t *testing.T) {
	c := &spec.Check{Status: []int{200, 201}, BodyContains: `"ok"`}
	for _, tt := range []struct {
		status int
		body   string
		want   string
	}{
		{200, `{"ok":true}`, ""},
		{201, `{"ok":true}`, ""},
		{401, `{"ok":true}`, "status 401, want one of [200 201]"},
		{200, `{"fail":1}`, `body does not contain "\"ok\""`},
	} {
		if got := Check(c, tt.status, []byte(tt.body)); got != tt.want {
			t.Errorf("Check(%d, %s) = %q, want %q", tt.status, tt.body, got, tt.want)
		}
	}
	if got := Check(nil, 500, nil); got != "" {
		t.Errorf("Check(nil) = %q, want pass", got)
	}
}

func TestThink(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	if d := Think(&spec.Think{Fixed: spec.D(time.Second)}, rng); d != time.Second {
		t.Errorf("fixed = %s", d)
	}
	u := &spec.Think{Uniform: []spec.Duration{spec.D(100 * time.Millisecond), spec.D(500 * time.Millisecond)}}
	n := &spec.Think{Normal: []spec.Duration{spec.D(10 * time.Millisecond), spec.D(100 * time.Millisecond)}}
	var lo, hi time.Duration = time.Hour, 0
	negatives := 0
	for range 10000 {
		d := Think(u, rng)
		lo, hi = min(lo, d), max(hi, d)
		if Think(n, rng) == 0 {
			negatives++
		}
	}
	if lo < 100*time.Millisecond || hi > 500*time.Millisecond || hi-lo < 390*time.Millisecond {
		t.Errorf("uniform drew [%s, %s], want spread over [100ms, 500ms]", lo, hi)
	}
	if negatives < 3000 || negatives > 5500 { // P(N(10,100) < 0) = 46 %
		t.Errorf("normal drew %d of 10000 below zero (clamped to 0), want about 4600", negatives)
	}
	if Think(nil, rng) != 0 {
		t.Error("nil think paused")
	}
}

// TestRowsUnique: three workers' slices of 30 rows, drawn concurrently,
// use every row exactly once, then stop.
func TestRowsUnique(t *testing.T) {
	tab := spec.Table{Columns: []string{"user"}}
	for i := range 30 {
		tab.Rows = append(tab.Rows, []string{"u" + string(rune('A'+i))})
	}
	seen := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w, slice := range [][2]int{{0, 10}, {10, 10}, {20, 10}} {
		r := NewRows(tab, spec.DataUnique, slice[0], slice[1])
		for range 4 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 1))
				for {
					row, ok := r.Next(rng)
					if !ok {
						return
					}
					mu.Lock()
					seen[row[0]]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(seen) != 30 {
		t.Errorf("%d distinct rows used, want 30", len(seen))
	}
	for u, n := range seen {
		if n != 1 {
			t.Errorf("row %s used %d times, want once", u, n)
		}
	}
	seq := NewRows(tab, spec.DataSequential, 0, 0)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 31 {
		row, ok := seq.Next(rng)
		if want := tab.Rows[i%30][0]; !ok || row[0] != want {
			t.Fatalf("sequential row %d = %v, %v; want %s", i, row, ok, want)
		}
	}
	if row, ok := NewRows(tab, spec.DataRandom, 0, 0).Next(rng); !ok || len(row) != 1 {
		t.Errorf("random row = %v, %v", row, ok)
	}
}
