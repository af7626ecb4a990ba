package plan

import (
	"fmt"
	"math"
	"time"

	"github.com/stampede-load/stampede/pkg/spec"
)

// Ask is a request for a live change (what PATCH, pause and resume ask
// of the leader): a partial load, a pause or a resume.
type Ask struct {
	Kind        string         `json:"kind"` // ChangeLoad, ChangePause or ChangeResume
	Rate        float64        `json:"rate,omitempty"`
	Concurrency int            `json:"concurrency,omitempty"`
	Duration    *spec.Duration `json:"duration,omitempty"`
	By          string         `json:"by,omitempty"`
	Time        int64          `json:"time"`
}

// Lead is how far ahead of the present a change takes effect: at the first
// second boundary at least Lead away, so that every worker has seen it
// before then.
const Lead = time.Second

// EffectiveSecond is the second a change asked at elapsed (wall time since
// the start) takes effect: the first boundary at least Lead later, and not
// before the last change.
func EffectiveSecond(elapsed time.Duration, changes []Change) int64 {
	at := int64(math.Ceil((elapsed + Lead).Seconds()))
	if n := len(changes); n > 0 {
		at = max(at, changes[n-1].At)
	}
	return max(at, 0)
}

// Check validates an ask against a normalized spec, the changes so far and
// the second at which it would apply, like a spec: every problem, each
// naming its field (and limit, with lim set; n is the workers' count). A
// problem of state (a pause while paused) is a Conflict.
func (a Ask) Check(s *spec.Spec, changes []Change, at int64, lim *spec.Limits, n int) (errs spec.FieldErrors, conflict string) {
	add := func(field, format string, args ...any) {
		errs = append(errs, spec.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	course := Follow(&s.Load, changes)
	switch {
	case s.Scenario != nil:
		add("load", "a scenario test takes no live changes in this version")
		return errs, ""
	case len(changes) >= MaxChanges:
		add("load", "the test has taken %d live changes, the most one test takes", MaxChanges)
		return errs, ""
	case float64(at) >= course.End:
		return nil, fmt.Sprintf("the test's schedule ends at second %.0f, before the change could apply at second %d", course.End, at)
	}
	switch a.Kind {
	case ChangePause:
		if course.PausedAt(float64(at)) {
			return nil, "the test is already paused"
		}
		return nil, ""
	case ChangeResume:
		if !course.PausedAt(float64(at)) {
			return nil, "the test is not paused"
		}
		return nil, ""
	case ChangeLoad:
	default:
		add("kind", "must be %q, %q or %q", ChangeLoad, ChangePause, ChangeResume)
		return errs, ""
	}
	return a.checkLoad(s, course, at, lim, n), ""
}

// checkLoad validates the fields of a load change.
func (a Ask) checkLoad(s *spec.Spec, course Course, at int64, lim *spec.Limits, n int) spec.FieldErrors {
	var errs spec.FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, spec.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	l := s.Load
	if a.Rate == 0 && a.Concurrency == 0 && a.Duration == nil {
		add("load", "give at least one of rate, concurrency or duration")
	}
	if a.Rate != 0 {
		if problem := rateProblem(&l, a.Rate); problem != "" {
			add("load.rate", "%s", problem)
		}
		l.Rate, l.RatePerWorker = a.Rate, 0
	}
	if a.Concurrency != 0 {
		if problem := concurrencyProblem(&l, a.Concurrency); problem != "" {
			add("load.concurrency", "%s", problem)
		}
		l.Concurrency = a.Concurrency
		if l.Model == spec.ModelRampingConcurrency {
			l.Model, l.Stages = spec.ModelAvalanche, nil // checked as the fixed count it becomes
			if l.Duration.D == 0 {
				l.Duration = spec.D(time.Duration(course.Total * float64(time.Second)))
			}
		}
	}
	if a.Duration != nil {
		run := course.RunningAt(float64(at))
		if least := run + 1; a.Duration.D.Seconds() < least {
			add("load.duration", "is %v; the limit is at least %v, the running time when the change applies plus one second", a.Duration.D, time.Duration(least*float64(time.Second)))
		}
		l.Duration = *a.Duration
	}
	if len(errs) > 0 {
		return errs
	}
	return checkPatched(s, l, lim, n)
}

// checkPatched holds the spec with the changed load to the spec's rules and
// the limits, answering the problems of the fields a change sets.
func checkPatched(s *spec.Spec, l spec.Load, lim *spec.Limits, n int) spec.FieldErrors {
	patched := *s
	patched.Load = l
	all := patched.Validate()
	if lim != nil {
		all = append(all, lim.Check(&patched, n)...)
	}
	var errs spec.FieldErrors
	for _, e := range all {
		if e.Field == "load.rate" || e.Field == "load.duration" || e.Field == "load.concurrency" {
			errs = append(errs, e)
		}
	}
	return errs
}

// rateProblem is what is wrong with changing a load's total rate to r, or
// "".
func rateProblem(l *spec.Load, r float64) string {
	switch {
	case l.Model != spec.ModelConstantRate:
		return fmt.Sprintf("applies to constant-rate tests; a %s test follows its own shape", l.Model)
	case r < 0 || math.IsNaN(r) || math.IsInf(r, 0):
		return "must be a positive number of requests per second"
	}
	return ""
}

// concurrencyProblem is what is wrong with changing a load's connections
// per worker to c, or "". (More connections than a worker prepared are
// opened when it adopts the change; the operator's connections-per-worker
// limit bounds them.)
func concurrencyProblem(l *spec.Load, c int) string {
	switch {
	case l.IsOpen():
		return "applies to closed models (avalanche, tsunami, ramping-concurrency); an open model's load is its rate"
	case c < 1:
		return "must be at least 1 connection per worker"
	}
	return ""
}

// Apply makes the change an ask becomes at second at, numbered after
// changes.
func (a Ask) Apply(changes []Change, at int64, now time.Time) Change {
	return Change{
		Seq: len(changes) + 1, At: at, Kind: a.Kind, Rate: a.Rate, Concurrency: a.Concurrency,
		Duration: a.Duration, By: a.By, Time: now.UnixNano(),
	}
}
