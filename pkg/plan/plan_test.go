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
