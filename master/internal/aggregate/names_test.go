package aggregate

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Per-name numbers merged across workers equal those of one histogram that
// recorded every value of that name, and errors stay with their name.
func TestNamesMergeExactly(t *testing.T) {
	s, errs := spec.Parse([]byte(`{"request":{"url":"http://h/ping"},"requests_mix":[{"weight":3},{"weight":1,"url":"http://h/checkout","name":"checkout"}],"load":{"model":"avalanche","duration":"1s"}}`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	one := map[string]*hist.Histogram{"GET /ping": hist.New(), "checkout": hist.New()}
	reps := map[string]*report.Report{}
	for _, w := range []string{"w1", "w2", "w3"} {
		all := hist.New()
		var total report.Counters
		r := &report.Report{Worker: w, StartAt: t0.UnixNano(), IntervalEnd: t0.Add(2 * time.Second).UnixNano()}
		for name, base := range map[string]int64{"GET /ping": 2000, "checkout": 20000} {
			h := hist.New()
			c := report.Counters{Requests: 1000 + rng.Int64N(500), Status: map[string]int64{}}
			for range c.Requests {
				v := base + rng.Int64N(base)
				h.RecordMicros(v)
				one[name].RecordMicros(v)
			}
			if name == "checkout" {
				c.Errors = c.Requests / 2
				c.Status["503"] = c.Errors
			}
			c.Status["200"] = c.Requests - c.Errors
			enc, _ := h.Encode()
			r.Names = append(r.Names, report.NameReport{Name: name, Totals: c, Cumulative: enc})
			all.Merge(h)
			total.Add(c)
		}
		r.Totals = total
		r.Cumulative, _ = all.Encode()
		reps[w] = r
	}
	sum, err := Summarize(&s, &proto.TestState{StartAt: t0.UnixNano(), Chosen: 3}, []string{"w1", "w2", "w3"}, reps, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Names) != 2 || sum.Names[0].Name != "GET /ping" || sum.Names[1].Name != "checkout" {
		t.Fatalf("names %+v, want GET /ping then checkout", sum.Names)
	}
	var requests int64
	for _, n := range sum.Names {
		if want := one[n.Name].Summary(); n.LatencyMs != want {
			t.Errorf("%s latency %+v, want %+v (one histogram of every value)", n.Name, n.LatencyMs, want)
		}
		if n.Requests != one[n.Name].Count() {
			t.Errorf("%s requests %d, want %d", n.Name, n.Requests, one[n.Name].Count())
		}
		requests += n.Requests
	}
	if requests != sum.Requests {
		t.Errorf("names hold %d requests, the test %d", requests, sum.Requests)
	}
	if c := sum.Names[1]; c.Errors == 0 || c.Errors != sum.Errors || c.StatusCodes["503"] != c.Errors || sum.Names[0].Errors != 0 {
		t.Errorf("errors not attributed to checkout: %+v / %+v (total %d)", sum.Names[0], c, sum.Errors)
	}
}

// A report of a run with one request name says only the name (its part is
// the whole report): the per-name lines and each second's per-name merge
// are those of the same report carrying a copy of its numbers as that
// name's part.
func TestOneNameIsTheWholeReport(t *testing.T) {
	s := spec.Spec{Request: spec.Request{Name: "GET /ping", URL: "http://x/ping"}}
	st, workers := &proto.TestState{StartAt: t0.UnixNano(), Chosen: 2}, []string{"w1", "w2"}
	short, long := map[string]*report.Report{}, map[string]*report.Report{}
	trShort, trLong := NewTracker(t0, workers, 0, time.Second), NewTracker(t0, workers, 0, time.Second)
	seconds := map[*Tracker]*NameSecond{}
	for _, tr := range []*Tracker{trShort, trLong} {
		tr.KeepNames()
		tr.OnSecond = func(_ report.Point, _ *hist.Histogram, names map[string]*NameSecond) {
			seconds[tr] = names["GET /ping"]
		}
	}
	for i, w := range workers {
		r := rep(w, 0, int64(10*(i+1)), int64(1000*(i+1)), true)
		r.Totals, r.Cumulative = r.Interval, r.IntervalHist
		r.Totals.Status = map[string]int64{"200": r.Totals.Requests}
		copied := *r
		r.Name = "GET /ping"
		copied.Names = []report.NameReport{{Name: "GET /ping", Interval: r.Interval, IntervalHist: r.IntervalHist, Totals: r.Totals, Cumulative: r.Cumulative}}
		short[w], long[w] = r, &copied
		trShort.Observe(r)
		trLong.Observe(&copied)
	}
	a, err := Summarize(&s, st, workers, short, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Summarize(&s, st, workers, long, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Names) != 1 || !reflect.DeepEqual(a.Names, b.Names) || a.Names[0].Requests != 30 {
		t.Fatalf("per-name lines %+v, want %+v (30 requests)", a.Names, b.Names)
	}
	trShort.Emit(t0.Add(time.Hour))
	trLong.Emit(t0.Add(time.Hour))
	x, y := seconds[trShort], seconds[trLong]
	if x == nil || y == nil || x.Counters.Requests != 30 || !x.Hist.Equal(y.Hist) || x.Counters.Requests != y.Counters.Requests {
		t.Fatalf("second 0 per name: %+v, want %+v", x, y)
	}
}
