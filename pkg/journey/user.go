package journey

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/stampede-load/stampede/pkg/spec"
)

// Vars are one virtual user's values: what its steps extracted and its
// data row.
type Vars struct {
	Extracted map[string]string
	Columns   []string // data column names
	Row       []string // this iteration's data row, as long as Columns
}

var refRe = regexp.MustCompile(`\{\{\s*(data\.)?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// Render puts the user's variables ({{VAR}}) and data ({{data.COL}}) into
// src; other actions ({{seq}}, ...) are left for the request templates.
// A reference without a value is an error: a request is never sent with
// an empty variable.
func (v *Vars) Render(src string) (string, error) {
	if !strings.Contains(src, "{{") {
		return src, nil
	}
	var missing string
	out := refRe.ReplaceAllStringFunc(src, func(m string) string {
		sub := refRe.FindStringSubmatch(m)
		if sub[1] != "" {
			for i, c := range v.Columns {
				if c == sub[2] && i < len(v.Row) {
					return v.Row[i]
				}
			}
			missing = "data." + sub[2]
			return m
		}
		if val, ok := v.Extracted[sub[2]]; ok && val != "" {
			return val
		}
		if isFunction(sub[2]) {
			return m
		}
		missing = sub[2]
		return m
	})
	if missing != "" {
		return "", fmt.Errorf("{{%s}} has no value", missing)
	}
	return out, nil
}

func isFunction(name string) bool {
	switch name {
	case "seq", "worker", "uuid", "randInt", "choice":
		return true
	}
	return false
}

// Check reports why a response fails a step's check ("" if it passes).
func Check(c *spec.Check, status int, body []byte) string {
	if c == nil {
		return ""
	}
	if len(c.Status) > 0 {
		ok := false
		for _, s := range c.Status {
			ok = ok || s == status
		}
		if !ok {
			return fmt.Sprintf("status %d, want one of %v", status, c.Status)
		}
	}
	if c.BodyContains != "" && !strings.Contains(string(body), c.BodyContains) {
		return fmt.Sprintf("body does not contain %q", c.BodyContains)
	}
	return ""
}

// Think draws one pause of t (zero for nil); drawn values below zero are
// zero.
func Think(t *spec.Think, rng *rand.Rand) time.Duration {
	var d time.Duration
	switch {
	case t == nil:
	case !t.Fixed.IsZero():
		d = t.Fixed.D
	case len(t.Uniform) == 2:
		lo, hi := t.Uniform[0].D, t.Uniform[1].D
		d = lo
		if hi > lo {
			d += time.Duration(rng.Int64N(int64(hi - lo + 1)))
		}
	case len(t.Normal) == 2:
		d = t.Normal[0].D + time.Duration(rng.NormFloat64()*float64(t.Normal[1].D))
	}
	return max(d, 0)
}
