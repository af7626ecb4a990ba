package load

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/spec"
)

func TestZZProf(t *testing.T) {
	u := os.Getenv("PROF_URL")
	if u == "" {
		t.Skip()
	}
	s := spec.Spec{Request: spec.Request{URL: u}, Load: spec.Load{Model: spec.ModelAvalanche, Concurrency: 50, Duration: spec.D(5 * time.Second)}}
	s.Normalize()
	r, err := Prepare(context.Background(), Plan{Spec: s, Share: Share{Of: 1}})
	if err != nil {
		t.Fatal(err)
	}
	r.Run(context.Background(), time.Now())
	t.Log(r.Collect().Counters.Requests)
}
