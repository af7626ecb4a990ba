package template

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// FuzzCompile: any source compiles or returns a positioned *Error; a
// compiled template renders without a panic, and a static one renders as
// its String.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"/p?n={{seq}}", "{{randInt 1 100}}", `{{choice a b "c d"}}`, "{{uuid}}-{{worker}}", `{{"{{"}}`, "{{randInt 9223372036854775807 -9223372036854775808}}", "{{", "}}{{choice}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := Compile(src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Pos < 1 || e.Msg == "" {
				t.Fatalf("Compile(%q) = %v, want a positioned *Error", src, err)
			}
			return
		}
		c := &Context{Seq: 42, Worker: "w1", Rand: rand.New(rand.NewPCG(1, 2))}
		out := tpl.Append(nil, c)
		if tpl.Static() && string(out) != tpl.String() {
			t.Fatalf("static %q renders %q, String %q", src, out, tpl.String())
		}
	})
}
