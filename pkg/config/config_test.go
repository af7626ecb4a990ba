package config

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

// set defines one flag of each kind on a fresh Set.
type set struct {
	s     *Set
	zk    *string
	n     *int
	debug *bool
	wait  *time.Duration
}

func newSet() set {
	s := New("test")
	s.SetOutput(new(bytes.Buffer))
	return set{
		s:     s,
		zk:    s.String("zk-root", "/stampede", "root"),
		n:     s.Int("workers", 3, "count"),
		debug: s.Bool("debug", false, "debug"),
		wait:  s.Duration("ready-timeout", 30*time.Second, "wait"),
	}
}

// The order of precedence: a flag wins over its variable, the variable over
// the default, for every kind of flag.
func TestFlagOverEnvOverDefault(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		zk    string
		n     int
		debug bool
		wait  time.Duration
	}{
		{"defaults", nil, nil, "/stampede", 3, false, 30 * time.Second},
		{"environment", map[string]string{"STAMPEDE_ZK_ROOT": "/env", "STAMPEDE_WORKERS": "7", "STAMPEDE_DEBUG": "true", "STAMPEDE_READY_TIMEOUT": "5s"},
			nil, "/env", 7, true, 5 * time.Second},
		{"flags over environment", map[string]string{"STAMPEDE_ZK_ROOT": "/env", "STAMPEDE_WORKERS": "7", "STAMPEDE_DEBUG": "true", "STAMPEDE_READY_TIMEOUT": "5s"},
			[]string{"--zk-root", "/flag", "--workers", "9", "--debug=false", "--ready-timeout", "1m"}, "/flag", 9, false, time.Minute},
		{"flags alone", nil, []string{"--workers=1", "--debug"}, "/stampede", 1, true, 30 * time.Second},
		{"empty string variable", map[string]string{"STAMPEDE_ZK_ROOT": ""}, nil, "", 3, false, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			f := newSet()
			if err := f.s.Parse(tt.args); err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if *f.zk != tt.zk || *f.n != tt.n || *f.debug != tt.debug || *f.wait != tt.wait {
				t.Errorf("got zk-root %q workers %d debug %v ready-timeout %v, want %q %d %v %v",
					*f.zk, *f.n, *f.debug, *f.wait, tt.zk, tt.n, tt.debug, tt.wait)
			}
		})
	}
}

// A malformed variable is an error naming the variable and its value, never
// a silent default — even when a flag would override it.
func TestMalformedEnvironmentIsAnError(t *testing.T) {
	tests := []struct {
		name, env, value string
		args             []string
	}{
		{"int", "STAMPEDE_WORKERS", "three", nil},
		{"empty int", "STAMPEDE_WORKERS", "", nil},
		{"bool", "STAMPEDE_DEBUG", "maybe", nil},
		{"duration", "STAMPEDE_READY_TIMEOUT", "30", nil},
		{"duration with the flag given", "STAMPEDE_READY_TIMEOUT", "soon", []string{"--ready-timeout", "1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			err := newSet().s.Parse(tt.args)
			if err == nil {
				t.Fatalf("%s=%q parsed without error", tt.env, tt.value)
			}
			if want := tt.env + `="` + tt.value + `"`; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		})
	}
}

// A malformed flag is an error too, and an unknown flag.
func TestMalformedFlagIsAnError(t *testing.T) {
	for _, args := range [][]string{{"--workers", "x"}, {"--ready-timeout", "3"}, {"--nope"}} {
		if err := newSet().s.Parse(args); err == nil {
			t.Errorf("Parse(%q) succeeded", args)
		}
	}
}

// Env lists every variable the set reads, sorted, and the usage text names
// each flag's variable.
func TestEnvListsEveryVariable(t *testing.T) {
	f := newSet()
	want := []string{"STAMPEDE_DEBUG", "STAMPEDE_READY_TIMEOUT", "STAMPEDE_WORKERS", "STAMPEDE_ZK_ROOT"}
	if got := f.s.Env(); !slices.Equal(got, want) {
		t.Errorf("Env() = %q, want %q", got, want)
	}
	var out bytes.Buffer
	f.s.SetOutput(&out)
	f.s.Usage()
	for _, e := range want {
		if !strings.Contains(out.String(), "(env "+e+",") {
			t.Errorf("usage does not name %s:\n%s", e, out.String())
		}
	}
	if got := EnvName("zk-root"); got != "STAMPEDE_ZK_ROOT" {
		t.Errorf("EnvName(zk-root) = %q", got)
	}
}
