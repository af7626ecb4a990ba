package proto

import (
	"fmt"
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
		{data: Marshal(TestState{Phase: PhasePreparing, Workers: workers}), want: PhasePreparing},
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
