package template

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// parseAction parses the text between "{{" and "}}".
func parseAction(body string) (part, error) {
	words, err := splitWords(body)
	if err != nil {
		return part{}, err
	}
	if len(words) == 0 {
		return part{}, errors.New("empty action {{}}")
	}
	name, args := words[0], words[1:]
	if name.quoted {
		if len(args) > 0 {
			return part{}, errors.New("a quoted string takes no arguments")
		}
		return part{op: opLit, lit: []byte(name.s)}, nil
	}
	noArgs := func(op opKind) (part, error) {
		if len(args) > 0 {
			return part{}, fmt.Errorf("%s takes no arguments", name.s)
		}
		return part{op: op}, nil
	}
	switch name.s {
	case "seq":
		return noArgs(opSeq)
	case "worker":
		return noArgs(opWorker)
	case "uuid":
		return noArgs(opUUID)
	case "randInt":
		if len(args) != 2 {
			return part{}, fmt.Errorf("randInt takes two integers, like {{randInt 1 100}}, got %d arguments", len(args))
		}
		lo, err1 := strconv.ParseInt(args[0].s, 10, 64)
		hi, err2 := strconv.ParseInt(args[1].s, 10, 64)
		if err1 != nil || err2 != nil {
			return part{}, fmt.Errorf("randInt takes two integers, like {{randInt 1 100}}, got %q %q", args[0].s, args[1].s)
		}
		if lo > hi || hi-lo < 0 || hi-lo == 1<<63-1 {
			return part{}, fmt.Errorf("randInt range %d..%d is empty or too wide", lo, hi)
		}
		return part{op: opRandInt, lo: lo, n: hi - lo + 1}, nil
	case "choice":
		if len(args) == 0 {
			return part{}, errors.New(`choice needs at least one word, like {{choice red green "dark blue"}}`)
		}
		p := part{op: opChoice}
		for _, a := range args {
			p.choices = append(p.choices, []byte(a.s))
		}
		return p, nil
	}
	return part{}, fmt.Errorf("unknown function %q (known: %s)", name.s, strings.Join(Functions, ", "))
}

type word struct {
	s      string
	quoted bool
}

// splitWords splits on spaces; "double quoted" words may hold spaces and
// the escapes \" and \\.
func splitWords(s string) ([]word, error) {
	var out []word
	i := 0
	for i < len(s) {
		switch s[i] {
		case ' ', '\t':
			i++
		case '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, errors.New("unterminated quoted string")
			}
			out = append(out, word{s: b.String(), quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' {
				j++
			}
			out = append(out, word{s: s[i:j]})
			i = j
		}
	}
	return out, nil
}
