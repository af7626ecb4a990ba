package view

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/twintest"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
)

// A test's chosen workers are its plans' names, listed once per planning
// and kept; plans the state does not count, or a plan that names no
// worker, are not a master's: the list is refused, never trusted.
func TestChosenWorkersAreThePlansListedOnce(t *testing.T) {
	srv := coord.NewMemServer()
	c := twintest.Dial(t, srv)
	p := proto.Paths{Root: "/stampede"}
	ctx := context.Background()
	id := proto.NewTestID(time.Now())
	if err := c.EnsurePath(ctx, p.Plans(id)); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"w2", "w1", "w3"} {
		if _, err := c.Create(ctx, p.Plan(id, w), nil, coord.Persistent); err != nil {
			t.Fatal(err)
		}
	}
	r := &Reader{C: twintest.Dial(t, srv), P: p}
	if got, err := r.Chosen(ctx, id, &proto.TestState{Phase: proto.PhasePending}); err != nil || got != nil {
		t.Fatalf("before planning: %v (%v), want none", got, err)
	}
	st := &proto.TestState{Phase: proto.PhasePreparing, PlannedAt: 1, Chosen: 3}
	srv.Record()
	for range 3 {
		got, err := r.Chosen(ctx, id, st)
		if err != nil || !slices.Equal(got, []string{"w1", "w2", "w3"}) {
			t.Fatalf("chosen %v (%v), want w1 w2 w3", got, err)
		}
		got[0] = "changed by the caller"
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("three readings made %d requests, want 1 (one listing, then kept)", n)
	}
	bad := func(st *proto.TestState, want string) {
		t.Helper()
		_, err := r.Chosen(ctx, id, st)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("chosen: %v, want ErrInvalid saying %q", err, want)
		}
	}
	bad(&proto.TestState{Phase: proto.PhaseRunning, PlannedAt: 2, Chosen: 4}, "has 3 plans, and its state says 4 workers were chosen")
	if _, err := c.Create(ctx, p.Plan(id, "w 4"), nil, coord.Persistent); err != nil {
		t.Fatal(err)
	}
	bad(&proto.TestState{Phase: proto.PhaseRunning, PlannedAt: 3, Chosen: 4}, "a plan node that names no worker")
	missing := proto.NewTestID(time.Now().Add(time.Second))
	if _, err := r.Chosen(ctx, missing, st); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "has no plans") {
		t.Errorf("a planned test without plans: %v, want ErrInvalid", err)
	}
}
