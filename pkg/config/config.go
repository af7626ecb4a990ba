// Package config binds command-line flags to environment variables
// (12-factor, docs/operations.md): every flag --name has an environment variable,
// the flag wins over the variable, and the variable over the default.
//
// Env lists the variables a binary reads, so tests can check that every
// variable a manifest sets is one the binary knows.
package config

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Set is a flag set whose flags also read environment variables.
type Set struct {
	*flag.FlagSet
	env map[string]string // env var -> flag name
}

// New returns a Set for the named binary or subcommand.
func New(name string) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	s := &Set{FlagSet: fs, env: map[string]string{}}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage of %s:\n", name)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(fs.Output(), "  --%s (env %s, default %q)\n    \t%s\n", f.Name, EnvName(f.Name), f.DefValue, f.Usage)
		})
	}
	return s
}

// EnvName is the variable of a flag: --zk-root is STAMPEDE_ZK_ROOT.
func EnvName(flagName string) string {
	return "STAMPEDE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (s *Set) bind(name string) string {
	e := EnvName(name)
	s.env[e] = name
	return e
}

// String defines a string flag.
func (s *Set) String(name, def, usage string) *string {
	v := def
	if e, ok := os.LookupEnv(s.bind(name)); ok {
		v = e
	}
	return s.FlagSet.String(name, v, usage)
}

// Int defines an int flag.
func (s *Set) Int(name string, def int, usage string) *int {
	v := def
	if e, ok := os.LookupEnv(s.bind(name)); ok {
		if n, err := strconv.Atoi(e); err == nil {
			v = n
		}
	}
	return s.FlagSet.Int(name, v, usage)
}

// Bool defines a bool flag.
func (s *Set) Bool(name string, def bool, usage string) *bool {
	v := def
	if e, ok := os.LookupEnv(s.bind(name)); ok {
		if b, err := strconv.ParseBool(e); err == nil {
			v = b
		}
	}
	return s.FlagSet.Bool(name, v, usage)
}

// Duration defines a duration flag.
func (s *Set) Duration(name string, def time.Duration, usage string) *time.Duration {
	v := def
	if e, ok := os.LookupEnv(s.bind(name)); ok {
		if d, err := time.ParseDuration(e); err == nil {
			v = d
		}
	}
	return s.FlagSet.Duration(name, v, usage)
}

// Parse parses args, and checks that every bound environment variable that
// is set parses (a malformed variable is an error, not a silent default).
func (s *Set) Parse(args []string) error {
	for e, name := range s.env {
		raw, ok := os.LookupEnv(e)
		if !ok {
			continue
		}
		if f := s.Lookup(name); f != nil {
			if err := f.Value.Set(raw); err != nil {
				return fmt.Errorf("environment %s=%q: %w", e, raw, err)
			}
		}
	}
	return s.FlagSet.Parse(args)
}

// Env lists the environment variables this set reads, sorted.
func (s *Set) Env() []string {
	out := make([]string, 0, len(s.env))
	for e := range s.env {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}
