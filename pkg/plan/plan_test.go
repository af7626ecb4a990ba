package plan

import (
	"testing"

	"github.com/stampede-load/stampede/pkg/spec"
)

func TestSplitExact(t *testing.T) {
	tests := []struct {
		name    string
		load    spec.Load
		n       int
		want    []int64
		wantSum int64
	}{
		{"10000 over 3", spec.Load{Requests: 10000}, 3, []int64{3334, 3333, 3333}, 10000},
		{"2 over 3", spec.Load{Requests: 2}, 3, []int64{1, 1, 0}, 2},
		{"per worker", spec.Load{RequestsPerWorker: 7}, 2, []int64{7, 7}, 14},
		{"unbounded", spec.Load{}, 2, []int64{0, 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &spec.Spec{Load: tt.load}
			got := Split(s, tt.n)
			var sum int64
			for i, sh := range got {
				if sh.Requests != tt.want[i] || sh.Index != i || sh.Of != tt.n {
					t.Errorf("Split(%+v, %d)[%d] = %+v, want requests %d", tt.load, tt.n, i, sh, tt.want[i])
				}
				sum += sh.Requests
			}
			if sum != tt.wantSum {
				t.Errorf("sum = %d, want %d", sum, tt.wantSum)
			}
		})
	}
}

// TestSplitScenario: journeys split exactly like requests, and unique data
// rows into disjoint slices that cover every row.
func TestSplitScenario(t *testing.T) {
	rows := "user\n"
	for i := range 31 {
		rows += "u" + string(rune('a'+i%26)) + "\n"
	}
	tests := []struct {
		name       string
		load       spec.Load
		mode       string
		n          int
		wantIter   []int64
		wantFirst  []int
		wantRows   []int
		totalIters int64
	}{
		{"31 unique over 3", spec.Load{Iterations: 31}, spec.DataUnique, 3, []int64{11, 10, 10}, []int{0, 11, 21}, []int{11, 10, 10}, 31},
		{"per worker", spec.Load{IterationsPerWorker: 4}, spec.DataUnique, 2, []int64{4, 4}, []int{0, 16}, []int{16, 15}, 8},
		{"sequential rows are shared", spec.Load{Iterations: 5}, spec.DataSequential, 2, []int64{3, 2}, []int{0, 0}, []int{0, 0}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &spec.Spec{Load: tt.load, Scenario: &spec.Scenario{Data: &spec.Data{Mode: tt.mode, Content: rows}}}
			var iters int64
			for i, sh := range Split(s, tt.n) {
				if sh.Iterations != tt.wantIter[i] || sh.DataFirst != tt.wantFirst[i] || sh.DataRows != tt.wantRows[i] {
					t.Errorf("share %d = %+v, want iterations %d rows [%d, +%d)", i, sh, tt.wantIter[i], tt.wantFirst[i], tt.wantRows[i])
				}
				iters += sh.Iterations
			}
			if iters != tt.totalIters {
				t.Errorf("iterations sum to %d, want %d", iters, tt.totalIters)
			}
		})
	}
}
