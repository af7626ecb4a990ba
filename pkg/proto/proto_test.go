package proto

import (
	"fmt"
	"strings"
	"testing"
)

// PhaseOf reads what a full decode of the state would, from the node's
// start when Marshal wrote it and from the whole node otherwise.
func TestPhaseOfReadsWhatTheStateSays(t *testing.T) {
	workers := make([]string, 2000)
	for i := range workers {
		workers[i] = fmt.Sprintf("sim-%05d", i)
	}
	for _, c := range []struct {
		data []byte
		want string
		bad  bool
	}{
		{data: Marshal(TestState{Phase: PhasePreparing, Lost: workers}), want: PhasePreparing},
		{data: Marshal(TestState{Phase: PhaseCompleted, Reason: "done"}), want: PhaseCompleted},
		{data: []byte(`{"reason":"x","phase":"running"}`), want: PhaseRunning},
		{data: []byte(`{ "phase": "failed" }`), want: PhaseFailed},
		{data: []byte(`{"phase":"run\u006eing"}`), want: PhaseRunning},
		{data: []byte(`{"phase":"runn`), bad: true},
		{data: []byte(`not json`), bad: true},
		{data: nil, bad: true},
	} {
		got, err := PhaseOf(c.data)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("PhaseOf(%.60s) = %q, %v; want %q (an error: %v)", c.data, got, err, c.want, c.bad)
		}
	}
}

// TestCheckWorkerID: ids a host or a pod is named by pass; an id that
// would name another node, or none, or is over the limit, fails saying
// why.
func TestCheckWorkerID(t *testing.T) {
	for _, id := range []string{"w1", "sim-00001", "ip-10-0-0-1.ec2.internal", "stampede-worker-7d9f8c6b5-x2x4z", "A_b.c-9", strings.Repeat("x", MaxWorkerIDLen)} {
		if err := CheckWorkerID(id); err != nil {
			t.Errorf("CheckWorkerID(%q) = %v, want nil", id, err)
		}
	}
	for id, want := range map[string]string{
		"":                                    "empty",
		".":                                   "names no node",
		"..":                                  "names no node",
		"a/b":                                 `holds '/'`,
		"evil/../w1":                          `holds '/'`,
		"a b":                                 `holds ' '`,
		"wörker":                              `holds 'ö'`,
		"a\x00":                               `holds '\x00'`,
		strings.Repeat("x", MaxWorkerIDLen+1): "65 bytes, more than the limit of 64",
	} {
		err := CheckWorkerID(id)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckWorkerID(%.20q) = %v, want an error saying %q", id, err, want)
		}
	}
}
