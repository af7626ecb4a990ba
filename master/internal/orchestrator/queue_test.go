package orchestrator

import (
	"reflect"
	"testing"
	"time"
)

func TestDecideQueue(t *testing.T) {
	now := time.Unix(1000, 0)
	wait := time.Minute
	long := now.Add(-2 * wait).UnixNano() // short for longer than the wait
	recent := now.Add(-time.Second).UnixNano()
	tests := []struct {
		name string
		q    []entry
		live int
		free []string
		want []decision
	}{
		{"every live worker idle: the head takes them all", []entry{{ID: "a"}}, 3, []string{"w1", "w2", "w3"},
			[]decision{{ID: "a", Run: []string{"w1", "w2", "w3"}}}},
		{"one busy worker: a test without workers waits for all", []entry{{ID: "a"}}, 3, []string{"w1", "w2"},
			[]decision{{ID: "a", Position: 1, Reason: "waiting for every live worker (3) to be idle"}}},
		{"second waits behind the first", []entry{{ID: "a"}, {ID: "b"}}, 2, []string{"w1", "w2"},
			[]decision{{ID: "a", Run: []string{"w1", "w2"}}, {ID: "b", Position: 1, Reason: "waiting for every live worker (2) to be idle"}}},
		{"counted tests share the free workers in order", []entry{{ID: "a", Workers: 1}, {ID: "b", Workers: 2}, {ID: "c", Workers: 1}}, 3, []string{"w1", "w2", "w3"},
			[]decision{{ID: "a", Run: []string{"w1"}}, {ID: "b", Run: []string{"w2", "w3"}}, {ID: "c", Position: 1, Reason: "waiting for 1 idle worker"}}},
		{"no overtaking: a small test waits behind a big one", []entry{{ID: "a", Workers: 3}, {ID: "b", Workers: 1}}, 3, []string{"w1", "w2"},
			[]decision{{ID: "a", Position: 1, Reason: "waiting for 3 idle workers"}, {ID: "b", Position: 2, Reason: "waiting for 1 idle worker"}}},
		{"short: starts the clock", []entry{{ID: "a", Workers: 4}}, 3, []string{"w1", "w2", "w3"},
			[]decision{{ID: "a", Position: 1, Reason: "waiting: asks for 4 workers but only 3 are live", ShortSince: now.UnixNano()}}},
		{"short within the wait: keeps its clock and blocks the queue", []entry{{ID: "a", Workers: 4, ShortSince: recent}, {ID: "b", Workers: 1}}, 3, []string{"w1", "w2", "w3"},
			[]decision{{ID: "a", Position: 1, Reason: "waiting: asks for 4 workers but only 3 are live", ShortSince: recent}, {ID: "b", Position: 2, Reason: "waiting for 1 idle worker"}}},
		{"short past the wait: fails, the next runs", []entry{{ID: "a", Workers: 4, ShortSince: long}, {ID: "b", Workers: 1}}, 3, []string{"w1"},
			[]decision{{ID: "a", ShortSince: long, Fail: "asks for 4 workers but only 3 are live for longer than the queue wait (1m0s)"}, {ID: "b", Run: []string{"w1"}}}},
		{"enough live again: the clock resets", []entry{{ID: "a", Workers: 2, ShortSince: long}}, 3, []string{"w1"},
			[]decision{{ID: "a", Position: 1, Reason: "waiting for 2 idle workers"}}},
		{"no live worker at all", []entry{{ID: "a", ShortSince: long}}, 0, nil,
			[]decision{{ID: "a", ShortSince: long, Fail: "asks for every live worker but none is live for longer than the queue wait (1m0s)"}}},
		{"a stopped test leaves the queue", []entry{{ID: "a", Stopped: true}, {ID: "b", Workers: 1}}, 1, []string{"w1"},
			[]decision{{ID: "a", Stop: true}, {ID: "b", Run: []string{"w1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.q, tt.live, tt.free, now, wait)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decide(%+v, live %d, free %v)\n got %+v\nwant %+v", tt.q, tt.live, tt.free, got, tt.want)
			}
		})
	}
}

func TestQueueOrder(t *testing.T) {
	tests := []struct {
		a, b entry
		want bool
	}{
		{entry{ID: "z", Created: 1}, entry{ID: "a", Created: 2}, true},
		{entry{ID: "a", Created: 2}, entry{ID: "z", Created: 1}, false},
		{entry{ID: "a", Created: 5}, entry{ID: "b", Created: 5}, true},
	}
	for _, tt := range tests {
		if got := less(tt.a, tt.b); got != tt.want {
			t.Errorf("less(%+v, %+v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
