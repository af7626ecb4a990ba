package coord_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stampede-load/stampede/internal/twintest"
	"github.com/stampede-load/stampede/pkg/coord"
)

// GetMany answers every path in the order asked, each with its own data
// or error, however many it reads at once; ExistsMany the same with each
// node's Stat and no data.
func TestGetManyAnswersInOrder(t *testing.T) {
	c := twintest.Dial(t, coord.NewMemServer())
	ctx := context.Background()
	must(t, c.EnsurePath(ctx, "/m"))
	var paths []string
	for i := range 100 {
		p := fmt.Sprintf("/m/n%03d", i)
		paths = append(paths, p)
		if i%7 == 3 {
			continue // missing
		}
		_, err := c.Create(ctx, p, []byte(p), coord.Persistent)
		must(t, err)
	}
	got := c.GetMany(ctx, paths)
	if len(got) != len(paths) {
		t.Fatalf("%d answers for %d paths", len(got), len(paths))
	}
	for i, r := range got {
		if i%7 == 3 {
			if !errors.Is(r.Err, coord.ErrNoNode) {
				t.Errorf("%s: err %v, want no node", paths[i], r.Err)
			}
			continue
		}
		if r.Err != nil || string(r.Data) != paths[i] || r.Stat.DataLength != int32(len(paths[i])) {
			t.Errorf("%s: %q %+v %v", paths[i], r.Data, r.Stat, r.Err)
		}
	}
	for i, r := range c.ExistsMany(ctx, paths) {
		want := error(nil)
		if i%7 == 3 {
			want = coord.ErrNoNode
		}
		if !errors.Is(r.Err, want) || r.Data != nil || (want == nil && r.Stat.DataLength != int32(len(paths[i]))) {
			t.Errorf("exists %s: %q %+v %v, want err %v", paths[i], r.Data, r.Stat, r.Err, want)
		}
	}
	if len(c.GetMany(ctx, nil)) != 0 || len(c.ExistsMany(ctx, nil)) != 0 {
		t.Error("answers for no paths")
	}
}
