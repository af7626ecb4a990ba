package load

import (
	"context"
	"fmt"
	"time"

	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/journey"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// A scenario's run: its unit of load is a journey, run by pkg/journey's
// Runner (load.concurrency virtual users, or the ramping-concurrency
// profile's; the open models start journeys on the engine's schedule). Collect reports each step under its
// name and the whole as the interval. The journey path sends through Go's
// HTTP client, not the engine's transports.

// newJourneyRun prepares a scenario plan (p is normalized and valid).
func newJourneyRun(p Plan) (*Run, error) {
	s := &p.Spec
	users := s.Load.Concurrency
	var pace journey.Pace
	switch s.Load.Model {
	case spec.ModelConstantRate, spec.ModelRampingRate:
		// the engine's schedule: journey n of this worker is global journey
		// n·Of + Index of one stream, as for requests
		pace.Due = scheduleFor(&p).At
	case spec.ModelRampingConcurrency:
		prof := RampProfile(s.Load.Stages)
		users, pace.NextActive = max(prof.Max(), 1), prof.NextActive
	}
	jr, err := journey.NewRunner(s, p.Share, users)
	if err != nil {
		return nil, err
	}
	jr.SetPace(pace)
	r := &Run{
		plan:    p,
		journey: jr,
		open:    s.Load.IsOpen(),
		timeout: s.Request.Timeout.D,
		budget:  p.Share.Iterations,
		bounded: p.Share.Iterations > 0,
		bound:   s.Load.RunBound(),
		conns:   users,
		stopc:   make(chan struct{}),
		names:   s.RequestNames(),
	}
	return r, nil
}

// pinJourneys makes the journeys dial, for each step's host:port, the
// address resolve checked (nil: the host:port as given).
func (r *Run) pinJourneys(ctx context.Context, resolve func(context.Context, string) (string, error)) error {
	addrs := map[string]string{}
	for _, hp := range journey.HostPorts(r.plan.Spec.Scenario) {
		addrs[hp] = hp
		if resolve != nil {
			a, err := resolve(ctx, hp)
			if err != nil {
				return fmt.Errorf("%w: %s: %w", ErrInvalidPlan, hp, err)
			}
			addrs[hp] = a
		}
	}
	r.journey.Pin(addrs)
	return nil
}

// runJourneys is Run for a scenario.
func (r *Run) runJourneys(ctx context.Context, startAt time.Time) error {
	wait := time.NewTimer(time.Until(startAt))
	select {
	case <-ctx.Done():
		wait.Stop()
		r.stop()
		return ctx.Err()
	case <-wait.C:
	}
	rctx, cancel := context.WithDeadline(ctx, startAt.Add(r.bound))
	defer cancel()
	go func() {
		select {
		case <-r.stopc:
			cancel()
		case <-rctx.Done():
		}
	}()
	last := r.journey.Run(rctx)
	r.mu.Lock()
	r.collected = append(r.collected, last)
	r.mu.Unlock()
	return nil
}

// collectJourneys is Collect for a scenario.
func (r *Run) collectJourneys() Interval {
	res := []journey.Result{r.journey.Collect()}
	r.mu.Lock()
	res = append(res, r.collected...)
	r.collected = nil
	r.mu.Unlock()
	iv := Interval{Latency: hist.New(), Service: hist.New(), Iterations: &Iterations{Duration: hist.New()}}
	for _, rs := range res {
		iv.Iterations.Duration.Merge(rs.Iteration)
		iv.Iterations.Completed += rs.Completed
		iv.Iterations.Failed += rs.Failed
	}
	for _, name := range r.names {
		ni := NameInterval{Name: name, Latency: hist.New()}
		for _, rs := range res {
			st := rs.Steps[name]
			if st == nil {
				continue
			}
			ni.Latency.Merge(st.Latency)
			ni.Counters.Requests += st.Requests
			ni.Counters.Late += st.Late
			for k, n := range st.Errors {
				ni.Counters.Errors += n
				if ni.Counters.ErrorKinds == nil {
					ni.Counters.ErrorKinds = map[string]int64{}
				}
				ni.Counters.ErrorKinds[k] += n
			}
			ni.Counters.ErrorSamples = report.MergeSamples(ni.Counters.ErrorSamples, st.Samples)
		}
		iv.Latency.Merge(ni.Latency)
		iv.Counters.Add(ni.Counters)
		iv.Names = append(iv.Names, ni)
	}
	iv.Service.Merge(iv.Latency)
	return iv
}
