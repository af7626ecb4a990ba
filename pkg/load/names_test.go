package load

import (
	"context"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

func TestPackRoundTrips(t *testing.T) {
	for _, c := range []struct {
		entry, outcome int
		us             int64
		err            bool
	}{{0, 200, 1, false}, {65535, 603, hist.Highest, true}, {7, 503, 123456, true}} {
		e, us, o, isErr := unpack(pack(c.entry, c.us, c.outcome, c.err))
		if e != c.entry || us != c.us || o != c.outcome || isErr != c.err {
			t.Errorf("unpack(pack(%v)) = %d %d %d %v", c, e, us, o, isErr)
		}
	}
}

// A 3:1 mix of two names: every request, error and status code lands in its
// name, and the names together are exactly the interval.
func TestCollectSplitsByName(t *testing.T) {
	tp := startTarget(t)
	engines(t, func(t *testing.T) {
		s := testSpec(tp.URL+"/ping", spec.Load{Model: spec.ModelAvalanche, Requests: 4000, Concurrency: 4})
		s.RequestsMix = []spec.MixEntry{{Weight: 3}, {Weight: 1, URL: tp.URL + "/checkout?status=503"}}
		s.Normalize()
		r, err := Prepare(context.Background(), Plan{TestID: "t", WorkerID: "w", Spec: s})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		total := hist.New()
		var c report.Counters
		byName := map[string]*NameInterval{}
		add := func(iv Interval) {
			total.Merge(iv.Latency)
			c.Add(iv.Counters)
			for _, n := range iv.Names {
				acc := byName[n.Name]
				if acc == nil {
					acc = &NameInterval{Name: n.Name, Latency: hist.New()}
					byName[n.Name] = acc
				}
				acc.Latency.Merge(n.Latency)
				acc.Counters.Add(n.Counters)
			}
		}
		done := make(chan error, 1)
		go func() { done <- r.Run(context.Background(), time.Now().Add(10*time.Millisecond)) }()
		for running := true; running; {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				running = false
			case <-time.After(50 * time.Millisecond):
				add(r.Collect())
			}
		}
		add(r.Collect())
		ping, co := byName["GET /ping"], byName["GET /checkout"]
		if len(byName) != 2 || ping == nil || co == nil {
			t.Fatalf("names %v, want GET /ping and GET /checkout", byName)
		}
		np, nc := ping.Counters.Requests, co.Counters.Requests
		if np+nc != 4000 || np < 2800 || np > 3200 {
			t.Errorf("requests %d and %d, want 4000 in about 3:1", np, nc)
		}
		if co.Counters.Errors != nc || co.Counters.Status["503"] != nc || co.Counters.ErrorKinds[report.ErrStatus] != nc || ping.Counters.Errors != 0 || ping.Counters.Status["200"] != np {
			t.Errorf("errors not by name: ping %+v checkout %+v", ping.Counters, co.Counters)
		}
		both := hist.New()
		both.Merge(ping.Latency)
		both.Merge(co.Latency)
		if !both.Equal(total) || c.Errors != nc {
			t.Errorf("the names' latencies do not add up to the interval's (%d vs %d values): %v\n%v", both.Count(), total.Count(), both.Summary(), total.Summary())
		}
	})
}
