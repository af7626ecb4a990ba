package template

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
)

func ctx(seq int64) *Context {
	return &Context{Seq: seq, Worker: "w-7", Rand: rand.New(rand.NewPCG(1, 2))}
}

func TestRender(t *testing.T) {
	tests := []struct {
		src  string
		want string // regexp, anchored
	}{
		{"plain text", `plain text`},
		{"/item/{{seq}}", `/item/42`},
		{"{{ seq }}-{{worker}}", `42-w-7`},
		{"id={{randInt 5 5}}", `id=5`},
		{"n={{randInt -3 3}}", `n=-?[0-3]`},
		{"{{choice red}}", `red`},
		{`{{choice "dark blue" "dark \"red\""}}`, `dark blue|dark "red"`},
		{"{{uuid}}", `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`},
		{`a{{"{{"}}b`, `a\{\{b`},
		{"{{seq}}{{seq}}", `4242`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			tm, err := Compile(tt.src)
			if err != nil {
				t.Fatalf("Compile(%q) = %v", tt.src, err)
			}
			got := string(tm.Append(nil, ctx(42)))
			if !regexp.MustCompile(`^(` + tt.want + `)$`).MatchString(got) {
				t.Errorf("render %q = %q, want match of %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestRandomRanges(t *testing.T) {
	tm := MustCompile("{{randInt 1 6}}")
	c := ctx(0)
	seen := map[int]int{}
	for range 6000 {
		n, err := strconv.Atoi(string(tm.Append(nil, c)))
		if err != nil || n < 1 || n > 6 {
			t.Fatalf("randInt 1 6 rendered %d (%v)", n, err)
		}
		seen[n]++
	}
	for v := 1; v <= 6; v++ {
		if seen[v] < 800 || seen[v] > 1200 {
			t.Errorf("randInt 1 6 gave %d %d times in 6000, want about 1000", v, seen[v])
		}
	}
	ch := MustCompile("{{choice a b c}}")
	got := map[string]bool{}
	for range 300 {
		got[string(ch.Append(nil, c))] = true
	}
	if len(got) != 3 {
		t.Errorf("choice a b c rendered %v, want all of a, b, c", got)
	}
	u := MustCompile("{{uuid}}")
	uuids := map[string]bool{}
	for range 1000 {
		uuids[string(u.Append(nil, c))] = true
	}
	if len(uuids) != 1000 {
		t.Errorf("1000 uuids have %d distinct values", len(uuids))
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"/x/{{seq", `template error at position 4: "{{" is not closed by "}}"`},
		{"ab{{nope}}", `template error at position 3: unknown function "nope" (known: seq, worker, randInt, choice, uuid)`},
		{"é{{randInt 1}}", `template error at position 2: randInt takes two integers, like {{randInt 1 100}}, got 1 arguments`},
		{"{{randInt 9 1}}", `template error at position 1: randInt range 9..1 is empty or too wide`},
		{"{{randInt a b}}", `template error at position 1: randInt takes two integers, like {{randInt 1 100}}, got "a" "b"`},
		{"{{seq 1}}", `template error at position 1: seq takes no arguments`},
		{"{{}}", `template error at position 1: empty action {{}}`},
		{"{{choice}}", `template error at position 1: choice needs at least one word, like {{choice red green "dark blue"}}`},
		{`{{choice "a}}`, `template error at position 1: unterminated quoted string`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := Compile(tt.src)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Compile(%q) error = %v, want %q", tt.src, err, tt.want)
			}
			if !IsError(err) {
				t.Errorf("IsError(%v) = false", err)
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	tm := MustCompile(`/item/{{seq}}?w={{worker}}&r={{randInt 1 1000}}&c={{choice a bb ccc}}&id={{uuid}}`)
	c := ctx(0)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Seq = int64(i)
		buf = tm.Append(buf[:0], c)
	}
}
