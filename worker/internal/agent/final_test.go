package agent

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/twintest"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/report"
)

// The final report is one coordination request, a multi that writes
// metrics/<worker> and creates done/<worker> with the same report: with
// thousands of workers ending in the same instant, each
// request more per worker queues thousands on ZooKeeper. A run too short
// for any periodic report (no metrics node yet) still ends with both nodes
// holding the final report.
func TestFinalReportIsOneRequest(t *testing.T) {
	for _, c := range []struct {
		duration string
		periodic bool // the run is long enough for periodic reports
	}{{"2500ms", true}, {"300ms", false}} {
		t.Run(c.duration, func(t *testing.T) {
			l, srv := newLeader(t)
			ts, _ := target(t)
			startAgent(t, srv, Config{ID: "w1"})
			id := l.plan(`{"request":{"url":"`+ts.URL+`/"},"load":{"model":"constant-rate","rate":20,"duration":"`+c.duration+`"}}`, "w1")
			l.vote(id, "w1")
			srv.Record()
			l.open(id, []string{"w1"}, 200*time.Millisecond)
			final := l.final(id, "w1", 15*time.Second)
			if final.State != report.StateDone {
				t.Fatalf("done/w1 holds a report in state %s", final.State)
			}
			ctx := context.Background()
			md, _, err := l.c.Get(ctx, l.p.Metrics(id, "w1"))
			l.must(err)
			dd, _, err := l.c.Get(ctx, l.p.Done(id, "w1"))
			l.must(err)
			if !bytes.Equal(md, dd) {
				t.Errorf("metrics/w1 does not hold the final report done/w1 holds")
			}
			metrics, done := l.p.Metrics(id, "w1"), l.p.Done(id, "w1")
			var touching []coord.MemRequest
			lastPeriodic := -1
			scripted := l.c.Session().ID
			for _, r := range srv.Requests() {
				if r.Session == scripted {
					continue // the scripted leader's own reads
				}
				if slices.Contains(r.Paths, done) {
					touching = append(touching, r)
				} else if slices.Contains(r.Paths, metrics) {
					lastPeriodic = len(touching)
				}
			}
			if !c.periodic {
				if len(touching) == 0 || len(touching) > 3 || lastPeriodic >= 0 {
					t.Errorf("a run with no periodic report: requests on done/w1 %+v, one on metrics/w1 alone: %v", touching, lastPeriodic >= 0)
				}
				return
			}
			if len(touching) != 1 || touching[0].Op != "multi" || !slices.Equal(touching[0].Paths, []string{metrics, done}) ||
				!slices.Equal(touching[0].Kinds, []string{"set", "create"}) {
				t.Errorf("requests naming done/w1: %+v; want one multi setting metrics/w1 and creating done/w1", touching)
			}
		})
	}
}

// A periodic write still under way when the final report is written (the
// final report does not wait for it) cannot land over the final report:
// periodic writes go at the version of the worker's own last write, which
// the final report moved.
func TestLatePeriodicWriteCannotOverwriteTheFinalReport(t *testing.T) {
	l, srv := newLeader(t)
	l.must(l.c.EnsurePath(context.Background(), l.p.Tests()))
	id := l.plan(`{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":20,"duration":"5s"}}`, "w1")
	a := New(twintest.Dial(t, srv), Config{ID: "w1", Root: "/stampede", Logger: twintest.Quiet()})
	rep := newReporter(id, "w1", time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := newPublisher(ctx, a, id, rep)
	at := func(seq int64, state string) *report.Report {
		return &report.Report{Test: id, Worker: "w1", Seq: seq, State: state}
	}
	for seq := range int64(2) {
		if err := p.periodic(ctx, at(seq, report.StateRunning)); err != nil {
			t.Fatalf("periodic report %d: %v", seq, err)
		}
	}
	p.finish(ctx, at(3, report.StateDone), time.Second)
	late := p.periodic(ctx, at(2, report.StateRunning)) // issued before the final report, landing after it
	d, _, err := l.c.Get(ctx, l.p.Metrics(id, "w1"))
	l.must(err)
	r, err := report.DecodeReport(d)
	l.must(err)
	if r.Seq != 3 || r.State != report.StateDone {
		t.Errorf("metrics/w1 holds report %d (%s) after a late periodic write (err %v), want the final report 3", r.Seq, r.State, late)
	}
}
