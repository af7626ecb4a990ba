package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/stampede-load/stampede/pkg/load"
)

// refuse returns why this worker will not run plan, or nil: a target its
// --allow-targets refuses, or a per-worker bound of its own limits. The
// master checks the same on submission; the worker checks again because a
// plan in ZooKeeper may not have come from a master, or from one with a
// wider policy.
func (a *Agent) refuse(ctx context.Context, plan *load.Plan) error {
	var errs []error
	if p := a.cfg.Policy; p != nil {
		check := func(field, u string) {
			if u == "" {
				return
			}
			if err := p.CheckURL(ctx, u); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", field, err))
			}
		}
		check("request.url", plan.Spec.Request.URL)
		for i, m := range plan.Spec.RequestsMix {
			check(fmt.Sprintf("requests_mix[%d].url", i), m.URL)
		}
		if sc := plan.Spec.Scenario; sc != nil {
			for i, st := range sc.Steps {
				if st.Request != nil {
					check(fmt.Sprintf("scenario.steps[%d].request.url", i), st.Request.URL)
				}
			}
		}
	}
	if l := a.cfg.Limits; l != nil {
		for _, fe := range l.CheckWorker(&plan.Spec, plan.Share.Of) {
			errs = append(errs, fe)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("worker %s refuses its plan: %w", a.cfg.ID, errors.Join(errs...))
}

// resolve is the engine's dial address of a target: the address the
// policy checked (nil policy: the target as it is).
func (a *Agent) resolve(ctx context.Context, hostport string) (string, error) {
	if a.cfg.Policy == nil {
		return hostport, nil
	}
	ap, err := a.cfg.Policy.Resolve(ctx, hostport)
	if err != nil {
		return "", err
	}
	return ap.String(), nil
}
